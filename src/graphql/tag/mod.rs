//! `Tag`: the object, its lists and its queries (mutations in `mutation.rs`).
mod mutation;

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};

pub use self::mutation::TagMutation;
use super::{
    context::{db, loaders, viewer},
    enums::OrderDirection,
    ids::{self, Kind},
    organization::Organization,
    pagination::{Conn, connection, page_args, selects_rows},
    post::{self, Post, PostFilter, PostListArgs, PostOrder},
};
use crate::{
    entity::tag,
    error::ApiError,
    query::PageArgs,
    service::{
        self,
        tag::{TagConditions, TagList, TagPosts, TagSort},
    },
};

/// A tag of an organization's posts (`Post.tags`, `Tag.posts`). Anonymous callers see the
/// tags of active organizations, and through them only published posts.
pub struct Tag(pub tag::Model);

/// A tag of an organization's posts (`Post.tags`, `Tag.posts`). Anonymous callers see the
/// tags of active organizations, and through them only published posts.
#[Object]
impl Tag {
    /// Opaque global id (Relay).
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Tag, self.0.id)
    }
    /// The numeric primary key.
    async fn database_id(&self) -> i32 {
        self.0.id
    }
    /// Name, 1–50 characters, unique in the organization among live tags (ignoring case).
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The tag's address within its organization: lowercase letters, digits and single
    /// hyphens, unique among the organization's live tags (`Organization.tag(slug:)`).
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    /// What the tag is about, at most 500 characters.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// Creation time (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Last change (UTC).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// When the tag was soft-deleted; null while it is live.
    async fn deleted_at(&self) -> Option<DateTime<Utc>> {
        self.0.deleted_at
    }
    /// The organization the tag belongs to.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Organization> {
        let org = loaders(ctx)?
            .organization()
            .load_one(self.0.organization_id)
            .await
            .map_err(ApiError::from)?;
        Ok(Organization(org.ok_or_else(|| {
            ApiError::Internal("tag organization not visible".into())
        })?))
    }
    /// How many live posts with this tag the caller can read (anonymous callers: the
    /// published ones).
    async fn post_count(&self, ctx: &Context<'_>) -> Result<i32> {
        let n = loaders(ctx)?
            .tag_post_counts()
            .load_one((
                self.0.id,
                TagPosts::count_all(service::post::Engine::of(db(ctx)?)),
            ))
            .await
            .map_err(ApiError::from)?
            .unwrap_or(0);
        Ok(i32::try_from(n).unwrap_or(i32::MAX))
    }
    /// The posts with this tag, newest first by default (published ones only for
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
        post::tag_connection(ctx, self.0.id, args).await
    }
}

/// Filters of a tag list.
#[derive(InputObject, Default)]
pub struct TagFilter {
    /// Case-insensitive substring of the name; `%`, `_` and `\` match literally.
    search: Option<String>,
}

/// Fields a tag list can be sorted by; ties are broken by id.
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum TagOrderField {
    /// Name (as stored: on SQLite, uppercase before lowercase).
    Name,
    /// Creation time.
    CreatedAt,
    /// The number of live posts with the tag that the caller can read (`postCount`).
    PostCount,
}

/// The order of a tag list (default: by name, ascending).
#[derive(InputObject)]
pub struct TagOrder {
    /// The field to sort by.
    field: TagOrderField,
    /// The direction.
    direction: OrderDirection,
}

/// The arguments every tag connection takes.
pub struct TagListArgs {
    pub page: PageArgs,
    pub filter: Option<TagFilter>,
    pub order_by: Option<TagOrder>,
    pub include_deleted: bool,
}

/// A page of tags: of one organization, or every tag the caller can see.
pub async fn tag_connection(
    ctx: &Context<'_>,
    organization_id: Option<i32>,
    args: TagListArgs,
) -> Result<Conn<Tag>> {
    let order = args.order_by.unwrap_or(TagOrder {
        field: TagOrderField::Name,
        direction: OrderDirection::Asc,
    });
    let list = TagList {
        filter: TagConditions {
            search: args.filter.unwrap_or_default().search,
        },
        sort: match order.field {
            TagOrderField::Name => TagSort::Name,
            TagOrderField::CreatedAt => TagSort::CreatedAt,
            TagOrderField::PostCount => TagSort::PostCount,
        },
        descending: order.direction.is_desc(),
        page: args.page,
        include_deleted: args.include_deleted,
    };
    let page = service::tag::page(db(ctx)?, viewer(ctx)?, organization_id, &list, selects_rows(ctx)).await?;
    Ok(connection(page, Tag))
}

#[derive(Default)]
pub struct TagQuery;

#[Object]
impl TagQuery {
    /// Tags, by name by default: those of one organization, or every tag the caller can
    /// see. Anonymous callers get the tags of active organizations.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    async fn tags(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only tags of this organization (global or database id).")] organization_id: Option<
            ID,
        >,
        #[graphql(desc = "Page size from the start (0–100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (0–100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
        #[graphql(desc = "Conditions the tags must meet.")] filter: Option<TagFilter>,
        #[graphql(desc = "Sort order (default NAME ASC).")] order_by: Option<TagOrder>,
        #[graphql(desc = "Include soft-deleted tags (admins only).", default = false)] include_deleted: bool,
    ) -> Result<Conn<Tag>> {
        let organization_id =
            ids::decode_opt(organization_id.as_ref(), Kind::Organization, "organizationId")?;
        let args = TagListArgs {
            page: page_args(ctx, first, after, last, before),
            filter,
            order_by,
            include_deleted,
        };
        tag_connection(ctx, organization_id, args).await
    }

    /// A tag by id (global or database id); null when it does not exist, is deleted or is
    /// not visible.
    async fn tag(&self, ctx: &Context<'_>, #[graphql(desc = "The tag's id.")] id: ID) -> Result<Option<Tag>> {
        let id = ids::decode(&id, Kind::Tag, "id")?;
        Ok(service::tag::by_id(db(ctx)?, viewer(ctx)?, id).await?.map(Tag))
    }
}
