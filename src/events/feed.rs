//! Reading the outbox: where each instance stands, what is new since, replays, pruning.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, Statement,
};

use crate::{db::Db, entity::post_event};

/// Rows one read returns at most; a full page is followed by another read.
pub const PAGE: u64 = 500;

/// How far an instance has read. On SQLite the single writer commits in id order, so one
/// id says it. On PostgreSQL only an organization's ids are in commit order (see
/// `service::outbox`): a position per organization.
#[derive(Debug)]
pub enum Positions {
    Global(i64),
    PerOrganization(HashMap<i32, i64>),
}

#[derive(FromQueryResult)]
struct Latest {
    organization_id: i32,
    latest: Option<i64>,
}

/// Where reading starts: the newest committed events now (every organization's, on
/// PostgreSQL; one index probe each).
pub async fn positions(db: &Db) -> Result<Positions, DbErr> {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let rows = Latest::find_by_statement(Statement::from_string(
                DbBackend::Postgres,
                "SELECT o.id AS organization_id, \
                 (SELECT max(e.id) FROM post_events e WHERE e.organization_id = o.id) AS latest \
                 FROM organizations o",
            ))
            .all(db)
            .await?;
            Ok(Positions::PerOrganization(
                rows.into_iter()
                    .map(|r| (r.organization_id, r.latest.unwrap_or(0)))
                    .collect(),
            ))
        }
        _ => {
            let latest = post_event::Entity::find()
                .select_only()
                .column_as(post_event::Column::Id.max(), "latest")
                .into_tuple::<Option<i64>>()
                .one(db)
                .await?;
            Ok(Positions::Global(latest.flatten().unwrap_or(0)))
        }
    }
}

/// The organizations that exist now (on PostgreSQL, after the listener was down: those
/// created meanwhile start at 0).
pub async fn organization_ids(db: &Db) -> Result<Vec<i32>, DbErr> {
    use crate::entity::organization;
    organization::Entity::find()
        .select_only()
        .column(organization::Column::Id)
        .into_tuple::<i32>()
        .all(db)
        .await
}

/// Events after the global position (SQLite), oldest first.
pub async fn after_global(db: &Db, after: i64) -> Result<Vec<post_event::Model>, DbErr> {
    post_event::Entity::find()
        .filter(post_event::Column::Id.gt(after))
        .order_by_asc(post_event::Column::Id)
        .limit(PAGE)
        .all(db)
        .await
}

/// Each organization's events after its position (PostgreSQL), in one statement: at most
/// `PAGE` per organization, ordered by organization, then id.
pub async fn after_each(db: &Db, positions: &[(i32, i64)]) -> Result<Vec<post_event::Model>, DbErr> {
    if positions.is_empty() {
        return Ok(Vec::new());
    }
    let json: Vec<_> = positions
        .iter()
        .map(|(org, after)| serde_json::json!({"organization_id": org, "after_id": after}))
        .collect();
    let sql = format!(
        "SELECT e.id, e.organization_id, e.post_id, e.kind, e.public, e.occurred_at \
         FROM json_to_recordset(CAST($1 AS json)) AS p(organization_id int, after_id bigint) \
         CROSS JOIN LATERAL (SELECT * FROM post_events e WHERE e.organization_id = p.organization_id \
         AND e.id > p.after_id ORDER BY e.id LIMIT {PAGE}) AS e ORDER BY e.organization_id, e.id"
    );
    post_event::Model::find_by_statement(Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        [serde_json::Value::Array(json).to_string().into()],
    ))
    .all(db)
    .await
}

/// A page of a replay: events after `after`, of one organization or of all.
pub async fn replay(db: &Db, organization: Option<i32>, after: i64) -> Result<Vec<post_event::Model>, DbErr> {
    let mut select = post_event::Entity::find().filter(post_event::Column::Id.gt(after));
    if let Some(org) = organization {
        select = select.filter(post_event::Column::OrganizationId.eq(org));
    }
    select
        .order_by_asc(post_event::Column::Id)
        .limit(PAGE)
        .all(db)
        .await
}

/// The organization of event `id`, if it is still kept.
pub async fn organization_of(db: &Db, id: i64) -> Result<Option<i32>, DbErr> {
    post_event::Entity::find_by_id(id)
        .select_only()
        .column(post_event::Column::OrganizationId)
        .into_tuple::<i32>()
        .one(db)
        .await
}

/// Deletes events older than `before`, oldest first, at most `batch` rows per statement
/// (short write transactions that never hold up writers for long); returns how many. It
/// reads the oldest ids in order and stops at the first young one: ids follow commit
/// times, so no statement scans for old rows among young ones.
pub async fn prune(db: &Db, before: DateTime<Utc>, batch: u64) -> Result<u64, DbErr> {
    let mut total = 0;
    loop {
        let oldest: Vec<(i64, DateTime<Utc>)> = post_event::Entity::find()
            .select_only()
            .column(post_event::Column::Id)
            .column(post_event::Column::OccurredAt)
            .order_by_asc(post_event::Column::Id)
            .limit(batch)
            .into_tuple()
            .all(db)
            .await?;
        let old: Vec<i64> = oldest
            .iter()
            .take_while(|(_, at)| *at < before)
            .map(|(id, _)| *id)
            .collect();
        if old.is_empty() {
            return Ok(total);
        }
        let txn = crate::service::begin_write(db).await?;
        let deleted = post_event::Entity::delete_many()
            .filter(post_event::Column::Id.is_in(old.iter().copied()))
            .exec(&txn)
            .await?
            .rows_affected;
        txn.commit().await?;
        total += deleted;
        if old.len() < oldest.len() || (oldest.len() as u64) < batch {
            return Ok(total);
        }
        tokio::task::yield_now().await;
    }
}
