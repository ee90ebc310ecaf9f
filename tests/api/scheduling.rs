//! Scheduled publishing: `SCHEDULED` needs a future `publishAt`; every instance's scheduler
//! publishes each due post exactly once (one audited update by `system:scheduler`), with
//! several instances racing, after a restart that missed the moment, and never after the
//! post was unscheduled. The waits below order events on the real clock; nothing asserts
//! on time.
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::TestApp;

/// A scheduler whose first run is an hour away: an instance that misses every due time.
const IDLE: &[&str] = &["--scheduler-interval-ms", "3600000"];
const BUSY: &[&str] = &["--scheduler-interval-ms", "100"];

const CREATE: &str =
    "mutation($i: CreatePostInput!) { createPost(input: $i) { databaseId status publishAt } }";

fn in_ms(ms: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::milliseconds(ms)).to_rfc3339()
}

async fn scheduled(app: &TestApp, author: i64, title: &str, publish_at: &str) -> i64 {
    let input = json!({ "title": title, "authorId": author.to_string(), "status": "SCHEDULED", "publishAt": publish_at });
    let data = app
        .ok(CREATE, json!({ "i": input }), Some(&app.platform_token()))
        .await;
    assert_eq!(data["createPost"]["status"], "SCHEDULED");
    data["createPost"]["databaseId"].as_i64().unwrap()
}

async fn post(app: &TestApp, id: i64) -> Value {
    app.ok(
        "query($id: ID!) { post(id: $id) { status publishedAt publishAt } }",
        json!({ "id": id.to_string() }),
        Some(&app.platform_token()),
    )
    .await["post"]
        .clone()
}

/// The scheduler's audit entries about post `id`.
async fn scheduler_entries(app: &TestApp, id: i64) -> Vec<Value> {
    let data = app
        .ok(
            "query($r: Int!) { auditLogs(filter: {tableName: \"posts\", recordId: $r, action: UPDATE}) { nodes { actorSubject oldValues newValues } } }",
            json!({ "r": id }),
            Some(&app.platform_token()),
        )
        .await;
    data["auditLogs"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actorSubject"] == "system:scheduler")
        .cloned()
        .collect()
}

/// Waits (up to 20 s) until every post in `ids` is PUBLISHED.
async fn until_published(app: &TestApp, ids: &[i64]) {
    for _ in 0..200 {
        let mut all = true;
        for id in ids {
            all &= post(app, *id).await["status"] == "PUBLISHED";
        }
        if all {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("not every post was published");
}

#[tokio::test]
async fn scheduled_needs_a_future_publish_at_and_stays_in_the_organization() {
    let app = TestApp::spawn_with(IDLE).await;
    let org = app.create_org("Acme", "acme").await;
    let alice = app.create_user(org, "alice", "MEMBER").await;
    let token = app.platform_token();
    let cases = [
        json!({ "title": "T", "authorId": alice.to_string(), "status": "SCHEDULED" }),
        json!({ "title": "T", "authorId": alice.to_string(), "status": "SCHEDULED", "publishAt": in_ms(-1000) }),
        json!({ "title": "T", "authorId": alice.to_string(), "publishAt": in_ms(60_000) }),
        json!({ "title": "T", "authorId": alice.to_string(), "status": "PUBLISHED", "publishAt": in_ms(60_000) }),
    ];
    for input in cases {
        let body = app.gql(CREATE, json!({ "i": input }), Some(&token)).await;
        let ext = &body["errors"][0]["extensions"];
        assert_eq!(
            (ext["code"].as_str(), ext["field"].as_str()),
            (Some("BAD_USER_INPUT"), Some("publishAt")),
            "{input}: {body}"
        );
    }
    let id = scheduled(&app, alice, "Tomorrow", &in_ms(3_600_000)).await;
    let anonymous = app
        .ok(
            "query($id: ID!) { post(id: $id) { title } }",
            json!({ "id": id.to_string() }),
            None,
        )
        .await;
    assert!(anonymous["post"].is_null(), "{anonymous}");
    let member = app
        .ok(
            "query($id: ID!) { post(id: $id) { title publishAt } }",
            json!({ "id": id.to_string() }),
            Some(&app.user_token(alice)),
        )
        .await;
    assert!(member["post"]["publishAt"].is_string(), "{member}");
    // Rescheduling to the past is refused too.
    let body = app
        .gql(
            "mutation($i: UpdatePostInput!) { updatePost(input: $i) { id } }",
            json!({ "i": { "id": id.to_string(), "publishAt": in_ms(-5000) } }),
            Some(&token),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "publishAt", "{body}");
}

#[tokio::test]
async fn a_due_post_is_published_once_by_the_scheduler() {
    let app = TestApp::spawn_with(BUSY).await;
    let org = app.create_org("Acme", "acme").await;
    let alice = app.create_user(org, "alice", "MEMBER").await;
    let at = in_ms(800);
    let id = scheduled(&app, alice, "Soon", &at).await;
    until_published(&app, &[id]).await;
    let published = post(&app, id).await;
    assert!(published["publishAt"].is_null(), "{published}");
    let published_at =
        chrono::DateTime::parse_from_rfc3339(published["publishedAt"].as_str().unwrap()).unwrap();
    assert!(
        published_at >= chrono::DateTime::parse_from_rfc3339(&at).unwrap(),
        "published before its time"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let entries = scheduler_entries(&app, id).await;
    assert_eq!(entries.len(), 1, "{entries:#?}");
    assert_eq!(entries[0]["oldValues"]["status"], "scheduled");
    assert_eq!(entries[0]["newValues"]["status"], "published");
    // Anonymous readers see it now.
    let anonymous = app
        .ok(
            "query($id: ID!) { post(id: $id) { title } }",
            json!({ "id": id.to_string() }),
            None,
        )
        .await;
    assert_eq!(anonymous["post"]["title"], "Soon");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_publish_each_due_post_exactly_once() {
    let a = TestApp::spawn_with(BUSY).await;
    let b = TestApp::spawn_sharing(&a, BUSY).await;
    let org = a.create_org("Acme", "acme").await;
    let alice = a.create_user(org, "alice", "MEMBER").await;
    let at = in_ms(1500);
    let mut ids = Vec::new();
    for i in 0..30 {
        ids.push(scheduled(if i % 2 == 0 { &a } else { &b }, alice, &format!("p{i}"), &at).await);
    }
    until_published(&a, &ids).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    for id in ids {
        assert_eq!(scheduler_entries(&b, id).await.len(), 1, "post {id}");
    }
}

#[tokio::test]
async fn a_restart_across_the_due_time_publishes_late_once() {
    let first = TestApp::spawn_with(IDLE).await;
    let org = first.create_org("Acme", "acme").await;
    let alice = first.create_user(org, "alice", "MEMBER").await;
    let id = scheduled(&first, alice, "Missed", &in_ms(500)).await;
    // No scheduler runs past the due time (the first instance's next run is an hour away).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(post(&first, id).await["status"], "SCHEDULED");
    // The instance that starts next publishes it, late, once.
    let restarted = TestApp::spawn_sharing(&first, BUSY).await;
    until_published(&restarted, &[id]).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(scheduler_entries(&restarted, id).await.len(), 1);
}

#[tokio::test]
async fn a_post_unscheduled_before_its_time_stays_unpublished() {
    let app = TestApp::spawn_with(BUSY).await;
    let org = app.create_org("Acme", "acme").await;
    let alice = app.create_user(org, "alice", "MEMBER").await;
    let id = scheduled(&app, alice, "Maybe", &in_ms(1000)).await;
    let data = app
        .ok(
            "mutation($i: UpdatePostInput!) { updatePost(input: $i) { status publishAt } }",
            json!({ "i": { "id": id.to_string(), "status": "DRAFT" } }),
            Some(&app.platform_token()),
        )
        .await;
    assert_eq!(
        data["updatePost"],
        json!({ "status": "DRAFT", "publishAt": null })
    );
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let after = post(&app, id).await;
    assert_eq!(after["status"], "DRAFT");
    assert!(after["publishedAt"].is_null());
    assert!(scheduler_entries(&app, id).await.is_empty());
}
