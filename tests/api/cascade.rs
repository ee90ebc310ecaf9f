//! Soft-delete cascades: an organization takes its users and posts, a user their posts,
//! all with one timestamp; a restore brings back exactly what its cascade took.
use std::collections::HashMap;

use serde_json::{Value, json};

use crate::helpers::TestApp;

/// `deletedAt` of every organization, user and post, keyed by database id, read by the
/// platform admin with `includeDeleted: true`.
struct Snapshot {
    orgs: HashMap<i64, Value>,
    users: HashMap<i64, Value>,
    posts: HashMap<i64, Value>,
}

impl Snapshot {
    async fn take(app: &TestApp) -> Snapshot {
        let data = app
            .ok(
                "{ organizations(first: 100, includeDeleted: true) { edges { node { databaseId deletedAt } } }
                   users(first: 100, includeDeleted: true) { edges { node { databaseId deletedAt } } }
                   posts(first: 100, includeDeleted: true) { edges { node { databaseId deletedAt } } } }",
                json!({}),
                Some(&app.platform_token()),
            )
            .await;
        let map = |list: &str| {
            data[list]["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    (
                        e["node"]["databaseId"].as_i64().unwrap(),
                        e["node"]["deletedAt"].clone(),
                    )
                })
                .collect::<HashMap<_, _>>()
        };
        Snapshot {
            orgs: map("organizations"),
            users: map("users"),
            posts: map("posts"),
        }
    }
}

/// Runs `softDelete*` or `restore*` on `id`; returns the `deletedAt` it reports.
async fn mutate(app: &TestApp, mutation: &str, id: i64, token: &str) -> Value {
    let query = format!("mutation($id: ID!) {{ {mutation}(input: {{id: $id}}) {{ databaseId deletedAt }} }}");
    app.ok(&query, json!({ "id": id.to_string() }), Some(token)).await[mutation]["deletedAt"].clone()
}

#[tokio::test]
async fn organization_cascade_and_exact_restore() {
    let app = TestApp::spawn().await;
    let platform = app.platform_token();
    let acme = app.create_org("Acme", "acme").await;
    let other = app.create_org("Other", "other").await;
    let admin = app.create_user(acme, "admin", "ADMIN").await;
    let alice = app.create_user(acme, "alice", "MEMBER").await;
    let bob = app.create_user(acme, "bob", "MEMBER").await;
    let a1 = app.create_post(alice, "a1", "PUBLISHED").await;
    let a2 = app.create_post(alice, "a2", "DRAFT").await;
    let ad = app.create_post(admin, "ad", "PUBLISHED").await;
    let b1 = app.create_post(bob, "b1", "PUBLISHED").await;
    let early = app.create_post(alice, "early", "PUBLISHED").await;
    let stranger = app.create_user(other, "stranger", "ADMIN").await;
    let foreign = app.create_post(stranger, "foreign", "PUBLISHED").await;

    // Deleted before the organization: a post on its own, and bob with his post.
    let t_early = mutate(&app, "softDeletePost", early, &platform).await;
    let t_bob = mutate(&app, "softDeleteUser", bob, &platform).await;
    assert!(t_early.is_string() && t_bob.is_string());

    let t = mutate(&app, "softDeleteOrganization", acme, &platform).await;
    assert!(t.is_string());
    assert_ne!(t, t_early);
    assert_ne!(t, t_bob);
    let s = Snapshot::take(&app).await;
    assert_eq!(s.orgs[&acme], t);
    for user in [admin, alice] {
        assert_eq!(s.users[&user], t, "user {user}");
    }
    for post in [a1, a2, ad] {
        assert_eq!(s.posts[&post], t, "post {post}");
    }
    // What was deleted before keeps its own timestamp; the other organization is untouched.
    assert_eq!(s.posts[&early], t_early);
    assert_eq!(s.users[&bob], t_bob);
    assert_eq!(s.posts[&b1], t_bob);
    assert!(s.orgs[&other].is_null());
    assert!(s.users[&stranger].is_null());
    assert!(s.posts[&foreign].is_null());

    let restored = mutate(&app, "restoreOrganization", acme, &platform).await;
    assert!(restored.is_null());
    let s = Snapshot::take(&app).await;
    assert!(s.orgs[&acme].is_null());
    for user in [admin, alice] {
        assert!(s.users[&user].is_null(), "user {user} not restored");
    }
    for post in [a1, a2, ad] {
        assert!(s.posts[&post].is_null(), "post {post} not restored");
    }
    assert_eq!(s.posts[&early], t_early, "a post deleted earlier came back");
    assert_eq!(s.users[&bob], t_bob, "a user deleted earlier came back");
    assert_eq!(s.posts[&b1], t_bob, "a post of a user deleted earlier came back");

    // Bob's own restore still brings back his post, and only his.
    mutate(&app, "restoreUser", bob, &platform).await;
    let s = Snapshot::take(&app).await;
    assert!(s.users[&bob].is_null());
    assert!(s.posts[&b1].is_null());
    assert_eq!(s.posts[&early], t_early);
}

#[tokio::test]
async fn user_cascade_and_exact_restore() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Acme", "acme").await;
    let admin = app.create_user(org, "admin", "ADMIN").await;
    let alice = app.create_user(org, "alice", "MEMBER").await;
    let p1 = app.create_post(alice, "p1", "PUBLISHED").await;
    let p2 = app.create_post(alice, "p2", "DRAFT").await;
    let p3 = app.create_post(alice, "p3", "PUBLISHED").await;
    let q = app.create_post(admin, "q", "PUBLISHED").await;
    let token = app.user_token(admin);

    let t3 = mutate(&app, "softDeletePost", p3, &token).await;
    let t = mutate(&app, "softDeleteUser", alice, &token).await;
    assert!(t.is_string());
    assert_ne!(t, t3);
    let s = Snapshot::take(&app).await;
    assert_eq!(s.users[&alice], t);
    assert_eq!(s.posts[&p1], t);
    assert_eq!(s.posts[&p2], t);
    assert_eq!(s.posts[&p3], t3);
    assert!(s.users[&admin].is_null());
    assert!(s.posts[&q].is_null());
    assert!(s.orgs[&org].is_null());

    assert!(mutate(&app, "restoreUser", alice, &token).await.is_null());
    let s = Snapshot::take(&app).await;
    assert!(s.users[&alice].is_null());
    assert!(s.posts[&p1].is_null());
    assert!(s.posts[&p2].is_null());
    assert_eq!(s.posts[&p3], t3, "a post deleted before its author came back");

    // A second round deletes and restores the same rows again.
    let t2 = mutate(&app, "softDeleteUser", alice, &token).await;
    let s = Snapshot::take(&app).await;
    assert_eq!(s.posts[&p1], t2);
    assert_eq!(s.posts[&p2], t2);
    assert_eq!(s.posts[&p3], t3);
    mutate(&app, "restoreUser", alice, &token).await;
    let s = Snapshot::take(&app).await;
    assert!(s.posts[&p1].is_null() && s.posts[&p2].is_null());
    assert_eq!(s.posts[&p3], t3);
}

const ORG_VIEW: &str = r#"query($org: ID!, $alice: ID!, $post: ID!, $deleted: Boolean!) {
    users(organizationId: $org, includeDeleted: $deleted) { totalCount edges { node { username deletedAt } } }
    posts(organizationId: $org, includeDeleted: $deleted) { totalCount edges { node { title deletedAt } } }
    organization(id: $org) {
        users(includeDeleted: $deleted) { totalCount }
        posts(includeDeleted: $deleted) { totalCount }
    }
    user(id: $alice) { username }
    post(id: $post) { title }
    node(id: $post) { id }
}"#;

fn names(list: &Value, field: &str) -> Vec<String> {
    let mut names: Vec<String> = list["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"][field].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn deleted_records_vanish_and_reappear_with_include_deleted_for_admins() {
    let app = TestApp::spawn().await;
    let platform = app.platform_token();
    let org = app.create_org("Acme", "acme").await;
    let admin = app.create_user(org, "admin", "ADMIN").await;
    let alice = app.create_user(org, "alice", "MEMBER").await;
    let bob = app.create_user(org, "bob", "MEMBER").await;
    let pa = app.create_post(alice, "by-alice", "PUBLISHED").await;
    app.create_post(bob, "by-bob", "PUBLISHED").await;
    let admin_token = app.user_token(admin);
    let bob_token = app.user_token(bob);
    let post_global = app
        .ok(
            "query($id: ID!) { post(id: $id) { id } }",
            json!({ "id": pa.to_string() }),
            Some(&platform),
        )
        .await["post"]["id"]
        .clone();
    let vars = |deleted: bool| json!({ "org": org.to_string(), "alice": alice.to_string(), "post": post_global, "deleted": deleted });

    mutate(&app, "softDeleteUser", alice, &admin_token).await;

    // Gone for everyone by default.
    for token in [&platform, &admin_token, &bob_token] {
        let data = app.ok(ORG_VIEW, vars(false), Some(token)).await;
        assert_eq!(data["users"]["totalCount"], 2);
        assert_eq!(names(&data["users"], "username"), ["admin", "bob"]);
        assert_eq!(data["posts"]["totalCount"], 1);
        assert_eq!(names(&data["posts"], "title"), ["by-bob"]);
        assert_eq!(data["organization"]["users"]["totalCount"], 2);
        assert_eq!(data["organization"]["posts"]["totalCount"], 1);
        assert!(data["user"].is_null());
        assert!(data["post"].is_null());
        assert!(data["node"].is_null());
    }
    let public = app
        .ok(
            "query($post: ID!) { posts { edges { node { title } } } post(id: $post) { title } }",
            json!({ "post": post_global }),
            None,
        )
        .await;
    assert_eq!(names(&public["posts"], "title"), ["by-bob"]);
    assert!(public["post"].is_null());

    // Back with includeDeleted, for org admins and platform admins.
    for token in [&platform, &admin_token] {
        let data = app.ok(ORG_VIEW, vars(true), Some(token)).await;
        assert_eq!(data["users"]["totalCount"], 3);
        assert_eq!(names(&data["users"], "username"), ["admin", "alice", "bob"]);
        let alice_row = data["users"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["node"]["username"] == "alice")
            .unwrap();
        assert!(alice_row["node"]["deletedAt"].is_string());
        assert_eq!(data["posts"]["totalCount"], 2);
        assert_eq!(names(&data["posts"], "title"), ["by-alice", "by-bob"]);
        assert_eq!(data["organization"]["users"]["totalCount"], 3);
        assert_eq!(data["organization"]["posts"]["totalCount"], 2);
    }
    // Members may not ask for deleted rows.
    let (code, _) = app.err(ORG_VIEW, vars(true), Some(&bob_token)).await;
    assert_eq!(code, "FORBIDDEN");

    // The organization itself.
    mutate(&app, "softDeleteOrganization", org, &platform).await;
    let data = app
        .ok(
            r#"query($org: ID!) {
                live: organizations { totalCount }
                all: organizations(includeDeleted: true) { totalCount edges { node { slug deletedAt } } }
                byId: organization(id: $org) { name }
                bySlug: organization(slug: "acme") { name }
                users(organizationId: $org) { totalCount }
                deletedUsers: users(organizationId: $org, includeDeleted: true) { totalCount }
                posts(organizationId: $org) { totalCount }
                deletedPosts: posts(organizationId: $org, includeDeleted: true) { totalCount }
            }"#,
            json!({ "org": org.to_string() }),
            Some(&platform),
        )
        .await;
    assert_eq!(data["live"]["totalCount"], 0);
    assert_eq!(data["all"]["totalCount"], 1);
    assert_eq!(data["all"]["edges"][0]["node"]["slug"], "acme");
    assert!(data["all"]["edges"][0]["node"]["deletedAt"].is_string());
    assert!(data["byId"].is_null());
    assert!(data["bySlug"].is_null());
    assert_eq!(data["users"]["totalCount"], 0);
    assert_eq!(data["deletedUsers"]["totalCount"], 3);
    assert_eq!(data["posts"]["totalCount"], 0);
    assert_eq!(data["deletedPosts"]["totalCount"], 2);
    let anonymous = app
        .ok(
            "{ organizations { totalCount } posts { totalCount } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        anonymous,
        json!({ "organizations": { "totalCount": 0 }, "posts": { "totalCount": 0 } })
    );
    // Its users can no longer sign in.
    let (code, _) = app
        .err("{ viewer { username } }", json!({}), Some(&bob_token))
        .await;
    assert_eq!(code, "UNAUTHENTICATED");
}

/// Copies post `template` `n` times in one statement (the test's own SQL, not the API:
/// thousands of `createPost` calls would be the slow part of the test).
async fn copy_post(db: &impl sea_orm::ConnectionTrait, template: i64, n: i64) {
    let sql = format!(
        "INSERT INTO posts (user_id, organization_id, title, slug, content, status, view_count, created_at, updated_at) \
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) \
         SELECT p.user_id, p.organization_id, p.title || n.i, p.slug || '-copy-' || n.i, p.content, p.status, 0, \
         p.created_at, p.updated_at \
         FROM posts p, n WHERE p.id = {template}"
    );
    db.execute_raw(sea_orm::Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap();
}

async fn audit_entries(app: &TestApp, action: &str, table: &str) -> i64 {
    let data = app
        .ok(
            "query($f: AuditLogFilter) { auditLogs(first: 1, filter: $f) { totalCount } }",
            json!({ "f": { "action": action, "tableName": table } }),
            Some(&app.platform_token()),
        )
        .await;
    data["auditLogs"]["totalCount"].as_i64().unwrap()
}

/// A user with 10,000 posts and an organization with 20,000 rows can be soft-deleted and
/// restored, with one audit entry per row (it failed with `INTERNAL` once the audit
/// entries outgrew one `INSERT`'s bind parameters).
#[tokio::test]
async fn large_cascades_delete_and_restore_with_every_audit_entry() {
    let app = TestApp::spawn().await;
    let platform = app.platform_token();
    let org = app.create_org("Big", "big").await;
    let admin = app.create_user(org, "admin", "ADMIN").await;
    let writer = app.create_user(org, "writer", "MEMBER").await;
    let other = app.create_user(org, "other", "MEMBER").await;
    let first = app.create_post(writer, "post", "PUBLISHED").await;
    let second = app.create_post(other, "post", "DRAFT").await;
    let db = sea_orm::Database::connect(&app.database_url).await.unwrap();
    copy_post(&db, first, 9_999).await;
    copy_post(&db, second, 9_996).await;
    db.close().await.unwrap();

    let timed = |mutation: &'static str, id: i64| {
        let app = &app;
        let platform = &platform;
        async move {
            let started = std::time::Instant::now();
            let deleted_at = mutate(app, mutation, id, platform).await;
            eprintln!("{mutation}({id}) on {:?}: {:?}", app.backend, started.elapsed());
            deleted_at
        }
    };
    assert!(timed("softDeleteUser", writer).await.is_string());
    assert_eq!(audit_entries(&app, "DELETE", "posts").await, 10_000);
    assert!(timed("restoreUser", writer).await.is_null());
    assert_eq!(audit_entries(&app, "RESTORE", "posts").await, 10_000);

    // 1 organization + 3 users + 19,997 posts.
    assert!(timed("softDeleteOrganization", org).await.is_string());
    assert_eq!(audit_entries(&app, "DELETE", "posts").await, 29_997);
    assert_eq!(audit_entries(&app, "DELETE", "users").await, 4);
    assert!(timed("restoreOrganization", org).await.is_null());
    assert_eq!(audit_entries(&app, "RESTORE", "posts").await, 29_997);
    let data = app
        .ok(
            "query($id: ID!) { organization(id: $id) { posts(first: 1) { totalCount } users(first: 1) { totalCount } } }",
            json!({ "id": org.to_string() }),
            Some(&app.user_token(admin)),
        )
        .await;
    assert_eq!(data["organization"]["posts"]["totalCount"], 19_997, "{data}");
    assert_eq!(data["organization"]["users"]["totalCount"], 3, "{data}");
}
