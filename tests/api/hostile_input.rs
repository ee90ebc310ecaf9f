//! Property tests: hostile mutation inputs — any unicode, NUL bytes, very long strings,
//! SQL-looking text, integers at and beyond 32/64-bit limits, lone surrogates — get a
//! typed error or a correct write, never `INTERNAL` or a 5xx.
use proptest::{
    prelude::*,
    test_runner::{Config, TestCaseError, TestRunner},
};
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// Codes a user mistake may get; `INTERNAL` is never one.
const USER_ERRORS: [&str; 4] = ["BAD_USER_INPUT", "CONFLICT", "NOT_FOUND", "FORBIDDEN"];

fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "\\PC{0,300}",
        "[a-zA-Z0-9 ]{0,20}\u{0}[a-z]{0,5}",
        "[a-z]{190,260}",
        "[a-z ]{2000,5000}",
        Just("'; DROP TABLE posts; --".to_owned()),
        Just("Robert'); DELETE FROM users WHERE ('1'='1".to_owned()),
        Just("%_\\' OR 1=1 --".to_owned()),
        Just("   ".to_owned()),
        Just("\u{202e}\u{feff}\u{200b}🦀 ℌ𝔢𝔩𝔩𝔬".to_owned()),
    ]
}

fn check(body: &Value, status: u16) -> Result<(), TestCaseError> {
    prop_assert!(status < 500, "status {status}: {body}");
    if let Some(errors) = body["errors"].as_array() {
        for error in errors {
            let code = error["extensions"]["code"].as_str().unwrap_or("");
            prop_assert!(USER_ERRORS.contains(&code), "code {code:?}: {body}");
        }
    }
    Ok(())
}

async fn post_raw(app: &TestApp, body: String, token: &str) -> (u16, Value) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[test]
fn hostile_mutation_inputs_never_cause_internal_errors() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (app, author, post) = runtime.block_on(async {
        let app = TestApp::spawn().await;
        let org = app.create_org("Acme", "acme").await;
        let author = app.create_user(org, "alice", "ADMIN").await;
        let post = app.create_post(author, "Seed", "PUBLISHED").await;
        (app, author, post)
    });
    let token = app.platform_token();
    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (hostile_string(), hostile_string(), hostile_string(), any::<i64>());
    let result = runner.run(&strategy, |(title, name, email, number)| {
        runtime.block_on(async {
            // A post: a correct write stores the trimmed title.
            let body = app
                .gql(
                    "mutation($i: CreatePostInput!) { createPost(input: $i) { title content } }",
                    json!({ "i": { "title": title, "content": name, "authorId": author.to_string() } }),
                    Some(&token),
                )
                .await;
            check(&body, 200)?;
            if body["errors"].is_null() {
                prop_assert_eq!(body["data"]["createPost"]["title"].as_str(), Some(title.trim()));
                prop_assert_eq!(body["data"]["createPost"]["content"].as_str(), Some(name.as_str()));
            }
            // A user and an organization from the same strings.
            let body = app
                .gql(
                    "mutation($i: CreateUserInput!) { createUser(input: $i) { username email fullName } }",
                    json!({ "i": { "username": name, "email": email, "fullName": title, "organizationId": "1" } }),
                    Some(&token),
                )
                .await;
            check(&body, 200)?;
            let body = app
                .gql(
                    "mutation($i: CreateOrganizationInput!) { createOrganization(input: $i) { name } }",
                    json!({ "i": { "name": title, "slug": name } }),
                    Some(&token),
                )
                .await;
            check(&body, 200)?;
            // Reads with the strings as filters, ids and cursors.
            let body = app
                .gql(
                    "query($s: String, $c: String, $id: ID!) { posts(filter: {search: $s}, after: $c) { totalCount } post(id: $id) { id } }",
                    json!({ "s": title, "c": email, "id": name }),
                    Some(&token),
                )
                .await;
            check(&body, 200)?;
            // Integers at and beyond the 32-bit limit where an Int is expected.
            let (status, body) = post_raw(
                &app,
                format!(r#"{{"query": "query($n: Int) {{ posts(first: $n) {{ totalCount }} }}", "variables": {{"n": {number}}}}}"#),
                &token,
            )
            .await;
            check(&body, status)?;
            let (status, body) = post_raw(
                &app,
                format!(r#"{{"query": "{{ posts(first: {number}) {{ totalCount }} }}"}}"#),
                &token,
            )
            .await;
            check(&body, status)?;
            Ok(())
        })
    });
    result.unwrap();

    // Edge integers and lone surrogates, sent as raw JSON.
    runtime.block_on(async {
        for n in ["2147483647", "2147483648", "-2147483649", "9223372036854775807", "9223372036854775808", "1e400"] {
            let (status, body) = post_raw(
                &app,
                format!(r#"{{"query": "mutation {{ recordPostView(id: \"{post}\") {{ viewCount }} }} ", "x": {n}}}"#),
                &token,
            )
            .await;
            check(&body, status).unwrap();
            let (status, body) =
                post_raw(&app, format!(r#"{{"query": "{{ posts(first: {n}) {{ totalCount }} }}"}}"#), &token).await;
            check(&body, status).unwrap();
            assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{n}: {body}");
        }
        for surrogate in [r"\ud800", r"\udfff", r"a\ud83dz"] {
            let raw = format!(
                r#"{{"query": "mutation($i: CreatePostInput!) {{ createPost(input: $i) {{ title }} }}", "variables": {{"i": {{"title": "{surrogate}", "authorId": "{author}"}}}}}}"#
            );
            let (status, body) = post_raw(&app, raw, &token).await;
            check(&body, status).unwrap();
        }
    });
    runtime.block_on(async move { drop(app) });
}
