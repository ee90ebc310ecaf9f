//! `blogql backup PATH`: a consistent copy of a running SQLite database, taken during
//! writes, that a server starts on with every post and its audit entry; on PostgreSQL the
//! command points at pg_dump and exits 2.
use std::process::Command;

use serde_json::json;

use crate::helpers::{Backend, TestApp};

fn backup(database_url: &str, path: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_blogql"))
        .args(["--database-url", database_url, "--log", "warn", "backup"])
        .arg(path)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_during_writes_serves_every_post_with_its_audit_entry() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.db");
    if app.backend == Backend::Postgres {
        let out = backup(&app.database_url, &copy);
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"));
        return;
    }
    let org = app.create_org("Acme", "acme").await;
    let author = app.create_user(org, "alice", "MEMBER").await;
    let writing = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let writer = {
        let (app, writing) = (app.clone(), writing.clone());
        tokio::spawn(async move {
            let token = app.platform_token();
            let mut written = 0;
            while writing.load(std::sync::atomic::Ordering::Relaxed) || written < 20 {
                app.ok(
                    "mutation($i: CreatePostInput!) { createPost(input: $i) { id } }",
                    json!({ "i": { "title": format!("p{written}"), "authorId": author.to_string() } }),
                    Some(&token),
                )
                .await;
                written += 1;
            }
            written
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let out = tokio::task::spawn_blocking({
        let (url, copy) = (app.database_url.clone(), copy.clone());
        move || backup(&url, &copy)
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    writing.store(false, std::sync::atomic::Ordering::Relaxed);
    let written: i64 = writer.await.unwrap();

    // A second backup to the same path is refused; the copy is untouched.
    let again = backup(&app.database_url, &copy);
    assert_eq!(again.status.code(), Some(2));

    // A server on the copy: every post it has comes with its CREATE entry.
    let copy_url = format!("sqlite://{}", copy.display());
    let restored = TestApp::spawn_on(&copy_url).await;
    let data = restored
        .ok(
            "{ posts(first: 1) { totalCount } auditLogs(first: 1, filter: {tableName: \"posts\", action: CREATE}) { totalCount } }",
            json!({}),
            Some(&restored.platform_token()),
        )
        .await;
    let posts = data["posts"]["totalCount"].as_i64().unwrap();
    assert_eq!(data["auditLogs"]["totalCount"].as_i64().unwrap(), posts, "{data}");
    assert!(posts > 0 && posts <= written, "{posts} of {written}");
    let integrity = restored
        .ok(
            "{ organizations { nodes { slug users(first: 5) { nodes { username } } } } }",
            json!({}),
            Some(&restored.platform_token()),
        )
        .await;
    assert_eq!(
        integrity["organizations"]["nodes"][0]["users"]["nodes"][0]["username"],
        "alice"
    );
}
