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

/// The same cost bomb under `nodes` in several spellings: each is refused before any SQL
/// (named spreads once escaped the per-row cost, which kept the interface's type).
#[tokio::test]
async fn cost_bombs_through_fragments_are_refused_in_every_spelling() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Acme", "acme").await;
    let id = crate::helpers::global_id("Organization", org);
    let ids: Vec<String> = (0..100).map(|_| id.clone()).collect();
    let bomb = "posts(first: 100) { nodes { organization { posts(first: 100) { nodes { organization { \
                posts(first: 100) { nodes { id title } } } } } } } }";
    let spellings = [
        (
            "inline",
            format!("query($ids: [ID!]!) {{ nodes(ids: $ids) {{ ... on Organization {{ {bomb} }} }} }}"),
        ),
        (
            "named",
            format!(
                "query($ids: [ID!]!) {{ nodes(ids: $ids) {{ ...F }} }} fragment F on Organization {{ {bomb} }}"
            ),
        ),
        (
            "nested named",
            "query($ids: [ID!]!) { nodes(ids: $ids) { ...A } } fragment A on Node { ...B } \
             fragment B on Organization { posts(first: 100) { nodes { organization { ...C } } } } \
             fragment C on Organization { posts(first: 100) { nodes { organization { ...D } } } } \
             fragment D on Organization { posts(first: 100) { nodes { id title } } }"
                .to_owned(),
        ),
        (
            "aliased",
            format!(
                "query($ids: [ID!]!) {{ n: nodes(ids: $ids) {{ ...F }} }} fragment F on Organization {{ p: {bomb} }}"
            ),
        ),
        (
            "one node",
            format!("query($id: ID!) {{ node(id: $id) {{ ...F }} }} fragment F on Organization {{ {bomb} }}"),
        ),
        (
            "default variable",
            format!(
                "query($ids: [ID!]! = [{}], $n: Int = 100) {{ nodes(ids: $ids) {{ ...F }} }} \
                 fragment F on Organization {{ posts(first: $n) {{ nodes {{ organization {{ posts(first: $n) {{ nodes {{ organization {{ posts(first: $n) {{ nodes {{ id }} }} }} }} }} }} }} }} }}",
                ids.iter()
                    .map(|id| format!("\"{id}\""))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        ),
    ];
    for (what, query) in spellings {
        let before = app.statement_count();
        let body = app.gql(&query, json!({ "ids": ids, "id": id }), None).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"],
            "QUERY_TOO_COMPLEX",
            "{what}: {}",
            body.to_string().chars().take(300).collect::<String>()
        );
        assert_eq!(
            app.statement_count(),
            before,
            "{what}: SQL ran before the refusal"
        );
    }
    // A fragment of modest cost under `nodes` still runs.
    let body = app
        .gql(
            "query($ids: [ID!]!) { nodes(ids: $ids) { ...F } } fragment F on Organization { posts(first: 5) { nodes { id } } }",
            json!({ "ids": [id] }),
            None,
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(body["data"]["nodes"][0]["posts"]["nodes"], json!([]), "{body}");
}

/// A document's limits are measured once when no measured argument takes a variable, and
/// for every request when one does: the same text passes with a small `$n` and is refused
/// with a large one, in either order.
#[tokio::test]
async fn a_documents_cost_follows_its_variables_on_every_request() {
    let app = TestApp::spawn().await;
    let query = "query Cost($n: Int) { organizations(first: $n) { nodes { posts(first: $n) { nodes { \
                 organization { posts(first: $n) { nodes { id } } } } } } } }";
    for n in [1, 100, 1, 100] {
        let before = app.statement_count();
        let body = app.gql(query, json!({ "n": n }), None).await;
        if n == 1 {
            assert!(body["errors"].is_null(), "n = {n}: {body}");
        } else {
            assert_eq!(
                body["errors"][0]["extensions"]["code"], "QUERY_TOO_COMPLEX",
                "n = {n}: {body}"
            );
            assert_eq!(
                app.statement_count(),
                before,
                "n = {n}: SQL ran before the refusal"
            );
        }
    }
    // Without variables in its sizes, a document is measured once and keeps passing.
    let fixed = "query Fixed($org: ID) { organization(id: $org) { users(first: 2) { nodes { id } } } }";
    for _ in 0..3 {
        let body = app.gql(fixed, json!({ "org": "1" }), None).await;
        assert!(body["errors"].is_null(), "{body}");
    }
}

/// Root fields and aliases count after fragments are expanded: through `... on Query`,
/// and once per spread of a fragment.
#[tokio::test]
async fn root_field_and_alias_limits_count_expanded_fragments() {
    let app = TestApp::spawn().await;
    let roots: String = (0..21).map(|i| format!("r{i}: __typename ")).collect();
    let few: String = (0..6).map(|i| format!("a{i}: __typename ")).collect();
    let spreads: String = (0..6)
        .map(|i| format!("s{i}: organizations(first: 1) {{ ...F }} "))
        .collect();
    let cases = [
        (
            "roots in an inline fragment",
            format!("{{ ... on Query {{ {roots} }} }}"),
        ),
        (
            "roots in a named fragment",
            format!("{{ ...R }} fragment R on Query {{ {roots} }}"),
        ),
        (
            "aliases spread many times",
            format!("{{ {spreads} }} fragment F on OrganizationConnection {{ {few} }}"),
        ),
    ];
    for (what, query) in cases {
        let (code, statements) = refused(&app, &query).await;
        assert_eq!(code, "QUERY_TOO_COMPLEX", "{what}");
        assert_eq!(statements, 0, "{what}: SQL ran before the refusal");
    }
    let ok = app
        .gql(
            "{ ... on Query { a: __typename b: __typename } }",
            json!({}),
            None,
        )
        .await;
    assert!(ok["errors"].is_null(), "{ok}");
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

/// A caller past their limit is refused before the request is parsed, measured or its
/// token looked up in the database; an invalid token counts against its IP.
#[tokio::test]
async fn the_rate_limit_comes_before_parsing_and_the_token_lookup() {
    let app = TestApp::spawn_with(&[
        "--rate-limit-anonymous-per-minute",
        "2",
        "--rate-limit-per-minute",
        "2",
    ])
    .await;
    let org = app.create_org("Acme", "acme").await;
    let user = app.create_user(org, "alice", "MEMBER").await;
    let token = app.user_token(user);
    for _ in 0..2 {
        app.ok("{ viewer { id } }", json!({}), Some(&token)).await;
    }
    let before = app.statement_count();
    for query in [
        "{ viewer { id } }",
        "{ not graphql (",
        "{ ... on Query { a: __typename } }",
    ] {
        let (code, _) = app.err(query, json!({}), Some(&token)).await;
        assert_eq!(code, "RATE_LIMITED", "{query}");
    }
    assert_eq!(
        app.statement_count(),
        before,
        "a limited request looked its token up"
    );
    // Bad tokens share their IP's bucket instead of getting one each.
    for attempt in 0..3 {
        let bad = format!("bad-token-{attempt}");
        let (code, _) = app.err("{ viewer { id } }", json!({}), Some(&bad)).await;
        let expected = if attempt < 2 {
            "UNAUTHENTICATED"
        } else {
            "RATE_LIMITED"
        };
        assert_eq!(code, expected, "attempt {attempt}");
    }
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

/// `search` is capped at 200 characters (a 50,000-byte one was `INTERNAL` on SQLite:
/// "LIKE or GLOB pattern too complex"), and searched lists and `totalCount` carry a real
/// cost, so one anonymous request cannot run dozens of full scans.
#[tokio::test]
async fn search_is_bounded_in_length_and_in_cost() {
    let app = TestApp::spawn().await;
    let query = "query($s: String) { posts(filter: {search: $s}) { totalCount } }";
    for length in [201, 50_000] {
        let body = app.gql(query, json!({ "s": "a".repeat(length) }), None).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{length}: {body}"
        );
        assert_eq!(
            body["errors"][0]["extensions"]["field"], "search",
            "{length}: {body}"
        );
    }
    let body = app.gql(query, json!({ "s": "a".repeat(200) }), None).await;
    assert_eq!(body["data"]["posts"]["totalCount"], 0, "{body}");

    let searches: String = (0..20)
        .map(|i| format!("s{i}: posts(first: 0, filter: {{search: \"x{i}\"}}) {{ totalCount }} "))
        .collect();
    let (code, statements) = refused(&app, &format!("{{ {searches} }}")).await;
    assert_eq!(code, "QUERY_TOO_COMPLEX");
    assert_eq!(statements, 0, "SQL ran before the refusal");
    let counts: String = (0..20)
        .map(|i| {
            format!("c{i}: organizations(first: 100) {{ nodes {{ posts(first: 1) {{ totalCount }} }} }} ")
        })
        .collect();
    let (code, _) = refused(&app, &format!("{{ {counts} }}")).await;
    assert_eq!(
        code, "QUERY_TOO_COMPLEX",
        "a hundred counts per list, twenty lists"
    );
}

/// Operation names come from clients and `/metrics` is public: after 10,000 requests with
/// random names (run, refused by a limit, or with a bad token) the operation label takes
/// at most `MAX_OPERATION_LABELS` names plus `anonymous` and `other`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_operation_names_keep_the_metric_series_bounded() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let mut tasks = tokio::task::JoinSet::new();
    for batch in 0..100 {
        let app = app.clone();
        tasks.spawn(async move {
            for i in 0..100 {
                let n = batch * 100 + i;
                let name = format!("Rnd{n}x{}", rand_suffix(n));
                let (query, token) = match n % 3 {
                    0 => (format!("query {name} {{ __typename }}"), None),
                    1 => (
                        format!("query {name} {{ {} }}", "viewer { id } ".repeat(21)),
                        None,
                    ),
                    _ => (format!("query {name} {{ __typename }}"), Some("not-a-token")),
                };
                let mut request = app
                    .client
                    .post(app.url("/graphql"))
                    .json(&json!({ "query": query, "operationName": name }));
                if let Some(token) = token {
                    request = request.bearer_auth(token);
                }
                request.send().await.unwrap();
            }
        });
        if tasks.len() >= 16 {
            tasks.join_next().await.unwrap().unwrap();
        }
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let labels: std::collections::HashSet<&str> = text
        .lines()
        .filter(|l| l.starts_with("blogql_http_requests_total{"))
        .filter_map(|l| l.split("operation=\"").nth(1)?.split('"').next())
        .collect();
    let max = blogql::http::metrics::MAX_OPERATION_LABELS;
    assert!(labels.len() <= max + 2, "{} operation labels", labels.len());
    assert!(labels.contains("other"), "{labels:?}");
    let random = labels.iter().filter(|l| l.starts_with("Rnd")).count();
    assert!(random <= max, "{random} random names became labels");
    assert!(
        labels.iter().filter(|l| l.starts_with("Rnd")).all(|l| {
            let n: usize = l[3..].split('x').next().unwrap().parse().unwrap();
            n.is_multiple_of(3)
        }),
        "a refused request's name became a label"
    );
}

fn rand_suffix(n: usize) -> u64 {
    (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40
}
