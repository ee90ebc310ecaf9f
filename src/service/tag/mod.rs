//! Tags: reads, create / update / soft delete / restore (org admins and platform admins),
//! and the links between posts and tags (`links.rs`).
mod links;
mod list;

use sea_orm::{ActiveValue::Set, ColumnTrait, NotSet, QueryFilter};

use super::{Actor, Lock, begin_write, guard, now, rows, slug, validate};
use crate::{
    auth::Viewer,
    db::Db,
    entity::{
        organization,
        scope::{self, Deleted},
        tag,
    },
    error::{ApiError, ApiResult},
};

pub use self::{
    links::{TagsOfPosts, check_links, link_new, replace_links, tags_of_posts},
    list::{TagConditions, TagList, TagPosts, TagSort, page},
};

pub async fn by_id(db: &Db, viewer: &Viewer, id: i32) -> ApiResult<Option<tag::Model>> {
    rows::find::<tag::Entity>(db, viewer, id, Deleted::Exclude, Lock::None).await
}

/// The live tag of organization `organization_id` with `slug`, if `viewer` may see it.
pub async fn by_slug(
    db: &Db,
    viewer: &Viewer,
    organization_id: i32,
    slug: &str,
) -> ApiResult<Option<tag::Model>> {
    let slug = validate::text("slug", slug)?;
    Ok(scope::tags(viewer, Deleted::Exclude)
        .filter(tag::Column::OrganizationId.eq(organization_id))
        .filter(tag::Column::Slug.eq(slug))
        .one(db)
        .await?)
}

/// Org admins write their organization's tags (the scope finds no other), platform
/// admins any; members are `FORBIDDEN`, anonymous callers `UNAUTHENTICATED`.
fn may_write(viewer: &Viewer) -> ApiResult<Option<&crate::auth::Member>> {
    guard::admin(viewer, "create, change, delete and restore tags")
}

pub struct NewTag {
    pub name: String,
    /// Derived from the name when `None`.
    pub slug: Option<String>,
    pub description: Option<String>,
    /// Defaults to the caller's organization; required for platform admins.
    pub organization_id: Option<i32>,
}

/// A new tag's checked fields.
struct Valid {
    organization_id: i32,
    name: String,
    description: Option<String>,
}

pub async fn create(db: &Db, actor: &Actor, input: NewTag) -> ApiResult<tag::Model> {
    let admin = may_write(&actor.viewer)?;
    let organization_id = match (input.organization_id, admin) {
        (Some(id), _) => id,
        (None, Some(member)) => member.organization_id,
        (None, None) => {
            return Err(ApiError::bad_input(
                "organizationId",
                "`organizationId` is required for platform admins",
            ));
        }
    };
    let valid = Valid {
        organization_id,
        name: validate::tag_name(&input.name)?,
        description: input
            .description
            .as_deref()
            .map(validate::description)
            .transpose()?
            .flatten(),
    };
    let explicit_slug = input.slug.as_deref().map(validate::tag_slug).transpose()?;
    // A derived slug is the next free one when the transaction reads; a concurrent create
    // can take it first, and the unique index refuses the second: it tries again.
    let mut attempts = 0;
    loop {
        attempts += 1;
        match insert(db, actor, &valid, explicit_slug.clone()).await {
            Err(ApiError::Conflict { field: "slug", .. }) if explicit_slug.is_none() && attempts < 5 => {
                continue;
            }
            result => return result,
        }
    }
}

async fn insert(
    db: &Db,
    actor: &Actor,
    input: &Valid,
    explicit_slug: Option<String>,
) -> ApiResult<tag::Model> {
    let txn = begin_write(db).await?;
    // The organization stays live while its tag is written (its soft delete waits). A
    // derived slug locks it for update: tags of one organization created at the same
    // moment then pick their free slugs one after the other instead of racing for one
    // (a race retried a bounded number of times left the sixth of six racers CONFLICT).
    let lock = if explicit_slug.is_none() {
        Lock::Update
    } else {
        Lock::Share
    };
    rows::require::<organization::Entity>(&txn, &actor.viewer, input.organization_id, Deleted::Exclude, lock)
        .await?;
    let slug = match explicit_slug {
        Some(slug) => slug,
        None => {
            let base = slug::derive::<tag::Entity>(&input.name);
            slug::free::<tag::Entity>(&txn, input.organization_id, &base, None, &Default::default()).await?
        }
    };
    let t = now();
    let row = tag::ActiveModel {
        id: NotSet,
        organization_id: Set(input.organization_id),
        name: Set(input.name.clone()),
        slug: Set(slug),
        description: Set(input.description.clone()),
        created_at: Set(t),
        updated_at: Set(t),
        deleted_at: Set(None),
    };
    // A name taken (ignoring case) or an explicit slug taken is `CONFLICT` from the
    // unique indexes, concurrent requests included.
    let tag = rows::insert_audited(&txn, actor, row).await?;
    txn.commit().await?;
    Ok(tag)
}

#[derive(Default)]
pub struct TagChanges {
    pub name: Option<String>,
    /// A new slug (a new name leaves the slug alone: links keep working).
    pub slug: Option<String>,
    /// `Some(None)` clears the description.
    pub description: Option<Option<String>>,
}

pub async fn update(db: &Db, actor: &Actor, id: i32, changes: TagChanges) -> ApiResult<tag::Model> {
    may_write(&actor.viewer)?;
    let name = changes.name.as_deref().map(validate::tag_name).transpose()?;
    let slug = changes.slug.as_deref().map(validate::tag_slug).transpose()?;
    let description = match &changes.description {
        Some(Some(v)) => Some(validate::description(v)?),
        Some(None) => Some(None),
        None => None,
    };
    let txn = begin_write(db).await?;
    let old = rows::require::<tag::Entity>(&txn, &actor.viewer, id, Deleted::Exclude, Lock::Update).await?;
    let mut new = old.clone();
    if let Some(v) = name {
        new.name = v;
    }
    if let Some(v) = slug {
        new.slug = v;
    }
    if let Some(v) = description {
        new.description = v;
    }
    let tag = rows::update_audited(&txn, actor, old, new).await?;
    txn.commit().await?;
    Ok(tag)
}

/// Hides the tag everywhere; its links to posts stay (a restore brings it back in place).
pub async fn soft_delete(db: &Db, actor: &Actor, id: i32) -> ApiResult<tag::Model> {
    may_write(&actor.viewer)?;
    let txn = begin_write(db).await?;
    let tag = rows::require::<tag::Entity>(&txn, &actor.viewer, id, Deleted::Exclude, Lock::Update).await?;
    let t = now();
    let tag = rows::set_deleted_at(&txn, tag, Some(t)).await?;
    rows::record_deletion(&txn, actor, &tag, &[], None, Some(t)).await?;
    txn.commit().await?;
    Ok(tag)
}

/// Restores a soft-deleted tag. A slug taken meanwhile by a live tag gets the smallest
/// free `-N` suffix (in the audit entry); a name taken meanwhile is `CONFLICT` (`name`).
pub async fn restore(db: &Db, actor: &Actor, id: i32) -> ApiResult<tag::Model> {
    may_write(&actor.viewer)?;
    let txn = begin_write(db).await?;
    let find = |lock| rows::require::<tag::Entity>(&txn, &actor.viewer, id, Deleted::Include, lock);
    let tag = find(Lock::None).await?;
    // The organization is locked before the tag (see `Lock` for the order).
    let org = rows::require::<organization::Entity>(
        &txn,
        &actor.viewer,
        tag.organization_id,
        Deleted::Include,
        Lock::Share,
    )
    .await?;
    let tag = find(Lock::Update).await?;
    let Some(t) = tag.deleted_at else {
        return Err(ApiError::bad_input("id", "Tag is not deleted"));
    };
    if org.deleted_at.is_some() {
        return Err(ApiError::bad_input(
            "id",
            "The tag's organization is deleted; restore the organization first",
        ));
    }
    let tag = slug::restore::<tag::Entity, _>(&txn, actor, tag, t).await?;
    txn.commit().await?;
    Ok(tag)
}
