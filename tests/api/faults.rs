//! Faults: the database going away and coming back, a connection dying in the middle of a
//! transaction, an audit write failing, SIGTERM. Nothing half-written, typed errors, no
//! hang, recovery without a restart.
use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::json;
use tokio::{
    net::{TcpListener, TcpStream},
    task::JoinHandle,
};

use crate::helpers::{Backend, TestApp};

/// A TCP proxy in front of PostgreSQL that the test can cut (an outage: open connections
/// are severed, new ones are closed at once) and restore.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start() -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let links: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (up2, links2) = (up.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !up2.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let link = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect("127.0.0.1:5432").await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                links2.lock().unwrap().push(link);
            }
        });
        Proxy { port, up, links }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

async fn status(app: &TestApp, path: &str) -> u16 {
    app.client
        .get(app.url(path))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_fails_fast_with_a_typed_error_and_recovers_alone() {
    if crate::helpers::backend() != Backend::Postgres {
        // An embedded SQLite file cannot go away while the server holds it open; the
        // outage is a PostgreSQL (network) fault.
        return;
    }
    let proxy = Proxy::start().await;
    let app = TestApp::spawn_custom(&[], Some(proxy.port)).await;
    let token = app.platform_token();
    app.create_org("Acme", "acme").await;
    assert_eq!(status(&app, "/readyz").await, 200);

    proxy.cut();
    assert_eq!(status(&app, "/healthz").await, 200);
    assert_eq!(status(&app, "/readyz").await, 503);
    let started = Instant::now();
    let body = app
        .gql("{ organizations { totalCount } }", json!({}), Some(&token))
        .await;
    let elapsed = started.elapsed();
    assert_eq!(body["errors"][0]["extensions"]["code"], "INTERNAL", "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        !message.to_lowercase().contains("select"),
        "SQL leaked: {message}"
    );
    assert!(
        elapsed < Duration::from_secs(8),
        "the request hung for {elapsed:?}"
    );

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let body = app
            .gql("{ organizations { totalCount } }", json!({}), Some(&token))
            .await;
        if body["data"]["organizations"]["totalCount"] == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "no recovery: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(status(&app, "/readyz").await, 200);
}

async fn direct(app: &TestApp) -> DatabaseConnection {
    Database::connect(&app.database_url).await.unwrap()
}

async fn count(db: &impl ConnectionTrait, sql: &str) -> i64 {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_audit_write_rolls_the_change_back() {
    let app = TestApp::spawn().await;
    let token = app.platform_token();
    let org = app.create_org("Acme", "acme").await;
    let alice = app.create_user(org, "alice", "MEMBER").await;
    let post = app.create_post(alice, "Original", "PUBLISHED").await;
    let db = direct(&app).await;
    let (install, remove) = match app.backend {
        Backend::Postgres => (
            vec![
                "CREATE FUNCTION refuse_audit() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'audit store is full'; END $$ LANGUAGE plpgsql",
                "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_logs FOR EACH ROW EXECUTE FUNCTION refuse_audit()",
            ],
            "DROP TRIGGER refuse_audit ON audit_logs",
        ),
        Backend::Sqlite => (
            vec![
                "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_logs BEGIN SELECT RAISE(ABORT, 'audit store is full'); END",
            ],
            "DROP TRIGGER refuse_audit",
        ),
    };
    for sql in install {
        db.execute_unprepared(sql).await.unwrap();
    }
    let posts_before = count(&db, "SELECT COUNT(*) FROM posts").await;
    let audits_before = count(&db, "SELECT COUNT(*) FROM audit_logs").await;

    let attempts = [
        (
            "mutation { createPost(input: {title: \"Lost\", authorId: \"%A\"}) { id } }",
            "createPost",
        ),
        (
            "mutation { updatePost(input: {id: \"%P\", title: \"Changed\"}) { id } }",
            "updatePost",
        ),
        (
            "mutation { softDeleteUser(input: {id: \"%A\"}) { id } }",
            "softDeleteUser",
        ),
    ];
    for (query, name) in attempts {
        let query = query
            .replace("%A", &alice.to_string())
            .replace("%P", &post.to_string());
        let (code, error) = app.err(&query, json!({}), Some(&token)).await;
        assert_eq!(code, "INTERNAL", "{name}");
        assert!(
            !error["message"].as_str().unwrap().contains("audit store"),
            "{name}: cause leaked"
        );
    }
    assert_eq!(count(&db, "SELECT COUNT(*) FROM posts").await, posts_before);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM audit_logs").await, audits_before);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM posts WHERE title = 'Changed'").await,
        0
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM users WHERE deleted_at IS NOT NULL").await,
        0
    );

    db.execute_unprepared(remove).await.unwrap();
    app.ok(
        &format!("mutation {{ updatePost(input: {{id: \"{post}\", title: \"Changed\"}}) {{ id }} }}"),
        json!({}),
        Some(&token),
    )
    .await;
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM audit_logs").await,
        audits_before + 1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_killed_mid_transaction_leaves_neither_change_nor_audit() {
    if crate::helpers::backend() != Backend::Postgres {
        // SQLite has no server process whose connection could be killed.
        return;
    }
    let app = TestApp::spawn().await;
    let token = app.platform_token();
    let org = app.create_org("Acme", "acme").await;
    let alice = app.create_user(org, "alice", "MEMBER").await;
    let db = direct(&app).await;
    // The audit insert waits, so the transaction is open when its backend is killed.
    db.execute_unprepared(
        "CREATE FUNCTION slow_audit() RETURNS trigger AS $$ BEGIN PERFORM pg_sleep(30); RETURN NEW; END $$ LANGUAGE plpgsql",
    )
    .await
    .unwrap();
    db.execute_unprepared(
        "CREATE TRIGGER slow_audit BEFORE INSERT ON audit_logs FOR EACH ROW EXECUTE FUNCTION slow_audit()",
    )
    .await
    .unwrap();
    let request = {
        let (client, url, token) = (app.client.clone(), app.url("/graphql"), token.clone());
        let query = format!(
            "mutation {{ createPost(input: {{title: \"Doomed\", authorId: \"{alice}\"}}) {{ id }} }}"
        );
        tokio::spawn(async move {
            let response = client
                .post(url)
                .bearer_auth(token)
                .json(&json!({ "query": query }))
                .send()
                .await
                .unwrap();
            response.json::<serde_json::Value>().await.unwrap()
        })
    };
    let sleeping =
        "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'";
    let deadline = Instant::now() + Duration::from_secs(20);
    while count(&db, sleeping).await == 0 {
        assert!(
            Instant::now() < deadline,
            "the mutation never reached the audit insert"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    db.execute_unprepared(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'",
    )
    .await
    .unwrap();
    let body = request.await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "INTERNAL", "{body}");
    db.execute_unprepared("DROP TRIGGER slow_audit ON audit_logs")
        .await
        .unwrap();
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM posts WHERE title = 'Doomed'").await,
        0
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM audit_logs WHERE table_name = 'posts'").await,
        0
    );
    // The pool replaced the dead connection: the next mutation works.
    app.ok(
        &format!("mutation {{ createPost(input: {{title: \"Fine\", authorId: \"{alice}\"}}) {{ id }} }}"),
        json!({}),
        Some(&token),
    )
    .await;
}

#[tokio::test]
async fn sigterm_stops_the_server_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("sigterm.db").display());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_blogql"))
        .args([
            "--database-url",
            &url,
            "--listen",
            "127.0.0.1:0",
            "--jwt-secret",
            crate::helpers::SECRET,
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // SIGTERM as soon as the database file appears, while the migrations run: the
    // server keeps the signal and stops gracefully once it serves. (It used to register
    // its handler only when serving, and a SIGTERM during start-up killed it; a 300 ms
    // pause here hid that until a loaded machine made start-up slower.)
    let deadline = Instant::now() + Duration::from_secs(20);
    while !dir.path().join("sigterm.db").exists() {
        assert!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the server ignored SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "exit status {status}");
}

/// The server's database layer on the test database, with a pool of one connection (so
/// a test sees which connection the next statement gets).
async fn one_connection(app: &TestApp) -> blogql::db::Database {
    blogql::db::connect(&app.database_url(), 1, false, None)
        .await
        .unwrap()
}

/// A PostgreSQL statement from SQL text.
fn pg(sql: &str) -> sea_orm::Statement {
    sea_orm::Statement::from_string(sea_orm::DbBackend::Postgres, sql)
}

/// The backend process id a statement runs on.
async fn backend_pid(db: &impl ConnectionTrait) -> Result<i32, sea_orm::DbErr> {
    let row = db
        .query_one_raw(pg("SELECT pg_backend_pid() AS pid"))
        .await?
        .expect("a row");
    row.try_get::<i32>("", "pid")
}

/// PostgreSQL's statement pool hands a connection back without asking the server first;
/// this holds only if a statement cut off halfway (its future dropped: a request timeout,
/// a client gone) never gives its connection to the next statement, which would read
/// the old statement's rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_cut_off_halfway_does_not_pass_its_connection_on() {
    if crate::helpers::backend() != Backend::Postgres {
        // The statement pool is PostgreSQL's; SQLite runs in-process.
        return;
    }
    let app = TestApp::spawn().await;
    let database = one_connection(&app).await;
    let db = &database.db;
    let first = backend_pid(db).await.unwrap();
    assert_eq!(backend_pid(db).await.unwrap(), first, "one connection, reused");

    let slow = db.query_one_raw(pg("SELECT pg_sleep(3)::text AS pid"));
    assert!(
        tokio::time::timeout(Duration::from_millis(200), slow)
            .await
            .is_err()
    );

    let started = Instant::now();
    let next = backend_pid(db).await.unwrap();
    assert_ne!(next, first, "the cut-off connection was reused");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the next statement waited for the cut-off one: {:?}",
        started.elapsed()
    );

    // An error from the server ends the statement cleanly: its connection stays in use.
    let failed = db.query_one_raw(pg("SELECT 1 / 0 AS pid")).await;
    assert!(failed.is_err());
    assert_eq!(
        backend_pid(db).await.unwrap(),
        next,
        "a clean connection was dropped"
    );
    database.db.close().await.unwrap();
}

/// A write transaction on PostgreSQL's statement pool, dropped without `commit` (an error
/// returned halfway), leaves nothing behind and gives its connection back after its
/// `ROLLBACK`, to the next statement, with no transaction open on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_dropped_halfway_rolls_back_and_keeps_its_connection() {
    if crate::helpers::backend() != Backend::Postgres {
        return;
    }
    let app = TestApp::spawn().await;
    let database = one_connection(&app).await;
    let db = &database.db;
    let insert = pg(
        "INSERT INTO organizations (name, slug, plan, is_active, created_at, updated_at) \
         VALUES ('Dropped', 'dropped', 'free', true, now(), now())",
    );

    let txn = db.begin_with_options(Default::default()).await.unwrap();
    txn.execute_raw(insert.clone()).await.unwrap();
    let pid = backend_pid(&txn).await.unwrap();
    drop(txn);

    // One connection: this waits for the rollback to hand it back.
    assert_eq!(
        backend_pid(db).await.unwrap(),
        pid,
        "the connection was not reused"
    );
    let dropped = "SELECT count(*) FROM organizations WHERE slug = 'dropped'";
    assert_eq!(
        count(db, dropped).await,
        0,
        "the dropped transaction's row is there"
    );
    // Not inside a leftover transaction: this write stays after the connection is reused.
    db.execute_raw(insert).await.unwrap();
    let other = direct(&app).await;
    assert_eq!(count(&other, dropped).await, 1);

    let txn = db.begin_with_options(Default::default()).await.unwrap();
    txn.execute_raw(pg(
        "UPDATE organizations SET name = 'Committed' WHERE slug = 'dropped'",
    ))
    .await
    .unwrap();
    txn.commit().await.unwrap();
    assert_eq!(
        count(
            &other,
            "SELECT count(*) FROM organizations WHERE name = 'Committed'"
        )
        .await,
        1
    );
    database.db.close().await.unwrap();
}
