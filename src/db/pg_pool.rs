//! PostgreSQL connections for the requests: single statements and write transactions, on
//! deadpool's generic pool.
//!
//! sqlx's pool answers each returned connection with a round trip (`Sync` →
//! `ReadyForQuery`) before anyone may take it again, and spawns a task to do it: a
//! request that runs one statement wakes PostgreSQL twice. Measured with pgbench on the
//! post-by-id query, that second round trip cuts the database's own throughput by a third.
//! The check exists to catch connections left mid-protocol by a cancelled future; this
//! pool knows that case exactly instead: a connection goes back (deadpool's return does no
//! I/O) only when its statement ran to its end (a result or an error from the server), and
//! is detached and closed otherwise. Checks run on checkout, in `Manager::recycle`: a
//! connection is pinged when it sat idle for `PING_AFTER_IDLE`, or when a connection failed
//! since it was last used (an outage or a database restart probably killed it too), so a
//! dead one is replaced instead of failing a request.
use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use deadpool::{
    Runtime,
    managed::{self, Metrics, Object, PoolError, QueueMode, RecycleError, RecycleResult, Timeouts},
};
use sea_orm::{
    ConnAcquireErr, DbErr, ExecResult, QueryResult, RuntimeErr, Statement,
    sqlx::{
        self, ConnectOptions, Connection, PgConnection,
        postgres::{PgConnectOptions, PgRow},
    },
};
use sea_query_sqlx::SqlxValues;

/// A connection is pinged before use after this long unused: under load a ping would be
/// one extra round trip per statement.
const PING_AFTER_IDLE: Duration = Duration::from_secs(10);

/// As sqlx's pool: a backend's caches do not grow for ever.
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);

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

/// Opens connections and checks them on checkout (deadpool's `Manager`).
struct Connector {
    options: PgConnectOptions,
    failures: Arc<LastFailure>,
}

impl managed::Manager for Connector {
    type Type = PgConnection;
    type Error = DbErr;

    /// Its future is boxed, like `recycle`'s ping: deadpool's checkout future holds them,
    /// and unboxed they made it kilobytes that were copied on every statement (callgrind).
    async fn create(&self) -> Result<PgConnection, DbErr> {
        Box::pin(self.options.connect()).await.map_err(|e| {
            self.failures.mark();
            DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e)))
        })
    }

    /// An error drops the connection; deadpool then tries the next idle one or opens one.
    /// `last_used` is the last checkout, so the time idle is never underestimated.
    async fn recycle(&self, conn: &mut PgConnection, metrics: &Metrics) -> RecycleResult<DbErr> {
        if metrics.age() >= MAX_LIFETIME {
            return Err(RecycleError::message("retired after 30 minutes"));
        }
        let idle = metrics.last_used();
        let suspect = Instant::now()
            .checked_sub(idle)
            .is_none_or(|last_used| self.failures.since(last_used));
        if idle >= PING_AFTER_IDLE || suspect {
            Box::pin(conn.ping()).await.map_err(|_| {
                self.failures.mark();
                RecycleError::message("ping failed")
            })?;
        }
        Ok(())
    }
}

#[derive(Clone)]
pub struct PgPool {
    pool: managed::Pool<Connector>,
    failures: Arc<LastFailure>,
}

/// A connection taken from the pool. On drop it goes back only if `finished` was set,
/// that is, if no statement was cut off halfway; otherwise it is detached and closed.
struct Lease {
    conn: Option<Object<Connector>>,
    failures: Arc<LastFailure>,
    finished: bool,
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take()
            && !self.finished
        {
            // Dropping the socket ends the backend (and any transaction left open on it).
            drop(Object::take(conn));
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

impl PgPool {
    /// `acquire_timeout` bounds each step of a checkout: the wait for a free slot, a
    /// connect, a ping.
    pub fn new(
        options: PgConnectOptions,
        max: u32,
        acquire_timeout: Duration,
        failures: Arc<LastFailure>,
    ) -> Result<Self, DbErr> {
        let manager = Connector {
            options,
            failures: failures.clone(),
        };
        let pool = managed::Pool::builder(manager)
            .max_size(max as usize)
            // The most recently used first: the others idle out and get pinged, not all.
            .queue_mode(QueueMode::Lifo)
            .timeouts(Timeouts {
                wait: Some(acquire_timeout),
                create: Some(acquire_timeout),
                recycle: Some(acquire_timeout),
            })
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| DbErr::Custom(e.to_string()))?;
        Ok(PgPool { pool, failures })
    }

    /// How its connections connect (a `LISTEN` connection uses the same).
    pub fn options(&self) -> &PgConnectOptions {
        &self.pool.manager().options
    }

    /// Connections open (`in_use`, `idle`), for `/metrics`.
    pub fn sizes(&self) -> (usize, usize) {
        let status = self.pool.status();
        (status.size.saturating_sub(status.available), status.available)
    }

    async fn lease(&self) -> Result<Lease, DbErr> {
        let conn = self.pool.get().await.map_err(|e| match e {
            PoolError::Timeout(_) => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
            PoolError::Backend(e) => e,
            PoolError::Closed | PoolError::NoRuntimeSpecified | PoolError::PostCreateHook(_) => {
                DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed)
            }
        })?;
        Ok(Lease {
            conn: Some(conn),
            failures: self.failures.clone(),
            finished: false,
        })
    }

    pub async fn query_all(&self, stmt: &Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.lease().await?.query_all(stmt).await
    }

    pub async fn query_one(&self, stmt: &Statement) -> Result<Option<QueryResult>, DbErr> {
        self.lease().await?.query_one(stmt).await
    }

    pub async fn execute(&self, stmt: &Statement) -> Result<ExecResult, DbErr> {
        self.lease().await?.execute(stmt).await
    }

    /// Starts a transaction on a connection of its own (READ COMMITTED, the default).
    pub async fn begin(&self) -> Result<Transaction, DbErr> {
        let mut lease = self.lease().await?;
        lease.simple("BEGIN").await?;
        Ok(Transaction {
            lease: tokio::sync::Mutex::new(Some(lease)),
        })
    }

    /// Closes the idle connections politely and the pool (shutdown); connections in use
    /// are closed when they come back.
    pub async fn close(&self) {
        let idle = self.pool.retain(|_, _| false).removed;
        self.pool.close();
        for conn in idle {
            let _ = conn.close().await;
        }
    }
}

impl Lease {
    fn conn(&mut self) -> Result<&mut PgConnection, DbErr> {
        self.conn
            .as_deref_mut()
            .ok_or(DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed))
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
            self.failures.mark();
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
        // Not in step until the ROLLBACK has run: without a runtime, the drop closes it.
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
