//! `POST /graphql`, `GET /graphql` (queries only, or GraphiQL for browsers).
use std::{
    net::SocketAddr,
    sync::{Arc, atomic::AtomicU64},
    time::Instant,
};

use async_graphql::{Request, parser::types::OperationType};
use axum::{
    Json,
    extract::{ConnectInfo, FromRequest, State},
    http::{HeaderMap, HeaderValue, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use tracing::Instrument;

use super::{
    AppState,
    metrics::{Outcome, operation_label},
    rate_limit::Caller,
    security,
};
use crate::{
    auth::{Actor, client_ip::client_ip, session},
    error::{ApiError, code_of},
    graphql::execute::Rejected,
};

/// How a request arrived: GET may not run mutations (GraphQL over HTTP).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
}

pub async fn post(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: axum::extract::Request,
) -> Response {
    let headers = request.headers().clone();
    if !security::is_json_body(&headers) {
        return api_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &malformed("POST bodies must be `Content-Type: application/json`"),
        );
    }
    let body = match axum::body::Bytes::from_request(request, &state).await {
        Ok(body) => body,
        Err(rejection) => return bad_request(&rejection.body_text()),
    };
    let body: Body = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(e) => return bad_request(&format!("The body is not a GraphQL request: {e}")),
    };
    handle(
        state,
        peer,
        &headers,
        body.request,
        body.document_id,
        Method::Post,
    )
    .await
}

/// A POST body: a GraphQL request, or a persisted document's id in its place.
#[derive(serde::Deserialize)]
struct Body {
    #[serde(flatten)]
    request: Request,
    #[serde(default, rename = "documentId")]
    document_id: Option<String>,
}

pub async fn get(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let query = uri.query().unwrap_or_default();
    if query.is_empty() && accepts_html(&headers) && state.graphiql {
        return super::graphiql::page().into_response();
    }
    if state.production && !security::passes_csrf_check(&headers) {
        return bad_request(
            "This request has been blocked as a potential CSRF: send `apollo-require-preflight: true` \
             or a `Content-Type` other than form, multipart or text/plain",
        );
    }
    let (request, document_id) = match parse_query_string(query) {
        Ok(parsed) => parsed,
        Err(message) => return bad_request(&message),
    };
    handle(state, peer, &headers, request, document_id, Method::Get).await
}

/// `?query=…&operationName=…&variables=…&extensions=…`, or `documentId=…` in place of
/// `query` (GraphQL over HTTP).
fn parse_query_string(query: &str) -> Result<(Request, Option<String>), String> {
    let mut document = None;
    let mut document_id = None;
    let mut request_parts = (None, None);
    let mut extensions = None;
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            "query" => document = Some(value.into_owned()),
            "documentId" if !value.is_empty() => document_id = Some(value.into_owned()),
            "operationName" if !value.is_empty() => request_parts.0 = Some(value.into_owned()),
            "variables" if !value.is_empty() => request_parts.1 = Some(value.into_owned()),
            "extensions" if !value.is_empty() => extensions = Some(value.into_owned()),
            _ => {}
        }
    }
    // A hash-only request (persisted query) has no `query`: `Engine::prepare` fills it in.
    let mut request = Request::new(document.unwrap_or_default());
    if let Some(extensions) = extensions {
        request.extensions =
            serde_json::from_str(&extensions).map_err(|_| "`extensions` must be a JSON object".to_owned())?;
    }
    if let Some(name) = request_parts.0 {
        request = request.operation_name(name);
    }
    if let Some(variables) = request_parts.1 {
        let json: serde_json::Value =
            serde_json::from_str(&variables).map_err(|_| "`variables` is not valid JSON".to_owned())?;
        if !json.is_object() && !json.is_null() {
            return Err("`variables` must be a JSON object".into());
        }
        request = request.variables(async_graphql::Variables::from_json(json));
    }
    Ok((request, document_id))
}

fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// Proxies may append to `X-Forwarded-For` or add a line of their own: all lines form
/// one list.
pub(super) fn forwarded_for(headers: &HeaderMap) -> Option<String> {
    let lines: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!lines.is_empty()).then(|| lines.join(","))
}

async fn handle(
    state: AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    request: Request,
    document_id: Option<String>,
    method: Method,
) -> Response {
    let started = Instant::now();
    let engine = &state.engine;
    // The rate limit comes first, keyed as soon as the caller is known: the token is
    // verified (no database) and the bucket checked before parsing, limits or the
    // token's database lookup. An invalid token counts against its IP.
    let authorization = headers.get(header::AUTHORIZATION).map(HeaderValue::as_bytes);
    let subject = engine.subject(authorization);
    let ip = client_ip(
        peer.ip(),
        forwarded_for(headers).as_deref(),
        &state.trusted_proxies,
    )
    .to_string();
    let subject_label = subject.as_ref().ok().and_then(|s| s.as_ref()).map(session::label);
    let caller = match &subject_label {
        Some(label) => Caller::SignedIn(label),
        None => Caller::Anonymous(&ip),
    };
    if let Err(wait) = state.rate_limiter.check(caller).await {
        record(
            &operation_label(None, Outcome::Refused),
            &["RATE_LIMITED"],
            started,
        );
        return rate_limited(wait);
    }
    let prepared = match engine.prepare(request, document_id.as_deref()).await {
        Ok(prepared) => prepared,
        Err(rejected) => {
            let Rejected {
                operation,
                error,
                malformed,
            } = *rejected;
            record(
                &operation_label(operation.name.as_deref(), Outcome::Refused),
                &[error.code()],
                started,
            );
            if malformed {
                return api_error(StatusCode::BAD_REQUEST, &error);
            }
            // Apollo's link reads these from a 200 answer, whatever the media type.
            if matches!(
                error,
                ApiError::PersistedQueryNotFound | ApiError::PersistedQueryNotSupported
            ) {
                return api_error(StatusCode::OK, &error);
            }
            return respond(
                headers,
                async_graphql::Response::from_errors(vec![error.server_error()]),
            );
        }
    };
    if method == Method::Get && prepared.operation.kind == Some(OperationType::Mutation) {
        let mut response = api_error(
            StatusCode::METHOD_NOT_ALLOWED,
            &malformed("Mutations must use POST"),
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    if prepared.operation.kind == Some(OperationType::Subscription) {
        let error = malformed("Subscriptions run over WebSocket: graphql-transport-ws on /graphql/ws");
        record(
            &operation_label(prepared.operation.name.as_deref(), Outcome::Refused),
            &[error.code()],
            started,
        );
        return respond(
            headers,
            async_graphql::Response::from_errors(vec![error.server_error()]),
        );
    }
    let name = prepared.operation.name.clone();
    let request_id = format!("{:016x}", rand::random::<u64>());
    let span = tracing::info_span!(
        "request",
        request_id,
        operation = operation_label(name.as_deref(), Outcome::Refused)
    );
    async move {
        let statements = Arc::new(AtomicU64::new(0));
        let viewer = match subject {
            Ok(subject) => engine.authenticate(subject, &statements).await,
            Err(e) => Err(e),
        };
        let viewer = match viewer {
            Ok(viewer) => viewer,
            Err(e) => {
                let status = match e {
                    ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
                    _ => StatusCode::SERVICE_UNAVAILABLE,
                };
                record(
                    &operation_label(name.as_deref(), Outcome::Refused),
                    &[e.code()],
                    started,
                );
                return api_error(status, &e);
            }
        };
        let viewer_label = viewer.label();
        let actor = Actor {
            viewer,
            ip: Some(ip),
            system: None,
        };
        let response = engine.execute(prepared, actor, &statements).await;
        let codes: Vec<&str> = response.errors.iter().map(code_of).collect();
        record(
            &operation_label(name.as_deref(), Outcome::Executed),
            &codes,
            started,
        );
        tracing::info!(
            target: "blogql::request",
            viewer = viewer_label,
            errors = ?codes,
            duration_ms = started.elapsed().as_secs_f64() * 1000.0,
            statements = statements.load(std::sync::atomic::Ordering::Relaxed),
        );
        let mut http = respond(headers, response);
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            http.headers_mut().insert("x-request-id", value);
        }
        http
    }
    .instrument(span)
    .await
}

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// Serializes a result in the media type the client accepts (GraphQL over HTTP):
/// `application/graphql-response+json` when asked for, where a request error (parse,
/// validation, variables: nothing executed) is a 400 without `data`; otherwise
/// `application/json` with 200.
fn respond(headers: &HeaderMap, response: async_graphql::Response) -> Response {
    let graphql_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains(GRAPHQL_RESPONSE_JSON));
    let request_error = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    let (status, content_type) = match (graphql_json, request_error) {
        (true, true) => (
            StatusCode::BAD_REQUEST,
            "application/graphql-response+json; charset=utf-8",
        ),
        (true, false) => (StatusCode::OK, "application/graphql-response+json; charset=utf-8"),
        (false, _) => (StatusCode::OK, "application/json; charset=utf-8"),
    };
    // Serialized straight to bytes; a request error has no `data` in the GraphQL media type.
    let body = if graphql_json && request_error {
        serde_json::to_vec(&ErrorsOnly {
            errors: &response.errors,
        })
    } else {
        super::json::response_bytes(&response)
    };
    match body {
        Ok(body) => (status, [(header::CONTENT_TYPE, content_type)], body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot serialize a response");
            api_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &ApiError::Internal(e.to_string()),
            )
        }
    }
}

#[derive(serde::Serialize)]
struct ErrorsOnly<'a> {
    errors: &'a [async_graphql::ServerError],
}

fn record(operation: &str, codes: &[&str], started: Instant) {
    let operation = operation.to_owned();
    metrics::counter!("blogql_http_requests_total", "operation" => operation.clone()).increment(1);
    metrics::histogram!("blogql_request_duration_seconds", "operation" => operation)
        .record(started.elapsed().as_secs_f64());
    for code in codes {
        metrics::counter!("blogql_graphql_errors_total", "code" => code.to_string()).increment(1);
    }
}

/// A response with one GraphQL error, for failures before execution.
fn api_error(status: StatusCode, err: &ApiError) -> Response {
    let body = serde_json::json!({ "errors": [err.server_error()] });
    let mut response = (status, Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

/// `RATE_LIMITED`, HTTP 429 with `Retry-After` in whole seconds.
fn rate_limited(wait: std::time::Duration) -> Response {
    let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
    let mut response = api_error(
        StatusCode::TOO_MANY_REQUESTS,
        &ApiError::RateLimited(format!("Too many requests; retry in {seconds} s")),
    );
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

fn bad_request(message: &str) -> Response {
    api_error(StatusCode::BAD_REQUEST, &malformed(message))
}

fn malformed(message: &str) -> ApiError {
    ApiError::BadUserInput {
        message: message.to_owned(),
        field: None,
    }
}
