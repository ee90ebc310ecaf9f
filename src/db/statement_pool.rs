//! PostgreSQL connections for the requests: single statements and write transactions.
//!
//! sqlx's pool answers each returned connection with a round trip (`Sync` →
//! `ReadyForQuery`) before anyone may take it again, and spawns a task to do it: a
//! request that runs one statement wakes PostgreSQL twice. Measured with pgbench on the
//! post-by-id query, that second round trip cuts the database's own throughput by a third.
//! The check exists to catch connections left mid-protocol by a cancelled future; this
//! pool knows that case exactly instead: a connection goes back only when its statement
//! ran to its end (a result or an error from the server), and is closed otherwise.
//! A connection is pinged before use when it sat idle for `ping_after_idle`, or when a
//! connection failed since it was last used (an outage or a database restart probably
//! killed it too): a dead one is replaced instead of failing a request.
use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use sea_orm::{
    DbErr, ExecResult, QueryResult, RuntimeErr, Statement,
    sqlx::{
        self, ConnectOptions, Connection, PgConnection,
        postgres::{PgConnectOptions, PgRow},
    },
};
use sea_query_sqlx::SqlxValues;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// When a connection last failed (a network error, not an error from the server), shared
/// with SeaORM's pool: any connection idle since then is pinged before its next use.
#[derive(Default)]
pub struct LastFailure(Mutex<Option<Instant>>);

impl LastFailure {
    fn mark(&self) {
        if let Ok(mut last) = self.0.lock() {
            *last = Some(Instant::now());
        }
    }

    /// Whether a connection failed at or after `instant`.
    pub fn since(&self, instant: Instant) -> bool {
        self.0
            .lock()
            .ok()
            .and_then(|last| *last)
            .is_some_and(|last| last >= instant)
    }
}

pub struct StatementPool {
    options: PgConnectOptions,
    failures: Arc<LastFailure>,
    idle: Mutex<Vec<Idle>>,
    permits: Arc<Semaphore>,
    max: u32,
    acquire_timeout: Duration,
    ping_after_idle: Duration,
    max_lifetime: Duration,
}

struct Idle {
    conn: PgConnection,
    opened: Instant,
    since: Instant,
}

/// A connection taken from the pool. It goes back on drop only if `finished` was set,
/// that is, if no statement was cut off halfway.
struct Lease {
    pool: Arc<StatementPool>,
    conn: Option<PgConnection>,
    opened: Instant,
    finished: bool,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Lease {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        // Otherwise dropping closes the socket, and PostgreSQL ends the backend (and any
        // transaction left open on it).
        let reusable =
            self.finished && self.opened.elapsed() < self.pool.max_lifetime && !self.pool.permits.is_closed();
        if !reusable {
            return;
        }
        if let Ok(mut idle) = self.pool.idle.lock() {
            idle.push(Idle {
                conn,
                opened: self.opened,
                since: Instant::now(),
            });
        }
    }
}

/// Whether the connection is still in step with the server after a statement's result:
/// the statement ran to its end, with rows or with an error the server sent.
fn server_answered<T>(result: &Result<T, sqlx::Error>) -> bool {
    matches!(
        result,
        Ok(_) | Err(sqlx::Error::Database(_) | sqlx::Error::RowNotFound)
    )
}

impl StatementPool {
    pub fn new(
        options: PgConnectOptions,
        max: u32,
        acquire_timeout: Duration,
        failures: Arc<LastFailure>,
    ) -> Arc<Self> {
        Arc::new(StatementPool {
            options,
            failures,
            idle: Mutex::default(),
            permits: Arc::new(Semaphore::new(max as usize)),
            max,
            acquire_timeout,
            ping_after_idle: Duration::from_secs(10),
            // As sqlx's pool: a backend's caches do not grow for ever.
            max_lifetime: Duration::from_secs(30 * 60),
        })
    }

    /// Connections open (`in_use`, `idle`), for `/metrics`.
    pub fn sizes(&self) -> (usize, usize) {
        let idle = self.idle.lock().map_or(0, |idle| idle.len());
        let in_use = (self.max as usize).saturating_sub(self.permits.available_permits());
        (in_use, idle)
    }

    async fn lease(self: &Arc<Self>) -> Result<Lease, DbErr> {
        let permit = tokio::time::timeout(self.acquire_timeout, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout))?
            .map_err(|_| DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::ConnectionClosed))?;
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let (conn, opened) = match idle {
            Some(idle) if idle.since.elapsed() < self.ping_after_idle && !self.failures.since(idle.since) => {
                (idle.conn, idle.opened)
            }
            Some(mut idle) => match idle.conn.ping().await {
                Ok(()) => (idle.conn, idle.opened),
                Err(_) => {
                    self.failures.mark();
                    (self.connect().await?, Instant::now())
                }
            },
            None => (self.connect().await?, Instant::now()),
        };
        Ok(Lease {
            pool: self.clone(),
            conn: Some(conn),
            opened,
            finished: false,
            _permit: permit,
        })
    }

    async fn connect(&self) -> Result<PgConnection, DbErr> {
        tokio::time::timeout(self.acquire_timeout, self.options.connect())
            .await
            .map_err(|_| DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout))?
            .map_err(|e| {
                self.failures.mark();
                DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e)))
            })
    }

    pub async fn query_all(self: &Arc<Self>, stmt: &Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.lease().await?.query_all(stmt).await
    }

    pub async fn query_one(self: &Arc<Self>, stmt: &Statement) -> Result<Option<QueryResult>, DbErr> {
        self.lease().await?.query_one(stmt).await
    }

    pub async fn execute(self: &Arc<Self>, stmt: &Statement) -> Result<ExecResult, DbErr> {
        self.lease().await?.execute(stmt).await
    }

    /// Starts a transaction on a connection of its own (READ COMMITTED, the default).
    pub async fn begin(self: &Arc<Self>) -> Result<Transaction, DbErr> {
        let mut lease = self.lease().await?;
        lease.simple("BEGIN").await?;
        Ok(Transaction {
            lease: tokio::sync::Mutex::new(Some(lease)),
        })
    }

    /// Closes the idle connections (shutdown).
    pub async fn close(&self) {
        let idle: Vec<Idle> = self
            .idle
            .lock()
            .map(|mut idle| idle.drain(..).collect())
            .unwrap_or_default();
        self.permits.close();
        for idle in idle {
            let _ = idle.conn.close().await;
        }
    }
}

impl Lease {
    fn conn(&mut self) -> Result<&mut PgConnection, DbErr> {
        self.conn.as_mut().ok_or(DbErr::ConnectionAcquire(
            sea_orm::ConnAcquireErr::ConnectionClosed,
        ))
    }

    /// Records whether the connection is still in step with the server after `result`
    /// (a network failure is also remembered by the pool).
    fn settle<T>(&mut self, result: &Result<T, sqlx::Error>) {
        self.finished = server_answered(result);
        if !self.finished
            && !matches!(
                result,
                Err(sqlx::Error::Decode(_) | sqlx::Error::ColumnDecode { .. })
            )
        {
            self.pool.failures.mark();
        }
    }

    async fn query_one(&mut self, stmt: &Statement) -> Result<Option<QueryResult>, DbErr> {
        self.finished = false;
        let result: Result<Option<PgRow>, _> = query(stmt).fetch_optional(self.conn()?).await;
        self.settle(&result);
        result
            .map(|row| row.map(QueryResult::from))
            .map_err(|e| DbErr::Query(RuntimeErr::SqlxError(Arc::new(e))))
    }

    async fn execute(&mut self, stmt: &Statement) -> Result<ExecResult, DbErr> {
        self.finished = false;
        let result = query(stmt).execute(self.conn()?).await;
        self.settle(&result);
        result
            .map(ExecResult::from)
            .map_err(|e| DbErr::Exec(RuntimeErr::SqlxError(Arc::new(e))))
    }

    async fn query_all(&mut self, stmt: &Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.finished = false;
        let result: Result<Vec<PgRow>, _> = query(stmt).fetch_all(self.conn()?).await;
        self.settle(&result);
        result
            .map(|rows| rows.into_iter().map(QueryResult::from).collect())
            .map_err(|e| DbErr::Query(RuntimeErr::SqlxError(Arc::new(e))))
    }

    /// `BEGIN`, `COMMIT`, `ROLLBACK`: the simple protocol, nothing to prepare.
    async fn simple(&mut self, sql: &'static str) -> Result<(), DbErr> {
        self.finished = false;
        let result = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(self.conn()?)
            .await;
        self.settle(&result);
        result
            .map(|_| ())
            .map_err(|e| DbErr::Exec(RuntimeErr::SqlxError(Arc::new(e))))
    }
}

/// A write transaction on a connection of its own. Dropped without `commit` (an error
/// returned halfway), it rolls back in a task of its own and gives the connection back;
/// if a statement was cut off halfway, the connection is closed instead, which ends the
/// transaction on the server.
pub struct Transaction {
    lease: tokio::sync::Mutex<Option<Lease>>,
}

impl Transaction {
    pub async fn query_all(&self, stmt: &Statement) -> Result<Vec<QueryResult>, DbErr> {
        match self.lease.lock().await.as_mut() {
            Some(lease) => lease.query_all(stmt).await,
            None => Err(ended()),
        }
    }

    pub async fn query_one(&self, stmt: &Statement) -> Result<Option<QueryResult>, DbErr> {
        match self.lease.lock().await.as_mut() {
            Some(lease) => lease.query_one(stmt).await,
            None => Err(ended()),
        }
    }

    pub async fn execute(&self, stmt: &Statement) -> Result<ExecResult, DbErr> {
        match self.lease.lock().await.as_mut() {
            Some(lease) => lease.execute(stmt).await,
            None => Err(ended()),
        }
    }

    pub async fn commit(self) -> Result<(), DbErr> {
        let lease = self.lease.lock().await.take();
        match lease {
            Some(mut lease) => lease.simple("COMMIT").await,
            None => Err(ended()),
        }
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        let Some(mut lease) = self.lease.get_mut().take() else {
            return;
        };
        if !lease.finished {
            return;
        }
        lease.finished = false;
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = lease.simple("ROLLBACK").await;
            });
        }
    }
}

fn ended() -> DbErr {
    DbErr::Custom("the transaction has ended".into())
}

fn query(stmt: &Statement) -> sqlx::query::Query<'_, sqlx::Postgres, SqlxValues> {
    let values = stmt
        .values
        .clone()
        .unwrap_or(sea_orm::sea_query::Values(Vec::new()));
    sqlx::query_with(sqlx::AssertSqlSafe(stmt.sql.as_str()), SqlxValues(values))
}
