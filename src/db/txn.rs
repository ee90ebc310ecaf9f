//! `Txn`: a write transaction on either pool.
use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, ExecResult, QueryResult, Statement};
use tokio::sync::Notify;

use super::{Recorder, pg_pool};

/// A write transaction (see `Db::begin_with_options`). Dropped without `commit`, it
/// rolls back.
pub struct Txn {
    pub(super) inner: Inner,
    /// Woken after a commit that asked for it (`signal_on_commit`): on SQLite, the
    /// outbox's in-process readers. PostgreSQL's readers hear `NOTIFY` instead.
    pub(super) on_commit: Option<Arc<Notify>>,
    pub(super) signal: AtomicBool,
}

pub(super) enum Inner {
    /// SeaORM's transaction; on SQLite with the writer's turn, given back after the
    /// transaction ends (fields drop in order).
    Pool(DatabaseTransaction, Option<tokio::sync::OwnedMutexGuard<()>>),
    Pg {
        txn: pg_pool::Transaction,
        recorder: Recorder,
    },
}

impl Txn {
    /// Wakes the in-process outbox readers once this transaction has committed.
    pub fn signal_on_commit(&self) {
        self.signal.store(true, Ordering::Relaxed);
    }

    pub async fn commit(self) -> Result<(), DbErr> {
        match self.inner {
            Inner::Pool(txn, _turn) => txn.commit().await?,
            Inner::Pg { txn, .. } => txn.commit().await?,
        }
        if let Some(notify) = &self.on_commit
            && self.signal.load(Ordering::Relaxed)
        {
            notify.notify_one();
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Txn {
    fn get_database_backend(&self) -> DbBackend {
        match &self.inner {
            Inner::Pool(txn, _) => txn.get_database_backend(),
            Inner::Pg { .. } => DbBackend::Postgres,
        }
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match &self.inner {
            Inner::Pool(txn, _) => txn.execute_raw(stmt).await,
            Inner::Pg { txn, recorder } => recorder.timed(&stmt, Box::pin(txn.execute(&stmt))).await,
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match &self.inner {
            Inner::Pool(txn, _) => txn.execute_unprepared(sql).await,
            Inner::Pg { txn, recorder } => {
                let stmt = Statement::from_string(DbBackend::Postgres, sql);
                recorder.timed(&stmt, Box::pin(txn.execute(&stmt))).await
            }
        }
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match &self.inner {
            Inner::Pool(txn, _) => txn.query_one_raw(stmt).await,
            Inner::Pg { txn, recorder } => recorder.timed(&stmt, Box::pin(txn.query_one(&stmt))).await,
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match &self.inner {
            Inner::Pool(txn, _) => txn.query_all_raw(stmt).await,
            Inner::Pg { txn, recorder } => recorder.timed(&stmt, Box::pin(txn.query_all(&stmt))).await,
        }
    }
}
