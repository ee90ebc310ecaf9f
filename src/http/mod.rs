//! HTTP: routes, the GraphQL handler, authentication, health. No SQL, no business rules.
mod auth;
mod graphql;
mod health;

use std::sync::Arc;

use axum::{Router, extract::DefaultBodyLimit, routing::get};
use ipnet::IpNet;
use sea_orm::DatabaseConnection;
use tower_http::{limit::RequestBodyLimitLayer, trace::TraceLayer};

use crate::{auth::jwt::Verifier, db::StatementCounter, graphql::BlogSchema};

/// Largest request body accepted, for every route and extractor.
pub const BODY_LIMIT: usize = 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub schema: BlogSchema,
    pub db: DatabaseConnection,
    pub statements: StatementCounter,
    pub verifier: Arc<Verifier>,
    pub trusted_proxies: Arc<Vec<IpNet>>,
    pub loader_delay: std::time::Duration,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
