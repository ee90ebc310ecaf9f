//! Post mutations and their inputs.
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};
use chrono::{DateTime, Utc};

use super::Post;
use crate::{
    graphql::{
        context::{actor, db, viewer},
        enums::PostStatus,
        ids::{self, Kind},
        inputs::{id_inputs, maybe},
    },
    service::{
        self,
        post::{NewPost, PostChanges},
    },
};

/// Input of `createPost`.
#[derive(InputObject)]
pub struct CreatePostInput {
    /// Title, 1–200 characters, not blank.
    title: String,
    /// Body text.
    content: Option<String>,
    /// State (default DRAFT).
    status: Option<PostStatus>,
    /// The author (default: the caller; required for platform admins).
    author_id: Option<ID>,
    /// The organization (default: the author's); must be the author's.
    organization_id: Option<ID>,
    /// Lowercase letters, digits and single hyphens, 1–200; derived from the title when
    /// omitted (`hello-world`, then `hello-world-2` …). A slug taken by a live post of the
    /// organization is `CONFLICT`.
    slug: Option<String>,
    /// Summary, at most 500 characters.
    excerpt: Option<String>,
    /// Featured (default false).
    featured: Option<bool>,
    /// With status SCHEDULED (and only then): when the server publishes the post; in the
    /// future.
    publish_at: Option<DateTime<Utc>>,
    /// The post's tags, in order: at most 20, no repeats, each a live tag of the post's
    /// organization (otherwise `BAD_USER_INPUT`, field `tagIds`).
    tag_ids: Option<Vec<ID>>,
}

/// Input of `updatePost`: the id and the fields to change.
#[derive(InputObject)]
pub struct UpdatePostInput {
    /// The post to change.
    id: ID,
    /// New title.
    title: Option<String>,
    /// New body text; null clears it.
    content: MaybeUndefined<String>,
    /// New state.
    status: Option<PostStatus>,
    /// New slug (a new title keeps the old slug, so links keep working).
    slug: Option<String>,
    /// New excerpt; null clears it.
    excerpt: MaybeUndefined<String>,
    /// Featured or not.
    featured: Option<bool>,
    /// A new publication time for a SCHEDULED post (or one made SCHEDULED); in the future.
    /// Any other status unschedules the post.
    publish_at: Option<DateTime<Utc>>,
    /// The post's new tags, in order, replacing its whole set (`[]` removes them all;
    /// absent or null leaves them). At most 20, no repeats, each a live tag of the post's
    /// organization (otherwise `BAD_USER_INPUT`, field `tagIds`).
    tag_ids: Option<Vec<ID>>,
}

id_inputs!(
    SoftDeletePostInput: "Input of `softDeletePost`.",
    RestorePostInput: "Input of `restorePost`."
);

/// Decodes `tagIds`, each a tag's global or database id.
fn tag_ids(ids: Option<Vec<ID>>) -> Result<Option<Vec<i32>>, crate::error::ApiError> {
    ids.map(|ids| {
        ids.iter()
            .map(|id| ids::decode(id, Kind::Tag, "tagIds"))
            .collect()
    })
    .transpose()
}

/// Mutations of posts.
#[derive(Default)]
pub struct PostMutation;

#[Object]
impl PostMutation {
    /// Creates a post: members as themselves, admins for any author of their organization.
    async fn create_post(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new post's fields.")] input: CreatePostInput,
    ) -> Result<Post> {
        let new = NewPost {
            title: input.title,
            content: input.content,
            status: input.status.map(Into::into),
            author_id: ids::decode_opt(input.author_id.as_ref(), Kind::User, "authorId")?,
            organization_id: ids::decode_opt(
                input.organization_id.as_ref(),
                Kind::Organization,
                "organizationId",
            )?,
            slug: input.slug,
            excerpt: input.excerpt,
            featured: input.featured,
            publish_at: input.publish_at,
            tag_ids: tag_ids(input.tag_ids)?.unwrap_or_default(),
        };
        Ok(Post(service::post::create(db(ctx)?, actor(ctx)?, new).await?))
    }

    /// Changes a post. Its author or an admin.
    async fn update_post(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The post's id and the fields to change.")] input: UpdatePostInput,
    ) -> Result<Post> {
        let id = ids::decode(&input.id, Kind::Post, "id")?;
        let changes = PostChanges {
            title: input.title,
            content: maybe(input.content),
            status: input.status.map(Into::into),
            slug: input.slug,
            excerpt: maybe(input.excerpt),
            featured: input.featured,
            publish_at: input.publish_at,
            tag_ids: tag_ids(input.tag_ids)?,
        };
        Ok(Post(
            service::post::update(db(ctx)?, actor(ctx)?, id, changes).await?,
        ))
    }

    /// Soft-deletes a post. Its author or an admin.
    async fn soft_delete_post(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The post to soft-delete.")] input: SoftDeletePostInput,
    ) -> Result<Post> {
        let id = ids::decode(&input.id, Kind::Post, "id")?;
        Ok(Post(service::post::soft_delete(db(ctx)?, actor(ctx)?, id).await?))
    }

    /// Restores a soft-deleted post. Its author or an admin.
    async fn restore_post(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The post to restore.")] input: RestorePostInput,
    ) -> Result<Post> {
        let id = ids::decode(&input.id, Kind::Post, "id")?;
        Ok(Post(service::post::restore(db(ctx)?, actor(ctx)?, id).await?))
    }

    /// Counts one view of a post, atomically. Anyone who can read the post; not audited.
    async fn record_post_view(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The post's id.")] id: ID,
    ) -> Result<Post> {
        let id = ids::decode(&id, Kind::Post, "id")?;
        Ok(Post(
            service::post::record_view(db(ctx)?, viewer(ctx)?, id).await?,
        ))
    }
}
