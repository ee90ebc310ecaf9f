//! The audit log: one entry per changed row (cascades included), written in the change's
//! transaction; updates record only what changed; views are not audited; filters.
use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};

const ENTRIES: &str = r#"query($f: AuditLogFilter, $after: String) {
    auditLogs(first: 100, after: $after, filter: $f) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node {
            id databaseId action tableName recordId oldValues newValues ipAddress createdAt
            actor { databaseId } actorSubject
        } }
    }
}"#;

/// Every audit entry matching `filter`, newest first, read with `token`.
async fn entries_as(app: &TestApp, filter: Value, token: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = app
            .ok(ENTRIES, json!({ "f": filter, "after": after }), Some(token))
            .await;
        let page = &data["auditLogs"];
        all.extend(
            page["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"].clone()),
        );
        if page["pageInfo"]["hasNextPage"] != true {
            assert_eq!(page["totalCount"].as_u64().unwrap() as usize, all.len());
            return all;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

async fn entries(app: &TestApp, filter: Value) -> Vec<Value> {
    entries_as(app, filter, &app.platform_token()).await
}

/// The entries about one row, oldest first.
async fn history(app: &TestApp, table: &str, id: i64) -> Vec<Value> {
    let mut rows = entries(app, json!({ "tableName": table, "recordId": id })).await;
    rows.reverse();
    rows
}

fn time(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().unwrap())
        .unwrap_or_else(|e| panic!("{value} is not RFC 3339: {e}"))
        .with_timezone(&Utc)
}

fn ids(entries: &[Value]) -> BTreeSet<i64> {
    entries
        .iter()
        .map(|e| e["databaseId"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn creates_and_updates_record_only_what_changed() {
    let app = TestApp::spawn().await;
    let platform = app.platform_token();
    let org = app.create_org("Acme", "acme").await;

    let created = history(&app, "organizations", org).await;
    assert_eq!(created.len(), 1, "{created:#?}");
    let entry = &created[0];
    assert_eq!(entry["action"], "CREATE");
    assert!(entry["oldValues"].is_null());
    assert_eq!(entry["newValues"]["name"], "Acme");
    assert_eq!(entry["newValues"]["slug"], "acme");
    assert_eq!(entry["newValues"]["is_active"], true);
    assert_eq!(entry["newValues"]["id"], org);
    assert!(entry["actor"].is_null());
    assert_eq!(entry["actorSubject"], "platform_admin:tests");
    assert_eq!(entry["ipAddress"], "127.0.0.1");

    // A user created by an org admin names that admin as the actor.
    let admin = app.create_user(org, "admin", "ADMIN").await;
    let admin_token = app.user_token(admin);
    let alice = app
        .ok(
            "mutation { createUser(input: {username: \"alice\", email: \"alice@acme.test\"}) { databaseId updatedAt } }",
            json!({}),
            Some(&admin_token),
        )
        .await["createUser"]
        .clone();
    let alice_id = alice["databaseId"].as_i64().unwrap();
    let log = history(&app, "users", alice_id).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["action"], "CREATE");
    assert_eq!(log[0]["actor"]["databaseId"], admin);
    assert!(log[0]["actorSubject"].is_null());
    assert_eq!(log[0]["newValues"]["username"], "alice");
    assert_eq!(log[0]["newValues"]["organization_id"], org);
    assert!(log[0]["newValues"]["full_name"].is_null());
    assert!(
        log[0]["newValues"].as_object().unwrap().contains_key("full_name"),
        "newValues are keyed by column name: {}",
        log[0]["newValues"]
    );

    let update_user = |input: Value| {
        let token = admin_token.clone();
        let app = &app;
        async move {
            app.ok(
                "mutation($i: UpdateUserInput!) { updateUser(input: $i) { updatedAt } }",
                json!({ "i": input }),
                Some(&token),
            )
            .await["updateUser"]["updatedAt"]
                .clone()
        }
    };
    let id = alice_id.to_string();
    update_user(json!({ "id": id, "fullName": "Alice Liddell" })).await;
    let log = history(&app, "users", alice_id).await;
    assert_eq!(log.len(), 2);
    assert_eq!(log[1]["action"], "UPDATE");
    assert_eq!(log[1]["oldValues"], json!({ "full_name": null }));
    assert_eq!(log[1]["newValues"], json!({ "full_name": "Alice Liddell" }));

    // Given but unchanged (after trimming) writes nothing and does not touch updatedAt.
    let before = update_user(json!({ "id": id })).await;
    let unchanged = update_user(json!({
        "id": id,
        "fullName": "  Alice Liddell ",
        "email": "alice@acme.test",
        "role": "MEMBER",
        "isActive": true,
    }))
    .await;
    assert_eq!(unchanged, before);
    assert_eq!(history(&app, "users", alice_id).await.len(), 2);

    // Only the fields that changed, even when others are given.
    update_user(json!({ "id": id, "fullName": "Alice Liddell", "role": "ADMIN" })).await;
    update_user(json!({ "id": id, "fullName": null, "username": "alice" })).await;
    let log = history(&app, "users", alice_id).await;
    assert_eq!(log.len(), 4);
    assert_eq!(log[2]["oldValues"], json!({ "role": "member" }));
    assert_eq!(log[2]["newValues"], json!({ "role": "admin" }));
    assert_eq!(log[3]["oldValues"], json!({ "full_name": "Alice Liddell" }));
    assert_eq!(log[3]["newValues"], json!({ "full_name": null }));

    // Posts.
    let post = app
        .ok(
            r#"mutation { createPost(input: {title: "Draft", content: "Body"}) { databaseId } }"#,
            json!({}),
            Some(&app.user_token(alice_id)),
        )
        .await["createPost"]["databaseId"]
        .as_i64()
        .unwrap();
    let update_post = |input: Value| {
        let app = &app;
        let token = admin_token.clone();
        async move {
            app.ok(
                "mutation($i: UpdatePostInput!) { updatePost(input: $i) { id } }",
                json!({ "i": input }),
                Some(&token),
            )
            .await;
        }
    };
    update_post(json!({ "id": post.to_string(), "title": "  Draft ", "status": "PUBLISHED" })).await;
    update_post(json!({ "id": post.to_string(), "content": null })).await;
    update_post(json!({ "id": post.to_string(), "content": null, "title": "Draft" })).await;
    let log = history(&app, "posts", post).await;
    assert_eq!(log.len(), 3, "{log:#?}");
    assert_eq!(log[0]["action"], "CREATE");
    assert_eq!(log[0]["actor"]["databaseId"], alice_id);
    assert_eq!(log[0]["newValues"]["user_id"], alice_id);
    assert_eq!(log[0]["newValues"]["view_count"], 0);
    // Publishing sets `published_at`, in the same entry.
    assert_eq!(
        log[1]["oldValues"],
        json!({ "status": "draft", "published_at": null })
    );
    assert_eq!(log[1]["newValues"]["status"], "published");
    assert!(log[1]["newValues"]["published_at"].is_string(), "{log:#?}");
    assert_eq!(log[1]["actor"]["databaseId"], admin);
    assert_eq!(log[2]["oldValues"], json!({ "content": "Body" }));
    assert_eq!(log[2]["newValues"], json!({ "content": null }));

    // Organizations.
    let update_org = |input: Value| {
        let app = &app;
        let token = platform.clone();
        async move {
            app.ok(
                "mutation($i: UpdateOrganizationInput!) { updateOrganization(input: $i) { id } }",
                json!({ "i": input }),
                Some(&token),
            )
            .await;
        }
    };
    update_org(json!({ "id": org.to_string(), "name": "Acme", "plan": "PRO" })).await;
    update_org(json!({ "id": org.to_string(), "plan": "PRO", "isActive": false })).await;
    update_org(json!({ "id": org.to_string(), "slug": "acme", "isActive": false })).await;
    let log = history(&app, "organizations", org).await;
    assert_eq!(log.len(), 3, "{log:#?}");
    assert_eq!(log[1]["oldValues"], json!({ "plan": "free" }));
    assert_eq!(log[1]["newValues"], json!({ "plan": "pro" }));
    assert_eq!(log[2]["oldValues"], json!({ "is_active": true }));
    assert_eq!(log[2]["newValues"], json!({ "is_active": false }));
}

#[tokio::test]
async fn cascades_write_one_entry_per_row_in_one_transaction() {
    let app = TestApp::spawn().await;
    let platform = app.platform_token();
    let org = app.create_org("Acme", "acme").await;
    let other = app.create_org("Other", "other").await;
    let admin = app.create_user(org, "admin", "ADMIN").await;
    let alice = app.create_user(org, "alice", "MEMBER").await;
    let bob = app.create_user(org, "bob", "MEMBER").await;
    let p1 = app.create_post(alice, "p1", "PUBLISHED").await;
    let p2 = app.create_post(alice, "p2", "DRAFT").await;
    let p3 = app.create_post(bob, "p3", "PUBLISHED").await;
    let p0 = app.create_post(alice, "p0", "PUBLISHED").await;
    let outsider = app.create_user(other, "outsider", "ADMIN").await;
    app.create_post(outsider, "elsewhere", "PUBLISHED").await;
    app.ok(
        "mutation($id: ID!) { softDeletePost(input: {id: $id}) { id } }",
        json!({ "id": p0.to_string() }),
        Some(&platform),
    )
    .await;

    // A user: the user and their live posts, nothing else.
    let total = entries(&app, json!({})).await.len();
    let t_user = app
        .ok(
            "mutation($id: ID!) { softDeleteUser(input: {id: $id}) { deletedAt } }",
            json!({ "id": bob.to_string() }),
            Some(&app.user_token(admin)),
        )
        .await["softDeleteUser"]["deletedAt"]
        .clone();
    let all = entries(&app, json!({})).await;
    assert_eq!(all.len(), total + 2);
    let new: Vec<&Value> = all[..2].iter().collect();
    let rows: BTreeSet<(String, i64)> = new
        .iter()
        .map(|e| {
            (
                e["tableName"].as_str().unwrap().to_owned(),
                e["recordId"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        BTreeSet::from([("users".to_owned(), bob), ("posts".to_owned(), p3)])
    );
    for e in &new {
        assert_eq!(e["action"], "DELETE");
        assert_eq!(e["actor"]["databaseId"], admin);
        assert_eq!(e["oldValues"], json!({ "deleted_at": null }));
        assert_eq!(time(&e["newValues"]["deleted_at"]), time(&t_user));
    }

    // An organization: itself, its live users and their live posts.
    let total = all.len();
    let t = app
        .ok(
            "mutation($id: ID!) { softDeleteOrganization(input: {id: $id}) { deletedAt } }",
            json!({ "id": org.to_string() }),
            Some(&platform),
        )
        .await["softDeleteOrganization"]["deletedAt"]
        .clone();
    let t = time(&t);
    let all = entries(&app, json!({})).await;
    let expected = BTreeSet::from([
        ("organizations".to_owned(), org),
        ("users".to_owned(), admin),
        ("users".to_owned(), alice),
        ("posts".to_owned(), p1),
        ("posts".to_owned(), p2),
    ]);
    assert_eq!(all.len(), total + expected.len());
    let new = &all[..expected.len()];
    let rows: BTreeSet<(String, i64)> = new
        .iter()
        .map(|e| {
            (
                e["tableName"].as_str().unwrap().to_owned(),
                e["recordId"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(rows, expected);
    let at = &new[0]["createdAt"];
    for e in new {
        assert_eq!(e["action"], "DELETE");
        assert_eq!(e["oldValues"], json!({ "deleted_at": null }));
        assert_eq!(time(&e["newValues"]["deleted_at"]), t);
        assert_eq!(&e["createdAt"], at, "one cascade, one transaction time");
        assert_eq!(e["actorSubject"], "platform_admin:tests");
    }

    // The restore: exactly the same rows.
    let total = all.len();
    app.ok(
        "mutation($id: ID!) { restoreOrganization(input: {id: $id}) { id } }",
        json!({ "id": org.to_string() }),
        Some(&platform),
    )
    .await;
    let all = entries(&app, json!({})).await;
    assert_eq!(all.len(), total + expected.len());
    let new = &all[..expected.len()];
    let rows: BTreeSet<(String, i64)> = new
        .iter()
        .map(|e| {
            (
                e["tableName"].as_str().unwrap().to_owned(),
                e["recordId"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(rows, expected);
    for e in new {
        assert_eq!(e["action"], "RESTORE");
        assert_eq!(time(&e["oldValues"]["deleted_at"]), t);
        assert_eq!(e["newValues"], json!({ "deleted_at": null }));
    }
    let restores = entries(&app, json!({ "action": "RESTORE" })).await;
    assert_eq!(restores.len(), expected.len());
}

/// Makes the database refuse audit entries about `posts` (or stop refusing them).
async fn refuse_post_audits(app: &TestApp, refuse: bool) {
    let db = Database::connect(app.database_url()).await.unwrap();
    let statements: &[&str] = match (app.backend, refuse) {
        (Backend::Sqlite, true) => &["CREATE TRIGGER refuse_post_audits BEFORE INSERT ON audit_logs \
             WHEN NEW.table_name = 'posts' BEGIN SELECT RAISE(ABORT, 'audit refused'); END"],
        (Backend::Sqlite, false) => &["DROP TRIGGER refuse_post_audits"],
        (Backend::Postgres, true) => &[
            "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'audit refused'; END $$",
            "CREATE TRIGGER refuse_post_audits BEFORE INSERT ON audit_logs FOR EACH ROW \
             WHEN (NEW.table_name = 'posts') EXECUTE FUNCTION refuse_audit()",
        ],
        (Backend::Postgres, false) => &["DROP TRIGGER refuse_post_audits ON audit_logs"],
    };
    for statement in statements {
        db.execute_unprepared(statement).await.unwrap();
    }
    db.close().await.unwrap();
}

#[tokio::test]
async fn a_change_and_its_audit_entry_commit_or_fail_together() {
    let app = TestApp::spawn().await;
    let platform = app.platform_token();
    let org = app.create_org("Acme", "acme").await;
    let admin = app.create_user(org, "admin", "ADMIN").await;
    let alice = app.create_user(org, "alice", "MEMBER").await;
    let post = app.create_post(alice, "Original", "DRAFT").await;
    let total = entries(&app, json!({})).await.len();

    // A change that fails writes no entry.
    let (code, _) = app
        .err(
            "mutation($org: ID!) { createUser(input: {username: \"alice\", email: \"other@acme.test\", organizationId: $org}) { id } }",
            json!({ "org": org.to_string() }),
            Some(&platform),
        )
        .await;
    assert_eq!(code, "CONFLICT");
    assert_eq!(entries(&app, json!({})).await.len(), total);

    // An entry that cannot be written takes its change with it.
    refuse_post_audits(&app, true).await;
    let (code, error) = app
        .err(
            "mutation($id: ID!) { updatePost(input: {id: $id, title: \"Changed\"}) { id } }",
            json!({ "id": post.to_string() }),
            Some(&platform),
        )
        .await;
    assert_eq!(code, "INTERNAL");
    let message = error["message"].as_str().unwrap();
    assert!(
        !message.contains("audit refused") && !message.to_lowercase().contains("insert"),
        "the database error reached the client: {message}"
    );
    // A user's deletion cascades to a post, so it fails as a whole.
    let (code, _) = app
        .err(
            "mutation($id: ID!) { softDeleteUser(input: {id: $id}) { id } }",
            json!({ "id": alice.to_string() }),
            Some(&app.user_token(admin)),
        )
        .await;
    assert_eq!(code, "INTERNAL");
    let (code, _) = app
        .err(
            "mutation($a: ID!) { createPost(input: {title: \"New\", authorId: $a}) { id } }",
            json!({ "a": alice.to_string() }),
            Some(&platform),
        )
        .await;
    assert_eq!(code, "INTERNAL");
    let state = app
        .ok(
            "query($p: ID!, $a: ID!) { post(id: $p) { title updatedAt } user(id: $a) { deletedAt } posts(includeDeleted: true) { totalCount } }",
            json!({ "p": post.to_string(), "a": alice.to_string() }),
            Some(&platform),
        )
        .await;
    assert_eq!(state["post"]["title"], "Original");
    assert!(state["user"]["deletedAt"].is_null());
    assert_eq!(state["posts"]["totalCount"], 1);
    assert_eq!(entries(&app, json!({})).await.len(), total);

    // With the audit table writable again, the same change goes through with its entry.
    refuse_post_audits(&app, false).await;
    app.ok(
        "mutation($id: ID!) { updatePost(input: {id: $id, title: \"Changed\"}) { id } }",
        json!({ "id": post.to_string() }),
        Some(&platform),
    )
    .await;
    let log = history(&app, "posts", post).await;
    assert_eq!(log.len(), 2);
    assert_eq!(log[1]["newValues"], json!({ "title": "Changed" }));
}

#[tokio::test]
async fn post_views_are_not_audited() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Acme", "acme").await;
    let alice = app.create_user(org, "alice", "MEMBER").await;
    let post = app.create_post(alice, "Hello", "PUBLISHED").await;
    let before = entries(&app, json!({})).await;
    let updated_before = app
        .ok(
            "query($id: ID!) { post(id: $id) { updatedAt } }",
            json!({ "id": post.to_string() }),
            Some(&app.platform_token()),
        )
        .await["post"]["updatedAt"]
        .clone();

    let alice_token = app.user_token(alice);
    for token in [None, Some(alice_token.as_str()), None] {
        app.ok(
            "mutation($id: ID!) { recordPostView(id: $id) { viewCount } }",
            json!({ "id": post.to_string() }),
            token,
        )
        .await;
    }
    let after = app
        .ok(
            "query($id: ID!) { post(id: $id) { viewCount updatedAt } }",
            json!({ "id": post.to_string() }),
            Some(&app.platform_token()),
        )
        .await;
    assert_eq!(after["post"]["viewCount"], 3);
    assert_eq!(after["post"]["updatedAt"], updated_before);
    assert_eq!(entries(&app, json!({})).await, before);
}

#[tokio::test]
async fn audit_filters() {
    let app = TestApp::spawn().await;
    let acme = app.create_org("Acme", "acme").await;
    let globex = app.create_org("Globex", "globex").await;
    let admin = app.create_user(acme, "admin", "ADMIN").await;
    let admin_token = app.user_token(admin);
    let alice = app
        .ok(
            r#"mutation { createUser(input: {username: "alice", email: "alice@acme.test"}) { id databaseId } }"#,
            json!({}),
            Some(&admin_token),
        )
        .await["createUser"]
        .clone();
    let alice_id = alice["databaseId"].as_i64().unwrap();
    let alice_global = alice["id"].as_str().unwrap().to_owned();
    let alice_token = app.user_token(alice_id);
    let post = app
        .ok(
            r#"mutation { createPost(input: {title: "Hello"}) { databaseId } }"#,
            json!({}),
            Some(&alice_token),
        )
        .await["createPost"]["databaseId"]
        .as_i64()
        .unwrap();
    let pid = post.to_string();
    app.ok(
        "mutation($id: ID!) { updatePost(input: {id: $id, status: PUBLISHED}) { id } }",
        json!({ "id": pid }),
        Some(&admin_token),
    )
    .await;
    app.ok(
        "mutation($id: ID!) { softDeletePost(input: {id: $id}) { id } }",
        json!({ "id": pid }),
        Some(&alice_token),
    )
    .await;
    app.ok(
        "mutation($id: ID!) { restorePost(input: {id: $id}) { id } }",
        json!({ "id": pid }),
        Some(&alice_token),
    )
    .await;
    let globex_user = app.create_user(globex, "gus", "ADMIN").await;

    let all = entries(&app, json!({})).await;
    // orgs 2, users 3, post 4
    assert_eq!(all.len(), 9, "{all:#?}");
    let select = |pred: &dyn Fn(&Value) -> bool| -> BTreeSet<i64> {
        ids(&all.iter().filter(|e| pred(e)).cloned().collect::<Vec<_>>())
    };

    // tableName
    let posts = entries(&app, json!({ "tableName": "posts" })).await;
    assert_eq!(posts.len(), 4);
    assert!(posts.iter().all(|e| e["tableName"] == "posts"));
    let actions: Vec<&str> = posts
        .iter()
        .rev()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["CREATE", "UPDATE", "DELETE", "RESTORE"]);
    assert_eq!(
        ids(&entries(&app, json!({ "tableName": "organizations" })).await),
        select(&|e| e["tableName"] == "organizations")
    );
    assert!(entries(&app, json!({ "tableName": "comments" })).await.is_empty());

    // recordId, alone (any table) and with tableName.
    let by_record = entries(&app, json!({ "recordId": post })).await;
    assert_eq!(ids(&by_record), select(&|e| e["recordId"] == post));
    let by_row = entries(&app, json!({ "recordId": alice_id, "tableName": "users" })).await;
    assert_eq!(by_row.len(), 1);
    assert_eq!(by_row[0]["action"], "CREATE");

    // action
    for action in ["CREATE", "UPDATE", "DELETE", "RESTORE"] {
        let got = entries(&app, json!({ "action": action })).await;
        assert_eq!(ids(&got), select(&|e| e["action"] == action), "{action}");
        assert!(!got.is_empty());
    }
    let deleted_posts = entries(&app, json!({ "action": "DELETE", "tableName": "posts" })).await;
    assert_eq!(deleted_posts.len(), 1);
    assert_eq!(deleted_posts[0]["recordId"], post);

    // actorId, as a global or a database id.
    for actor in [alice_global.clone(), alice_id.to_string()] {
        let got = entries(&app, json!({ "actorId": actor })).await;
        assert_eq!(got.len(), 3, "create, delete, restore of the post");
        assert!(got.iter().all(|e| e["actor"]["databaseId"] == alice_id));
    }
    let by_admin = entries(&app, json!({ "actorId": admin.to_string() })).await;
    let mut what: Vec<(String, String)> = by_admin
        .iter()
        .map(|e| {
            (
                e["tableName"].as_str().unwrap().to_owned(),
                e["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    what.sort();
    assert_eq!(
        what,
        [
            ("posts".to_owned(), "UPDATE".to_owned()),
            ("users".to_owned(), "CREATE".to_owned())
        ]
    );
    assert!(
        entries(&app, json!({ "actorId": globex_user.to_string() }))
            .await
            .is_empty()
    );

    // createdAfter (inclusive) and createdBefore (exclusive).
    let update = &posts[2];
    assert_eq!(update["action"], "UPDATE");
    let restore = &posts[0];
    let x = update["createdAt"].clone();
    let y = restore["createdAt"].clone();
    let after = entries(&app, json!({ "createdAfter": x })).await;
    let expected = select(&|e| time(&e["createdAt"]) >= time(&x));
    assert_eq!(ids(&after), expected);
    assert!(ids(&after).contains(&update["databaseId"].as_i64().unwrap()));
    let before = entries(&app, json!({ "createdBefore": x })).await;
    assert_eq!(ids(&before), select(&|e| time(&e["createdAt"]) < time(&x)));
    assert!(!ids(&before).contains(&update["databaseId"].as_i64().unwrap()));
    assert_eq!(after.len() + before.len(), all.len());
    assert!(!after.is_empty() && !before.is_empty());
    let between = entries(&app, json!({ "createdAfter": x, "createdBefore": y })).await;
    let actions: Vec<&str> = between.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["DELETE", "UPDATE"]);
    let window = entries(
        &app,
        json!({ "createdAfter": x, "createdBefore": y, "tableName": "users" }),
    )
    .await;
    assert!(window.is_empty());

    // An org admin reads their organization's entries only, with the same filters.
    let own = entries_as(&app, json!({}), &admin_token).await;
    let foreign = |e: &&Value| {
        (e["tableName"] == "organizations" && e["recordId"] == globex)
            || (e["tableName"] == "users" && e["recordId"] == globex_user)
    };
    assert!(
        !own.iter().any(|e| foreign(&e)),
        "another organization's entries leaked: {own:#?}"
    );
    assert_eq!(all.iter().filter(foreign).count(), 2);
    assert_eq!(own.len(), all.len() - 2);
    let own_posts = entries_as(&app, json!({ "tableName": "posts" }), &admin_token).await;
    assert_eq!(ids(&own_posts), ids(&posts));
    let (code, _) = app.err(ENTRIES, json!({}), Some(&alice_token)).await;
    assert_eq!(code, "FORBIDDEN");
}
