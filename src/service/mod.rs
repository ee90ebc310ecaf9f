//! The rules: permissions, validation, cascades, transactions and audit entries.
//! Everything a mutation does is one call into this module.
pub mod account;
pub mod audit;
pub mod guard;
pub mod organization;
pub mod outbox;
pub mod post;
pub mod rows;
pub mod scheduler;
pub mod slug;
pub mod tag;
pub mod user;
pub mod validate;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, EntityTrait, SqliteTransactionMode, TransactionOptions, UpdateMany,
};

pub use self::rows::{Record, Timestamped};
pub use crate::auth::Actor;
use crate::db::{Db, Txn};

/// How a write transaction locks the rows it reads (PostgreSQL; SQLite's `BEGIN
/// IMMEDIATE` already serializes writers and ignores these clauses). Every write path
/// takes row locks in the order an organization's soft delete does — organization, user,
/// post — so concurrent writers wait for each other instead of deadlocking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lock {
    /// A plain read.
    None,
    /// `FOR SHARE`: a parent that must stay live while a child is written.
    Share,
    /// `FOR UPDATE`: the row being changed. A concurrent writer waits, then re-reads the
    /// row, so two soft deletes of one record cannot both succeed.
    Update,
}

impl Lock {
    pub fn apply<E: sea_orm::EntityTrait>(self, select: sea_orm::Select<E>) -> sea_orm::Select<E> {
        use sea_orm::QuerySelect;
        match self {
            Lock::None => select,
            Lock::Share => select.lock_shared(),
            Lock::Update => select.lock_exclusive(),
        }
    }
}

/// The current time at the microsecond precision both databases store, so a value
/// written and read back compares equal (cascade restore matches on it).
pub fn now() -> DateTime<Utc> {
    let t = Utc::now();
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)
}

/// Runs `update` (one statement that writes rows and returns them) as a write: on SQLite
/// in the single writer's turn, like every write there (from a read connection it would
/// wait in SQLite's busy handler, out of turn, and drop the writer's warm page cache); on
/// PostgreSQL on its own, with no transaction around it.
pub async fn update_returning<E: EntityTrait>(
    db: &Db,
    update: UpdateMany<E>,
) -> Result<Vec<E::Model>, DbErr> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return update.exec_with_returning(db).await;
    }
    let txn = begin_write(db).await?;
    let rows = update.exec_with_returning(&txn).await?;
    txn.commit().await?;
    Ok(rows)
}

/// Starts a write transaction. On SQLite it takes the write lock up front (`BEGIN
/// IMMEDIATE`), so it waits on the busy timeout instead of failing with "database is
/// locked" when it would upgrade from reading to writing; PostgreSQL ignores the mode.
pub async fn begin_write(db: &Db) -> Result<Txn, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}
