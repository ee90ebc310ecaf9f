//! Tag mutations and their inputs.
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};

use super::Tag;
use crate::{
    graphql::{
        context::{actor, db},
        ids::{self, Kind},
        inputs::{id_inputs, maybe},
    },
    service::{
        self,
        tag::{NewTag, TagChanges},
    },
};

/// Input of `createTag`.
#[derive(InputObject)]
pub struct CreateTagInput {
    /// Name, 1–50 characters, not blank. A name a live tag of the organization has
    /// (ignoring case) is `CONFLICT` (field `name`).
    name: String,
    /// Lowercase letters, digits and single hyphens, 1–60; derived from the name when
    /// omitted (`rust`, then `rust-2` …). A slug taken by a live tag of the organization
    /// is `CONFLICT`.
    slug: Option<String>,
    /// What the tag is about, at most 500 characters.
    description: Option<String>,
    /// The organization (default: the caller's; required for platform admins).
    organization_id: Option<ID>,
}

/// Input of `updateTag`: the id and the fields to change.
#[derive(InputObject)]
pub struct UpdateTagInput {
    /// The tag to change.
    id: ID,
    /// New name (the slug stays, so links keep working).
    name: Option<String>,
    /// New slug.
    slug: Option<String>,
    /// New description; null clears it.
    description: MaybeUndefined<String>,
}

id_inputs!(
    SoftDeleteTagInput: "Input of `softDeleteTag`.",
    RestoreTagInput: "Input of `restoreTag`."
);

/// Mutations of tags.
#[derive(Default)]
pub struct TagMutation;

#[Object]
impl TagMutation {
    /// Creates a tag. Org admins (in their organization) and platform admins.
    async fn create_tag(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new tag's fields.")] input: CreateTagInput,
    ) -> Result<Tag> {
        let new = NewTag {
            name: input.name,
            slug: input.slug,
            description: input.description,
            organization_id: ids::decode_opt(
                input.organization_id.as_ref(),
                Kind::Organization,
                "organizationId",
            )?,
        };
        Ok(Tag(service::tag::create(db(ctx)?, actor(ctx)?, new).await?))
    }

    /// Changes a tag. Org admins and platform admins.
    async fn update_tag(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The tag's id and the fields to change.")] input: UpdateTagInput,
    ) -> Result<Tag> {
        let id = ids::decode(&input.id, Kind::Tag, "id")?;
        let changes = TagChanges {
            name: input.name,
            slug: input.slug,
            description: maybe(input.description),
        };
        Ok(Tag(
            service::tag::update(db(ctx)?, actor(ctx)?, id, changes).await?
        ))
    }

    /// Soft-deletes a tag: it disappears from `Post.tags` and every list, and its links to
    /// posts are kept for a restore. Org admins and platform admins.
    async fn soft_delete_tag(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The tag to soft-delete.")] input: SoftDeleteTagInput,
    ) -> Result<Tag> {
        let id = ids::decode(&input.id, Kind::Tag, "id")?;
        Ok(Tag(service::tag::soft_delete(db(ctx)?, actor(ctx)?, id).await?))
    }

    /// Restores a soft-deleted tag, back on its posts in place. A slug taken meanwhile
    /// gets the smallest free `-N` suffix; a name taken meanwhile is `CONFLICT`. Org admins
    /// and platform admins.
    async fn restore_tag(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The tag to restore.")] input: RestoreTagInput,
    ) -> Result<Tag> {
        let id = ids::decode(&input.id, Kind::Tag, "id")?;
        Ok(Tag(service::tag::restore(db(ctx)?, actor(ctx)?, id).await?))
    }
}
