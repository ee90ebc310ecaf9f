//! Concurrent requests: a unique value raced for is won once and lost as `CONFLICT`
//! (never `INTERNAL`); concurrent views are all counted.
use std::collections::BTreeSet;

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// Splits racing responses into winners and the `(code, field)` of the losers.
fn outcomes(bodies: &[Value], winner: &str) -> (usize, Vec<(String, String)>) {
    let mut wins = 0;
    let mut losses = Vec::new();
    for body in bodies {
        match body["errors"].as_array() {
            None => {
                assert!(body["data"][winner]["id"].is_string(), "{body:#}");
                wins += 1;
            }
            Some(errors) => {
                assert_eq!(errors.len(), 1, "{body:#}");
                let ext = &errors[0]["extensions"];
                losses.push((
                    ext["code"].as_str().unwrap_or("").to_owned(),
                    ext["field"].as_str().unwrap_or("").to_owned(),
                ));
            }
        }
    }
    (wins, losses)
}

const CREATE_USER: &str = "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_for_one_username_makes_one_user_and_nine_conflicts() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Acme", "acme").await;
    let token = app.platform_token();

    let bodies = join_all((0..10).map(|i| {
        app.gql(
            CREATE_USER,
            json!({ "i": {
                "username": "racer",
                "email": format!("racer{i}@example.com"),
                "organizationId": org.to_string(),
            } }),
            Some(&token),
        )
    }))
    .await;
    let (wins, losses) = outcomes(&bodies, "createUser");
    assert_eq!(wins, 1, "{bodies:#?}");
    assert_eq!(
        losses,
        vec![("CONFLICT".to_owned(), "username".to_owned()); 9],
        "{bodies:#?}"
    );

    let data = app
        .ok(
            r#"query($org: ID!) {
                users(organizationId: $org, includeDeleted: true) { totalCount edges { node { username } } }
                auditLogs(filter: {tableName: "users"}) { totalCount }
            }"#,
            json!({ "org": org.to_string() }),
            Some(&token),
        )
        .await;
    assert_eq!(data["users"]["totalCount"], 1);
    assert_eq!(data["users"]["edges"][0]["node"]["username"], "racer");
    assert_eq!(
        data["auditLogs"]["totalCount"], 1,
        "a losing insert left an audit entry"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_for_one_email_or_slug_conflicts_on_that_field() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Acme", "acme").await;
    let token = app.platform_token();

    let bodies = join_all((0..10).map(|i| {
        app.gql(
            CREATE_USER,
            json!({ "i": {
                "username": format!("user{i}"),
                "email": "shared@example.com",
                "organizationId": org.to_string(),
            } }),
            Some(&token),
        )
    }))
    .await;
    let (wins, losses) = outcomes(&bodies, "createUser");
    assert_eq!(wins, 1, "{bodies:#?}");
    assert_eq!(
        losses,
        vec![("CONFLICT".to_owned(), "email".to_owned()); 9],
        "{bodies:#?}"
    );

    let bodies = join_all((0..10).map(|i| {
        app.gql(
            "mutation($i: CreateOrganizationInput!) { createOrganization(input: $i) { id } }",
            json!({ "i": { "name": format!("Org {i}"), "slug": "contested" } }),
            Some(&token),
        )
    }))
    .await;
    let (wins, losses) = outcomes(&bodies, "createOrganization");
    assert_eq!(wins, 1, "{bodies:#?}");
    assert_eq!(
        losses,
        vec![("CONFLICT".to_owned(), "slug".to_owned()); 9],
        "{bodies:#?}"
    );

    // Renaming two users to one name at once: one wins.
    let a = app.create_user(org, "first", "MEMBER").await;
    let b = app.create_user(org, "second", "MEMBER").await;
    let bodies = join_all([a, b].map(|id| {
        app.gql(
            "mutation($i: UpdateUserInput!) { updateUser(input: $i) { id } }",
            json!({ "i": { "id": id.to_string(), "username": "taken" } }),
            Some(&token),
        )
    }))
    .await;
    let (wins, losses) = outcomes(&bodies, "updateUser");
    assert_eq!(wins, 1, "{bodies:#?}");
    assert_eq!(losses, [("CONFLICT".to_owned(), "username".to_owned())]);

    let counts = app
        .ok(
            r#"{ users(includeDeleted: true) { totalCount } organizations(includeDeleted: true) { totalCount } }"#,
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(counts["users"]["totalCount"], 3);
    assert_eq!(counts["organizations"]["totalCount"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_views_count_fifty() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Acme", "acme").await;
    let author = app.create_user(org, "alice", "MEMBER").await;
    let post = app.create_post(author, "Popular", "PUBLISHED").await;
    let alice = app.user_token(author);
    let view = "mutation($id: ID!) { recordPostView(id: $id) { viewCount } }";
    let read = "query($id: ID!) { post(id: $id) { viewCount } }";
    let vars = json!({ "id": post.to_string() });

    // A first view, so the count does not start at zero.
    app.ok(view, vars.clone(), None).await;
    let start = app.ok(read, vars.clone(), None).await["post"]["viewCount"]
        .as_i64()
        .unwrap();
    assert_eq!(start, 1);

    let bodies = join_all((0..50).map(|i| {
        // Anonymous readers and the author alike.
        let token = (i % 2 == 0).then_some(alice.as_str());
        app.gql(view, vars.clone(), token)
    }))
    .await;
    let mut seen = BTreeSet::new();
    for body in &bodies {
        assert!(body.get("errors").is_none(), "{body:#}");
        seen.insert(body["data"]["recordPostView"]["viewCount"].as_i64().unwrap());
    }
    // Each increment saw its own value: none was lost or doubled.
    assert_eq!(seen, (start + 1..=start + 50).collect::<BTreeSet<_>>());
    let end = app.ok(read, vars, None).await["post"]["viewCount"]
        .as_i64()
        .unwrap();
    assert_eq!(end, start + 50);
}
