//! `GET /metrics`: Prometheus text. Requests and latency by operation, errors by code,
//! SQL statements, pool gauges.
use std::{
    collections::HashSet,
    sync::{LazyLock, Mutex, OnceLock},
};

use axum::extract::State;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use super::AppState;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Installs the process-wide recorder once (tests start many servers in one process).
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = || {
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("duration_seconds".into()), LATENCY_BUCKETS)
                .unwrap_or_else(|_| PrometheusBuilder::new())
        };
        builder()
            .install_recorder()
            .unwrap_or_else(|_| builder().build_recorder().handle())
    })
}

/// Registers every series with its zero value, so the first scrape already shows them
/// (a counter that appears only after its first event reads as missing to alerting
/// rules). Per-operation series appear with their operation.
pub fn register() {
    handle();
    metrics::counter!("blogql_db_statements_total").increment(0);
    for operation in ["anonymous", "other"] {
        metrics::counter!("blogql_http_requests_total", "operation" => operation).increment(0);
    }
    for code in crate::error::CODES {
        metrics::counter!("blogql_graphql_errors_total", "code" => code).increment(0);
    }
    for state in ["idle", "in_use"] {
        metrics::gauge!("blogql_db_pool_connections", "state" => state).set(0.0);
    }
}

pub async fn render(State(state): State<AppState>) -> String {
    let (in_use, idle) = state.db.pool_sizes();
    metrics::gauge!("blogql_db_pool_connections", "state" => "idle").set(idle as f64);
    metrics::gauge!("blogql_db_pool_connections", "state" => "in_use").set(in_use as f64);
    handle().render()
}

/// Operation names a label may carry. Names come from clients and `/metrics` is public;
/// each name adds a set of series, so past this many the rest share `other`.
pub const MAX_OPERATION_LABELS: usize = 200;

static OPERATIONS: LazyLock<Mutex<HashSet<String>>> = LazyLock::new(Default::default);

/// How far a request got.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It ran: its operation name may become a label.
    Executed,
    /// Refused before it ran (bad token, rate limit, a limit, not in the safelist): its name
    /// is a label only if an executed request made it one.
    Refused,
}

/// A bounded label for an operation name chosen by the client: `anonymous` for none, the
/// name (sanitized) once an executed request has made it one of at most
/// `MAX_OPERATION_LABELS`, else `other`.
pub fn operation_label(name: Option<&str>, outcome: Outcome) -> String {
    let name: String = match name {
        Some(name) => name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect(),
        None => String::new(),
    };
    if name.is_empty() {
        return "anonymous".into();
    }
    let Ok(mut known) = OPERATIONS.lock() else {
        return "other".into();
    };
    if known.contains(&name) {
        return name;
    }
    if outcome == Outcome::Executed && known.len() < MAX_OPERATION_LABELS {
        known.insert(name.clone());
        return name;
    }
    "other".into()
}
