//! Counting (and optionally logging) every executed SQL statement.
use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use sea_orm::{DbErr, Statement};

/// Executed SQL statements, counted by the `Recorder` (for `/metrics`, the per-request log
/// line and the statement-count tests). `BEGIN` and `COMMIT` are not counted.
#[derive(Clone, Default, Debug)]
pub struct StatementCounter(pub(super) Arc<AtomicU64>);

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

/// Where every executed statement is counted (and logged with `BLOGQL_LOG_SQL`), from
/// SeaORM's metric callback and from the PostgreSQL pool alike.
#[derive(Clone)]
pub struct Recorder {
    pub(super) total: StatementCounter,
    pub(super) log_sql: bool,
}

impl Recorder {
    pub(super) fn record(&self, sql: &str, elapsed: Duration, failed: bool) {
        self.total.0.fetch_add(1, Ordering::Relaxed);
        let _ = REQUEST_STATEMENTS.try_with(|n| n.fetch_add(1, Ordering::Relaxed));
        metrics::counter!("blogql_db_statements_total").increment(1);
        if self.log_sql {
            tracing::info!(
                target: "blogql::sql",
                elapsed_us = elapsed.as_micros() as u64,
                failed,
                sql,
            );
        }
    }

    /// Callers pass the pool's future boxed: it is large (deadpool's checkout and
    /// tokio-postgres's query), and unboxed it was copied at each layer of `async_trait`
    /// wrapping, ~30,000 instructions of `memcpy` per statement (callgrind, bench/).
    pub(super) async fn timed<T>(
        &self,
        stmt: &Statement,
        run: impl Future<Output = Result<T, DbErr>>,
    ) -> Result<T, DbErr> {
        let started = Instant::now();
        let result = run.await;
        self.record(&stmt.sql, started.elapsed(), result.is_err());
        result
    }
}
