//! The account behind a user's token is cached per instance on PostgreSQL (`db::accounts`):
//! a repeated signed-in request runs no statement for its viewer, and a change of the
//! user's or organization's access made on one instance reaches every other instance's
//! cache (through `NOTIFY`), also after a listener lost its connection. On SQLite there is
//! no cache: every request reads its account.
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};

/// Runs no statement of its own: what it runs is the viewer's.
const PROBE: &str = "{ __typename }";

/// Long enough that no test here can pass by an entry expiring.
const LONG_TTL: &[&str] = &["--account-cache-secs", "600"];

fn code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

/// Statements `PROBE` runs on `app` with `token`.
async fn probe_statements(app: &TestApp, token: &str) -> u64 {
    let before = app.statement_count();
    let body = app.gql(PROBE, json!({}), Some(token)).await;
    assert!(body.get("errors").is_none(), "{body}");
    app.statement_count() - before
}

/// Sends `PROBE` until a request reads its viewer from the cache (no statement), which
/// starts once the instance's listener has connected; false if it never does in 10 s.
async fn warm(app: &TestApp, token: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if probe_statements(app, token).await == 0 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// How long until `app` refuses `token` (polling; at most 10 s).
async fn until_refused(app: &TestApp, token: &str) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        let body = app.gql(PROBE, json!({}), Some(token)).await;
        if code(&body) == Some("UNAUTHENTICATED") {
            return Some(start.elapsed());
        }
        assert!(body.get("errors").is_none(), "{body}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    None
}

#[tokio::test]
async fn a_repeated_request_reads_its_account_once_on_postgres_only() {
    let app = TestApp::spawn_with(LONG_TTL).await;
    let org = app.create_org("Acme", "acme").await;
    let user = app.create_user(org, "alice", "MEMBER").await;
    let token = app.user_token(user);
    let first = probe_statements(&app, &token).await;
    assert_eq!(first, 1, "the first request reads the account");
    match app.backend {
        Backend::Postgres => assert!(warm(&app, &token).await, "the account was never cached"),
        Backend::Sqlite => {
            for _ in 0..3 {
                assert_eq!(
                    probe_statements(&app, &token).await,
                    1,
                    "SQLite caches no account"
                );
            }
        }
    }
    // `--account-cache-secs 0` turns the cache off.
    let off = TestApp::spawn_sharing(&app, &["--account-cache-secs", "0"]).await;
    for _ in 0..3 {
        assert_eq!(
            probe_statements(&off, &token).await,
            1,
            "a disabled cache holds nothing"
        );
    }
}

#[tokio::test]
async fn a_change_on_one_instance_reaches_the_others_cache() {
    let a = TestApp::spawn_with(LONG_TTL).await;
    let b = TestApp::spawn_sharing(&a, LONG_TTL).await;
    let p = a.platform_token();
    let org = a.create_org("Acme", "acme").await;
    a.create_user(org, "boss", "ADMIN").await;
    let other = a.create_org("Other", "other").await;
    a.create_user(other, "chief", "ADMIN").await;
    let deleted = a.create_user(org, "bob", "MEMBER").await;
    let inactive = a.create_user(org, "carol", "MEMBER").await;
    let dormant = a.create_user(other, "dave", "MEMBER").await;
    let changes = [
        (
            deleted,
            "mutation($id: ID!) { softDeleteUser(input: {id: $id}) { id } }",
            deleted,
        ),
        (
            inactive,
            "mutation($id: ID!) { updateUser(input: {id: $id, isActive: false}) { id } }",
            inactive,
        ),
        (
            dormant,
            "mutation($id: ID!) { updateOrganization(input: {id: $id, isActive: false}) { id } }",
            other,
        ),
    ];
    for (user, mutation, target) in changes {
        let token = a.user_token(user);
        if b.backend == Backend::Postgres {
            assert!(
                warm(&b, &token).await,
                "user {user} was never cached on the second instance"
            );
        }
        a.ok(mutation, json!({ "id": target.to_string() }), Some(&p))
            .await;
        // On the instance that made the change, at once.
        assert_eq!(
            code(&a.gql(PROBE, json!({}), Some(&token)).await),
            Some("UNAUTHENTICATED")
        );
        // On the other, when PostgreSQL delivers the NOTIFY (milliseconds), not after the
        // entry's 600 s.
        let took = until_refused(&b, &token).await;
        assert!(
            took.is_some(),
            "{mutation}: the second instance still accepts the token"
        );
        eprintln!("{mutation}: refused on the second instance after {took:?}");
    }
}

#[tokio::test]
async fn a_listener_that_lost_its_connection_forgets_every_account() {
    let a = TestApp::spawn_with(LONG_TTL).await;
    if a.backend == Backend::Sqlite {
        return; // No listener and no cache on SQLite (see the first test).
    }
    let b = TestApp::spawn_sharing(&a, LONG_TTL).await;
    let org = a.create_org("Acme", "acme").await;
    let user = a.create_user(org, "bob", "MEMBER").await;
    let token = a.user_token(user);
    assert!(warm(&b, &token).await, "never cached");
    // A change made behind the server's back (SQL by hand) is not announced: the cached
    // entry still answers.
    let db = Database::connect(a.database_url()).await.unwrap();
    db.execute_unprepared(&format!("UPDATE users SET is_active = FALSE WHERE id = {user}"))
        .await
        .unwrap();
    assert_eq!(
        probe_statements(&b, &token).await,
        0,
        "the entry answers from the cache"
    );
    // Once the listener's connection is lost, nothing cached before is trusted.
    db.execute_unprepared(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = 'blogql-listener' AND datname = current_database()",
    )
    .await
    .unwrap();
    assert!(
        until_refused(&b, &token).await.is_some(),
        "the entry outlived the lost listener"
    );
    db.close().await.unwrap();
}
