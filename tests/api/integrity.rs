//! Integrity under concurrency: exact counters, and soft delete racing restore ends in
//! one consistent state whose audit trail matches the successful calls.
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_views_count_exactly() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Acme", "acme").await;
    let alice = app.create_user(org, "alice", "MEMBER").await;
    let post = app.create_post(alice, "Popular", "PUBLISHED").await;
    let app = std::sync::Arc::new(app);
    let views = (0..200).map(|_| {
        let app = app.clone();
        tokio::spawn(async move {
            app.gql(
                "mutation($id: ID!) { recordPostView(id: $id) { id } }",
                json!({ "id": post.to_string() }),
                None,
            )
            .await
        })
    });
    for view in futures_util::future::join_all(views).await {
        let body = view.unwrap();
        assert!(body.get("errors").is_none(), "{body}");
    }
    let data = app
        .ok(
            "query($id: ID!) { post(id: $id) { viewCount } }",
            json!({ "id": post.to_string() }),
            None,
        )
        .await;
    assert_eq!(data["post"]["viewCount"], 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn soft_delete_racing_restore_ends_consistent_with_its_audit_trail() {
    let app = TestApp::spawn().await;
    let token = app.platform_token();
    let org = app.create_org("Acme", "acme").await;
    let alice = app.create_user(org, "alice", "MEMBER").await;
    let post = app.create_post(alice, "Contested", "PUBLISHED").await;
    let app = std::sync::Arc::new(app);
    let calls = (0..40).map(|i| {
        let (app, token) = (app.clone(), token.clone());
        let mutation = if i % 2 == 0 {
            "softDeletePost"
        } else {
            "restorePost"
        };
        tokio::spawn(async move {
            let query = format!("mutation($id: ID!) {{ {mutation}(input: {{id: $id}}) {{ id }} }}");
            let body = app
                .gql(&query, json!({ "id": post.to_string() }), Some(&token))
                .await;
            (mutation, body)
        })
    });
    let (mut deletes, mut restores) = (0, 0);
    for call in futures_util::future::join_all(calls).await {
        let (mutation, body) = call.unwrap();
        match body["errors"][0]["extensions"]["code"].as_str() {
            None if mutation == "softDeletePost" => deletes += 1,
            None => restores += 1,
            // Deleting a deleted post, restoring a live one: the expected refusals.
            Some("NOT_FOUND") if mutation == "softDeletePost" => {}
            Some("BAD_USER_INPUT") if mutation == "restorePost" => {}
            Some(other) => panic!("{mutation}: unexpected {other}: {body}"),
        }
    }
    assert!(deletes >= 1, "no delete succeeded");
    // Every success alternated the state: the final state follows from the counts.
    assert!(
        deletes == restores || deletes == restores + 1,
        "{deletes} deletes, {restores} restores"
    );
    let state = app
        .ok(
            "{ posts(includeDeleted: true) { edges { node { databaseId deletedAt } } } }",
            json!({}),
            Some(&token),
        )
        .await;
    let deleted = state["posts"]["edges"][0]["node"]["deletedAt"].is_string();
    assert_eq!(deleted, deletes == restores + 1);
    let audit = |action: &'static str| {
        let app = app.clone();
        let token = token.clone();
        async move {
            let data = app
                .ok(
                    "query($a: AuditAction!, $r: Int!) { auditLogs(filter: {tableName: \"posts\", recordId: $r, action: $a}) { totalCount } }",
                    json!({ "a": action, "r": post }),
                    Some(&token),
                )
                .await;
            data["auditLogs"]["totalCount"].as_i64().unwrap()
        }
    };
    assert_eq!(audit("DELETE").await, deletes);
    assert_eq!(audit("RESTORE").await, restores);
}
