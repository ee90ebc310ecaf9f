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

const DELETE_USER: &str = "mutation($id: ID!) { softDeleteUser(input: {id: $id}) { id deletedAt } }";
const RESTORE_USER: &str = "mutation($id: ID!) { restoreUser(input: {id: $id}) { id deletedAt } }";

/// The codes of racing responses, successes as `"OK"`, sorted.
fn codes(bodies: &[Value]) -> Vec<String> {
    let mut codes: Vec<String> = bodies
        .iter()
        .map(|b| match b["errors"][0]["extensions"]["code"].as_str() {
            Some(code) => code.to_owned(),
            None => {
                assert!(b["data"].is_object(), "{b:#}");
                "OK".to_owned()
            }
        })
        .collect();
    codes.sort();
    codes
}

fn expected(winner: &str, losers: &str, n: usize) -> Vec<String> {
    let mut all = vec![losers.to_owned(); n - 1];
    all.push(winner.to_owned());
    all.sort();
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_deletes_and_restores_of_one_row_run_once() {
    let app = TestApp::spawn().await;
    let token = app.platform_token();
    let org = app.create_org("Acme", "acme").await;
    app.create_user(org, "admin", "ADMIN").await;
    for round in 0..3 {
        let user = app.create_user(org, &format!("racer{round}"), "MEMBER").await;
        let posts = [
            app.create_post(user, "one", "PUBLISHED").await,
            app.create_post(user, "two", "DRAFT").await,
        ];
        let id = json!({ "id": user.to_string() });

        let bodies = join_all((0..8).map(|_| app.gql(DELETE_USER, id.clone(), Some(&token)))).await;
        assert_eq!(codes(&bodies), expected("OK", "NOT_FOUND", 8), "{bodies:#?}");
        let bodies = join_all((0..8).map(|_| app.gql(RESTORE_USER, id.clone(), Some(&token)))).await;
        assert_eq!(codes(&bodies), expected("OK", "BAD_USER_INPUT", 8), "{bodies:#?}");

        // The posts the one deletion took are back, and the log has one entry per change.
        let data = app
            .ok(
                r#"query($u: ID!, $p1: ID!, $p2: ID!) {
                    user(id: $u) { deletedAt } p1: post(id: $p1) { id } p2: post(id: $p2) { id }
                    userLog: auditLogs(filter: {tableName: "users", recordId: $u_int}) { totalCount }
                }"#
                .replace("$u_int", &user.to_string())
                .as_str(),
                json!({ "u": user.to_string(), "p1": posts[0].to_string(), "p2": posts[1].to_string() }),
                Some(&token),
            )
            .await;
        assert!(data["user"]["deletedAt"].is_null());
        assert!(data["p1"].is_object(), "a cascaded post was not restored");
        assert!(data["p2"].is_object(), "a cascaded post was not restored");
        assert_eq!(data["userLog"]["totalCount"], 3, "create, delete, restore");
    }

    // An organization, the same way.
    let id = json!({ "id": org.to_string() });
    let bodies = join_all((0..8).map(|_| {
        app.gql(
            "mutation($id: ID!) { softDeleteOrganization(input: {id: $id}) { id } }",
            id.clone(),
            Some(&token),
        )
    }))
    .await;
    assert_eq!(codes(&bodies), expected("OK", "NOT_FOUND", 8), "{bodies:#?}");
    let bodies = join_all((0..8).map(|_| {
        app.gql(
            "mutation($id: ID!) { restoreOrganization(input: {id: $id}) { id } }",
            id.clone(),
            Some(&token),
        )
    }))
    .await;
    assert_eq!(codes(&bodies), expected("OK", "BAD_USER_INPUT", 8), "{bodies:#?}");
    let data = app
        .ok(
            r#"query($org: ID!) { users(organizationId: $org) { totalCount } posts(organizationId: $org) { totalCount } }"#,
            json!({ "org": org.to_string() }),
            Some(&token),
        )
        .await;
    assert_eq!(data["users"]["totalCount"], 4);
    assert_eq!(data["posts"]["totalCount"], 6);
}

const UPDATE_POST: &str = "mutation($i: UpdatePostInput!) { updatePost(input: $i) { id } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_updates_of_different_fields_all_persist() {
    let app = TestApp::spawn().await;
    let token = app.platform_token();
    let org = app.create_org("Acme", "acme").await;
    let author = app.create_user(org, "alice", "ADMIN").await;
    for round in 0..5 {
        let post = app.create_post(author, "draft", "DRAFT").await;
        let changes = [
            json!({ "title": format!("title {round}") }),
            json!({ "content": format!("content {round}") }),
            json!({ "status": "PUBLISHED" }),
        ];
        let bodies = join_all(changes.into_iter().map(|mut change| {
            change["id"] = json!(post.to_string());
            app.gql(UPDATE_POST, json!({ "i": change }), Some(&token))
        }))
        .await;
        assert_eq!(codes(&bodies), ["OK", "OK", "OK"], "{bodies:#?}");
        let data = app
            .ok(
                "query($id: ID!) { post(id: $id) { title content status } }",
                json!({ "id": post.to_string() }),
                Some(&token),
            )
            .await;
        assert_eq!(
            data["post"],
            json!({ "title": format!("title {round}"), "content": format!("content {round}"), "status": "PUBLISHED" }),
            "an update was lost"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn views_counted_during_updates_are_kept() {
    let app = TestApp::spawn().await;
    let token = app.platform_token();
    let org = app.create_org("Acme", "acme").await;
    let author = app.create_user(org, "alice", "ADMIN").await;
    let post = app.create_post(author, "Popular", "PUBLISHED").await;
    let view = "mutation($id: ID!) { recordPostView(id: $id) { viewCount } }";

    let views = join_all((0..40).map(|_| app.gql(view, json!({ "id": post.to_string() }), None)));
    let updates = join_all((0..10).map(|i| {
        app.gql(
            UPDATE_POST,
            json!({ "i": { "id": post.to_string(), "title": format!("Popular {i}") } }),
            Some(&token),
        )
    }));
    let (views, updates) = tokio::join!(views, updates);
    assert_eq!(codes(&views), vec!["OK"; 40]);
    assert_eq!(codes(&updates), vec!["OK"; 10]);
    let data = app
        .ok(
            "query($id: ID!) { post(id: $id) { viewCount } }",
            json!({ "id": post.to_string() }),
            None,
        )
        .await;
    assert_eq!(data["post"]["viewCount"], 40, "an update overwrote counted views");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_update_racing_a_delete_never_undeletes() {
    let app = TestApp::spawn().await;
    let token = app.platform_token();
    let org = app.create_org("Acme", "acme").await;
    let author = app.create_user(org, "alice", "ADMIN").await;
    for round in 0..10 {
        let post = app.create_post(author, "doomed", "DRAFT").await;
        let id = post.to_string();
        let delete = app.gql(
            "mutation($id: ID!) { softDeletePost(input: {id: $id}) { id } }",
            json!({ "id": id }),
            Some(&token),
        );
        let updates = join_all((0..3).map(|i| {
            app.gql(
                UPDATE_POST,
                json!({ "i": { "id": id, "title": format!("edit {round}.{i}") } }),
                Some(&token),
            )
        }));
        let (deleted, updated) = tokio::join!(delete, updates);
        assert_eq!(codes(&[deleted]), ["OK"]);
        for body in &updated {
            // Before the delete it succeeds; after it, the post is not found.
            let code = &body["errors"][0]["extensions"]["code"];
            assert!(code.is_null() || code == "NOT_FOUND", "{body:#}");
        }
        let data = app
            .ok(
                "query($id: ID!) { post(id: $id) { id } }",
                json!({ "id": id }),
                Some(&token),
            )
            .await;
        assert!(
            data["post"].is_null(),
            "round {round}: an update brought a deleted post back"
        );
    }
}

/// SQLite writers are served in arrival order: with the write lock held elsewhere, eight
/// `createPost` requests started one after another commit in the order they started
/// (in SQLite's busy handler, retrying at growing intervals, order meant nothing).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn queued_sqlite_writers_commit_in_the_order_they_started() {
    use sea_orm::{ConnectionTrait, Database};

    let app = std::sync::Arc::new(TestApp::spawn().await);
    if app.backend != crate::helpers::Backend::Sqlite {
        return;
    }
    let org = app.create_org("Acme", "acme").await;
    let author = app.create_user(org, "alice", "MEMBER").await;
    let token = app.platform_token();
    // Another process's write transaction holds SQLite's lock.
    let holder = Database::connect(&app.database_url).await.unwrap();
    holder.execute_unprepared("BEGIN IMMEDIATE").await.unwrap();
    let mut writers = Vec::new();
    for i in 0..8 {
        let (app, token) = (app.clone(), token.clone());
        writers.push(tokio::spawn(async move {
            app.ok(
                "mutation($i: CreatePostInput!) { createPost(input: $i) { databaseId } }",
                json!({ "i": { "title": format!("w{i}"), "authorId": author.to_string() } }),
                Some(&token),
            )
            .await
        }));
        // Each writer has reached the queue before the next starts (this orders the
        // starts; nothing is measured).
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    holder.execute_unprepared("COMMIT").await.unwrap();
    let mut ids = Vec::new();
    for writer in writers {
        ids.push(
            writer.await.unwrap()["createPost"]["databaseId"]
                .as_i64()
                .unwrap(),
        );
    }
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "the writers committed out of their arrival order");
}

/// Ten posts with one title created at once, by ten authors: every one gets its own
/// derived slug (a derived slug is never `CONFLICT`; the unique index turns the race into
/// a retry with the next free one).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_posts_with_one_title_get_distinct_slugs() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Acme", "acme").await;
    let mut authors = Vec::new();
    for i in 0..10 {
        authors.push(app.create_user(org, &format!("author{i}"), "MEMBER").await);
    }
    let tokens: Vec<String> = authors.iter().map(|a| app.user_token(*a)).collect();
    let bodies = join_all(authors.iter().zip(&tokens).map(|(author, token)| {
        app.gql(
            "mutation($i: CreatePostInput!) { createPost(input: $i) { slug } }",
            json!({ "i": { "title": "Same title", "authorId": author.to_string() } }),
            Some(token),
        )
    }))
    .await;
    let slugs: BTreeSet<String> = bodies
        .iter()
        .map(|b| {
            assert!(b["errors"].is_null(), "{b}");
            b["data"]["createPost"]["slug"].as_str().unwrap().to_owned()
        })
        .collect();
    let expected: BTreeSet<String> = std::iter::once("same-title".to_owned())
        .chain((2..=10).map(|n| format!("same-title-{n}")))
        .collect();
    assert_eq!(slugs, expected);
}

/// Tags raced for one name (ignoring case) or one slug: one wins, the others are
/// `CONFLICT` on that field (a derived slug retries; the name is what collides).
#[tokio::test]
async fn racing_for_one_tag_name_or_slug_conflicts_on_that_field() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Acme", "acme").await;
    let token = app.platform_token();
    let create = "mutation($i: CreateTagInput!) { createTag(input: $i) { id } }";
    let bodies = join_all((0..8).map(|i| {
        let name = if i % 2 == 0 { "Rust" } else { "RUST" };
        app.gql(
            create,
            json!({ "i": { "name": name, "organizationId": org.to_string() } }),
            Some(&token),
        )
    }))
    .await;
    let (wins, losses) = outcomes(&bodies, "createTag");
    assert_eq!(wins, 1, "{bodies:#?}");
    assert_eq!(
        losses,
        vec![("CONFLICT".to_owned(), "name".to_owned()); 7],
        "{bodies:#?}"
    );

    let bodies = join_all((0..8).map(|i| {
        app.gql(
            create,
            json!({ "i": { "name": format!("Tag {i}"), "slug": "contested", "organizationId": org.to_string() } }),
            Some(&token),
        )
    }))
    .await;
    let (wins, losses) = outcomes(&bodies, "createTag");
    assert_eq!(wins, 1, "{bodies:#?}");
    assert_eq!(
        losses,
        vec![("CONFLICT".to_owned(), "slug".to_owned()); 7],
        "{bodies:#?}"
    );

    // Derived slugs of distinct names racing for one base all succeed.
    let bodies = join_all((0..6).map(|i| {
        app.gql(
            create,
            json!({ "i": { "name": format!("Go{}", "!".repeat(i)), "organizationId": org.to_string() } }),
            Some(&token),
        )
    }))
    .await;
    let (wins, losses) = outcomes(&bodies, "createTag");
    assert_eq!((wins, losses.len()), (6, 0), "{bodies:#?}");
}
