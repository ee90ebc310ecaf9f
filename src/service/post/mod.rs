//! Posts: reads, create / update / soft delete / restore, and view counts.
mod list;

use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, EntityTrait, NotSet, QueryFilter, QuerySelect, QueryTrait,
    sea_query::{Expr, ExprTrait},
};

use super::{Actor, Lock, begin_write, guard, now, rows, validate};
use crate::{
    auth::Viewer,
    db::Db,
    entity::{
        organization,
        post::{self, Status},
        scope::{self, Deleted},
        user,
    },
    error::{ApiError, ApiResult},
};

pub use self::list::{Parent, PostChildren, PostConditions, PostList, PostPage, PostSort, Read, page};

pub async fn by_id(db: &Db, viewer: &Viewer, id: i32) -> ApiResult<Option<post::Model>> {
    rows::find::<post::Entity>(db, viewer, id, Deleted::Exclude, Lock::None).await
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
    let t = now();
    let row = post::ActiveModel {
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
    };
    let post = rows::insert_audited(&txn, actor, row).await?;
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
    let old = rows::require::<post::Entity>(&txn, &actor.viewer, id, Deleted::Exclude, Lock::Update).await?;
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
    let post = rows::update_audited(&txn, actor, old, new).await?;
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
    let post = rows::set_deleted_at(&txn, post, None).await?;
    rows::record_deletion(&txn, actor, &post, &[], Some(t), None).await?;
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
    post::Entity::update_many()
        .col_expr(post::Column::ViewCount, Expr::col(post::Column::ViewCount).add(1))
        .filter(post::Column::Id.in_subquery(visible))
        .exec_with_returning(db)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::not_found("Post"))
}
