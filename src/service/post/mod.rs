//! Posts: reads, create / update / soft delete / restore, and view counts.
mod cascade;
mod fulltext;
mod list;
mod search;

use std::{num::NonZeroUsize, sync::LazyLock};

use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, NotSet, QueryFilter, QuerySelect,
    QueryTrait,
    sea_query::{Expr, ExprTrait},
};

use super::{Actor, Lock, audit, begin_write, guard, now, outbox, rows, slug, tag, validate};
use crate::{
    auth::Viewer,
    db::{Db, template::Templates},
    entity::{
        organization,
        post::{self, Status},
        post_columns::{self, Columns},
        scope::{self, Deleted, PostAudience},
        user,
    },
    error::{ApiError, ApiResult},
};

pub use self::cascade::{Moved, cascade};
pub use self::list::{Parent, PostChildren, PostConditions, PostList, PostPage, PostSort, Read, page};
pub use self::search::{Engine, check_nested};

/// The live post `id` if `viewer` may see it, reading only `columns` (a partial model
/// unless they are `Columns::ALL`). The statement is built once per audience and column
/// set (`db::template`): building it with sea-query cost a fifth of a `post(id:)` request.
pub async fn by_id(db: &Db, viewer: &Viewer, id: i32, columns: Columns) -> ApiResult<Option<post::Model>> {
    type Shape = (bool, PostAudience, Columns);
    static TEMPLATES: LazyLock<Templates<Shape>> =
        LazyLock::new(|| Templates::new(NonZeroUsize::new(512).unwrap_or(NonZeroUsize::MIN)));
    let backend = db.get_database_backend();
    let shape = (
        backend == DbBackend::Postgres,
        scope::post_audience(viewer),
        columns,
    );
    let statement = TEMPLATES.statement(shape, id, |id| {
        let select = scope::posts(viewer, Deleted::Exclude).filter(post::Column::Id.eq(id));
        Ok::<_, DbErr>(backend.build(&post_columns::select(select, columns).limit(1).into_query()))
    })?;
    let row = db.query_one_raw(statement).await?;
    Ok(row
        .map(|row| post_columns::decode(&row, columns, 0))
        .transpose()?)
}

/// The live post of organization `organization_id` with `slug`, if `viewer` may see it,
/// reading only `columns`.
pub async fn by_slug(
    db: &Db,
    viewer: &Viewer,
    organization_id: i32,
    slug: &str,
    columns: Columns,
) -> ApiResult<Option<post::Model>> {
    let slug = validate::text("slug", slug)?;
    let select = scope::posts(viewer, Deleted::Exclude)
        .filter(post::Column::OrganizationId.eq(organization_id))
        .filter(post::Column::Slug.eq(slug));
    Ok(post_columns::one(db, select, columns).await?)
}

/// Authors write their own posts; org admins and platform admins write any.
fn may_write(viewer: &Viewer, post: &post::Model) -> ApiResult<()> {
    guard::signed_in(viewer)?;
    if viewer.is_admin() || viewer.actor_user_id() == Some(post.user_id) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "Only the author or an admin can change this post",
        ))
    }
}

pub struct NewPost {
    pub title: String,
    pub content: Option<String>,
    pub status: Option<Status>,
    pub author_id: Option<i32>,
    pub organization_id: Option<i32>,
    /// Derived from the title when `None`.
    pub slug: Option<String>,
    pub excerpt: Option<String>,
    pub featured: Option<bool>,
    /// When the scheduler publishes it; with (and only with) status `Scheduled`.
    pub publish_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Live tags of the organization, in order.
    pub tag_ids: Vec<i32>,
}

/// `publishAt` goes with status SCHEDULED, and a schedule is in the future.
fn check_schedule(status: Status, publish_at: Option<chrono::DateTime<chrono::Utc>>) -> ApiResult<()> {
    match (status, publish_at) {
        (Status::Scheduled, Some(at)) if at > now() => Ok(()),
        (Status::Scheduled, Some(_)) => Err(ApiError::bad_input(
            "publishAt",
            "`publishAt` must be in the future",
        )),
        (Status::Scheduled, None) => Err(ApiError::bad_input(
            "publishAt",
            "status SCHEDULED needs `publishAt`, the time to publish",
        )),
        (_, Some(_)) => Err(ApiError::bad_input(
            "publishAt",
            "`publishAt` goes with status SCHEDULED",
        )),
        (_, None) => Ok(()),
    }
}

pub async fn create(db: &Db, actor: &Actor, input: NewPost) -> ApiResult<post::Model> {
    let viewer = &actor.viewer;
    guard::signed_in(viewer)?;
    let author_id = match (input.author_id, viewer.actor_user_id()) {
        (Some(id), _) => id,
        (None, Some(me)) => me,
        (None, None) => {
            return Err(ApiError::bad_input(
                "authorId",
                "`authorId` is required for platform admins",
            ));
        }
    };
    if !viewer.is_admin() && viewer.actor_user_id() != Some(author_id) {
        return Err(ApiError::forbidden("Members can only create posts as themselves"));
    }
    let title = validate::title(&input.title)?;
    let content = input.content.as_deref().map(validate::content).transpose()?;
    let explicit_slug = input.slug.as_deref().map(validate::post_slug).transpose()?;
    let excerpt = input.excerpt.as_deref().map(validate::excerpt).transpose()?;
    let status = input.status.unwrap_or(Status::Draft);
    check_schedule(status, input.publish_at)?;
    validate::tag_ids(&input.tag_ids)?;
    let valid = Valid {
        tag_ids: input.tag_ids,
        author_id,
        publish_at: input.publish_at,
        title,
        content,
        excerpt: excerpt.filter(|e| !e.is_empty()),
        status,
        organization_id: input.organization_id,
        featured: input.featured.unwrap_or(false),
    };
    // A derived slug is the next free one when the transaction reads; two posts of one
    // organization created at the same moment can both read it free, and the unique index
    // refuses the second: it tries again with what is free then.
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

/// A new post's checked fields.
struct Valid {
    author_id: i32,
    publish_at: Option<chrono::DateTime<chrono::Utc>>,
    title: String,
    content: Option<String>,
    excerpt: Option<String>,
    status: Status,
    organization_id: Option<i32>,
    featured: bool,
    tag_ids: Vec<i32>,
}

async fn insert(
    db: &Db,
    actor: &Actor,
    input: &Valid,
    explicit_slug: Option<String>,
) -> ApiResult<post::Model> {
    let viewer = &actor.viewer;
    let author_id = input.author_id;
    let txn = begin_write(db).await?;
    let author =
        rows::require::<user::Entity>(&txn, viewer, author_id, Deleted::Exclude, Lock::Share).await?;
    let organization_id = match input.organization_id {
        Some(id) => {
            rows::require::<organization::Entity>(&txn, viewer, id, Deleted::Exclude, Lock::None).await?;
            id
        }
        None => author.organization_id,
    };
    if author.organization_id != organization_id {
        return Err(ApiError::bad_input(
            "authorId",
            "User does not belong to this organization",
        ));
    }
    tag::check_links(&txn, organization_id, &input.tag_ids).await?;
    // An explicit slug that is taken is `CONFLICT` (the unique index says so); a derived
    // one takes the next free suffix.
    let slug = match explicit_slug {
        Some(slug) => slug,
        None => {
            slug::free::<post::Entity>(
                &txn,
                organization_id,
                &slug::derive::<post::Entity>(&input.title),
                None,
                &Default::default(),
            )
            .await?
        }
    };
    let t = now();
    let status = input.status;
    let row = post::ActiveModel {
        id: NotSet,
        user_id: Set(author.id),
        organization_id: Set(organization_id),
        title: Set(input.title.clone()),
        content: Set(input.content.clone()),
        status: Set(status),
        view_count: Set(0),
        slug: Set(slug),
        excerpt: Set(input.excerpt.clone()),
        featured: Set(input.featured),
        published_at: Set((status == Status::Published).then_some(t)),
        publish_at: Set(input.publish_at),
        created_at: Set(t),
        updated_at: Set(t),
        deleted_at: Set(None),
    };
    let post = rows::insert_audited(&txn, actor, row).await?;
    tag::link_new(&txn, actor, &post, &input.tag_ids).await?;
    outbox::emit(&txn, &outbox::created(&post)).await?;
    txn.commit().await?;
    Ok(post)
}

#[derive(Default)]
pub struct PostChanges {
    pub title: Option<String>,
    /// `Some(None)` clears the content.
    pub content: Option<Option<String>>,
    pub status: Option<Status>,
    /// A new slug (the title's change leaves the slug alone: links keep working).
    pub slug: Option<String>,
    /// `Some(None)` clears the excerpt.
    pub excerpt: Option<Option<String>>,
    pub featured: Option<bool>,
    /// A new schedule (the post is, or becomes, SCHEDULED).
    pub publish_at: Option<chrono::DateTime<chrono::Utc>>,
    /// A new list of tags, replacing the live ones (the post row itself is unchanged).
    pub tag_ids: Option<Vec<i32>>,
}

pub async fn update(db: &Db, actor: &Actor, id: i32, changes: PostChanges) -> ApiResult<post::Model> {
    guard::signed_in(&actor.viewer)?;
    let title = changes.title.as_deref().map(validate::title).transpose()?;
    let content = match &changes.content {
        Some(Some(v)) => Some(Some(validate::content(v)?)),
        Some(None) => Some(None),
        None => None,
    };
    let slug = changes.slug.as_deref().map(validate::post_slug).transpose()?;
    let excerpt = match &changes.excerpt {
        Some(Some(v)) => Some(Some(validate::excerpt(v)?).filter(|e| !e.is_empty())),
        Some(None) => Some(None),
        None => None,
    };
    changes.tag_ids.as_deref().map(validate::tag_ids).transpose()?;
    let txn = begin_write(db).await?;
    let old = rows::require::<post::Entity>(&txn, &actor.viewer, id, Deleted::Exclude, Lock::Update).await?;
    may_write(&actor.viewer, &old)?;
    if let Some(ids) = &changes.tag_ids {
        tag::check_links(&txn, old.organization_id, ids).await?;
    }
    let mut new = old.clone();
    if let Some(v) = title {
        new.title = v;
    }
    if let Some(v) = content {
        new.content = v;
    }
    if let Some(v) = changes.status {
        new.status = v;
    }
    if let Some(v) = slug {
        new.slug = v;
    }
    if let Some(v) = excerpt {
        new.excerpt = v;
    }
    if let Some(v) = changes.featured {
        new.featured = v;
    }
    // Only SCHEDULED posts have a `publishAt`: leaving the state unschedules. A new state
    // or time is checked; an unchanged schedule that has come due is the scheduler's.
    if let Some(at) = changes.publish_at {
        new.publish_at = Some(at);
    }
    if changes.status.is_some() || changes.publish_at.is_some() {
        check_schedule(
            new.status,
            if new.status == Status::Scheduled {
                new.publish_at
            } else {
                changes.publish_at
            },
        )?;
    }
    if new.status != Status::Scheduled {
        new.publish_at = None;
    }
    // Set when the post first becomes published, kept after (back to draft and published
    // again keeps the first time).
    if new.status == Status::Published && new.published_at.is_none() {
        new.published_at = Some(now());
    }
    let post = rows::update_audited(&txn, actor, old.clone(), new).await?;
    let tagged = match &changes.tag_ids {
        Some(ids) => tag::replace_links(&txn, actor, &post, ids).await?,
        None => false,
    };
    let event = outbox::updated(&old, &post).or_else(|| tagged.then(|| outbox::retagged(&post)));
    outbox::emit(&txn, event.as_slice()).await?;
    txn.commit().await?;
    Ok(post)
}

pub async fn soft_delete(db: &Db, actor: &Actor, id: i32) -> ApiResult<post::Model> {
    guard::signed_in(&actor.viewer)?;
    let txn = begin_write(db).await?;
    let post = rows::require::<post::Entity>(&txn, &actor.viewer, id, Deleted::Exclude, Lock::Update).await?;
    may_write(&actor.viewer, &post)?;
    let t = now();
    let post = rows::set_deleted_at(&txn, post, Some(t)).await?;
    rows::record_deletion(&txn, actor, &post, &[], None, Some(t)).await?;
    outbox::emit(&txn, &[outbox::deletion(&post, true)]).await?;
    txn.commit().await?;
    Ok(post)
}

pub async fn restore(db: &Db, actor: &Actor, id: i32) -> ApiResult<post::Model> {
    guard::signed_in(&actor.viewer)?;
    let txn = begin_write(db).await?;
    // Members may restore their own posts, so the lookup includes deleted rows for them too.
    // The author is locked before the post (see `Lock` for the order).
    let find = |lock| rows::require::<post::Entity>(&txn, &actor.viewer, id, Deleted::Include, lock);
    let post = find(Lock::None).await?;
    let author =
        rows::require::<user::Entity>(&txn, &actor.viewer, post.user_id, Deleted::Include, Lock::Share)
            .await?;
    let post = find(Lock::Update).await?;
    may_write(&actor.viewer, &post)?;
    let Some(t) = post.deleted_at else {
        return Err(ApiError::bad_input("id", "Post is not deleted"));
    };
    if author.deleted_at.is_some() {
        return Err(ApiError::bad_input(
            "id",
            "The post's author is deleted; restore the user first",
        ));
    }
    let post = slug::restore::<post::Entity, _>(&txn, actor, post, t).await?;
    outbox::emit(&txn, &[outbox::deletion(&post, false)]).await?;
    txn.commit().await?;
    Ok(post)
}

/// Adds one view in a single `UPDATE … SET view_count = view_count + 1`, so concurrent
/// views never lose an increment. Not audited. Anyone who can read the post may count it.
pub async fn record_view(db: &Db, viewer: &Viewer, id: i32) -> ApiResult<post::Model> {
    let visible = scope::posts(viewer, Deleted::Exclude)
        .select_only()
        .column(post::Column::Id)
        .filter(post::Column::Id.eq(id))
        .into_query();
    let update = post::Entity::update_many()
        .col_expr(post::Column::ViewCount, Expr::col(post::Column::ViewCount).add(1))
        .filter(post::Column::Id.in_subquery(visible));
    super::update_returning(db, update)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::not_found("Post"))
}
