//! `Organization`: the object, its list and its queries.
use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};

use super::{
    context::{actor, db, viewer},
    enums::{OrderDirection, Plan},
    guard::require_sign_in,
    ids::{self, Kind},
    pagination::{Conn, connection, page_args, selects_rows},
    post::{self, Post, PostFilter, PostListArgs, PostOrder},
    tag::{Tag, TagFilter, TagListArgs, TagOrder, tag_connection},
    user::{self, User, UserFilter, UserListArgs, UserOrder},
};
use crate::{
    entity::organization,
    error::ApiError,
    service::{
        self,
        organization::{NewOrganization, OrganizationChanges, OrganizationList, OrganizationSort},
        post::Parent,
    },
};

/// A tenant: an organization with its users and posts. Anonymous callers see only the
/// `name`, `slug` and published posts of active organizations.
pub struct Organization(pub organization::Model);

/// A tenant: an organization with its users and posts. Anonymous callers see only the
/// `name`, `slug` and published posts of active organizations.
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
        require_sign_in(ctx)?;
        Ok(self.0.plan.into())
    }
    /// False when deactivated: its users cannot sign in and its posts are not public.
    /// Requires sign-in.
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
    /// When the organization was soft-deleted; null while live. Requires sign-in.
    async fn deleted_at(&self, ctx: &Context<'_>) -> Result<Option<DateTime<Utc>>> {
        require_sign_in(ctx)?;
        Ok(self.0.deleted_at)
    }
    /// The organization's live post with this slug, if the caller may read it (anonymous
    /// callers: published posts only).
    async fn post(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The post's slug.")] slug: String,
    ) -> Result<Option<Post>> {
        let columns = super::post::columns_of(ctx);
        let post = Box::pin(service::post::by_slug(
            db(ctx)?,
            viewer(ctx)?,
            self.0.id,
            &slug,
            columns,
        ))
        .await?;
        Ok(post.map(Post))
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
        let args = UserListArgs {
            page: page_args(ctx, first, after, last, before),
            filter,
            order_by,
            include_deleted,
        };
        Box::pin(user::nested_connection(ctx, self.0.id, args)).await
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
        let args = PostListArgs {
            page: page_args(ctx, first, after, last, before),
            filter,
            order_by,
            include_deleted,
        };
        Box::pin(post::nested_connection(
            ctx,
            Parent::Organization(self.0.id),
            args,
        ))
        .await
    }
    /// The organization's live tag with this slug, if the caller may see it.
    async fn tag(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The tag's slug.")] slug: String,
    ) -> Result<Option<Tag>> {
        let tag = Box::pin(service::tag::by_slug(db(ctx)?, viewer(ctx)?, self.0.id, &slug)).await?;
        Ok(tag.map(Tag))
    }
    /// The organization's tags, by name by default. Read per organization (a list of
    /// organizations with their tags runs one page query for each).
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    async fn tags(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start (0–100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (0–100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
        #[graphql(desc = "Conditions the tags must meet.")] filter: Option<TagFilter>,
        #[graphql(desc = "Sort order (default NAME ASC).")] order_by: Option<TagOrder>,
        #[graphql(desc = "Include soft-deleted tags (admins only).", default = false)] include_deleted: bool,
    ) -> Result<Conn<Tag>> {
        let args = TagListArgs {
            page: page_args(ctx, first, after, last, before),
            filter,
            order_by,
            include_deleted,
        };
        Box::pin(tag_connection(ctx, Some(self.0.id), args)).await
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
        #[graphql(
            desc = "Sort order (default CREATED_AT ASC; NAME ASC for anonymous callers, who may \
                          not order by CREATED_AT nor filter by `plan` or `isActive`)."
        )]
        order_by: Option<OrganizationOrder>,
        #[graphql(desc = "Include soft-deleted organizations (admins only).", default = false)]
        include_deleted: bool,
    ) -> Result<Conn<Organization>> {
        let filter = filter.unwrap_or_default();
        let viewer = viewer(ctx)?;
        // Anonymous callers cannot read `createdAt`: their default order is by name.
        let order = order_by.unwrap_or(OrganizationOrder {
            field: match viewer {
                crate::auth::Viewer::Anonymous => OrganizationOrderField::Name,
                _ => OrganizationOrderField::CreatedAt,
            },
            direction: OrderDirection::Asc,
        });
        let list = OrganizationList {
            filter: service::organization::OrganizationConditions {
                plan: filter.plan.map(Into::into),
                is_active: filter.is_active,
            },
            sort: match order.field {
                OrganizationOrderField::CreatedAt => OrganizationSort::CreatedAt,
                OrganizationOrderField::Name => OrganizationSort::Name,
            },
            descending: order.direction.is_desc(),
            page: page_args(ctx, first, after, last, before),
            include_deleted,
        };
        let page = service::organization::page(db(ctx)?, viewer, &list, selects_rows(ctx)).await?;
        Ok(connection(page, Organization))
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
                match super::organization_read::with_users_and_posts(ctx, id).await? {
                    Some(org) => org,
                    None => service::organization::by_id(db, viewer, id).await?,
                }
            }
            (None, Some(slug)) => service::organization::by_slug(db, viewer, &slug).await?,
            _ => return Err(ApiError::bad_input("id", "Pass exactly one of `id` and `slug`").into()),
        };
        Ok(org.map(Organization))
    }
}

/// Input of `createOrganization`.
#[derive(InputObject)]
pub struct CreateOrganizationInput {
    /// Unique name, 1–100 characters.
    name: String,
    /// Unique slug: lowercase letters, digits and single hyphens, 1–50 characters.
    slug: String,
    /// Plan (default FREE).
    plan: Option<Plan>,
    /// Active (default true).
    is_active: Option<bool>,
}

/// Input of `updateOrganization`: the id and the fields to change.
#[derive(InputObject)]
pub struct UpdateOrganizationInput {
    /// The organization to change.
    id: ID,
    /// New name.
    name: Option<String>,
    /// New slug.
    slug: Option<String>,
    /// New plan (platform admins only).
    plan: Option<Plan>,
    /// Activate or deactivate (platform admins only).
    is_active: Option<bool>,
}

super::inputs::id_inputs!(
    SoftDeleteOrganizationInput: "Input of `softDeleteOrganization`.",
    RestoreOrganizationInput: "Input of `restoreOrganization`."
);

/// Mutations of organizations.
#[derive(Default)]
pub struct OrganizationMutation;

#[Object]
impl OrganizationMutation {
    /// Creates an organization. Platform admins only.
    async fn create_organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new organization's fields.")] input: CreateOrganizationInput,
    ) -> Result<Organization> {
        let new = NewOrganization {
            name: input.name,
            slug: input.slug,
            plan: input.plan.map(Into::into),
            is_active: input.is_active,
        };
        Ok(Organization(
            service::organization::create(db(ctx)?, actor(ctx)?, new).await?,
        ))
    }

    /// Changes an organization: org admins rename their own (`name`, `slug`); platform
    /// admins also set `plan` and `isActive`.
    async fn update_organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization's id and the fields to change.")] input: UpdateOrganizationInput,
    ) -> Result<Organization> {
        let id = ids::decode(&input.id, Kind::Organization, "id")?;
        let changes = OrganizationChanges {
            name: input.name,
            slug: input.slug,
            plan: input.plan.map(Into::into),
            is_active: input.is_active,
        };
        Ok(Organization(
            service::organization::update(db(ctx)?, actor(ctx)?, id, changes).await?,
        ))
    }

    /// Soft-deletes an organization with its users, posts and tags. Platform admins only.
    async fn soft_delete_organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization to soft-delete.")] input: SoftDeleteOrganizationInput,
    ) -> Result<Organization> {
        let id = ids::decode(&input.id, Kind::Organization, "id")?;
        Ok(Organization(
            service::organization::soft_delete(db(ctx)?, actor(ctx)?, id).await?,
        ))
    }

    /// Restores a soft-deleted organization and what its deletion cascaded to. Platform
    /// admins only.
    async fn restore_organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization to restore.")] input: RestoreOrganizationInput,
    ) -> Result<Organization> {
        let id = ids::decode(&input.id, Kind::Organization, "id")?;
        Ok(Organization(
            service::organization::restore(db(ctx)?, actor(ctx)?, id).await?,
        ))
    }
}
