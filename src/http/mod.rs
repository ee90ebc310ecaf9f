//! HTTP: routes, the GraphQL handler, authentication, health, metrics. No SQL, no
//! business rules.
mod graphiql;
mod graphql;
mod health;
mod json;
pub mod metrics;
pub mod rate_limit;
mod security;
pub mod ws;

use std::sync::Arc;

use axum::{Router, extract::DefaultBodyLimit, routing::get};
use ipnet::IpNet;
use tower_http::{catch_panic::CatchPanicLayer, limit::RequestBodyLimitLayer};

use crate::{db::Db, graphql::execute::Engine};

/// Largest request body accepted, for every route and extractor.
pub const BODY_LIMIT: usize = 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    /// Runs GraphQL requests: documents, limits, authentication, execution.
    pub engine: Arc<Engine>,
    /// For `/readyz` and the pool gauges of `/metrics`.
    pub db: Db,
    pub trusted_proxies: Arc<Vec<IpNet>>,
    pub graphiql: bool,
    /// Production hardening: CSRF prevention and security headers.
    pub production: bool,
    pub cors_origins: Vec<String>,
    pub rate_limiter: rate_limit::RateLimiter,
    /// `/graphql/ws` settings, and its open connections per caller.
    pub ws: ws::Settings,
    pub ws_connections: ws::Connections,
}

pub fn router(state: AppState) -> Router {
    metrics::register();
    let cors = security::cors(&state.cors_origins);
    let production = state.production;
    let router = Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/graphql/ws", get(ws::upgrade))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::render))
        .merge(graphiql::routes())
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(CatchPanicLayer::custom(security::panic_response))
        .layer(cors)
        .with_state(state);
    if production {
        security::with_headers(router)
    } else {
        router
    }
}
