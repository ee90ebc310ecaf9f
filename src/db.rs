//! Database connection: pool options per backend and statement counting.
use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use sea_orm::{
    ConnectOptions, ConnectionTrait, DatabaseConnection, DbErr,
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
};

/// Executed SQL statements, counted by SeaORM's metric callback (for `/metrics`, the
/// per-request log line and the statement-count tests).
#[derive(Clone, Default, Debug)]
pub struct StatementCounter(Arc<AtomicU64>);

impl StatementCounter {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

tokio::task_local! {
    /// The statement counter of the request the current task works for. The request
    /// handler sets it, and the loaders' spawner carries it into their batch tasks.
    pub static REQUEST_STATEMENTS: Arc<AtomicU64>;
}

pub struct Database {
    pub conn: DatabaseConnection,
    pub statements: StatementCounter,
}

/// Connects with the backend's settings. SQLite runs in WAL mode with a busy timeout, so
/// writers wait for each other instead of failing with "database is locked". On
/// PostgreSQL, `statement_timeout` (the request timeout) stops a statement the server has
/// given up on instead of letting it hold a connection.
pub async fn connect(
    url: &str,
    max_connections: u32,
    log_sql: bool,
    statement_timeout: Option<Duration>,
) -> Result<Database, DbErr> {
    let url_sets_plan_cache_mode = url.contains("plan_cache_mode");
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections)
        .min_connections(1)
        // During an outage requests fail within a few seconds instead of queueing.
        .connect_timeout(Duration::from_secs(3))
        .acquire_timeout(Duration::from_secs(3))
        .sqlx_logging(false)
        // A connection is pinged before use only after 10 s idle: under load the ping
        // would be one extra round trip per statement.
        .test_before_acquire_if_idle_for(Duration::from_secs(10))
        .map_sqlx_postgres_opts(move |opts| {
            // Statements are prepared once per connection; with the default plan cache mode
            // PostgreSQL re-plans every execution of a query whose `LIMIT` is a parameter
            // (a custom plan always looks cheaper than a generic one that cannot see the
            // limit): 0.6 ms of planning for a 0.3 ms query. Generic plans are planned once;
            // bench/explain_check.sh proves each query shape's generic plan uses its index.
            // A `plan_cache_mode` in the URL's `options` wins (the check's custom-plan pass).
            let opts = if url_sets_plan_cache_mode {
                opts
            } else {
                opts.options([("plan_cache_mode", "force_generic_plan")])
            };
            match statement_timeout {
                Some(t) => opts.options([("statement_timeout", format!("{}ms", t.as_millis()))]),
                None => opts,
            }
        })
        .map_sqlx_sqlite_opts(|opts| {
            opts.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    if url.contains(":memory:") {
        // Each in-memory SQLite connection is its own database.
        options.max_connections(1);
    }
    let mut conn = sea_orm::Database::connect(options).await?;
    let statements = StatementCounter::default();
    let counter = statements.0.clone();
    conn.set_metric_callback(move |info| {
        counter.fetch_add(1, Ordering::Relaxed);
        let _ = REQUEST_STATEMENTS.try_with(|n| n.fetch_add(1, Ordering::Relaxed));
        metrics::counter!("blogql_db_statements_total").increment(1);
        if log_sql {
            tracing::info!(
                target: "blogql::sql",
                elapsed_us = info.elapsed.as_micros() as u64,
                failed = info.failed,
                sql = %info.statement.sql,
            );
        }
    });
    Ok(Database { conn, statements })
}

/// `/readyz`: the database answers a trivial query.
pub async fn ping(conn: &DatabaseConnection) -> bool {
    conn.execute_unprepared("SELECT 1").await.is_ok()
}
