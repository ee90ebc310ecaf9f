//! `POST /graphql`, `GET /graphql` (queries only, or GraphiQL for browsers).
use std::net::SocketAddr;

use async_graphql::{ErrorExtensions, Request, http::GraphiQLSource, parser::types::OperationType};
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::{
    Json,
    extract::{ConnectInfo, State},
    http::{HeaderMap, HeaderValue, StatusCode, Uri, header},
    response::{Html, IntoResponse, Response},
};

use super::AppState;
use crate::{auth::client_ip::client_ip, error::ApiError, loaders::Loaders, service::Actor};

pub async fn post(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> Response {
    execute(state, peer, &headers, request.into_inner()).await
}

pub async fn get(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let query = uri.query().unwrap_or_default();
    if query.is_empty() && accepts_html(&headers) {
        return Html(
            GraphiQLSource::build()
                .endpoint("/graphql")
                .title("blogql")
                .finish(),
        )
        .into_response();
    }
    let mut request = match async_graphql::http::parse_query_string(query) {
        Ok(request) => request,
        Err(e) => return error(StatusCode::BAD_REQUEST, "BAD_REQUEST", &e.to_string()),
    };
    // GET is safe: mutations must be POSTed (GraphQL over HTTP).
    let name = request.operation_name.clone();
    let name = name.as_deref();
    if let Ok(doc) = request.parsed_query() {
        let is_mutation = doc.operations.iter().any(|(op_name, op)| {
            (name.is_none() || op_name.map(|n| n.as_str()) == name) && op.node.ty == OperationType::Mutation
        });
        if is_mutation {
            let mut response = error(
                StatusCode::METHOD_NOT_ALLOWED,
                "BAD_REQUEST",
                "Mutations must use POST",
            );
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            return response;
        }
    }
    execute(state, peer, &headers, request).await
}

fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

async fn execute(state: AppState, peer: SocketAddr, headers: &HeaderMap, request: Request) -> Response {
    let viewer = match super::auth::viewer(&state.db, &state.verifier, headers).await {
        Ok(viewer) => viewer,
        Err(e) => {
            let status = match e {
                ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
                _ => StatusCode::SERVICE_UNAVAILABLE,
            };
            return graphql_error(status, &e);
        }
    };
    let forwarded = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    let ip = client_ip(peer.ip(), forwarded, &state.trusted_proxies);
    let loaders = Loaders::new(&state.db, &viewer, state.loader_delay);
    let actor = Actor {
        viewer,
        ip: Some(ip.to_string()),
    };
    let request = request.data(actor).data(loaders);
    GraphQLResponse::from(state.schema.execute(request).await).into_response()
}

/// A response with one GraphQL error, for failures before execution.
fn graphql_error(status: StatusCode, err: &ApiError) -> Response {
    let error = err.extend();
    let body = serde_json::json!({
        "errors": [{ "message": error.message, "extensions": error.extensions }]
    });
    let mut response = (status, Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    (status, Json(body)).into_response()
}
