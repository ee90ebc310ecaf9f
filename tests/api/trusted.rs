//! Trusted documents: a manifest in Apollo's or Relay's format, `documentId` over POST and
//! GET, APQ hashes of manifest documents, and `BLOGQL_TRUSTED_DOCUMENTS=only` refusing
//! everything else before parsing.
use blogql::{config::Cli, startup::Application};
use clap::Parser;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::TestApp;

const COUNT: &str = "query Count { organizations { totalCount } }";
const CREATE: &str =
    "mutation Create($input: CreateOrganizationInput!) { createOrganization(input: $input) { slug } }";

fn sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn write_manifest(dir: &tempfile::TempDir, manifest: Value) -> String {
    let path = dir.path().join("manifest.json");
    std::fs::write(&path, manifest.to_string()).unwrap();
    path.display().to_string()
}

fn apollo_manifest() -> Value {
    json!({
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [
            { "id": sha256(COUNT), "name": "Count", "type": "query", "body": COUNT },
            { "id": sha256(CREATE), "name": "Create", "type": "mutation", "body": CREATE },
        ]
    })
}

async fn post(app: &TestApp, body: Value, token: Option<&str>) -> (StatusCode, Value) {
    let mut request = app.client.post(app.url("/graphql")).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.json().await.unwrap())
}

async fn get(app: &TestApp, params: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = app
        .client
        .get(app.url("/graphql"))
        .query(params)
        .header("apollo-require-preflight", "true")
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap_or(Value::Null))
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or("")
}

fn apq(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

#[tokio::test]
async fn only_the_manifests_documents_run_however_they_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_manifest(&dir, apollo_manifest());
    let app = TestApp::spawn_with(&["--persisted-documents", &path, "--trusted-documents", "only"]).await;
    let admin = app.platform_token();
    let hash = sha256(COUNT);

    // By id over POST and GET, by `sha256:` id, by APQ hash, and by its exact text.
    let by_id = [
        json!({ "documentId": hash }),
        json!({ "documentId": format!("sha256:{hash}") }),
        json!({ "extensions": apq(&hash) }),
        json!({ "query": COUNT, "extensions": apq(&hash) }),
        json!({ "query": COUNT }),
    ];
    for body in by_id {
        let (status, answer) = post(&app, body.clone(), None).await;
        assert_eq!(status, StatusCode::OK, "{body} → {answer}");
        assert_eq!(
            answer["data"]["organizations"]["totalCount"], 0,
            "{body} → {answer}"
        );
    }
    let (_, answer) = get(&app, &[("documentId", &hash)]).await;
    assert_eq!(answer["data"]["organizations"]["totalCount"], 0, "{answer}");

    // A mutation from the manifest runs over POST, and GET still may not run it.
    let variables = json!({ "input": { "name": "Acme", "slug": "acme" } });
    let (_, answer) = post(
        &app,
        json!({ "documentId": sha256(CREATE), "variables": variables }),
        Some(&admin),
    )
    .await;
    assert_eq!(answer["data"]["createOrganization"]["slug"], "acme", "{answer}");
    let (status, _) = get(&app, &[("documentId", &sha256(CREATE))]).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);

    // Everything else is refused before it is parsed or the caller is looked up.
    let other = "{ organizations { totalCount } }";
    let before = app.statement_count();
    let refused = [
        (json!({ "query": other }), "QUERY_NOT_IN_SAFELIST"),
        (json!({ "query": "{ not graphql (" }), "QUERY_NOT_IN_SAFELIST"),
        (json!({ "query": format!("{COUNT} ") }), "QUERY_NOT_IN_SAFELIST"),
        (
            json!({ "query": other, "extensions": apq(&sha256(other)) }),
            "QUERY_NOT_IN_SAFELIST",
        ),
        // A hash that is not the text's is refused, whatever the text.
        (
            json!({ "query": other, "extensions": apq(&hash) }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "query": COUNT, "extensions": apq(&sha256(other)) }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "extensions": apq(&sha256(other)) }),
            "PERSISTED_QUERY_NOT_IN_LIST",
        ),
        (json!({ "documentId": "nope" }), "PERSISTED_QUERY_NOT_IN_LIST"),
        (
            json!({ "documentId": format!("sha256:{}", sha256(other)) }),
            "PERSISTED_QUERY_NOT_IN_LIST",
        ),
    ];
    for (body, expected) in refused {
        let (_, answer) = post(&app, body.clone(), Some(&admin)).await;
        assert_eq!(code(&answer), expected, "{body} → {answer}");
        assert!(answer.get("data").is_none_or(Value::is_null), "{answer}");
    }
    assert_eq!(
        app.statement_count(),
        before,
        "a refused request touched the database"
    );
    let (_, answer) = get(&app, &[("query", other)]).await;
    assert_eq!(code(&answer), "QUERY_NOT_IN_SAFELIST", "{answer}");
    // The text sent with the APQ hash above was not registered.
    let (_, answer) = post(&app, json!({ "extensions": apq(&sha256(other)) }), None).await;
    assert_eq!(code(&answer), "PERSISTED_QUERY_NOT_IN_LIST", "{answer}");
}

#[tokio::test]
async fn a_relay_manifest_serves_ids_beside_any_other_document() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_manifest(&dir, json!({ "5a1f0c": COUNT }));
    let app = TestApp::spawn_with(&["--persisted-documents", &path]).await;

    let (_, answer) = post(&app, json!({ "documentId": "5a1f0c" }), None).await;
    assert_eq!(answer["data"]["organizations"]["totalCount"], 0, "{answer}");
    let (_, answer) = post(&app, json!({ "query": "{ organizations { totalCount } }" }), None).await;
    assert_eq!(answer["data"]["organizations"]["totalCount"], 0, "{answer}");
    // APQ keeps working for documents outside the manifest.
    let other = "query Other { organizations { totalCount } }";
    let (_, answer) = post(&app, json!({ "extensions": apq(&sha256(other)) }), None).await;
    assert_eq!(code(&answer), "PERSISTED_QUERY_NOT_FOUND", "{answer}");

    let (_, answer) = post(&app, json!({ "documentId": "unknown" }), None).await;
    assert_eq!(code(&answer), "PERSISTED_QUERY_NOT_IN_LIST", "{answer}");
    let (_, answer) = post(&app, json!({ "documentId": "5a1f0c", "query": COUNT }), None).await;
    assert_eq!(code(&answer), "BAD_USER_INPUT", "{answer}");
    let (status, answer) = post(&app, json!({ "documentId": 7 }), None).await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::BAD_REQUEST, "BAD_USER_INPUT"),
        "{answer}"
    );
}

#[tokio::test]
async fn without_a_manifest_a_document_id_is_not_in_the_list() {
    let app = TestApp::spawn().await;
    let (_, answer) = post(&app, json!({ "documentId": sha256(COUNT) }), None).await;
    assert_eq!(code(&answer), "PERSISTED_QUERY_NOT_IN_LIST", "{answer}");
}

async fn start(extra: &[&str]) -> Result<(), String> {
    let mut args = vec![
        "blogql",
        "--database-url",
        "sqlite::memory:",
        "--listen",
        "127.0.0.1:0",
        "--jwt-secret",
        "0123456789abcdef0123456789abcdef",
    ];
    args.extend_from_slice(extra);
    let cli = Cli::try_parse_from(args).map_err(|e| e.to_string())?;
    Application::build(&cli.config)
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn a_missing_or_broken_manifest_stops_the_start_up() {
    let error = start(&["--trusted-documents", "only"]).await.unwrap_err();
    assert!(error.contains("BLOGQL_PERSISTED_DOCUMENTS"), "{error}");
    let dir = tempfile::tempdir().unwrap();
    let broken = write_manifest(&dir, json!({ "a1": "query { organizations {" }));
    let error = start(&["--persisted-documents", &broken]).await.unwrap_err();
    assert!(error.contains("does not parse"), "{error}");
    let error = start(&["--persisted-documents", "/nonexistent/manifest.json"])
        .await
        .unwrap_err();
    assert!(error.contains("BLOGQL_PERSISTED_DOCUMENTS"), "{error}");
    let dir = tempfile::tempdir().unwrap();
    let good = write_manifest(&dir, apollo_manifest());
    start(&["--persisted-documents", &good, "--trusted-documents", "only"])
        .await
        .unwrap();
}
