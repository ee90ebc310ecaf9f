//! PostgreSQL connections for statements that run outside a transaction (every read).
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
use tokio::sync::{Semaphore, SemaphorePermit};

/// When a connection last failed (a network error, not an error from the server), shared
/// with the transaction pool: any connection idle since then is pinged before its next use.
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
    permits: Semaphore,
    max: u32,
    acquire_timeout: Duration,
    ping_after_idle: Duration,
}

struct Idle {
    conn: PgConnection,
    since: Instant,
}

/// A connection taken from the pool. It goes back on drop only if `finished` was set,
/// that is, if no statement was cut off halfway.
struct Lease<'a> {
    pool: &'a StatementPool,
    conn: Option<PgConnection>,
    finished: bool,
    _permit: SemaphorePermit<'a>,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        if !self.finished {
            // Dropping closes the socket; PostgreSQL ends the backend.
            return;
        }
        if let Ok(mut idle) = self.pool.idle.lock() {
            idle.push(Idle {
                conn,
                since: Instant::now(),
            });
        }
    }
}

/// What `run` needs to know of a statement's result: whether the connection is still in
/// step with the server.
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
            permits: Semaphore::new(max as usize),
            max,
            acquire_timeout,
            ping_after_idle: Duration::from_secs(10),
        })
    }

    /// Connections open (`in_use`, `idle`), for `/metrics`.
    pub fn sizes(&self) -> (usize, usize) {
        let idle = self.idle.lock().map_or(0, |idle| idle.len());
        let in_use = (self.max as usize).saturating_sub(self.permits.available_permits());
        (in_use, idle)
    }

    async fn lease(&self) -> Result<Lease<'_>, DbErr> {
        let permit = tokio::time::timeout(self.acquire_timeout, self.permits.acquire())
            .await
            .map_err(|_| DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout))?
            .map_err(|_| DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::ConnectionClosed))?;
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match idle {
            Some(idle) if idle.since.elapsed() < self.ping_after_idle && !self.failures.since(idle.since) => {
                idle.conn
            }
            Some(mut idle) => match idle.conn.ping().await {
                Ok(()) => idle.conn,
                Err(_) => {
                    self.failures.mark();
                    self.connect().await?
                }
            },
            None => self.connect().await?,
        };
        Ok(Lease {
            pool: self,
            conn: Some(conn),
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

    pub async fn query_all(&self, stmt: &Statement) -> Result<Vec<QueryResult>, DbErr> {
        let mut lease = self.lease().await?;
        let Some(conn) = lease.conn.as_mut() else {
            return Err(DbErr::ConnectionAcquire(
                sea_orm::ConnAcquireErr::ConnectionClosed,
            ));
        };
        let result: Result<Vec<PgRow>, _> = query(stmt).fetch_all(conn).await;
        lease.finished = self.answered(&result);
        result
            .map(|rows| rows.into_iter().map(QueryResult::from).collect())
            .map_err(|e| DbErr::Query(RuntimeErr::SqlxError(Arc::new(e))))
    }

    pub async fn query_one(&self, stmt: &Statement) -> Result<Option<QueryResult>, DbErr> {
        let mut lease = self.lease().await?;
        let Some(conn) = lease.conn.as_mut() else {
            return Err(DbErr::ConnectionAcquire(
                sea_orm::ConnAcquireErr::ConnectionClosed,
            ));
        };
        let result: Result<Option<PgRow>, _> = query(stmt).fetch_optional(conn).await;
        lease.finished = self.answered(&result);
        result
            .map(|row| row.map(QueryResult::from))
            .map_err(|e| DbErr::Query(RuntimeErr::SqlxError(Arc::new(e))))
    }

    pub async fn execute(&self, stmt: &Statement) -> Result<ExecResult, DbErr> {
        let mut lease = self.lease().await?;
        let Some(conn) = lease.conn.as_mut() else {
            return Err(DbErr::ConnectionAcquire(
                sea_orm::ConnAcquireErr::ConnectionClosed,
            ));
        };
        let result = query(stmt).execute(conn).await;
        lease.finished = self.answered(&result);
        result
            .map(ExecResult::from)
            .map_err(|e| DbErr::Exec(RuntimeErr::SqlxError(Arc::new(e))))
    }

    /// Whether the connection is still in step with the server after `result`; a network
    /// failure is remembered.
    fn answered<T>(&self, result: &Result<T, sqlx::Error>) -> bool {
        let answered = server_answered(result);
        if !answered
            && !matches!(
                result,
                Err(sqlx::Error::Decode(_) | sqlx::Error::ColumnDecode { .. })
            )
        {
            self.failures.mark();
        }
        answered
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

fn query(stmt: &Statement) -> sqlx::query::Query<'_, sqlx::Postgres, SqlxValues> {
    let values = stmt
        .values
        .clone()
        .unwrap_or(sea_orm::sea_query::Values(Vec::new()));
    sqlx::query_with(sqlx::AssertSqlSafe(stmt.sql.as_str()), SqlxValues(values))
}
