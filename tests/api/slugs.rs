//! Post slugs, excerpts, featured posts and `publishedAt` (API.md "Slugs" and
//! "Publishing"), and the migration that backfills slugs of existing posts.
use serde_json::{Value, json};

use crate::helpers::TestApp;

const CREATE: &str = "mutation($i: CreatePostInput!) { createPost(input: $i) { databaseId slug excerpt featured publishedAt } }";
const UPDATE: &str = "mutation($i: UpdatePostInput!) { updatePost(input: $i) { slug status publishedAt } }";

async fn create(app: &TestApp, input: Value) -> Value {
    app.ok(CREATE, json!({ "i": input }), Some(&app.platform_token()))
        .await["createPost"]
        .clone()
}

fn code_and_field(body: &Value) -> (String, String) {
    let ext = &body["errors"][0]["extensions"];
    (
        ext["code"].as_str().unwrap_or("").to_owned(),
        ext["field"].as_str().unwrap_or("").to_owned(),
    )
}

#[tokio::test]
async fn slugs_are_derived_unique_per_organization_and_validated() {
    let app = TestApp::spawn().await;
    let acme = app.create_org("Acme", "acme").await;
    let other = app.create_org("Other", "other").await;
    let alice = app.create_user(acme, "alice", "MEMBER").await;
    let olga = app.create_user(other, "olga", "MEMBER").await;
    let by = |author: i64, title: &str| json!({ "title": title, "authorId": author.to_string() });

    assert_eq!(
        create(&app, by(alice, "Hello, World!")).await["slug"],
        "hello-world"
    );
    assert_eq!(
        create(&app, by(alice, "hello world")).await["slug"],
        "hello-world-2"
    );
    assert_eq!(
        create(&app, by(alice, "  Crème brûlée — à la carte ")).await["slug"],
        "creme-brulee-a-la-carte"
    );
    assert_eq!(create(&app, by(alice, "!!!")).await["slug"], "post");
    // Another organization has its own slugs.
    assert_eq!(
        create(&app, by(olga, "Hello, World!")).await["slug"],
        "hello-world"
    );

    let mut explicit = by(alice, "Anything");
    explicit["slug"] = json!("hello-world");
    let body = app
        .gql(CREATE, json!({ "i": explicit }), Some(&app.platform_token()))
        .await;
    assert_eq!(
        code_and_field(&body),
        ("CONFLICT".into(), "slug".into()),
        "{body}"
    );
    for bad in ["Hello", "a--b", "-a", "a b", ""] {
        let mut input = by(alice, "T");
        input["slug"] = json!(bad);
        let body = app
            .gql(CREATE, json!({ "i": input }), Some(&app.platform_token()))
            .await;
        assert_eq!(
            code_and_field(&body),
            ("BAD_USER_INPUT".into(), "slug".into()),
            "{bad}: {body}"
        );
    }
    let mut long = by(alice, "T");
    long["excerpt"] = json!("x".repeat(501));
    let body = app
        .gql(CREATE, json!({ "i": long }), Some(&app.platform_token()))
        .await;
    assert_eq!(
        code_and_field(&body),
        ("BAD_USER_INPUT".into(), "excerpt".into()),
        "{body}"
    );
    let nothing_written = app
        .ok(
            "{ posts(first: 1) { totalCount } }",
            json!({}),
            Some(&app.platform_token()),
        )
        .await;
    assert_eq!(nothing_written["posts"]["totalCount"], 5);

    // A new title keeps the slug; an explicit one changes it (and is checked).
    let post = create(&app, by(alice, "First title")).await;
    let id = post["databaseId"].to_string();
    let data = app
        .ok(
            UPDATE,
            json!({ "i": { "id": id, "title": "Second title" } }),
            Some(&app.platform_token()),
        )
        .await;
    assert_eq!(data["updatePost"]["slug"], "first-title");
    let body = app
        .gql(
            UPDATE,
            json!({ "i": { "id": id, "slug": "hello-world" } }),
            Some(&app.platform_token()),
        )
        .await;
    assert_eq!(
        code_and_field(&body),
        ("CONFLICT".into(), "slug".into()),
        "{body}"
    );
}

#[tokio::test]
async fn a_post_is_read_by_its_organization_and_slug() {
    let app = TestApp::spawn().await;
    let acme = app.create_org("Acme", "acme").await;
    let alice = app.create_user(acme, "alice", "MEMBER").await;
    let draft = json!({ "title": "Draft post", "authorId": alice.to_string() });
    create(&app, draft).await;
    let published = json!({ "title": "Hello", "authorId": alice.to_string(), "status": "PUBLISHED",
                            "excerpt": "  A short summary  ", "featured": true });
    let post = create(&app, published).await;
    assert_eq!(post["excerpt"], "A short summary");
    assert_eq!(post["featured"], true);

    let query = "query($s: String!) { organization(slug: \"acme\") { post(slug: $s) { title slug excerpt featured } } }";
    let anonymous = app.ok(query, json!({ "s": "hello" }), None).await;
    assert_eq!(anonymous["organization"]["post"]["title"], "Hello");
    // Anonymous callers see published posts only; unknown slugs are null.
    let hidden = app.ok(query, json!({ "s": "draft-post" }), None).await;
    assert!(hidden["organization"]["post"].is_null(), "{hidden}");
    let member = app
        .ok(query, json!({ "s": "draft-post" }), Some(&app.user_token(alice)))
        .await;
    assert_eq!(member["organization"]["post"]["title"], "Draft post");
    let missing = app.ok(query, json!({ "s": "nope" }), None).await;
    assert!(missing["organization"]["post"].is_null());

    let featured = app
        .ok(
            "{ posts(filter: {featured: true}) { nodes { slug } } }",
            json!({}),
            Some(&app.platform_token()),
        )
        .await;
    assert_eq!(featured["posts"]["nodes"], json!([{ "slug": "hello" }]));
}

#[tokio::test]
async fn published_at_is_set_once_and_orders_published_posts() {
    let app = TestApp::spawn().await;
    let acme = app.create_org("Acme", "acme").await;
    let alice = app.create_user(acme, "alice", "MEMBER").await;
    let token = app.platform_token();
    let draft = create(&app, json!({ "title": "Later", "authorId": alice.to_string() })).await;
    assert!(draft["publishedAt"].is_null());
    let first = create(
        &app,
        json!({ "title": "First", "authorId": alice.to_string(), "status": "PUBLISHED" }),
    )
    .await;
    assert!(first["publishedAt"].is_string());

    let id = draft["databaseId"].to_string();
    let published = app
        .ok(
            UPDATE,
            json!({ "i": { "id": id, "status": "PUBLISHED" } }),
            Some(&token),
        )
        .await;
    let at = published["updatePost"]["publishedAt"].clone();
    assert!(at.is_string(), "{published}");
    let back = app
        .ok(
            UPDATE,
            json!({ "i": { "id": id, "status": "DRAFT" } }),
            Some(&token),
        )
        .await;
    assert_eq!(
        back["updatePost"]["publishedAt"], at,
        "kept when it goes back to draft"
    );
    let again = app
        .ok(
            UPDATE,
            json!({ "i": { "id": id, "status": "PUBLISHED" } }),
            Some(&token),
        )
        .await;
    assert_eq!(
        again["updatePost"]["publishedAt"], at,
        "the first publication time stays"
    );

    create(&app, json!({ "title": "Never", "authorId": alice.to_string() })).await;
    let list = app
        .ok(
            "{ posts(orderBy: {field: PUBLISHED_AT, direction: DESC}, first: 1) { totalCount edges { node { title } } pageInfo { endCursor } } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(list["posts"]["totalCount"], 2, "only published posts: {list}");
    assert_eq!(list["posts"]["edges"][0]["node"]["title"], "Later");
    let cursor = list["posts"]["pageInfo"]["endCursor"].clone();
    let next = app
        .ok(
            "query($c: String) { posts(orderBy: {field: PUBLISHED_AT, direction: DESC}, first: 5, after: $c) { nodes { title } } }",
            json!({ "c": cursor }),
            Some(&token),
        )
        .await;
    assert_eq!(next["posts"]["nodes"], json!([{ "title": "First" }]));
}

async fn restore_entry(app: &TestApp, post: i64) -> Value {
    let data = app
        .ok(
            "query($r: Int!) { auditLogs(filter: {tableName: \"posts\", recordId: $r, action: RESTORE}) { nodes { oldValues newValues } } }",
            json!({ "r": post }),
            Some(&app.platform_token()),
        )
        .await;
    data["auditLogs"]["nodes"][0].clone()
}

#[tokio::test]
async fn a_restored_post_whose_slug_was_taken_gets_the_next_free_one() {
    let app = TestApp::spawn().await;
    let token = app.platform_token();
    let acme = app.create_org("Acme", "acme").await;
    let alice = app.create_user(acme, "alice", "MEMBER").await;
    let bob = app.create_user(acme, "bob", "MEMBER").await;
    let post = |author: i64| json!({ "title": "Hello", "authorId": author.to_string() });

    // The post's own restore.
    let old = create(&app, post(alice)).await["databaseId"].as_i64().unwrap();
    let mutate = |name: &'static str, id: i64| {
        let (app, token) = (&app, &token);
        async move {
            let query = format!("mutation($id: ID!) {{ {name}(input: {{id: $id}}) {{ id }} }}");
            app.ok(&query, json!({ "id": id.to_string() }), Some(token)).await
        }
    };
    mutate("softDeletePost", old).await;
    assert_eq!(create(&app, post(bob)).await["slug"], "hello");
    create(
        &app,
        json!({ "title": "x", "slug": "hello-2", "authorId": bob.to_string() }),
    )
    .await;
    let restored = app
        .ok(
            "mutation($id: ID!) { restorePost(input: {id: $id}) { slug deletedAt } }",
            json!({ "id": old.to_string() }),
            Some(&token),
        )
        .await;
    assert_eq!(restored["restorePost"]["slug"], "hello-3", "{restored}");
    let entry = restore_entry(&app, old).await;
    assert_eq!(entry["oldValues"]["slug"], "hello");
    assert_eq!(
        entry["newValues"],
        json!({ "deleted_at": null, "slug": "hello-3" })
    );

    // A cascade's restore: alice's post comes back under a free slug too.
    let cascaded =
        create(&app, json!({ "title": "Notes", "authorId": alice.to_string() })).await["databaseId"]
            .as_i64()
            .unwrap();
    mutate("softDeleteUser", alice).await;
    assert_eq!(
        create(&app, json!({ "title": "Notes", "authorId": bob.to_string() })).await["slug"],
        "notes"
    );
    mutate("restoreUser", alice).await;
    let data = app
        .ok(
            "query($id: ID!) { post(id: $id) { slug deletedAt } }",
            json!({ "id": cascaded.to_string() }),
            Some(&token),
        )
        .await;
    assert_eq!(data["post"]["slug"], "notes-2", "{data}");
    assert!(data["post"]["deletedAt"].is_null());
    let entry = restore_entry(&app, cascaded).await;
    assert_eq!(
        entry["newValues"],
        json!({ "deleted_at": null, "slug": "notes-2" })
    );
    // A post whose slug was free (alice's first, cascaded too) comes back unchanged, with
    // the plain entry.
    let entry = restore_entry(&app, old).await;
    assert_eq!(entry["newValues"], json!({ "deleted_at": null }), "{entry}");
}

/// Posts written before the slug migration get slugs from their titles (unique per
/// organization, live posts first) and, when published, `publishedAt` = `createdAt`.
#[tokio::test]
async fn the_migration_backfills_slugs_and_publication_times() {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::{ConnectionTrait, Database, Statement};

    let app = TestApp::spawn_with(&["--no-migrate"]).await;
    let db = Database::connect(&app.database_url).await.unwrap();
    Migrator::up(&db, Some(6)).await.unwrap();
    let backend = db.get_database_backend();
    let now = match backend {
        sea_orm::DbBackend::Postgres => "now()",
        _ => "'2026-12-01 08:00:00.000000+00:00'",
    };
    for sql in [
        format!(
            "INSERT INTO organizations (name, slug, plan, is_active, created_at, updated_at) VALUES ('A', 'a', 'free', true, {now}, {now})"
        ),
        format!(
            "INSERT INTO users (username, email, is_active, organization_id, role, created_at, updated_at) VALUES ('u', 'u@example.com', true, 1, 'member', {now}, {now})"
        ),
        format!(
            "INSERT INTO posts (user_id, organization_id, title, status, view_count, created_at, updated_at, deleted_at) VALUES (1, 1, 'Hello World', 'draft', 0, {now}, {now}, {now})"
        ),
        format!(
            "INSERT INTO posts (user_id, organization_id, title, status, view_count, created_at, updated_at) VALUES (1, 1, 'Hello World', 'published', 0, {now}, {now})"
        ),
        format!(
            "INSERT INTO posts (user_id, organization_id, title, status, view_count, created_at, updated_at) VALUES (1, 1, 'Hello  world!', 'draft', 0, {now}, {now})"
        ),
    ] {
        db.execute_raw(Statement::from_string(backend, sql))
            .await
            .unwrap();
    }
    Migrator::up(&db, None).await.unwrap();
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT id, slug, published_at IS NOT NULL FROM posts ORDER BY id",
        ))
        .await
        .unwrap();
    let got: Vec<(i32, String, bool)> = rows
        .iter()
        .map(|r| {
            (
                r.try_get_by_index(0).unwrap(),
                r.try_get_by_index(1).unwrap(),
                r.try_get_by_index(2).unwrap(),
            )
        })
        .collect();
    // Live posts first: the published one keeps `hello-world`; the deleted one comes last.
    assert_eq!(
        got,
        vec![
            (1, "hello-world-3".to_owned(), false),
            (2, "hello-world".to_owned(), true),
            (3, "hello-world-2".to_owned(), false),
        ]
    );
    db.close().await.unwrap();
}
