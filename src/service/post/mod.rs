//! Posts: reads, create / update / soft delete / restore, and view counts.
mod list;

use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, NotSet, QueryFilter, QuerySelect, QueryTrait,
    sea_query::{Expr, ExprTrait},
};

use super::{Actor, Lock, audit, audit::Entry, begin_write, guard, now, validate};
use crate::{
    auth::Viewer,
    db::Db,
    entity::{
        audit_log::Action,
        post::{self, Status},
        scope::{self, Deleted},
    },
    error::{ApiError, ApiResult},
};

pub use self::list::{Parent, PostChildren, PostConditions, PostList, PostPage, PostSort, Read, page};

pub const TABLE: &str = "posts";

pub async fn by_id(db: &Db, viewer: &Viewer, id: i32) -> ApiResult<Option<post::Model>> {
    Ok(scope::posts(viewer, Deleted::Exclude)
        .filter(post::Column::Id.eq(id))
        .one(db)
        .await?)
}

async fn require(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: i32,
    deleted: Deleted,
    lock: Lock,
) -> ApiResult<post::Model> {
    lock.apply(scope::posts(viewer, deleted))
        .filter(post::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found("Post"))
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
    let txn = begin_write(db).await?;
    let author = super::user::require(&txn, viewer, author_id, Deleted::Exclude, Lock::Share).await?;
    let organization_id = match input.organization_id {
        Some(id) => {
            super::organization::require(&txn, viewer, id, Deleted::Exclude, Lock::None).await?;
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
    let t = now();
    let post = post::ActiveModel {
        id: NotSet,
        user_id: Set(author.id),
        organization_id: Set(organization_id),
        title: Set(title),
        content: Set(content),
        status: Set(input.status.unwrap_or(Status::Draft)),
        view_count: Set(0),
        created_at: Set(t),
        updated_at: Set(t),
        deleted_at: Set(None),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor,
        vec![Entry {
            organization_id: Some(organization_id),
            action: Action::Create,
            table: TABLE,
            record_id: post.id,
            old_values: None,
            new_values: Some(audit::snapshot(&post)),
        }],
    )
    .await?;
    txn.commit().await?;
    Ok(post)
}

#[derive(Default)]
pub struct PostChanges {
    pub title: Option<String>,
    /// `Some(None)` clears the content.
    pub content: Option<Option<String>>,
    pub status: Option<Status>,
}

pub async fn update(db: &Db, actor: &Actor, id: i32, changes: PostChanges) -> ApiResult<post::Model> {
    guard::signed_in(&actor.viewer)?;
    let title = changes.title.as_deref().map(validate::title).transpose()?;
    let content = match &changes.content {
        Some(Some(v)) => Some(Some(validate::content(v)?)),
        Some(None) => Some(None),
        None => None,
    };
    let txn = begin_write(db).await?;
    let old = require(&txn, &actor.viewer, id, Deleted::Exclude, Lock::Update).await?;
    may_write(&actor.viewer, &old)?;
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
    let post = super::update_audited(&txn, actor, TABLE, Some(old.organization_id), old, new).await?;
    txn.commit().await?;
    Ok(post)
}

pub async fn soft_delete(db: &Db, actor: &Actor, id: i32) -> ApiResult<post::Model> {
    guard::signed_in(&actor.viewer)?;
    let txn = begin_write(db).await?;
    let post = require(&txn, &actor.viewer, id, Deleted::Exclude, Lock::Update).await?;
    may_write(&actor.viewer, &post)?;
    let t = now();
    let post = super::set_deleted_at(&txn, post, Some(t)).await?;
    let entries = audit::deletion_entries(
        post.organization_id,
        [(TABLE, post.id)],
        Action::Delete,
        None,
        Some(t),
    );
    audit::record(&txn, actor, entries).await?;
    txn.commit().await?;
    Ok(post)
}

pub async fn restore(db: &Db, actor: &Actor, id: i32) -> ApiResult<post::Model> {
    guard::signed_in(&actor.viewer)?;
    let txn = begin_write(db).await?;
    // Members may restore their own posts, so the lookup includes deleted rows for them too.
    // The author is locked before the post (see `Lock` for the order).
    let post = require(&txn, &actor.viewer, id, Deleted::Include, Lock::None).await?;
    let author =
        super::user::require(&txn, &actor.viewer, post.user_id, Deleted::Include, Lock::Share).await?;
    let post = require(&txn, &actor.viewer, id, Deleted::Include, Lock::Update).await?;
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
    let post = super::set_deleted_at(&txn, post, None).await?;
    let entries = audit::deletion_entries(
        post.organization_id,
        [(TABLE, post.id)],
        Action::Restore,
        Some(t),
        None,
    );
    audit::record(&txn, actor, entries).await?;
    txn.commit().await?;
    Ok(post)
}

/// Sets `deleted_at` if the row is still as it was read: when a concurrent delete or
/// restore of the same row committed first, this one matches nothing and fails (`NOT_FOUND`
/// to delete, `BAD_USER_INPUT` to restore), so its cascade and audit entries never run twice.
/// Adds one view in a single `UPDATE … SET view_count = view_count + 1`, so concurrent
/// views never lose an increment. Not audited. Anyone who can read the post may count it.
pub async fn record_view(db: &Db, viewer: &Viewer, id: i32) -> ApiResult<post::Model> {
    let visible = scope::posts(viewer, Deleted::Exclude)
        .select_only()
        .column(post::Column::Id)
        .filter(post::Column::Id.eq(id))
        .into_query();
    post::Entity::update_many()
        .col_expr(post::Column::ViewCount, Expr::col(post::Column::ViewCount).add(1))
        .filter(post::Column::Id.in_subquery(visible))
        .exec_with_returning(db)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::not_found("Post"))
}
