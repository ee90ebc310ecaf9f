//! The links between posts and tags: a post's `tagIds` replace its set of live tags, in
//! order, with one audit entry per link added, removed or moved; and the tags of many
//! posts in one statement (for `Post.tags`).
use std::collections::HashMap;

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, JoinType,
    QueryFilter, QueryOrder, QueryResult, QuerySelect, RelationTrait,
};
use serde_json::json;

use crate::{
    auth::Viewer,
    db::{Db, Txn},
    entity::{
        audit_log::Action,
        post, post_tag,
        scope::{self, Deleted},
        tag,
    },
    error::{ApiError, ApiResult},
    query::any_of,
    service::{Actor, Lock, audit, now},
};

/// The table name of link audit entries.
const TABLE: &str = "post_tags";

/// Checks `tag_ids` (validated: at most 20, no repeats) name live tags of the
/// organization, locking them against a concurrent soft delete. A foreign tag reads like
/// an unknown one: the message never tells them apart.
pub async fn check_links(txn: &Txn, organization_id: i32, tag_ids: &[i32]) -> ApiResult<()> {
    if tag_ids.is_empty() {
        return Ok(());
    }
    let found: Vec<i32> = Lock::Share
        .apply(tag::Entity::find())
        .select_only()
        .column(tag::Column::Id)
        .filter(tag::Column::Id.is_in(tag_ids.iter().copied()))
        .filter(tag::Column::OrganizationId.eq(organization_id))
        .filter(tag::Column::DeletedAt.is_null())
        .into_tuple()
        .all(txn)
        .await?;
    if found.len() == tag_ids.len() {
        Ok(())
    } else {
        Err(ApiError::bad_input(
            "tagIds",
            "Every tag of `tagIds` must be a live tag of the post's organization",
        ))
    }
}

/// Makes `tag_ids` (checked by `check_links`) the post's live tags, in that order: links
/// to other live tags are removed, new ones added, and moved ones get their new place.
/// Links to soft-deleted tags are left as they are (a restored tag comes back in place).
/// One audit entry per link added (`CREATE`), removed (`DELETE`) or moved (`UPDATE`),
/// all in one statement. Returns whether anything changed.
pub async fn replace_links(txn: &Txn, actor: &Actor, post: &post::Model, tag_ids: &[i32]) -> ApiResult<bool> {
    let old: Vec<(i32, i32)> = post_tag::Entity::find()
        .select_only()
        .column(post_tag::Column::TagId)
        .column(post_tag::Column::Position)
        .join(JoinType::InnerJoin, post_tag::Relation::Tag.def())
        .filter(post_tag::Column::PostId.eq(post.id))
        .filter(tag::Column::DeletedAt.is_null())
        .into_tuple()
        .all(txn)
        .await?;
    apply_links(txn, actor, post, old.into_iter().collect(), tag_ids).await
}

/// `replace_links` for a post created in this transaction: it has no links to read (one
/// statement less in SQLite's single writer's turn).
pub async fn link_new(txn: &Txn, actor: &Actor, post: &post::Model, tag_ids: &[i32]) -> ApiResult<()> {
    apply_links(txn, actor, post, HashMap::new(), tag_ids)
        .await
        .map(drop)
}

/// Turns the post's live links `old` (tag id → position) into `tag_ids`.
async fn apply_links(
    txn: &Txn,
    actor: &Actor,
    post: &post::Model,
    old: HashMap<i32, i32>,
    tag_ids: &[i32],
) -> ApiResult<bool> {
    let values = |tag_id: i32| json!({ "post_id": post.id, "tag_id": tag_id });
    let entry = |action, old_values, new_values| audit::Entry {
        organization_id: Some(post.organization_id),
        action,
        table: TABLE,
        record_id: post.id,
        old_values,
        new_values,
    };
    let mut entries = Vec::new();
    let mut removed: Vec<i32> = old.keys().copied().filter(|id| !tag_ids.contains(id)).collect();
    removed.sort_unstable();
    for &tag_id in &removed {
        entries.push(entry(Action::Delete, Some(values(tag_id)), None));
    }
    let t = now();
    let mut added = Vec::new();
    let mut moved = Vec::new();
    for (position, &tag_id) in (0..).zip(tag_ids) {
        match old.get(&tag_id) {
            None => {
                added.push(post_tag::ActiveModel {
                    post_id: Set(post.id),
                    tag_id: Set(tag_id),
                    position: Set(position),
                    created_at: Set(t),
                });
                entries.push(entry(Action::Create, None, Some(values(tag_id))));
            }
            Some(&was) if was != position => {
                moved.push((tag_id, position));
                let at = |p: i32| json!({ "post_id": post.id, "tag_id": tag_id, "position": p });
                entries.push(entry(Action::Update, Some(at(was)), Some(at(position))));
            }
            Some(_) => {}
        }
    }
    if !removed.is_empty() {
        post_tag::Entity::delete_many()
            .filter(post_tag::Column::PostId.eq(post.id))
            .filter(post_tag::Column::TagId.is_in(removed))
            .exec(txn)
            .await?;
    }
    for (tag_id, position) in moved {
        post_tag::Entity::update_many()
            .col_expr(
                post_tag::Column::Position,
                sea_orm::sea_query::Expr::value(position),
            )
            .filter(post_tag::Column::PostId.eq(post.id))
            .filter(post_tag::Column::TagId.eq(tag_id))
            .exec(txn)
            .await?;
    }
    if !added.is_empty() {
        post_tag::Entity::insert_many(added).exec(txn).await?;
    }
    let changed = !entries.is_empty();
    audit::record(txn, actor, entries).await?;
    Ok(changed)
}

/// A tag as one of a post's tags.
struct TagOfPost {
    post_id: i32,
    tag: tag::Model,
}

impl FromQueryResult for TagOfPost {
    fn from_query_result(res: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        Ok(TagOfPost {
            post_id: res.try_get(pre, "blogql_post_id")?,
            tag: tag::Model::from_query_result(res, pre)?,
        })
    }
}

/// The live tags of each post, in the order set.
pub type TagsOfPosts = HashMap<i32, Vec<tag::Model>>;

/// The live tags `viewer` may see of each of `post_ids`, in position order, in one
/// statement. The caller has already checked that `viewer` may read the posts.
pub async fn tags_of_posts(db: &Db, viewer: &Viewer, post_ids: &[i32]) -> ApiResult<TagsOfPosts> {
    let rows = scope::tags(viewer, Deleted::Exclude)
        .join(JoinType::InnerJoin, post_tag::Relation::Tag.def().rev())
        .expr_as(
            sea_orm::sea_query::Expr::col((post_tag::Entity, post_tag::Column::PostId)),
            "blogql_post_id",
        )
        .filter(any_of(
            db.get_database_backend(),
            sea_orm::sea_query::Expr::col((post_tag::Entity, post_tag::Column::PostId)),
            post_ids,
        ))
        .order_by_asc(post_tag::Column::PostId)
        .order_by_asc(post_tag::Column::Position)
        .order_by_asc(post_tag::Column::TagId)
        .into_model::<TagOfPost>()
        .all(db)
        .await?;
    let mut tags: TagsOfPosts = HashMap::new();
    for TagOfPost { post_id, tag } in rows {
        tags.entry(post_id).or_default().push(tag);
    }
    Ok(tags)
}
