//! CORS, CSRF prevention, security headers and the panic response.
use std::any::Any;

use axum::{
    Json, Router,
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use tower_http::{cors::CorsLayer, set_header::SetResponseHeaderLayer};

/// CORS for the configured origins only; with none, no cross-origin access.
pub fn cors(origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o.trim()).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            HeaderName::from_static("apollo-require-preflight"),
            HeaderName::from_static("x-apollo-operation-name"),
        ])
}

/// Content types a browser may send cross-origin without a preflight.
const SIMPLE_CONTENT_TYPES: [&str; 3] = [
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "text/plain",
];

fn content_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
}

/// Apollo Server's CSRF prevention: a request must be one a browser would preflight —
/// a non-simple `Content-Type`, or an `apollo-require-preflight` /
/// `x-apollo-operation-name` header.
pub fn passes_csrf_check(headers: &HeaderMap) -> bool {
    if headers.contains_key("apollo-require-preflight") || headers.contains_key("x-apollo-operation-name") {
        return true;
    }
    content_type(headers).is_some_and(|ct| !SIMPLE_CONTENT_TYPES.contains(&ct.as_str()))
}

/// POST bodies are JSON (GraphQL over HTTP); form, multipart and text bodies are refused.
pub fn is_json_body(headers: &HeaderMap) -> bool {
    content_type(headers)
        .is_some_and(|ct| ct == "application/json" || ct == "application/graphql-response+json")
}

pub fn with_headers(router: Router) -> Router {
    let headers = [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("cross-origin-opener-policy", "same-origin"),
    ];
    headers.into_iter().fold(router, |router, (name, value)| {
        router.layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        ))
    })
}

/// A panic in a request becomes `INTERNAL`; the server keeps serving.
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = detail, "request panicked");
    let body = serde_json::json!({
        "errors": [{ "message": "Internal server error", "extensions": { "code": "INTERNAL" } }]
    });
    (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use axum::{Router, routing::get};
    use tower_http::catch_panic::CatchPanicLayer;

    use super::panic_response;

    async fn boom() -> &'static str {
        panic!("boom at /some/file.rs")
    }

    /// A panicking handler answers `INTERNAL` (500) and the server keeps serving: the
    /// layer and response the real router uses, on a real listener.
    #[tokio::test]
    async fn a_panic_becomes_internal_and_the_server_keeps_serving() {
        let router = Router::new()
            .route("/boom", get(boom))
            .route("/ok", get(|| async { "ok" }))
            .layer(CatchPanicLayer::custom(panic_response));
        let Ok(listener) = tokio::net::TcpListener::bind("127.0.0.1:0").await else {
            panic!("cannot bind");
        };
        let Ok(addr) = listener.local_addr() else {
            panic!("no address")
        };
        tokio::spawn(async move { axum::serve(listener, router).await });
        let client = reqwest::Client::new();
        for _ in 0..3 {
            let Ok(response) = client.get(format!("http://{addr}/boom")).send().await else {
                panic!("no response")
            };
            assert_eq!(response.status(), 500);
            let body = response.text().await.unwrap_or_default();
            assert!(body.contains("\"code\":\"INTERNAL\""), "{body}");
            assert!(!body.contains("file.rs"), "{body}");
            let Ok(ok) = client.get(format!("http://{addr}/ok")).send().await else {
                panic!("no response")
            };
            assert_eq!(ok.status(), 200);
        }
    }
}
