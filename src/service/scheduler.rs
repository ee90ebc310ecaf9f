//! Scheduled publishing: every instance runs `publish_due` on a timer. Each due post is
//! published exactly once, as one audited update by `system:scheduler`, however many
//! instances run and however late (a restart across the due time publishes it late,
//! once): on PostgreSQL the due rows are claimed `FOR UPDATE SKIP LOCKED`, so instances
//! share them out instead of waiting for each other; on SQLite the single writer
//! serializes the claims. A row is claimed only while it is still SCHEDULED, due and
//! live, so a post unscheduled or deleted meanwhile is left alone.
use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{LockBehavior, LockType},
};

use super::{Actor, begin_write, now, outbox, rows};
use crate::{
    db::Db,
    entity::post::{self, Status},
    error::ApiResult,
};

/// Posts one run publishes at most; the rest wait for the next tick.
const BATCH: u64 = 100;

/// Publishes the posts whose `publishAt` has come; returns how many.
pub async fn publish_due(db: &Db) -> ApiResult<usize> {
    let actor = Actor::system("scheduler");
    let txn = begin_write(db).await?;
    let due = post::Entity::find()
        // A literal, not a parameter: the partial index `WHERE status = 'scheduled'` must be
        // provable from the query under PostgreSQL's generic plans.
        .filter(sea_orm::sea_query::Expr::cust(
            "\"posts\".\"status\" = 'scheduled'",
        ))
        .filter(post::Column::PublishAt.lte(now()))
        .filter(post::Column::DeletedAt.is_null())
        .order_by_asc(post::Column::PublishAt)
        .order_by_asc(post::Column::Id)
        .limit(BATCH)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(&txn)
        .await?;
    let count = due.len();
    let at = now();
    let mut events = Vec::with_capacity(count);
    for old in due {
        let mut new = old.clone();
        new.status = Status::Published;
        new.published_at = old.published_at.or(Some(at));
        new.publish_at = None;
        let stored = rows::update_audited(&txn, &actor, old.clone(), new).await?;
        events.extend(outbox::updated(&old, &stored));
    }
    // One statement for the run's events, the transaction's last. Organizations are
    // locked in id order (stable: each keeps its own order), as two instances' runs
    // could otherwise take two organizations' locks in opposite orders.
    events.sort_by_key(|e| e.organization_id);
    outbox::emit(&txn, &events).await?;
    txn.commit().await?;
    Ok(count)
}
