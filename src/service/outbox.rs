//! The outbox: every post change writes its `post_events` row in the change's own
//! transaction, after its audit entries, as the transaction's last statement. A rolled-back
//! change emits nothing; a committed one is never lost.
//!
//! Order: on PostgreSQL the statement first takes a transaction-level advisory lock on the
//! organization, so an organization's event ids are handed out in commit order (a later
//! id can never commit before an earlier one of the same organization) and readers may
//! go on from the last id they saw. The lock is held from the last statement to the
//! commit only, and by nothing else, so it adds no deadlock. On SQLite the single writer
//! already commits in id order.
//!
//! Wake-ups: after the commit the transaction tells the instance which organizations it
//! wrote (`Txn::signal_on_commit`); its reader wakes at once, and on PostgreSQL its
//! notifier sends one `NOTIFY` per organization for a batch of commits
//! (`events::listen`). `NOTIFY` inside the request's transaction serialized every commit
//! on PostgreSQL's notification lock (createPost 717 → 525 req/s at c16, bench/).
use sea_orm::{ActiveEnum, ConnectionTrait, DbBackend, DbErr, Statement, Value};
use serde_json::json;

use super::now;
use crate::{
    db::Txn,
    entity::{
        post::{self, Status},
        post_event::Kind,
    },
};

/// The channel of PostgreSQL notifications; the payload is the organization's id.
pub const CHANNEL: &str = "blogql_post_events";

/// The first key of the organization advisory locks (`pg_advisory_xact_lock(key, org)`),
/// so they cannot collide with other users of advisory locks on the same database.
const LOCK_SPACE: i32 = 0x0b10_9e7e;

/// One event to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    pub organization_id: i32,
    pub post_id: i32,
    pub kind: Kind,
    /// The post was public before or after the change (anonymous subscribers get it).
    pub public: bool,
}

/// Anonymous callers can read the post (as far as the post itself tells).
fn is_public(post: &post::Model) -> bool {
    post.status == Status::Published && post.deleted_at.is_none()
}

fn event(post: &post::Model, kind: Kind, public: bool) -> Event {
    Event {
        organization_id: post.organization_id,
        post_id: post.id,
        kind,
        public,
    }
}

/// A new post: `CREATED`, then `PUBLISHED` when it is created published.
pub fn created(post: &post::Model) -> Vec<Event> {
    let mut events = vec![event(post, Kind::Created, false)];
    if post.status == Status::Published {
        events.push(event(post, Kind::Published, true));
    }
    events
}

/// A stored change from `old` to `new`: `PUBLISHED` / `UNPUBLISHED` when the status
/// crosses PUBLISHED, `UPDATED` otherwise; nothing when nothing changed.
pub fn updated(old: &post::Model, new: &post::Model) -> Option<Event> {
    if old == new {
        return None;
    }
    let kind = match (old.status == Status::Published, new.status == Status::Published) {
        (false, true) => Kind::Published,
        (true, false) => Kind::Unpublished,
        _ => Kind::Updated,
    };
    Some(event(new, kind, is_public(old) || is_public(new)))
}

/// A change of a post's tags alone (its row unchanged): `UPDATED`.
pub fn retagged(post: &post::Model) -> Event {
    event(post, Kind::Updated, is_public(post))
}

/// A soft delete (`DELETED`, public when the post was) or a restore (`RESTORED`, public
/// when the post is again).
pub fn deletion(post: &post::Model, deleted: bool) -> Event {
    let kind = if deleted { Kind::Deleted } else { Kind::Restored };
    event(post, kind, post.status == Status::Published)
}

/// Writes `events` in order (see the module comment); the last statement before commit.
pub async fn emit(txn: &Txn, events: &[Event]) -> Result<(), DbErr> {
    if events.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = events
        .iter()
        .enumerate()
        .map(|(ord, e)| {
            json!({
                "organization_id": e.organization_id,
                "post_id": e.post_id,
                "kind": e.kind.to_value(),
                "public": e.public,
                "ord": ord,
            })
        })
        .collect();
    let rows = serde_json::Value::Array(rows).to_string();
    let source = match txn.get_database_backend() {
        DbBackend::Postgres => {
            "SELECT c.organization_id, c.post_id, c.kind, c.public, c.ord \
             FROM json_to_recordset(CAST($1 AS json)) \
             AS c(organization_id int, post_id int, kind text, public bool, ord int)"
        }
        _ => {
            "SELECT json_extract(value, '$.organization_id') AS organization_id, \
             json_extract(value, '$.post_id') AS post_id, json_extract(value, '$.kind') AS kind, \
             json_extract(value, '$.public') AS public, CAST(key AS integer) AS ord FROM json_each(?)"
        }
    };
    insert(txn, source, rows.into()).await
}

/// A `DELETED` (or `RESTORED`) event for each post of `ids` (a cascade), public when the post is
/// published: a cascade moves only live posts (a delete) or exactly those it deleted (a
/// restore), so a published one was, or becomes, public.
pub async fn emit_cascade(txn: &Txn, deleted: bool, ids: &[i32]) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    let ids = serde_json::to_string(ids).map_err(|e| DbErr::Custom(e.to_string()))?;
    let kind = if deleted { "'deleted'" } else { "'restored'" };
    let source = match txn.get_database_backend() {
        DbBackend::Postgres => format!(
            "SELECT p.organization_id, p.id AS post_id, {kind} AS kind, p.status = 'published' AS public, \
             p.id AS ord FROM posts p \
             WHERE p.id IN (SELECT CAST(value AS integer) FROM json_array_elements_text(CAST($1 AS json)))"
        ),
        _ => format!(
            "SELECT p.organization_id, p.id AS post_id, {kind} AS kind, p.status = 'published' AS public, \
             p.id AS ord FROM posts p WHERE p.id IN (SELECT value FROM json_each(?))"
        ),
    };
    insert(txn, &source, ids.into()).await
}

/// `INSERT … SELECT` of `source`'s rows in `ord` order, with the organization lock on
/// PostgreSQL: one statement, returning the organizations it wrote.
async fn insert(txn: &Txn, source: &str, rows: Value) -> Result<(), DbErr> {
    let backend = txn.get_database_backend();
    let at: Value = now().into();
    let (sql, values) = match backend {
        // The lock is taken per source row before the row is inserted, that is, before
        // its id is drawn from the sequence.
        DbBackend::Postgres => (
            format!(
                "WITH inserted AS (\
                 INSERT INTO post_events (organization_id, post_id, kind, public, occurred_at) \
                 SELECT s.organization_id, s.post_id, s.kind, s.public, $2 FROM ({source}) AS s \
                 CROSS JOIN LATERAL (SELECT pg_advisory_xact_lock({LOCK_SPACE}, s.organization_id)) AS turn \
                 ORDER BY s.ord RETURNING organization_id) \
                 SELECT DISTINCT organization_id FROM inserted"
            ),
            vec![rows, at],
        ),
        _ => (
            format!(
                "INSERT INTO post_events (organization_id, post_id, kind, public, occurred_at) \
                 SELECT s.organization_id, s.post_id, s.kind, s.public, ? FROM ({source}) AS s \
                 ORDER BY s.ord"
            ),
            vec![at, rows],
        ),
    };
    let statement = Statement::from_sql_and_values(backend, sql, values);
    match backend {
        DbBackend::Postgres => {
            let written = txn.query_all_raw(statement).await?;
            let organizations: Result<Vec<i32>, DbErr> =
                written.iter().map(|row| row.try_get_by_index::<i32>(0)).collect();
            txn.signal_on_commit(organizations?);
        }
        // One writer: the reader goes on from its one position, whatever the organization.
        _ => {
            txn.execute_raw(statement).await?;
            txn.signal_on_commit([]);
        }
    }
    Ok(())
}
