//! `User`: the object, its lists and its queries.
use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};

use super::{
    context::{db, loaders, viewer},
    enums::{OrderDirection, Role},
    guard::signed_in,
    ids::{self, Kind},
    organization::Organization,
    pagination::{Conn, KeyOf, PageArgs, Sort, SortKey, Window, paginate, selects_rows},
    post::{self, Post, PostFilter, PostListArgs, PostOrder, db_error},
};
use crate::{
    entity::user,
    error::ApiError,
    loaders::children::{ChildList, load_page},
    service::{self, post::Parent},
};

/// A user of an organization. Anonymous callers see only `username` and `fullName` of
/// the authors of public posts.
pub struct User(pub user::Model);

#[Object]
impl User {
    /// Opaque global id (Relay).
    pub async fn id(&self) -> ID {
        ids::encode(Kind::User, self.0.id)
    }
    /// The numeric primary key.
    async fn database_id(&self) -> i32 {
        self.0.id
    }
    /// Unique login name: 3–80 letters, digits, `_`, `.`, `-`.
    async fn username(&self) -> &str {
        &self.0.username
    }
    /// Display name.
    async fn full_name(&self) -> Option<&str> {
        self.0.full_name.as_deref()
    }
    /// Email address; visible to the user's organization and platform admins only.
    async fn email(&self, ctx: &Context<'_>) -> Result<&str> {
        signed_in(ctx)?;
        Ok(&self.0.email)
    }
    /// Role in the organization. Requires sign-in.
    async fn role(&self, ctx: &Context<'_>) -> Result<Role> {
        signed_in(ctx)?;
        Ok(self.0.role.into())
    }
    /// False when deactivated (a deactivated user cannot sign in). Requires sign-in.
    async fn is_active(&self, ctx: &Context<'_>) -> Result<bool> {
        signed_in(ctx)?;
        Ok(self.0.is_active)
    }
    /// Creation time (UTC). Requires sign-in.
    async fn created_at(&self, ctx: &Context<'_>) -> Result<DateTime<Utc>> {
        signed_in(ctx)?;
        Ok(self.0.created_at)
    }
    /// Last change (UTC). Requires sign-in.
    async fn updated_at(&self, ctx: &Context<'_>) -> Result<DateTime<Utc>> {
        signed_in(ctx)?;
        Ok(self.0.updated_at)
    }
    /// When the user was soft-deleted; null while live. Requires sign-in.
    async fn deleted_at(&self, ctx: &Context<'_>) -> Result<Option<DateTime<Utc>>> {
        signed_in(ctx)?;
        Ok(self.0.deleted_at)
    }
    /// The user's organization. Requires sign-in.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Organization> {
        signed_in(ctx)?;
        let org = loaders(ctx)?
            .organization()
            .load_one(self.0.organization_id)
            .await
            .map_err(db_error)?;
        Ok(Organization(org.ok_or_else(|| {
            ApiError::Internal("user organization not visible".into())
        })?))
    }
    /// The user's posts, newest first by default. Requires sign-in.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    async fn posts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start (0–100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (0–100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
        #[graphql(desc = "Conditions the posts must meet.")] filter: Option<PostFilter>,
        #[graphql(desc = "Sort order (default CREATED_AT DESC).")] order_by: Option<PostOrder>,
        #[graphql(desc = "Include soft-deleted posts (admins only).", default = false)] include_deleted: bool,
    ) -> Result<Conn<Post>> {
        signed_in(ctx)?;
        let page = PageArgs {
            first,
            after,
            last,
            before,
        };
        post::nested_connection(
            ctx,
            Parent::Author(self.0.id),
            PostListArgs {
                page,
                filter,
                order_by,
                include_deleted,
            },
        )
        .await
    }
}

/// Filters of a user list.
#[derive(InputObject, Default)]
pub struct UserFilter {
    /// Only users with this role.
    role: Option<Role>,
    /// Only active (true) or deactivated (false) users.
    is_active: Option<bool>,
}

/// Fields a user list can be sorted by; ties are broken by id.
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum UserOrderField {
    /// Creation time.
    CreatedAt,
    /// Username.
    Username,
}

/// The order of a user list (default: oldest first).
#[derive(InputObject)]
pub struct UserOrder {
    /// The field to sort by.
    field: UserOrderField,
    /// The direction.
    direction: OrderDirection,
}

pub struct UserListArgs {
    pub page: PageArgs,
    pub filter: Option<UserFilter>,
    pub order_by: Option<UserOrder>,
    pub include_deleted: bool,
}

impl UserOrder {
    fn sort(&self) -> (Sort<user::Column>, KeyOf<user::Model>) {
        let (column, field, key): (_, _, KeyOf<user::Model>) = match self.field {
            UserOrderField::CreatedAt => (user::Column::CreatedAt, "CREATED_AT", |u| {
                (SortKey::Time(u.created_at), u.id)
            }),
            UserOrderField::Username => (user::Column::Username, "USERNAME", |u| {
                (SortKey::Text(u.username.clone()), u.id)
            }),
        };
        let sort = Sort {
            column,
            id_column: user::Column::Id,
            field,
            descending: self.direction.is_desc(),
        };
        (sort, key)
    }
}

impl Default for UserOrder {
    fn default() -> Self {
        UserOrder {
            field: UserOrderField::CreatedAt,
            direction: OrderDirection::Asc,
        }
    }
}

/// `UserFilter` as stored values, hashable for loader keys.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct UserListFilter {
    role: Option<user::Role>,
    is_active: Option<bool>,
}

impl From<Option<UserFilter>> for UserListFilter {
    fn from(filter: Option<UserFilter>) -> Self {
        let filter = filter.unwrap_or_default();
        UserListFilter {
            role: filter.role.map(Into::into),
            is_active: filter.is_active,
        }
    }
}

/// The users a viewer may list, with the filter applied.
fn filtered(
    viewer: &crate::auth::Viewer,
    organization_id: Option<i32>,
    filter: &UserListFilter,
    include_deleted: bool,
) -> Result<sea_orm::Select<user::Entity>, ApiError> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let mut select = service::user::list(viewer, organization_id, include_deleted)?;
    if let Some(role) = filter.role {
        select = select.filter(user::Column::Role.eq(role));
    }
    if let Some(active) = filter.is_active {
        select = select.filter(user::Column::IsActive.eq(active));
    }
    Ok(select)
}

pub async fn connection(
    ctx: &Context<'_>,
    organization_id: Option<i32>,
    args: UserListArgs,
) -> Result<Conn<User>> {
    let select = filtered(
        viewer(ctx)?,
        organization_id,
        &args.filter.into(),
        args.include_deleted,
    )?;
    let (sort, key) = args.order_by.unwrap_or_default().sort();
    let page = paginate(db(ctx)?, select, &sort, &args.page, key, selects_rows(ctx)).await?;
    Ok(page.into_connection(User))
}

/// `Organization.users` as a loader key.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct UserChildren {
    filter: UserListFilter,
    field: UserOrderField,
    direction: OrderDirection,
    page: PageArgs,
    include_deleted: bool,
}

impl ChildList for UserChildren {
    type Entity = user::Entity;

    fn select(&self, viewer: &crate::auth::Viewer) -> Result<sea_orm::Select<user::Entity>, ApiError> {
        filtered(viewer, None, &self.filter, self.include_deleted)
    }
    fn parent_column(&self) -> user::Column {
        user::Column::OrganizationId
    }
    fn parent_of(&self, row: &user::Model) -> i32 {
        row.organization_id
    }
    fn sort(&self) -> (Sort<user::Column>, KeyOf<user::Model>) {
        UserOrder {
            field: self.field,
            direction: self.direction,
        }
        .sort()
    }
    fn window(&self) -> Result<Window, ApiError> {
        Window::new(&self.page, self.sort().0.field)
    }
    fn unpaged(&self) -> Self {
        UserChildren {
            page: PageArgs::default(),
            ..self.clone()
        }
    }
}

/// An organization's users: one batched statement for all organizations at this level.
pub async fn nested_connection(
    ctx: &Context<'_>,
    organization_id: i32,
    args: UserListArgs,
) -> Result<Conn<User>> {
    let order = args.order_by.unwrap_or_default();
    let list = UserChildren {
        filter: args.filter.into(),
        field: order.field,
        direction: order.direction,
        page: args.page,
        include_deleted: args.include_deleted,
    };
    let loaders = loaders(ctx)?;
    let page = load_page(
        viewer(ctx)?,
        loaders.user_pages(),
        loaders.user_counts(),
        organization_id,
        list,
        selects_rows(ctx),
    )
    .await?;
    Ok(page.into_connection(User))
}

#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// Users the caller can see, optionally of one organization. Requires sign-in.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only users of this organization (global or database id).")] organization_id: Option<
            ID,
        >,
        #[graphql(desc = "Page size from the start (0–100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (0–100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
        #[graphql(desc = "Conditions the users must meet.")] filter: Option<UserFilter>,
        #[graphql(desc = "Sort order (default CREATED_AT ASC).")] order_by: Option<UserOrder>,
        #[graphql(desc = "Include soft-deleted users (admins only).", default = false)] include_deleted: bool,
    ) -> Result<Conn<User>> {
        let org = ids::decode_opt(organization_id.as_ref(), Kind::Organization, "organizationId")?;
        let page = PageArgs {
            first,
            after,
            last,
            before,
        };
        connection(
            ctx,
            org,
            UserListArgs {
                page,
                filter,
                order_by,
                include_deleted,
            },
        )
        .await
    }

    /// A user by id (global or database id); null when missing or not visible. Requires sign-in.
    async fn user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user's id.")] id: ID,
    ) -> Result<Option<User>> {
        let id = ids::decode(&id, Kind::User, "id")?;
        Ok(service::user::by_id(db(ctx)?, viewer(ctx)?, id).await?.map(User))
    }

    /// The signed-in user; null for anonymous callers and platform admins.
    async fn viewer(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(me) = viewer(ctx)?.actor_user_id() else {
            return Ok(None);
        };
        Ok(service::user::by_id(db(ctx)?, viewer(ctx)?, me).await?.map(User))
    }
}
