//! Apollo automatic persisted queries over POST and GET, the hash check, the switch, and
//! the store shared through Redis. (Apollo Client's own link runs against a live server
//! in `.ci/clients/apollo.mjs`.)
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::TestApp;

fn sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn extension(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

async fn post(app: &TestApp, body: Value) -> (StatusCode, Value) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

async fn get_hash(app: &TestApp, hash: &str) -> (StatusCode, Value) {
    let extensions = extension(hash).to_string();
    let response = app
        .client
        .get(app.url("/graphql"))
        .query(&[("extensions", extensions.as_str())])
        .header("apollo-require-preflight", "true")
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or("")
}

#[tokio::test]
async fn a_miss_then_the_query_then_hits_over_post_and_get() {
    let app = TestApp::spawn().await;
    let query = "query Apq { organizations { totalCount } }";
    let hash = sha256(query);
    let (status, body) = post(&app, json!({ "extensions": extension(&hash) })).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::OK, "PERSISTED_QUERY_NOT_FOUND"),
        "{body}"
    );
    let (status, body) = get_hash(&app, &hash).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::OK, "PERSISTED_QUERY_NOT_FOUND"),
        "{body}"
    );

    let (_, body) = post(&app, json!({ "query": query, "extensions": extension(&hash) })).await;
    assert_eq!(body["data"]["organizations"]["totalCount"], 0, "{body}");
    let (_, body) = post(&app, json!({ "extensions": extension(&hash) })).await;
    assert_eq!(body["data"]["organizations"]["totalCount"], 0, "{body}");
    let (status, body) = get_hash(&app, &hash).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["organizations"]["totalCount"], 0, "{body}");
}

#[tokio::test]
async fn a_hash_that_is_not_the_querys_is_refused_and_not_stored() {
    let app = TestApp::spawn().await;
    let wrong = sha256("{ __typename }");
    let body = json!({ "query": "{ organizations { totalCount } }", "extensions": extension(&wrong) });
    let (_, body) = post(&app, body).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert!(body.get("data").is_none_or(Value::is_null), "{body}");
    let (_, body) = post(&app, json!({ "extensions": extension(&wrong) })).await;
    assert_eq!(code(&body), "PERSISTED_QUERY_NOT_FOUND", "{body}");
    // Not a hash at all, or another version.
    let (_, body) = post(&app, json!({ "extensions": extension("abc") })).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    let version = json!({ "persistedQuery": { "version": 2, "sha256Hash": wrong } });
    let (_, body) = post(&app, json!({ "extensions": version })).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
}

#[tokio::test]
async fn a_persisted_mutation_is_not_run_over_get() {
    let app = TestApp::spawn().await;
    let token = app.platform_token();
    let mutation = r#"mutation { createOrganization(input: {name: "Apq", slug: "apq"}) { id } }"#;
    let hash = sha256(mutation);
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&token)
        .json(&json!({ "query": mutation, "extensions": extension(&hash) }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let (status, _) = get_hash(&app, &hash).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn without_a_store_a_hash_alone_is_not_supported() {
    let app = TestApp::spawn_with(&["--apq", "false"]).await;
    let hash = sha256("{ __typename }");
    let (status, body) = post(&app, json!({ "extensions": extension(&hash) })).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::OK, "PERSISTED_QUERY_NOT_SUPPORTED"),
        "{body}"
    );
    // A full query with its hash still runs.
    let (_, body) = post(
        &app,
        json!({ "query": "{ __typename }", "extensions": extension(&hash) }),
    )
    .await;
    assert_eq!(body["data"]["__typename"], "Query", "{body}");
}

/// Two instances sharing Redis: a query registered on one is known to the other.
#[tokio::test]
async fn every_instance_knows_a_hash_registered_on_another() {
    let prefix = format!("blogql-test-{}", uuid::Uuid::new_v4().simple());
    let args = [
        "--redis-url",
        "redis://127.0.0.1:6379",
        "--redis-key-prefix",
        prefix.as_str(),
    ];
    let (a, b) = (TestApp::spawn_with(&args).await, TestApp::spawn_with(&args).await);
    let query = format!("query Shared{} {{ __typename }}", &prefix[12..20]);
    let hash = sha256(&query);
    let (_, body) = post(&b, json!({ "extensions": extension(&hash) })).await;
    assert_eq!(code(&body), "PERSISTED_QUERY_NOT_FOUND", "{body}");
    let (_, body) = post(&a, json!({ "query": query, "extensions": extension(&hash) })).await;
    assert_eq!(body["data"]["__typename"], "Query", "{body}");
    let (_, body) = post(&b, json!({ "extensions": extension(&hash) })).await;
    assert_eq!(body["data"]["__typename"], "Query", "{body}");
}
