//! `POST /graphql`, `GET /graphql` (queries only, or GraphiQL for browsers).
use std::{
    net::SocketAddr,
    sync::{Arc, atomic::AtomicU64},
    time::Instant,
};

use async_graphql::{
    ErrorExtensions, Request,
    http::GraphiQLSource,
    parser::types::{ExecutableDocument, OperationType},
};
use async_graphql_axum::GraphQLRequest;
use axum::{
    Json,
    extract::{ConnectInfo, FromRequest, State},
    http::{HeaderMap, HeaderValue, StatusCode, Uri, header},
    response::{Html, IntoResponse, Response},
};

use super::{AppState, metrics::operation_label, rate_limit::Caller, security};
use crate::{auth::client_ip::client_ip, error::ApiError, loaders::Loaders, service::Actor};

pub async fn post(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: axum::extract::Request,
) -> Response {
    let headers = request.headers().clone();
    if !security::is_json_body(&headers) {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "BAD_USER_INPUT",
            "POST bodies must be `Content-Type: application/json`",
        );
    }
    let request = match GraphQLRequest::<async_graphql_axum::rejection::GraphQLRejection>::from_request(
        request, &state,
    )
    .await
    {
        Ok(request) => request.into_inner(),
        Err(rejection) => return bad_request(&rejection.0.to_string()),
    };
    execute(state, peer, &headers, request).await
}

pub async fn get(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let query = uri.query().unwrap_or_default();
    if query.is_empty() && accepts_html(&headers) && state.graphiql {
        return Html(
            GraphiQLSource::build()
                .endpoint("/graphql")
                .title("blogql")
                .finish(),
        )
        .into_response();
    }
    if state.production && !security::passes_csrf_check(&headers) {
        return bad_request(
            "This request has been blocked as a potential CSRF: send `apollo-require-preflight: true` \
             or a `Content-Type` other than form, multipart or text/plain",
        );
    }
    let request = match parse_query_string(query) {
        Ok(request) => request,
        Err(message) => return bad_request(&message),
    };
    // GET is safe: mutations must be POSTed (GraphQL over HTTP).
    let name = request.operation_name.clone();
    let name = name.as_deref();
    if let Some(doc) = state.documents.get(&request.query) {
        let is_mutation = doc.operations.iter().any(|(op_name, op)| {
            (name.is_none() || op_name.map(|n| n.as_str()) == name) && op.node.ty == OperationType::Mutation
        });
        if is_mutation {
            let mut response = error(
                StatusCode::METHOD_NOT_ALLOWED,
                "BAD_USER_INPUT",
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

/// `?query=…&operationName=…&variables=…&extensions=…` (GraphQL over HTTP).
fn parse_query_string(query: &str) -> Result<Request, String> {
    let mut document = None;
    let mut request_parts = (None, None);
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            "query" => document = Some(value.into_owned()),
            "operationName" if !value.is_empty() => request_parts.0 = Some(value.into_owned()),
            "variables" if !value.is_empty() => request_parts.1 = Some(value.into_owned()),
            _ => {}
        }
    }
    let mut request = Request::new(document.ok_or("The request has no `query`")?);
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
    Ok(request)
}

fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// The operation's name for metrics and logs: `operationName`, else the document's only
/// named operation.
fn operation_name(request: &Request, document: Option<&ExecutableDocument>) -> String {
    if let Some(name) = request.operation_name.as_deref() {
        return operation_label(Some(name));
    }
    let name = document.and_then(|doc| match &doc.operations {
        async_graphql::parser::types::DocumentOperations::Single(_) => None,
        async_graphql::parser::types::DocumentOperations::Multiple(ops) if ops.len() == 1 => {
            ops.keys().next().map(|name| name.to_string())
        }
        _ => None,
    });
    operation_label(name.as_deref())
}

async fn execute(state: AppState, peer: SocketAddr, headers: &HeaderMap, mut request: Request) -> Response {
    if request.query.trim().is_empty() {
        return bad_request("The request has no `query`");
    }
    let started = Instant::now();
    let request_id = format!("{:016x}", rand::random::<u64>());
    // Parsed once per distinct query text; kept to put the response keys in selection order.
    let document = state.documents.get(&request.query);
    if let Some(document) = &document {
        request.set_parsed_query(ExecutableDocument::clone(document));
    }
    let operation = operation_name(&request, document.as_deref());
    if let Some(Err(error)) = document.as_deref().map(|doc| state.limits.check(doc)) {
        record(&operation, &["QUERY_TOO_COMPLEX"], started);
        return respond(headers, async_graphql::Response::from_errors(vec![error]));
    }
    let statements = Arc::new(AtomicU64::new(0));

    let viewer = match crate::db::REQUEST_STATEMENTS
        .scope(
            statements.clone(),
            super::auth::viewer(&state.db, &state.verifier, headers),
        )
        .await
    {
        Ok(viewer) => viewer,
        Err(e) => {
            let status = match e {
                ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
                _ => StatusCode::SERVICE_UNAVAILABLE,
            };
            record(&operation, &[e.code()], started);
            return graphql_error(status, &e);
        }
    };
    let viewer_label = match &viewer {
        crate::auth::Viewer::Anonymous => "anonymous".to_owned(),
        crate::auth::Viewer::Member(m) => format!("user:{}", m.id),
        crate::auth::Viewer::PlatformAdmin { subject } => format!("platform_admin:{subject}"),
    };
    // Proxies may append to the header or add a line of their own: all lines form one list.
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let forwarded = forwarded.join(",");
    let forwarded = (!forwarded.is_empty()).then_some(forwarded.as_str());
    let ip = client_ip(peer.ip(), forwarded, &state.trusted_proxies);
    let ip_text = ip.to_string();
    let caller = match &viewer {
        crate::auth::Viewer::Anonymous => Caller::Anonymous(&ip_text),
        _ => Caller::SignedIn(&viewer_label),
    };
    if let Err(wait) = state.rate_limiter.check(caller).await {
        record(&operation, &["RATE_LIMITED"], started);
        return rate_limited(wait);
    }
    let loaders = Loaders::new(&state.db, &viewer, state.loader_delay, statements.clone());
    let actor = Actor {
        viewer,
        ip: Some(ip.to_string()),
    };
    let operation_name = request.operation_name.clone();
    let request = request.data(actor).data(loaders);

    let run = crate::db::REQUEST_STATEMENTS.scope(statements.clone(), state.schema.execute(request));
    // Dropping the future on timeout cancels its database work.
    let mut response = match tokio::time::timeout(state.timeout, run).await {
        Ok(response) => response,
        Err(_) => {
            let mut error = async_graphql::ServerError::new(
                format!(
                    "The request took longer than {} s and was cancelled",
                    state.timeout.as_secs()
                ),
                None,
            );
            error.extensions = Some(code_extension("QUERY_TOO_COMPLEX"));
            async_graphql::Response::from_errors(vec![error])
        }
    };
    for error in &mut response.errors {
        ensure_code(error);
    }
    if let Some(document) = &document {
        crate::graphql::order::reorder(&mut response.data, document, operation_name.as_deref());
    }
    let codes: Vec<&str> = response.errors.iter().map(error_code).collect();
    record(&operation, &codes, started);
    tracing::info!(
        target: "blogql::request",
        request_id,
        operation,
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
        serde_json::to_vec(&response)
    };
    match body {
        Ok(body) => (status, [(header::CONTENT_TYPE, content_type)], body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot serialize a response");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                "Internal server error",
            )
        }
    }
}

#[derive(serde::Serialize)]
struct ErrorsOnly<'a> {
    errors: &'a [async_graphql::ServerError],
}

fn code_extension(code: &str) -> async_graphql::ErrorExtensionValues {
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", code);
    extensions
}

fn error_code(error: &async_graphql::ServerError) -> &str {
    error
        .extensions
        .as_ref()
        .and_then(|e| e.get("code"))
        .and_then(|v| match v {
            async_graphql::Value::String(s) => Some(s.as_str()),
            _ => None,
        })
        .unwrap_or("INTERNAL")
}

/// Errors raised by async-graphql itself (parse, validation, limits) carry no code: limit
/// errors become `QUERY_TOO_COMPLEX`, the rest are the client's mistake, `BAD_USER_INPUT`.
fn ensure_code(error: &mut async_graphql::ServerError) {
    if error.extensions.as_ref().is_some_and(|e| e.get("code").is_some()) {
        return;
    }
    let message = error.message.to_ascii_lowercase();
    let limits = [
        "nested too deep",
        "too complex",
        "number of directives",
        "recursion limit",
    ];
    let code = if limits.iter().any(|limit| message.contains(limit)) {
        "QUERY_TOO_COMPLEX"
    } else {
        "BAD_USER_INPUT"
    };
    let extensions = error.extensions.get_or_insert_with(Default::default);
    extensions.set("code", code);
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

/// `RATE_LIMITED`, HTTP 429 with `Retry-After` in whole seconds.
fn rate_limited(wait: std::time::Duration) -> Response {
    let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
    let mut response = error(
        StatusCode::TOO_MANY_REQUESTS,
        "RATE_LIMITED",
        &format!("Too many requests; retry in {seconds} s"),
    );
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

fn bad_request(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", message)
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    (status, Json(body)).into_response()
}
