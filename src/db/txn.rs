//! `Txn`: a write transaction on either pool.
use std::sync::{Arc, Mutex};

use super::{
    Committed, Recorder,
    accounts::{self, AccountCache, AccountChange},
    pg_pool,
};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, ExecResult, QueryResult, Statement};

/// A write transaction (see `Db::begin_with_options`). Dropped without `commit`, it
/// rolls back.
pub struct Txn {
    pub(super) inner: Inner,
    /// Told after the commit which organizations' outbox rows it wrote
    /// (`signal_on_commit`): the instance's reader, and on PostgreSQL its notifier.
    pub(super) committed: Arc<Committed>,
    pub(super) signal: Mutex<Option<Vec<i32>>>,
    /// Dropped from `accounts` once this transaction has committed (`forget_account`).
    pub(super) accounts: Arc<AccountCache>,
    pub(super) forget: Mutex<Vec<AccountChange>>,
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
    /// Once this transaction has committed, tells the instance that it wrote outbox rows
    /// of these organizations.
    pub fn signal_on_commit(&self, organizations: impl IntoIterator<Item = i32>) {
        if let Ok(mut signal) = self.signal.lock() {
            signal.get_or_insert_with(Vec::new).extend(organizations);
        }
    }

    /// Once this transaction has committed, no instance answers a token from an account
    /// `change` covers as it was cached (see `db::accounts`): this one drops the entries
    /// after the commit, the others on the `NOTIFY` sent here, which PostgreSQL delivers
    /// with the commit.
    pub async fn forget_account(&self, change: AccountChange) -> Result<(), DbErr> {
        if matches!(self.inner, Inner::Pg { .. }) {
            let notify = Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_notify($1, $2)",
                [accounts::CHANNEL.into(), change.payload().into()],
            );
            self.execute_raw(notify).await?;
        }
        if let Ok(mut forget) = self.forget.lock() {
            forget.push(change);
        }
        Ok(())
    }

    pub async fn commit(self) -> Result<(), DbErr> {
        match self.inner {
            Inner::Pool(txn, _turn) => txn.commit().await?,
            Inner::Pg { txn, .. } => txn.commit().await?,
        }
        if let Ok(forget) = self.forget.lock() {
            for change in forget.iter() {
                self.accounts.forget(*change);
            }
        }
        if let Ok(mut signal) = self.signal.lock()
            && let Some(organizations) = signal.take()
        {
            self.committed.add(organizations);
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
