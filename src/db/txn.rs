//! `Txn`: a write transaction on either pool.
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, ExecResult, QueryResult, Statement};

use super::{Recorder, pg_pool};

/// A write transaction (see `Db::begin_with_options`). Dropped without `commit`, it
/// rolls back.
pub enum Txn {
    /// SeaORM's transaction; on SQLite with the writer's turn, given back after the
    /// transaction ends (fields drop in order).
    Pool(DatabaseTransaction, Option<tokio::sync::OwnedMutexGuard<()>>),
    Pg {
        txn: pg_pool::Transaction,
        recorder: Recorder,
    },
}

impl Txn {
    pub async fn commit(self) -> Result<(), DbErr> {
        match self {
            Txn::Pool(txn, _turn) => txn.commit().await,
            Txn::Pg { txn, .. } => txn.commit().await,
        }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Txn {
    fn get_database_backend(&self) -> DbBackend {
        match self {
            Txn::Pool(txn, _) => txn.get_database_backend(),
            Txn::Pg { .. } => DbBackend::Postgres,
        }
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match self {
            Txn::Pool(txn, _) => txn.execute_raw(stmt).await,
            Txn::Pg { txn, recorder } => recorder.timed(&stmt, Box::pin(txn.execute(&stmt))).await,
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match self {
            Txn::Pool(txn, _) => txn.execute_unprepared(sql).await,
            Txn::Pg { txn, recorder } => {
                let stmt = Statement::from_string(DbBackend::Postgres, sql);
                recorder.timed(&stmt, Box::pin(txn.execute(&stmt))).await
            }
        }
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match self {
            Txn::Pool(txn, _) => txn.query_one_raw(stmt).await,
            Txn::Pg { txn, recorder } => recorder.timed(&stmt, Box::pin(txn.query_one(&stmt))).await,
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match self {
            Txn::Pool(txn, _) => txn.query_all_raw(stmt).await,
            Txn::Pg { txn, recorder } => recorder.timed(&stmt, Box::pin(txn.query_all(&stmt))).await,
        }
    }
}
