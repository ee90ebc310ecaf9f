//! `User`: the object, its lists and its queries.
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};
use chrono::{DateTime, Utc};

use super::{
    context::{actor, db, loaders, viewer},
    enums::{OrderDirection, Role},
    guard::require_sign_in,
    ids::{self, Kind},
    inputs::maybe,
    organization::Organization,
    pagination::{Conn, connection, page_args, selects_rows},
    post::{self, Post, PostFilter, PostListArgs, PostOrder},
};
use crate::{
    entity::user,
    error::ApiError,
    loaders::{children::primed_page, load_page},
    query::{ChildList, PageArgs},
    service::{
        self,
        post::Parent,
        user::{NewUser, UserChanges, UserChildren, UserList, UserSort},
    },
};

/// A user of an organization. Anonymous callers see only `username` and `fullName` of
/// the authors of public posts.
pub struct User(pub user::Model);

/// A user of an organization. Anonymous callers see only `username` and `fullName` of
/// the authors of public posts.
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
        require_sign_in(ctx)?;
        Ok(&self.0.email)
    }
    /// Role in the organization. Requires sign-in.
    async fn role(&self, ctx: &Context<'_>) -> Result<Role> {
        require_sign_in(ctx)?;
        Ok(self.0.role.into())
    }
    /// False when deactivated (a deactivated user cannot sign in). Requires sign-in.
    async fn is_active(&self, ctx: &Context<'_>) -> Result<bool> {
        require_sign_in(ctx)?;
        Ok(self.0.is_active)
    }
    /// Creation time (UTC). Requires sign-in.
    async fn created_at(&self, ctx: &Context<'_>) -> Result<DateTime<Utc>> {
        require_sign_in(ctx)?;
        Ok(self.0.created_at)
    }
    /// Last change (UTC). Requires sign-in.
    async fn updated_at(&self, ctx: &Context<'_>) -> Result<DateTime<Utc>> {
        require_sign_in(ctx)?;
        Ok(self.0.updated_at)
    }
    /// When the user was soft-deleted; null while live. Requires sign-in.
    async fn deleted_at(&self, ctx: &Context<'_>) -> Result<Option<DateTime<Utc>>> {
        require_sign_in(ctx)?;
        Ok(self.0.deleted_at)
    }
    /// The user's organization. Requires sign-in.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Organization> {
        require_sign_in(ctx)?;
        let org = Box::pin(loaders(ctx)?.organization().load_one(self.0.organization_id))
            .await
            .map_err(ApiError::from)?;
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
        require_sign_in(ctx)?;
        let args = PostListArgs {
            page: page_args(ctx, first, after, last, before),
            filter,
            order_by,
            include_deleted,
        };
        Box::pin(post::nested_connection(ctx, Parent::Author(self.0.id), args)).await
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

impl UserListArgs {
    pub(super) fn into_list(self) -> UserList {
        let filter = self.filter.unwrap_or_default();
        let order = self.order_by.unwrap_or_default();
        UserList {
            filter: service::user::UserConditions {
                role: filter.role.map(Into::into),
                is_active: filter.is_active,
            },
            sort: match order.field {
                UserOrderField::CreatedAt => UserSort::CreatedAt,
                UserOrderField::Username => UserSort::Username,
            },
            descending: order.direction.is_desc(),
            page: self.page,
            include_deleted: self.include_deleted,
        }
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

/// An organization's users: one batched statement for all organizations at this level.
pub async fn nested_connection(
    ctx: &Context<'_>,
    organization_id: i32,
    args: UserListArgs,
) -> Result<Conn<User>> {
    let loaders = loaders(ctx)?;
    let viewer = viewer(ctx)?;
    let list = UserChildren(args.into_list());
    // Read with the organization (`organization(id:)`), posts included.
    if let Some(users) = loaders.take_users(&list, organization_id) {
        let page = primed_page(loaders.user_counts(), organization_id, list, users)?;
        return Ok(connection(page, User));
    }
    // The nodes' `posts` read in the same statement, when both lists are ones their
    // loaders would run (else each level reads its own, and says what it refuses).
    let posts = selects_rows(ctx)
        .then(|| post::posts_of_user_nodes(ctx))
        .flatten()
        .filter(|(posts, _)| posts.window().is_ok() && posts.select(viewer).is_ok())
        .filter(|_| list.window().is_ok() && list.select(viewer).is_ok());
    let Some((posts, columns)) = posts else {
        let page = load_page(
            viewer,
            loaders.user_pages(),
            loaders.user_counts(),
            organization_id,
            list,
            selects_rows(ctx),
        )
        .await?;
        return Ok(connection(page, User));
    };
    let rows = loaders
        .users_with_posts()
        .load_one((organization_id, list.clone(), posts.clone(), columns))
        .await
        .map_err(ApiError::from)?
        .unwrap_or_default();
    let (users, pages) = crate::loaders::nested::split(rows);
    loaders.prime_posts(posts, pages);
    let page = primed_page(loaders.user_counts(), organization_id, list, users)?;
    Ok(connection(page, User))
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
        let list = UserListArgs {
            page: page_args(ctx, first, after, last, before),
            filter,
            order_by,
            include_deleted,
        }
        .into_list();
        let page = service::user::page(db(ctx)?, viewer(ctx)?, org, &list, selects_rows(ctx)).await?;
        Ok(connection(page, User))
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

/// Input of `createUser`.
#[derive(InputObject)]
pub struct CreateUserInput {
    /// Unique username: 3–80 letters, digits, `_`, `.`, `-`.
    username: String,
    /// Unique email address, at most 120 characters.
    email: String,
    /// Display name, at most 100 characters.
    full_name: Option<String>,
    /// Role (default MEMBER).
    role: Option<Role>,
    /// Active (default true).
    is_active: Option<bool>,
    /// The organization (default: the caller's; required for platform admins).
    organization_id: Option<ID>,
}

/// Input of `updateUser`: the id and the fields to change.
#[derive(InputObject)]
pub struct UpdateUserInput {
    /// The user to change.
    id: ID,
    /// New username.
    username: Option<String>,
    /// New email address.
    email: Option<String>,
    /// New display name; null clears it.
    full_name: MaybeUndefined<String>,
    /// New role (admins only; an organization keeps at least one active admin).
    role: Option<Role>,
    /// Activate or deactivate (admins only).
    is_active: Option<bool>,
}

super::inputs::id_inputs!(
    SoftDeleteUserInput: "Input of `softDeleteUser`.",
    RestoreUserInput: "Input of `restoreUser`."
);

/// Mutations of users.
#[derive(Default)]
pub struct UserMutation;

#[Object]
impl UserMutation {
    /// Creates a user. Org admins (in their organization) and platform admins.
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new user's fields.")] input: CreateUserInput,
    ) -> Result<User> {
        let new = NewUser {
            username: input.username,
            email: input.email,
            full_name: input.full_name,
            role: input.role.map(Into::into),
            is_active: input.is_active,
            organization_id: ids::decode_opt(
                input.organization_id.as_ref(),
                Kind::Organization,
                "organizationId",
            )?,
        };
        Ok(User(service::user::create(db(ctx)?, actor(ctx)?, new).await?))
    }

    /// Changes a user: members their own profile, admins any user of their organization.
    async fn update_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user's id and the fields to change.")] input: UpdateUserInput,
    ) -> Result<User> {
        let id = ids::decode(&input.id, Kind::User, "id")?;
        let changes = UserChanges {
            username: input.username,
            email: input.email,
            full_name: maybe(input.full_name),
            role: input.role.map(Into::into),
            is_active: input.is_active,
        };
        Ok(User(
            service::user::update(db(ctx)?, actor(ctx)?, id, changes).await?,
        ))
    }

    /// Soft-deletes a user with their posts. Admins only.
    async fn soft_delete_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user to soft-delete.")] input: SoftDeleteUserInput,
    ) -> Result<User> {
        let id = ids::decode(&input.id, Kind::User, "id")?;
        Ok(User(service::user::soft_delete(db(ctx)?, actor(ctx)?, id).await?))
    }

    /// Restores a soft-deleted user and the posts their deletion cascaded to. Admins only.
    async fn restore_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user to restore.")] input: RestoreUserInput,
    ) -> Result<User> {
        let id = ids::decode(&input.id, Kind::User, "id")?;
        Ok(User(service::user::restore(db(ctx)?, actor(ctx)?, id).await?))
    }
}
