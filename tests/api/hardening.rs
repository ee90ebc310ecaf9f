//! Hostile queries and requests are refused before any SQL runs; production mode;
//! rate limits (in-process and shared through Redis); metrics.
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// Sends `query` anonymously; returns the first error code and how many statements ran.
async fn refused(app: &TestApp, query: &str) -> (String, u64) {
    let before = app.statement_count();
    let body = app.gql(query, json!({}), None).await;
    let code = body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    (code, app.statement_count() - before)
}

fn nested(depth: usize) -> String {
    let mut query = "name".to_owned();
    for _ in 0..depth {
        query = format!("users(first: 1) {{ edges {{ node {{ organization {{ {query} }} }} }} }}");
    }
    format!("{{ organizations(first: 1) {{ edges {{ node {{ {query} }} }} }} }}")
}

#[tokio::test]
async fn query_bombs_are_refused_before_any_sql() {
    let app = TestApp::spawn().await;
    let aliases: String = (0..31)
        .map(|i| format!("a{i}: organizations {{ totalCount }} "))
        .collect();
    let roots: String = (0..21).map(|_| "viewer { id } ").collect();
    let directives: String = (0..11).map(|_| "@include(if: true) ").collect();
    let cases = [
        ("depth", nested(5)),
        ("aliases", format!("{{ {aliases} }}")),
        ("root fields", format!("{{ {roots} }}")),
        ("directives", format!("{{ organizations {directives} {{ totalCount }} }}")),
        (
            "complexity",
            "{ organizations(first: 100) { edges { node { users(first: 100) { edges { node { posts(first: 100) { edges { node { title } } } } } } } } } }".to_owned(),
        ),
    ];
    for (what, query) in cases {
        let (code, statements) = refused(&app, &query).await;
        assert_eq!(code, "QUERY_TOO_COMPLEX", "{what}");
        assert_eq!(statements, 0, "{what}: SQL ran before the refusal");
    }
    // Below the limits the same shapes run.
    let ok = app.gql(&nested(1), json!({}), None).await;
    assert!(
        ok["errors"][0]["extensions"]["code"] != "QUERY_TOO_COMPLEX",
        "{ok}"
    );
}

#[tokio::test]
async fn hostile_requests_get_4xx() {
    let app = TestApp::spawn().await;
    let url = app.url("/graphql");
    // 10 MB body.
    let huge = format!(
        "{{\"query\": \"{{ viewer {{ id }} }}\", \"x\": \"{}\"}}",
        "a".repeat(10 * 1024 * 1024)
    );
    let response = app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await;
    match response {
        Ok(r) => assert_eq!(r.status(), 413),
        // The server may close the connection before the client has sent everything.
        Err(e) => assert!(e.is_request() || e.is_body(), "{e}"),
    }
    // Batched (array) requests are off.
    let batch = app
        .client
        .post(&url)
        .json(&json!([{ "query": "{ viewer { id } }" }, { "query": "{ viewer { id } }" }]))
        .send()
        .await
        .unwrap();
    assert_eq!(batch.status(), 400);
    // Form, multipart and text bodies are refused (CSRF-safe in every mode).
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let response = app
            .client
            .post(&url)
            .header("content-type", content_type)
            .body(r#"{"query":"mutation { recordPostView(id: \"1\") { id } }"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 415, "{content_type}");
    }
    // Malformed JSON.
    let response = app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body("{\"query\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn development_mode_serves_introspection_suggestions_and_graphiql() {
    let app = TestApp::spawn().await;
    let body = app
        .gql("{ __schema { queryType { name } } }", json!({}), None)
        .await;
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query");
    let body = app.gql("{ organizashuns { totalCount } }", json!({}), None).await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Did you mean")
    );
    let html = app
        .client
        .get(app.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert!(html.text().await.unwrap().contains("graphiql"));
}

#[tokio::test]
async fn production_mode_hardens_the_server() {
    let app =
        TestApp::spawn_with(&["--env", "production", "--cors-origins", "https://app.example.com"]).await;
    let body = app
        .gql("{ __schema { queryType { name } } }", json!({}), None)
        .await;
    // Introspection is off: `__schema` resolves to nothing.
    assert!(body["data"]["__schema"].is_null(), "{body}");
    let body = app.gql("{ organizashuns { totalCount } }", json!({}), None).await;
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(!message.contains("Did you mean"), "{message}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");

    // No GraphiQL; GET needs a preflight-forcing header (Apollo's CSRF prevention).
    let html = app
        .client
        .get(app.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_ne!(html.status(), 200);
    let get = |headers: &[(&str, &str)]| {
        let mut request = app
            .client
            .get(app.url("/graphql"))
            .query(&[("query", "{ viewer { id } }")]);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send()
    };
    assert_eq!(get(&[]).await.unwrap().status(), 400);
    let allowed = get(&[("apollo-require-preflight", "true")]).await.unwrap();
    assert_eq!(allowed.status(), 200);
    for header in ["x-content-type-options", "x-frame-options", "referrer-policy"] {
        assert!(allowed.headers().contains_key(header), "missing {header}");
    }
    assert!(!allowed.headers().contains_key("server"));

    // CORS: the allowed origin is echoed, another is not.
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/graphql"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let ok = preflight("https://app.example.com").await.unwrap();
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let denied = preflight("https://evil.example").await.unwrap();
    assert!(!denied.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn production_without_a_key_does_not_start() {
    use clap::Parser;
    let cli = blogql::config::Cli::try_parse_from([
        "blogql",
        "--env",
        "production",
        "--database-url",
        "sqlite::memory:",
        "--listen",
        "127.0.0.1:0",
    ])
    .unwrap();
    let result = blogql::startup::Application::build(&cli.config).await;
    assert!(matches!(result, Err(blogql::startup::StartupError::Config(_))));
}

async fn anonymous_status(app: &TestApp) -> (u16, Option<String>, Value) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": "{ organizations { totalCount } }" }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let retry = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, retry, response.json().await.unwrap())
}

#[tokio::test]
async fn anonymous_clients_are_rate_limited_per_ip_and_users_per_token() {
    let app = TestApp::spawn_with(&[
        "--rate-limit-anonymous-per-minute",
        "3",
        "--rate-limit-per-minute",
        "5",
    ])
    .await;
    for _ in 0..3 {
        assert_eq!(anonymous_status(&app).await.0, 200);
    }
    let (status, retry, body) = anonymous_status(&app).await;
    assert_eq!(status, 429);
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    assert!(retry.unwrap().parse::<u64>().unwrap() >= 1);
    // A signed-in caller has a bucket of their own.
    let token = app.platform_token();
    for _ in 0..5 {
        app.ok("{ organizations { totalCount } }", json!({}), Some(&token))
            .await;
    }
    let (code, _) = app
        .err("{ organizations { totalCount } }", json!({}), Some(&token))
        .await;
    assert_eq!(code, "RATE_LIMITED");
}

#[tokio::test]
async fn two_instances_share_buckets_through_redis() {
    let prefix = format!("blogql-test:{}", uuid::Uuid::new_v4().simple());
    let args = [
        "--rate-limit-anonymous-per-minute",
        "4",
        "--redis-url",
        "redis://127.0.0.1:6379",
        "--redis-key-prefix",
        &prefix,
    ];
    let a = TestApp::spawn_with(&args).await;
    let b = TestApp::spawn_with(&args).await;
    for app in [&a, &b, &a, &b] {
        assert_eq!(anonymous_status(app).await.0, 200);
    }
    // The fifth request, on either instance, finds the shared bucket empty.
    assert_eq!(anonymous_status(&a).await.0, 429);
    assert_eq!(anonymous_status(&b).await.0, 429);
}

#[tokio::test]
async fn metrics_count_requests_statements_and_errors() {
    let app = TestApp::spawn().await;
    app.ok(
        "query MetricsProbe { organizations { totalCount } }",
        json!({}),
        None,
    )
    .await;
    app.gql("{ organizations(first: 1000) { totalCount } }", json!({}), None)
        .await;
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for needle in [
        "blogql_db_statements_total",
        "blogql_http_requests_total{operation=\"MetricsProbe\"}",
        "blogql_request_duration_seconds_bucket{operation=\"MetricsProbe\"",
        "blogql_graphql_errors_total{code=\"BAD_USER_INPUT\"}",
        "blogql_db_pool_connections{state=\"idle\"}",
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
}
