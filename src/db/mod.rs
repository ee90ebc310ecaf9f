//! Database connection: pool options per backend and statement counting.
pub mod accounts;
mod committed;
mod pg_pool;
#[cfg(test)]
pub mod plan;
mod recorder;
mod sqlite;
pub mod template;
mod txn;

pub use self::{
    committed::Committed,
    recorder::{REQUEST_STATEMENTS, Recorder, StatementCounter},
    sqlite::SqliteMemory,
    txn::Txn,
};

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use sea_orm::{
    ConnectOptions, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, ExecResult, QueryResult,
    Statement, TransactionOptions, TransactionTrait, sqlx::postgres::PgConnectOptions,
};

use self::{
    accounts::AccountCache,
    pg_pool::{LastFailure, PgPool},
    sqlite::Writer,
};

/// `conn` with its statements counted and timed by `recorder`.
fn counted(mut conn: DatabaseConnection, recorder: &Recorder) -> DatabaseConnection {
    let callback = recorder.clone();
    conn.set_metric_callback(move |info| {
        callback.record(&info.statement.sql, info.elapsed, info.failed);
    });
    conn
}

/// The handle every request uses. On PostgreSQL its statements and transactions run on
/// `pg_pool` (deadpool; no round trip when a connection is returned); migrations and all
/// of SQLite use SeaORM's pool.
#[derive(Clone)]
pub struct Db {
    conn: DatabaseConnection,
    pg_pool: Option<PgPool>,
    recorder: Recorder,
    /// SQLite's single writer; `None` on PostgreSQL.
    writer: Option<Writer>,
    /// The organizations whose outbox rows committed transactions wrote (see
    /// `Txn::signal_on_commit`), for the events reader and notifier.
    committed: Arc<Committed>,
    /// The accounts behind user tokens (`accounts`); off unless `cache_accounts`.
    accounts: Arc<AccountCache>,
}

impl Db {
    /// Caches the accounts behind user tokens for `ttl` (see `accounts`), on PostgreSQL
    /// only, and only while the events listener is connected and hears every instance's
    /// changes. A SQLite file's other processes (a second server on it) could not tell
    /// this one of a change, and the statement runs in-process there anyway.
    pub fn cache_accounts(&mut self, ttl: Duration) {
        if self.pg_pool.is_some() {
            self.accounts = Arc::new(AccountCache::new(ttl, false));
        }
    }

    pub fn accounts(&self) -> &AccountCache {
        &self.accounts
    }

    /// SeaORM's connection, for migrations.
    pub fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// What `Txn::signal_on_commit` tells.
    pub fn committed(&self) -> &Arc<Committed> {
        &self.committed
    }

    /// Runs a statement of the server's own housekeeping on PostgreSQL's request pool,
    /// uncounted: it belongs to no request (the outbox's `NOTIFY`, sent after commits).
    pub async fn execute_uncounted(&self, stmt: &Statement) -> Result<(), DbErr> {
        match &self.pg_pool {
            Some(pool) => pool.execute(stmt).await.map(drop),
            None => self.conn.execute_raw(stmt.clone()).await.map(drop),
        }
    }

    /// The PostgreSQL connection options (for a `LISTEN` connection); `None` on SQLite.
    pub fn pg_options(&self) -> Option<PgConnectOptions> {
        self.pg_pool.as_ref().map(|pool| pool.options().clone())
    }

    /// Connections open (`in_use`, `idle`) in both pools, for `/metrics`.
    pub fn pool_sizes(&self) -> (usize, usize) {
        let (size, idle) = match self.conn.get_database_backend() {
            DbBackend::Postgres => {
                let pool = self.conn.get_postgres_connection_pool();
                (pool.size() as usize, pool.num_idle())
            }
            DbBackend::Sqlite => {
                let pool = self.conn.get_sqlite_connection_pool();
                (pool.size() as usize, pool.num_idle())
            }
            _ => (0, 0),
        };
        let (direct_in_use, direct_idle) = self.pg_pool.as_ref().map_or((0, 0), |p| p.sizes());
        (size.saturating_sub(idle) + direct_in_use, idle + direct_idle)
    }

    /// Starts a write transaction: on PostgreSQL on `pg_pool`; on SQLite with
    /// `options` (its transaction mode).
    pub async fn begin_with_options(&self, options: TransactionOptions) -> Result<Txn, DbErr> {
        match &self.pg_pool {
            Some(pool) => Ok(Txn {
                inner: txn::Inner::Pg {
                    txn: pool.begin().await?,
                    recorder: self.recorder.clone(),
                },
                committed: self.committed.clone(),
                accounts: self.accounts.clone(),
                signal: Default::default(),
                forget: Default::default(),
            }),
            None => {
                let (txn, turn) = match &self.writer {
                    Some(writer) => {
                        let (txn, turn) = writer.begin(options).await?;
                        (txn, Some(turn))
                    }
                    None => (self.conn.begin_with_options(options).await?, None),
                };
                Ok(Txn {
                    inner: txn::Inner::Pool(txn, turn),
                    committed: self.committed.clone(),
                    accounts: self.accounts.clone(),
                    signal: Default::default(),
                    forget: Default::default(),
                })
            }
        }
    }

    pub async fn close(&self) -> Result<(), DbErr> {
        if let Some(pool) = &self.pg_pool {
            pool.close().await;
        }
        if let Some(writer) = &self.writer {
            writer.close().await?;
        }
        self.conn.clone().close().await
    }

    /// `PRAGMA optimize` on SQLite (statistics of the tables whose queries would gain);
    /// nothing on PostgreSQL, where autovacuum analyzes.
    pub async fn maintain(&self) {
        if let Some(writer) = &self.writer {
            writer.maintain().await;
        }
    }

    /// A checkpoint of SQLite's WAL (see `Writer::checkpoint`); nothing on PostgreSQL or
    /// without `background_checkpoints`.
    pub async fn checkpoint(&self) -> Result<(), DbErr> {
        match &self.writer {
            Some(writer) => writer.checkpoint().await,
            None => Ok(()),
        }
    }

    /// A consistent copy of a SQLite database at `path` (`VACUUM INTO`), taken while the
    /// server runs: readers and writers go on.
    pub async fn backup_sqlite(&self, path: &str) -> Result<(), DbErr> {
        let statement = Statement::from_sql_and_values(DbBackend::Sqlite, "VACUUM INTO ?", [path.into()]);
        self.conn.execute_raw(statement).await.map(drop)
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Db {
    fn get_database_backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match &self.pg_pool {
            Some(pool) => self.recorder.timed(&stmt, Box::pin(pool.execute(&stmt))).await,
            None => self.conn.execute_raw(stmt).await,
        }
    }

    /// On SeaORM's pool: no request path runs unprepared SQL.
    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.conn.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match &self.pg_pool {
            Some(pool) => self.recorder.timed(&stmt, Box::pin(pool.query_one(&stmt))).await,
            None => self.conn.query_one_raw(stmt).await,
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match &self.pg_pool {
            Some(pool) => self.recorder.timed(&stmt, Box::pin(pool.query_all(&stmt))).await,
            None => self.conn.query_all_raw(stmt).await,
        }
    }
}

pub struct Database {
    pub db: Db,
    pub statements: StatementCounter,
}

/// Connects with the backend's settings. SQLite: `max_connections` read connections
/// and one writer (`sqlite::Writer`), in WAL mode. On PostgreSQL, requests run on
/// `pg_pool` (`max_connections`), and SeaORM's pool keeps at most 2 connections for
/// migrations and the readiness check.
pub async fn connect(
    url: &str,
    max_connections: u32,
    log_sql: bool,
    statement_timeout: Option<Duration>,
) -> Result<Database, DbErr> {
    connect_with(
        url,
        max_connections,
        log_sql,
        statement_timeout,
        SqliteMemory::default(),
    )
    .await
}

pub async fn connect_with(
    url: &str,
    max_connections: u32,
    log_sql: bool,
    statement_timeout: Option<Duration>,
    sqlite: SqliteMemory,
) -> Result<Database, DbErr> {
    let url_sets_plan_cache_mode = url.contains("plan_cache_mode");
    let tune = move |opts| tune_postgres(opts, url_sets_plan_cache_mode, statement_timeout);
    let failures = Arc::new(LastFailure::default());
    let since_failure = failures.clone();
    let mut options = ConnectOptions::new(url.to_owned());
    // On PostgreSQL, requests run on `pg_pool`; SeaORM's pool only runs
    // migrations and the readiness check.
    let seaorm_connections = if url.starts_with("postgres") {
        max_connections.min(2)
    } else {
        max_connections
    };
    options
        .max_connections(seaorm_connections)
        .min_connections(1)
        // During an outage requests fail within a few seconds instead of queueing.
        .connect_timeout(ACQUIRE_TIMEOUT)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .sqlx_logging(false)
        // A connection is pinged before use only after 10 s idle: under load the ping
        // would be one extra round trip per statement.
        .test_before_acquire_if_idle_for(Duration::from_secs(10))
        .map_sqlx_postgres_opts(tune)
        // A connection idle since another one failed (an outage) is checked first.
        .map_sqlx_postgres_before_acquire(move |conn, meta| {
            let idle_since = Instant::now().checked_sub(meta.idle_for);
            let suspect = idle_since.is_none_or(|t| since_failure.since(t));
            Box::pin(async move {
                if suspect {
                    sea_orm::sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
        .map_sqlx_sqlite_opts(move |opts| sqlite::settings(opts, sqlite.cache_kib, sqlite.mmap_mib));
    let in_memory = url.contains(":memory:");
    if in_memory {
        // Each in-memory SQLite connection is its own database.
        options.max_connections(1);
    }
    let statements = StatementCounter::default();
    let recorder = Recorder {
        total: statements.clone(),
        log_sql,
    };
    let conn = counted(sea_orm::Database::connect(options.clone()).await?, &recorder);
    let writer = match conn.get_database_backend() {
        DbBackend::Sqlite => Some(Writer::connect(&options, sqlite, in_memory, &conn, &recorder).await?),
        _ => None,
    };
    let pg_pool = match conn.get_database_backend() {
        DbBackend::Postgres => {
            let opts: PgConnectOptions = url
                .parse()
                .map_err(|e| DbErr::Conn(sea_orm::RuntimeErr::SqlxError(Arc::new(e))))?;
            let opts = sea_orm::sqlx::ConnectOptions::disable_statement_logging(tune(opts));
            Some(PgPool::new(opts, max_connections, ACQUIRE_TIMEOUT, failures)?)
        }
        _ => None,
    };
    let db = Db {
        conn,
        pg_pool,
        recorder,
        writer,
        committed: Arc::default(),
        accounts: Arc::new(AccountCache::off()),
    };
    Ok(Database { db, statements })
}

/// During an outage requests fail within a few seconds instead of queueing.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// Session settings of every PostgreSQL connection.
///
/// Statements are prepared once per connection; with the default plan cache mode
/// PostgreSQL re-plans every execution of a query whose `LIMIT` is a parameter (a custom
/// plan always looks cheaper than a generic one that cannot see the limit): 0.6 ms of
/// planning for a 0.3 ms query. Generic plans are planned once; bench/explain_check.sh
/// proves each query shape's generic plan uses its index. A `plan_cache_mode` in the URL's
/// `options` wins (the check's custom-plan pass). `statement_timeout` (the request
/// timeout) stops a statement the server has given up on.
fn tune_postgres(
    opts: PgConnectOptions,
    url_sets_plan_cache_mode: bool,
    statement_timeout: Option<Duration>,
) -> PgConnectOptions {
    let opts = if url_sets_plan_cache_mode {
        opts
    } else {
        opts.options([("plan_cache_mode", "force_generic_plan")])
    };
    match statement_timeout {
        Some(t) => opts.options([("statement_timeout", format!("{}ms", t.as_millis()))]),
        None => opts,
    }
}

/// `/readyz`: the database answers a trivial query on each pool. A failed ping also
/// clears a connection that died while idle (after an outage) from its pool.
pub async fn ping(db: &Db) -> bool {
    let transactions = db.conn.execute_unprepared("SELECT 1").await.is_ok();
    let statements = match &db.pg_pool {
        Some(pool) => pool
            .execute(&Statement::from_string(DbBackend::Postgres, "SELECT 1"))
            .await
            .is_ok(),
        None => true,
    };
    transactions && statements
}
