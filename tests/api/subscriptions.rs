//! `Subscription.postEvents` over `graphql-transport-ws`, with a real WebSocket client:
//! what each caller receives, resume with `after:`, events that follow commits only, two
//! instances on one PostgreSQL (and the listener's connection killed mid-stream),
//! authentication and the connection limits, and the slow-subscriber bound.
use serde_json::{Value, json};

use crate::{
    helpers::{Backend, TestApp, global_id},
    ws_client::Ws,
};

const EVENTS: &str = "subscription($org: ID, $after: String) { postEvents(organizationId: $org, after: $after) { cursor kind postId post { title status } } }";

struct Tenants {
    org_a: i64,
    alice: i64,
    bob: i64,
}

async fn tenants(app: &TestApp) -> Tenants {
    let org_a = app.create_org("Org A", "org-a").await;
    let org_b = app.create_org("Org B", "org-b").await;
    let alice = app.create_user(org_a, "alice", "ADMIN").await;
    let bob = app.create_user(org_b, "bob", "ADMIN").await;
    Tenants { org_a, alice, bob }
}

async fn set_status(app: &TestApp, id: i64, status: &str) {
    app.ok(
        "mutation($i: UpdatePostInput!) { updatePost(input: $i) { id } }",
        json!({ "i": { "id": id.to_string(), "status": status } }),
        Some(&app.platform_token()),
    )
    .await;
}

/// Publishes marker posts by `author` until `ws` receives one's `PUBLISHED` event of
/// `id` (a subscription starts a moment after its `subscribe` message): the subscription
/// is then live, and everything before is consumed. Returns the marker's title.
async fn sync(app: &TestApp, ws: &mut Ws, id: &str, author: i64, marker: &str) -> String {
    for attempt in 0..20 {
        let title = format!("{marker} {attempt}");
        app.create_post(author, &title, "PUBLISHED").await;
        while let Some(event) = ws.event_within(id, std::time::Duration::from_secs(1)).await {
            if event["kind"] == "PUBLISHED" && event["post"]["title"] == title.as_str() {
                return title;
            }
        }
    }
    panic!("subscription {id} never went live");
}

/// Reads `ws`'s events of `id` up to the `PUBLISHED` event of the post titled `title`.
async fn drain(ws: &mut Ws, id: &str, title: &str) {
    loop {
        let event = ws.event(id).await;
        if event["kind"] == "PUBLISHED" && event["post"]["title"] == title {
            return;
        }
    }
}

fn kinds_and_titles(events: &[Value]) -> Vec<(String, Value)> {
    events
        .iter()
        .map(|e| (e["kind"].as_str().unwrap().to_owned(), e["post"]["title"].clone()))
        .collect()
}

#[tokio::test]
async fn each_caller_receives_what_it_may_read_when_it_is_delivered() {
    let app = TestApp::spawn().await;
    let t = tenants(&app).await;
    let org_a = t.org_a.to_string();
    let mut member_a = Ws::connect(&app, Some(&app.user_token(t.alice))).await;
    let mut member_b = Ws::connect(&app, Some(&app.user_token(t.bob))).await;
    let mut anonymous = Ws::connect(&app, None).await;
    member_a.subscribe("a", EVENTS, json!({})).await;
    member_b.subscribe("b", EVENTS, json!({})).await;
    anonymous.subscribe("p", EVENTS, json!({ "org": org_a })).await;
    sync(&app, &mut member_a, "a", t.alice, "sync a").await;
    let marker = sync(&app, &mut anonymous, "p", t.alice, "sync p").await;
    sync(&app, &mut member_b, "b", t.bob, "sync b").await;
    // The public marker reached member A too.
    drain(&mut member_a, "a", &marker).await;

    // A draft, then published: the organization sees both, the public only the second.
    let draft = app.create_post(t.alice, "Hello", "DRAFT").await;
    set_status(&app, draft, "PUBLISHED").await;
    let seen = vec![member_a.event("a").await, member_a.event("a").await];
    assert_eq!(
        kinds_and_titles(&seen),
        vec![
            ("CREATED".into(), json!("Hello")),
            ("PUBLISHED".into(), json!("Hello"))
        ]
    );
    assert_eq!(seen[0]["postId"], global_id("Post", draft));
    let public = anonymous.event("p").await;
    assert_eq!(
        (public["kind"].as_str(), public["post"]["title"].as_str()),
        (Some("PUBLISHED"), Some("Hello"))
    );

    // Unpublished and deleted: the public hears of it, without the post.
    set_status(&app, draft, "DRAFT").await;
    let e = anonymous.event("p").await;
    assert_eq!(
        (e["kind"].as_str(), e["post"].clone()),
        (Some("UNPUBLISHED"), Value::Null)
    );
    assert_eq!(member_a.event("a").await["kind"], "UNPUBLISHED");
    // Changes to a draft are none of the public's business.
    app.ok(
        "mutation($i: UpdatePostInput!) { updatePost(input: $i) { id } }",
        json!({ "i": { "id": draft.to_string(), "title": "Hello again" } }),
        Some(&app.platform_token()),
    )
    .await;
    assert_eq!(member_a.event("a").await["kind"], "UPDATED");
    set_status(&app, draft, "PUBLISHED").await;
    assert_eq!(
        anonymous.event("p").await["kind"],
        "PUBLISHED",
        "not the draft's UPDATED"
    );
    app.ok(
        "mutation($i: SoftDeletePostInput!) { softDeletePost(input: $i) { id } }",
        json!({ "i": { "id": draft.to_string() } }),
        Some(&app.platform_token()),
    )
    .await;
    let e = anonymous.event("p").await;
    assert_eq!(
        (e["kind"].as_str(), e["post"].clone()),
        (Some("DELETED"), Value::Null)
    );
    assert_eq!(member_a.event("a").await["kind"], "PUBLISHED");
    let e = member_a.event("a").await;
    assert_eq!(
        (e["kind"].as_str(), e["post"].clone()),
        (Some("DELETED"), Value::Null)
    );

    // Organization B heard nothing of all this: its next event is its own.
    app.create_post(t.bob, "B's own", "DRAFT").await;
    let e = member_b.event("b").await;
    assert_eq!(
        (e["kind"].as_str(), e["post"]["title"].as_str()),
        (Some("CREATED"), Some("B's own"))
    );
}

#[tokio::test]
async fn organization_b_receives_nothing_of_organization_a() {
    let app = TestApp::spawn().await;
    let t = tenants(&app).await;
    let mut member_b = Ws::connect(&app, Some(&app.user_token(t.bob))).await;
    member_b.subscribe("b", EVENTS, json!({})).await;
    sync(&app, &mut member_b, "b", t.bob, "sync b").await;
    let post = app.create_post(t.alice, "Secret", "PUBLISHED").await;
    set_status(&app, post, "DRAFT").await;
    app.create_post(t.bob, "Mine", "DRAFT").await;
    let e = member_b.event("b").await;
    assert_eq!(
        (e["kind"].as_str(), e["post"]["title"].as_str()),
        (Some("CREATED"), Some("Mine"))
    );
    // A member may not follow another organization: it reads like a missing one.
    member_b
        .subscribe("x", EVENTS, json!({ "org": t.org_a.to_string() }))
        .await;
    let payload = member_b.next_of("x").await;
    assert_eq!(
        payload["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{payload:#}"
    );
}

#[tokio::test]
async fn a_rolled_back_change_emits_nothing() {
    let app = TestApp::spawn().await;
    let t = tenants(&app).await;
    let mut ws = Ws::connect(&app, Some(&app.user_token(t.alice))).await;
    ws.subscribe("a", EVENTS, json!({})).await;
    sync(&app, &mut ws, "a", t.alice, "sync").await;
    let post = app.create_post(t.alice, "First", "DRAFT").await;
    assert_eq!(ws.event("a").await["kind"], "CREATED");
    // The slug is taken: the update fails after reading the post, and rolls back.
    app.create_post(t.alice, "Taken", "DRAFT").await;
    assert_eq!(ws.event("a").await["post"]["title"], "Taken");
    let (code, _) = app
        .err(
            "mutation($i: UpdatePostInput!) { updatePost(input: $i) { id } }",
            json!({ "i": { "id": post.to_string(), "slug": "taken", "title": "Renamed" } }),
            Some(&app.platform_token()),
        )
        .await;
    assert_eq!(code, "CONFLICT");
    app.create_post(t.alice, "After", "DRAFT").await;
    let e = ws.event("a").await;
    assert_eq!(
        (e["kind"].as_str(), e["post"]["title"].as_str()),
        (Some("CREATED"), Some("After"))
    );
}

#[tokio::test]
async fn resume_after_a_cursor_replays_then_goes_live_without_gap_or_duplicate() {
    let app = TestApp::spawn().await;
    let t = tenants(&app).await;
    let token = app.user_token(t.alice);
    let mut ws = Ws::connect(&app, Some(&token)).await;
    ws.subscribe("a", EVENTS, json!({})).await;
    sync(&app, &mut ws, "a", t.alice, "sync").await;
    app.create_post(t.alice, "One", "DRAFT").await;
    let one = ws.event("a").await;
    assert_eq!(one["post"]["title"], "One");
    drop(ws);
    // Missed while disconnected.
    app.create_post(t.alice, "Two", "DRAFT").await;
    app.create_post(t.alice, "Three", "DRAFT").await;
    let mut ws = Ws::connect(&app, Some(&token)).await;
    ws.subscribe("a", EVENTS, json!({ "after": one["cursor"] })).await;
    let replayed = vec![ws.event("a").await, ws.event("a").await];
    assert_eq!(
        kinds_and_titles(&replayed),
        vec![
            ("CREATED".into(), json!("Two")),
            ("CREATED".into(), json!("Three"))
        ]
    );
    app.create_post(t.alice, "Four", "DRAFT").await;
    let live = ws.event("a").await;
    assert_eq!(
        live["post"]["title"], "Four",
        "live after the replay, nothing twice"
    );

    // Another organization's cursor, or one that never existed, is refused.
    let mut other = Ws::connect(&app, Some(&app.user_token(t.bob))).await;
    other
        .subscribe("b", EVENTS, json!({ "after": one["cursor"] }))
        .await;
    let payload = other.next_of("b").await;
    assert_eq!(
        payload["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{payload:#}"
    );
    other.subscribe("c", EVENTS, json!({ "after": "bm9wZQ" })).await;
    let payload = other.next_of("c").await;
    assert_eq!(
        payload["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{payload:#}"
    );
}

#[tokio::test]
async fn anonymous_subscribers_name_an_organization_and_bad_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let t = tenants(&app).await;
    let mut anonymous = Ws::connect(&app, None).await;
    anonymous.subscribe("p", EVENTS, json!({})).await;
    let payload = anonymous.next_of("p").await;
    assert_eq!(
        payload["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{payload:#}"
    );
    assert_eq!(payload["errors"][0]["extensions"]["field"], "organizationId");

    let mut bad = Ws::open(&app).await;
    bad.init(Some("not-a-token")).await;
    assert_eq!(bad.closed().await.0, 4403, "a bad token is never anonymous");

    let mut expired = Ws::open(&app).await;
    let token = blogql::auth::jwt::mint(
        crate::helpers::SECRET,
        &blogql::auth::jwt::Subject::User(t.alice as i32),
        chrono::Duration::seconds(2),
        None,
        None,
    )
    .unwrap();
    expired.init(Some(&token)).await;
    assert_eq!(expired.message().await["type"], "connection_ack");
    // The token expires while connected: the connection ends.
    let (code, reason) = expired.closed().await;
    assert_eq!(code, 4403, "{reason}");
}

#[tokio::test]
async fn connection_limits_hold() {
    let app = TestApp::spawn_with(&[
        "--ws-max-subscriptions",
        "2",
        "--ws-max-connections",
        "2",
        "--ws-init-timeout-secs",
        "1",
    ])
    .await;
    let t = tenants(&app).await;
    let token = app.user_token(t.alice);
    let mut ws = Ws::connect(&app, Some(&token)).await;
    ws.subscribe("1", EVENTS, json!({})).await;
    ws.subscribe("2", EVENTS, json!({})).await;
    ws.subscribe("3", EVENTS, json!({})).await;
    let refused = ws.message().await;
    assert_eq!(
        (refused["type"].as_str(), refused["id"].as_str()),
        (Some("error"), Some("3"))
    );
    assert_eq!(refused["payload"][0]["extensions"]["code"], "RATE_LIMITED");
    // An id in use is a protocol error.
    ws.subscribe("1", EVENTS, json!({})).await;
    assert_eq!(ws.closed().await.0, 4409);

    // Counted per caller (another user here: the closed connection above was alice's).
    let other = app.user_token(t.bob);
    let _first = Ws::connect(&app, Some(&other)).await;
    let _second = Ws::connect(&app, Some(&other)).await;
    let mut third = Ws::open(&app).await;
    third.init(Some(&other)).await;
    assert_eq!(third.closed().await.0, 4429, "at most 2 connections per caller");

    let mut silent = Ws::open(&app).await;
    assert_eq!(silent.closed().await.0, 4408, "connection_init timeout");
}

/// The listener's `LISTEN` connections of this test's database, terminated.
async fn kill_listeners(app: &TestApp) -> u64 {
    use sea_orm::{ConnectionTrait, Database, Statement};
    let conn = Database::connect(app.database_url()).await.unwrap();
    let rows = conn
        .query_all_raw(Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = 'blogql-listener' AND datname = current_database()",
        ))
        .await
        .unwrap();
    conn.close().await.unwrap();
    rows.len() as u64
}

#[tokio::test]
async fn events_reach_every_instance_and_survive_a_lost_listener() {
    let first = TestApp::spawn().await;
    if first.backend != Backend::Postgres {
        // SQLite is one process's file: one instance, fed in process (the tests above).
        return;
    }
    let second = TestApp::spawn_sharing(&first, &[]).await;
    let t = tenants(&first).await;
    let mut ws = Ws::connect(&second, Some(&second.user_token(t.alice))).await;
    ws.subscribe("a", EVENTS, json!({})).await;
    // Written on the first instance, delivered by the second.
    sync(&first, &mut ws, "a", t.alice, "sync").await;
    first.create_post(t.alice, "Across", "DRAFT").await;
    assert_eq!(ws.event("a").await["post"]["title"], "Across");

    // The listeners' connections die; what commits meanwhile still arrives, in order.
    assert!(kill_listeners(&first).await >= 1);
    for title in ["During 1", "During 2", "During 3"] {
        first.create_post(t.alice, title, "DRAFT").await;
    }
    for title in ["During 1", "During 2", "During 3"] {
        let e = ws.event("a").await;
        assert_eq!(
            (e["kind"].as_str(), e["post"]["title"].as_str()),
            (Some("CREATED"), Some(title))
        );
    }
    first.create_post(t.alice, "After", "DRAFT").await;
    assert_eq!(ws.event("a").await["post"]["title"], "After");
}

#[tokio::test]
async fn a_subscriber_past_its_buffer_is_dropped_with_an_error_and_delays_nobody() {
    // A buffer of 5 deliveries; a cascade of 20 posts hands one subscriber 20 at once, as
    // a subscriber that stopped reading would pile them up.
    let app = TestApp::spawn_with(&["--subscription-buffer", "5"]).await;
    let t = tenants(&app).await;
    let writer = app.create_user(t.org_a, "writer", "MEMBER").await;
    for i in 0..20 {
        app.create_post(writer, &format!("Draft {i}"), "DRAFT").await;
    }
    let mut member = Ws::connect(&app, Some(&app.user_token(t.alice))).await;
    member.subscribe("m", EVENTS, json!({})).await;
    let mut anonymous = Ws::connect(&app, None).await;
    anonymous
        .subscribe("p", EVENTS, json!({ "org": t.org_a.to_string() }))
        .await;
    sync(&app, &mut member, "m", t.alice, "sync m").await;
    let marker = sync(&app, &mut anonymous, "p", t.alice, "sync p").await;
    drain(&mut member, "m", &marker).await;

    app.ok(
        "mutation($i: SoftDeleteUserInput!) { softDeleteUser(input: $i) { id } }",
        json!({ "i": { "id": writer.to_string() } }),
        Some(&app.platform_token()),
    )
    .await;
    // The member's subscription ends with an error that says what to do.
    let payload = member.next_of("m").await;
    assert_eq!(
        payload["errors"][0]["extensions"]["code"], "RATE_LIMITED",
        "{payload:#}"
    );
    assert!(
        payload["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("after:")
    );
    let done = member.message().await;
    assert_eq!(
        (done["type"].as_str(), done["id"].as_str()),
        (Some("complete"), Some("m"))
    );
    // Nobody else waited: the public subscriber (to whom drafts are nothing) goes on.
    app.create_post(t.alice, "Public", "PUBLISHED").await;
    let e = anonymous.event("p").await;
    assert_eq!(
        (e["kind"].as_str(), e["post"]["title"].as_str()),
        (Some("PUBLISHED"), Some("Public"))
    );
    // And the member can subscribe again.
    member.subscribe("r", EVENTS, json!({})).await;
    app.create_post(t.alice, "Live", "DRAFT").await;
    let e = member.event("r").await;
    assert_eq!(e["post"]["title"], "Live");
}

#[tokio::test]
async fn the_scheduler_s_publication_is_one_published_event() {
    let app = TestApp::spawn_with(&["--scheduler-interval-ms", "100"]).await;
    let t = tenants(&app).await;
    let mut member = Ws::connect(&app, Some(&app.user_token(t.alice))).await;
    member.subscribe("a", EVENTS, json!({})).await;
    let mut anonymous = Ws::connect(&app, None).await;
    anonymous
        .subscribe("p", EVENTS, json!({ "org": t.org_a.to_string() }))
        .await;
    sync(&app, &mut member, "a", t.alice, "sync a").await;
    let marker = sync(&app, &mut anonymous, "p", t.alice, "sync p").await;
    drain(&mut member, "a", &marker).await;
    let at = (chrono::Utc::now() + chrono::Duration::milliseconds(1500)).to_rfc3339();
    app.ok(
        "mutation($i: CreatePostInput!) { createPost(input: $i) { id } }",
        json!({ "i": { "title": "Tomorrow", "status": "SCHEDULED", "publishAt": at, "authorId": t.alice.to_string() } }),
        Some(&app.platform_token()),
    )
    .await;
    let created = member.event("a").await;
    assert_eq!(
        (created["kind"].as_str(), created["post"]["title"].as_str()),
        (Some("CREATED"), Some("Tomorrow"))
    );
    let published = member.event("a").await;
    assert_eq!(
        (published["kind"].as_str(), published["post"]["status"].as_str()),
        (Some("PUBLISHED"), Some("PUBLISHED"))
    );
    // The public hears of it when it happens, and only then.
    let public = anonymous.event("p").await;
    assert_eq!(
        (public["kind"].as_str(), public["post"]["title"].as_str()),
        (Some("PUBLISHED"), Some("Tomorrow"))
    );
    // Exactly once: the next event is the next change.
    app.create_post(t.alice, "Next", "DRAFT").await;
    assert_eq!(member.event("a").await["post"]["title"], "Next");
}

#[tokio::test]
async fn a_subscription_over_http_says_where_subscriptions_run() {
    let app = TestApp::spawn().await;
    let (code, error) = app
        .err(
            "subscription { postEvents(organizationId: \"1\") { kind } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
    assert!(
        error["message"].as_str().unwrap().contains("/graphql/ws"),
        "{error:#}"
    );
}
