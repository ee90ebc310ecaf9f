//! `Organization`: the object, its list and its queries.
use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};

use super::{
    context::{db, viewer},
    enums::{OrderDirection, Plan},
    guard::signed_in,
    ids::{self, Kind},
    pagination::{Conn, KeyOf, PageArgs, Sort, SortKey, paginate, selects_rows},
    post::{self, Post, PostFilter, PostListArgs, PostOrder},
    user::{self, User, UserFilter, UserListArgs, UserOrder},
};
use crate::{
    entity::organization,
    error::ApiError,
    service::{self, post::Parent},
};

/// A tenant: an organization with its users and posts. Anonymous callers see only the
/// `name`, `slug` and published posts of active organizations.
pub struct Organization(pub organization::Model);

#[Object]
impl Organization {
    /// Opaque global id (Relay).
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Organization, self.0.id)
    }
    /// The numeric primary key.
    async fn database_id(&self) -> i32 {
        self.0.id
    }
    /// Unique name, 1–100 characters.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Unique URL slug: lowercase letters, digits and single hyphens.
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    /// Subscription plan. Requires sign-in.
    async fn plan(&self, ctx: &Context<'_>) -> Result<Plan> {
        signed_in(ctx)?;
        Ok(self.0.plan.into())
    }
    /// False when deactivated: its users cannot sign in and its posts are not public.
    /// Requires sign-in.
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
    /// When the organization was soft-deleted; null while live. Requires sign-in.
    async fn deleted_at(&self, ctx: &Context<'_>) -> Result<Option<DateTime<Utc>>> {
        signed_in(ctx)?;
        Ok(self.0.deleted_at)
    }
    /// The organization's users, oldest first by default. Requires sign-in.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start (0–100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (0–100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
        #[graphql(desc = "Conditions the users must meet.")] filter: Option<UserFilter>,
        #[graphql(desc = "Sort order (default CREATED_AT ASC).")] order_by: Option<UserOrder>,
        #[graphql(desc = "Include soft-deleted users (admins only).", default = false)] include_deleted: bool,
    ) -> Result<Conn<User>> {
        let page = PageArgs {
            first,
            after,
            last,
            before,
        };
        user::nested_connection(
            ctx,
            self.0.id,
            UserListArgs {
                page,
                filter,
                order_by,
                include_deleted,
            },
        )
        .await
    }
    /// The organization's posts, newest first by default (published ones only for
    /// anonymous callers).
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
        let page = PageArgs {
            first,
            after,
            last,
            before,
        };
        post::nested_connection(
            ctx,
            Parent::Organization(self.0.id),
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

/// Filters of an organization list.
#[derive(InputObject, Default)]
pub struct OrganizationFilter {
    /// Only organizations on this plan.
    plan: Option<Plan>,
    /// Only active (true) or deactivated (false) organizations.
    is_active: Option<bool>,
}

/// Fields an organization list can be sorted by; ties are broken by id.
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum OrganizationOrderField {
    /// Creation time.
    CreatedAt,
    /// Name.
    Name,
}

/// The order of an organization list (default: oldest first).
#[derive(InputObject)]
pub struct OrganizationOrder {
    /// The field to sort by.
    field: OrganizationOrderField,
    /// The direction.
    direction: OrderDirection,
}

#[derive(Default)]
pub struct OrganizationQuery;

#[Object]
impl OrganizationQuery {
    /// Organizations the caller can see: their own, every one for platform admins, the
    /// active ones for anonymous callers.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    async fn organizations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start (0–100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (0–100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
        #[graphql(desc = "Conditions the organizations must meet.")] filter: Option<OrganizationFilter>,
        #[graphql(desc = "Sort order (default CREATED_AT ASC).")] order_by: Option<OrganizationOrder>,
        #[graphql(desc = "Include soft-deleted organizations (admins only).", default = false)]
        include_deleted: bool,
    ) -> Result<Conn<Organization>> {
        use sea_orm::{ColumnTrait, QueryFilter};
        let mut select = service::organization::list(viewer(ctx)?, include_deleted)?;
        let filter = filter.unwrap_or_default();
        if let Some(plan) = filter.plan {
            select = select.filter(organization::Column::Plan.eq(organization::Plan::from(plan)));
        }
        if let Some(active) = filter.is_active {
            select = select.filter(organization::Column::IsActive.eq(active));
        }
        let order = order_by.unwrap_or(OrganizationOrder {
            field: OrganizationOrderField::CreatedAt,
            direction: OrderDirection::Asc,
        });
        let (column, field, key): (_, _, KeyOf<organization::Model>) = match order.field {
            OrganizationOrderField::CreatedAt => (organization::Column::CreatedAt, "CREATED_AT", |o| {
                (SortKey::Time(o.created_at), o.id)
            }),
            OrganizationOrderField::Name => (organization::Column::Name, "NAME", |o| {
                (SortKey::Text(o.name.clone()), o.id)
            }),
        };
        let sort = Sort {
            column,
            id_column: organization::Column::Id,
            field,
            descending: order.direction.is_desc(),
        };
        let page = paginate(
            db(ctx)?,
            select,
            &sort,
            &PageArgs {
                first,
                after,
                last,
                before,
            },
            key,
            selects_rows(ctx),
        )
        .await?;
        Ok(page.into_connection(Organization))
    }

    /// An organization by id (global or database id) or by slug; null when missing or not
    /// visible. Pass exactly one of the two.
    async fn organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization's id.")] id: Option<ID>,
        #[graphql(desc = "The organization's slug.")] slug: Option<String>,
    ) -> Result<Option<Organization>> {
        let (db, viewer) = (db(ctx)?, viewer(ctx)?);
        let org = match (id, slug) {
            (Some(id), None) => {
                let id = ids::decode(&id, Kind::Organization, "id")?;
                service::organization::by_id(db, viewer, id).await?
            }
            (None, Some(slug)) => service::organization::by_slug(db, viewer, &slug).await?,
            _ => return Err(ApiError::bad_input("id", "Pass exactly one of `id` and `slug`").into()),
        };
        Ok(org.map(Organization))
    }
}
