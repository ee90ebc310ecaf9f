//! Tags (API.md "Tags", "Slugs"): CRUD and permissions, slugs and name conflicts, a post's
//! `tagIds` (order, replace, refusals, audit), tenancy, what anonymous callers see,
//! `postCount`, soft delete keeping links, the organization cascade, and tag lists.
use serde_json::{Value, json};

use crate::helpers::{TestApp, global_id};

const CREATE_TAG: &str =
    "mutation($i: CreateTagInput!) { createTag(input: $i) { id databaseId name slug description } }";
const UPDATE_TAG: &str = "mutation($i: UpdateTagInput!) { updateTag(input: $i) { name slug description } }";
const CREATE_POST: &str =
    "mutation($i: CreatePostInput!) { createPost(input: $i) { databaseId tags { databaseId name } } }";
const UPDATE_POST: &str =
    "mutation($i: UpdatePostInput!) { updatePost(input: $i) { databaseId tags { databaseId name } } }";
const POST_TAGS: &str = "query($id: ID!) { post(id: $id) { tags { databaseId name } } }";

fn code_and_field(body: &Value) -> (String, String) {
    let ext = &body["errors"][0]["extensions"];
    (
        ext["code"].as_str().unwrap_or("").to_owned(),
        ext["field"].as_str().unwrap_or("").to_owned(),
    )
}

async fn create_tag(app: &TestApp, token: &str, org: i64, name: &str) -> Value {
    app.ok(
        CREATE_TAG,
        json!({ "i": { "name": name, "organizationId": org.to_string() } }),
        Some(token),
    )
    .await["createTag"]
        .clone()
}

async fn tag_id(app: &TestApp, org: i64, name: &str) -> i64 {
    create_tag(app, &app.platform_token(), org, name).await["databaseId"]
        .as_i64()
        .unwrap()
}

/// The names of a post's tags as `token` reads them.
async fn tag_names(app: &TestApp, post: i64, token: Option<&str>) -> Vec<String> {
    let data = app.ok(POST_TAGS, json!({ "id": post.to_string() }), token).await;
    data["post"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn set_tags(app: &TestApp, post: i64, tags: &[i64], token: &str) -> Value {
    let ids: Vec<String> = tags.iter().map(|t| global_id("Tag", *t)).collect();
    app.gql(
        UPDATE_POST,
        json!({ "i": { "id": post.to_string(), "tagIds": ids } }),
        Some(token),
    )
    .await
}

/// The audit entries of `table`, oldest first: `(action, recordId, oldValues, newValues)`.
async fn audit(app: &TestApp, table: &str) -> Vec<(String, i64, Value, Value)> {
    let data = app
        .ok(
            "query($t: String!) { auditLogs(first: 100, filter: {tableName: $t}) { edges { node { action recordId oldValues newValues } } } }",
            json!({ "t": table }),
            Some(&app.platform_token()),
        )
        .await;
    let mut entries: Vec<_> = data["auditLogs"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let n = &e["node"];
            (
                n["action"].as_str().unwrap().to_owned(),
                n["recordId"].as_i64().unwrap(),
                n["oldValues"].clone(),
                n["newValues"].clone(),
            )
        })
        .collect();
    entries.reverse();
    entries
}

#[tokio::test]
async fn admins_write_tags_and_members_attach_them() {
    let app = TestApp::spawn().await;
    let acme = app.create_org("Acme", "acme").await;
    let other = app.create_org("Other", "other").await;
    let admin = app.user_token(app.create_user(acme, "admin", "ADMIN").await);
    let alice_id = app.create_user(acme, "alice", "MEMBER").await;
    let alice = app.user_token(alice_id);
    let platform = app.platform_token();

    // An org admin creates in their organization by default.
    let data = app
        .ok(
            CREATE_TAG,
            json!({ "i": { "name": "  Rust Lang ", "description": "Systems" } }),
            Some(&admin),
        )
        .await;
    let rust = &data["createTag"];
    assert_eq!(rust["name"], "Rust Lang");
    assert_eq!(rust["slug"], "rust-lang");
    assert_eq!(rust["description"], "Systems");
    let rust_id = rust["databaseId"].as_i64().unwrap();
    assert_eq!(rust["id"], global_id("Tag", rust_id));

    // Members cannot write tags; anonymous callers must sign in; a platform admin names
    // the organization; an org admin cannot reach another organization.
    let input = json!({ "i": { "name": "Go" } });
    assert_eq!(
        app.err(CREATE_TAG, input.clone(), Some(&alice)).await.0,
        "FORBIDDEN"
    );
    assert_eq!(
        app.err(CREATE_TAG, input.clone(), None).await.0,
        "UNAUTHENTICATED"
    );
    let body = app.gql(CREATE_TAG, input, Some(&platform)).await;
    assert_eq!(
        code_and_field(&body),
        ("BAD_USER_INPUT".into(), "organizationId".into())
    );
    let foreign = json!({ "i": { "name": "Go", "organizationId": other.to_string() } });
    assert_eq!(app.err(CREATE_TAG, foreign, Some(&admin)).await.0, "NOT_FOUND");
    let update = json!({ "i": { "id": rust_id.to_string(), "name": "Rust" } });
    assert_eq!(
        app.err(UPDATE_TAG, update.clone(), Some(&alice)).await.0,
        "FORBIDDEN"
    );

    // Update: the name changes, the slug stays; null clears the description.
    let data = app
        .ok(
            UPDATE_TAG,
            json!({ "i": { "id": rust_id.to_string(), "name": "Rust", "description": null } }),
            Some(&admin),
        )
        .await;
    assert_eq!(
        data["updateTag"],
        json!({ "name": "Rust", "slug": "rust-lang", "description": null })
    );

    // A member tags their own post with the organization's tags.
    let go = tag_id(&app, acme, "Go").await;
    let data = app
        .ok(
            CREATE_POST,
            json!({ "i": { "title": "Mine", "tagIds": [go.to_string(), global_id("Tag", rust_id)] } }),
            Some(&alice),
        )
        .await;
    assert_eq!(
        data["createPost"]["tags"],
        json!([{ "databaseId": go, "name": "Go" }, { "databaseId": rust_id, "name": "Rust" }])
    );
    let post = data["createPost"]["databaseId"].as_i64().unwrap();
    assert!(
        set_tags(&app, post, &[rust_id], &alice)
            .await
            .get("errors")
            .is_none()
    );
    assert_eq!(tag_names(&app, post, Some(&alice)).await, ["Rust"]);
    // …but not another author's post.
    let bob = app.user_token(app.create_user(acme, "bob", "MEMBER").await);
    let body = set_tags(&app, post, &[go], &bob).await;
    assert_eq!(code_and_field(&body).0, "FORBIDDEN", "{body}");

    // Soft delete and restore, by org admins; the usual NOT_FOUND / BAD_USER_INPUT.
    let delete = "mutation($id: ID!) { softDeleteTag(input: {id: $id}) { deletedAt } }";
    let restore = "mutation($id: ID!) { restoreTag(input: {id: $id}) { deletedAt } }";
    let id = json!({ "id": go.to_string() });
    assert_eq!(app.err(delete, id.clone(), Some(&alice)).await.0, "FORBIDDEN");
    assert!(app.ok(delete, id.clone(), Some(&admin)).await["softDeleteTag"]["deletedAt"].is_string());
    assert_eq!(app.err(delete, id.clone(), Some(&admin)).await.0, "NOT_FOUND");
    let update_deleted = json!({ "i": { "id": go.to_string(), "name": "Golang" } });
    assert_eq!(
        app.err(UPDATE_TAG, update_deleted, Some(&admin)).await.0,
        "NOT_FOUND"
    );
    assert!(app.ok(restore, id.clone(), Some(&admin)).await["restoreTag"]["deletedAt"].is_null());
    let body = app.gql(restore, id, Some(&admin)).await;
    assert_eq!(code_and_field(&body), ("BAD_USER_INPUT".into(), "id".into()));
}

#[tokio::test]
async fn tag_slugs_and_names_are_unique_per_organization() {
    let app = TestApp::spawn().await;
    let platform = app.platform_token();
    let acme = app.create_org("Acme", "acme").await;
    let other = app.create_org("Other", "other").await;
    assert_eq!(
        create_tag(&app, &platform, acme, "Crème Brûlée").await["slug"],
        "creme-brulee"
    );
    assert_eq!(
        create_tag(&app, &platform, acme, "Creme  brulee!").await["slug"],
        "creme-brulee-2"
    );
    assert_eq!(create_tag(&app, &platform, acme, "???").await["slug"], "tag");
    assert_eq!(
        create_tag(&app, &platform, other, "Crème Brûlée").await["slug"],
        "creme-brulee"
    );

    let create = |input: Value| {
        let app = &app;
        let platform = platform.clone();
        async move {
            let mut input = input;
            input["organizationId"] = json!(acme.to_string());
            code_and_field(&app.gql(CREATE_TAG, json!({ "i": input }), Some(&platform)).await)
        }
    };
    let conflict = |field: &str| ("CONFLICT".to_owned(), field.to_owned());
    let bad = |field: &str| ("BAD_USER_INPUT".to_owned(), field.to_owned());
    // Names ignore case (ASCII case on SQLite, whose lower() folds only ASCII); another
    // organization has its own.
    assert_eq!(
        create(json!({ "name": "CREME  BRULEE!" })).await,
        conflict("name")
    );
    assert_eq!(
        create(json!({ "name": "New", "slug": "tag" })).await,
        conflict("slug")
    );
    assert_eq!(create(json!({ "name": " " })).await, bad("name"));
    assert_eq!(create(json!({ "name": "x".repeat(51) })).await, bad("name"));
    assert_eq!(
        create(json!({ "name": "x".repeat(50) })).await,
        ("".into(), "".into())
    );
    assert_eq!(
        create(json!({ "name": "A", "slug": "x".repeat(61) })).await,
        bad("slug")
    );
    assert_eq!(
        create(json!({ "name": "A", "slug": "Not-A-Slug" })).await,
        bad("slug")
    );
    assert_eq!(
        create(json!({ "name": "A", "description": "d".repeat(501) })).await,
        bad("description")
    );

    // Renaming onto a taken name is CONFLICT too.
    let tag = create_tag(&app, &platform, acme, "Unique").await;
    let body = app
        .gql(
            UPDATE_TAG,
            json!({ "i": { "id": tag["id"], "name": "unique " } }),
            Some(&platform),
        )
        .await;
    assert!(
        body.get("errors").is_none(),
        "the tag's own name, recased: {body}"
    );
    let body = app
        .gql(
            UPDATE_TAG,
            json!({ "i": { "id": tag["id"], "name": "tag" } }),
            Some(&platform),
        )
        .await;
    assert_eq!(
        code_and_field(&body),
        ("".into(), "".into()),
        "no tag is named `tag`: {body}"
    );
    let body = app
        .gql(
            UPDATE_TAG,
            json!({ "i": { "id": tag["id"], "name": "???" } }),
            Some(&platform),
        )
        .await;
    assert_eq!(code_and_field(&body), conflict("name"));

    // A deleted tag frees its name and slug; its restore takes the next free slug and
    // records it; a name taken meanwhile is CONFLICT.
    let old = create_tag(&app, &platform, acme, "Rust").await;
    let old_id = old["databaseId"].as_i64().unwrap();
    let delete = "mutation($id: ID!) { softDeleteTag(input: {id: $id}) { id } }";
    let restore = "mutation($id: ID!) { restoreTag(input: {id: $id}) { slug deletedAt } }";
    app.ok(delete, json!({ "id": old["id"] }), Some(&platform)).await;
    let newer = app
        .ok(
            CREATE_TAG,
            json!({ "i": { "name": "Rust language", "slug": "rust", "organizationId": acme.to_string() } }),
            Some(&platform),
        )
        .await;
    assert_eq!(newer["createTag"]["slug"], "rust");
    let data = app.ok(restore, json!({ "id": old["id"] }), Some(&platform)).await;
    assert_eq!(data["restoreTag"], json!({ "slug": "rust-2", "deletedAt": null }));
    let last = audit(&app, "tags").await.pop().unwrap();
    assert_eq!((last.0.as_str(), last.1), ("RESTORE", old_id));
    assert_eq!(last.2["slug"], "rust");
    assert_eq!(last.3, json!({ "deleted_at": null, "slug": "rust-2" }));

    app.ok(delete, json!({ "id": old["id"] }), Some(&platform)).await;
    create_tag(&app, &platform, acme, "RUST").await;
    let body = app
        .gql(restore, json!({ "id": old["id"] }), Some(&platform))
        .await;
    assert_eq!(code_and_field(&body), conflict("name"));
}

#[tokio::test]
async fn tag_ids_set_the_tags_in_order_and_replace_them() {
    let app = TestApp::spawn().await;
    let platform = app.platform_token();
    let acme = app.create_org("Acme", "acme").await;
    let other = app.create_org("Other", "other").await;
    let alice = app.create_user(acme, "alice", "MEMBER").await;
    let token = app.user_token(alice);
    let [a, b, c] = [
        tag_id(&app, acme, "A").await,
        tag_id(&app, acme, "B").await,
        tag_id(&app, acme, "C").await,
    ];
    let foreign = tag_id(&app, other, "Foreign").await;
    let deleted = tag_id(&app, acme, "Deleted").await;
    app.ok(
        "mutation($id: ID!) { softDeleteTag(input: {id: $id}) { id } }",
        json!({ "id": deleted.to_string() }),
        Some(&platform),
    )
    .await;

    let data = app
        .ok(
            CREATE_POST,
            json!({ "i": { "title": "Post", "tagIds": [c.to_string(), a.to_string()] } }),
            Some(&token),
        )
        .await;
    let post = data["createPost"]["databaseId"].as_i64().unwrap();
    assert_eq!(tag_names(&app, post, Some(&token)).await, ["C", "A"]);
    let created = audit(&app, "post_tags").await;
    assert_eq!(
        created,
        [
            (
                "CREATE".to_owned(),
                post,
                Value::Null,
                json!({ "post_id": post, "tag_id": c })
            ),
            (
                "CREATE".to_owned(),
                post,
                Value::Null,
                json!({ "post_id": post, "tag_id": a })
            ),
        ]
    );

    // Replace: C removed, B added in its place; A keeps its place (no entry).
    assert!(
        set_tags(&app, post, &[b, a], &token)
            .await
            .get("errors")
            .is_none()
    );
    assert_eq!(tag_names(&app, post, Some(&token)).await, ["B", "A"]);
    let entries = audit(&app, "post_tags").await;
    assert_eq!(
        entries[2..],
        [
            (
                "DELETE".to_owned(),
                post,
                json!({ "post_id": post, "tag_id": c }),
                Value::Null
            ),
            (
                "CREATE".to_owned(),
                post,
                Value::Null,
                json!({ "post_id": post, "tag_id": b })
            ),
        ]
    );
    // The same set in a new order: positions only, one UPDATE entry per moved link.
    let before = audit(&app, "post_tags").await.len();
    assert!(
        set_tags(&app, post, &[a, b], &token)
            .await
            .get("errors")
            .is_none()
    );
    assert_eq!(tag_names(&app, post, Some(&token)).await, ["A", "B"]);
    let entries = audit(&app, "post_tags").await;
    assert_eq!(entries.len(), before + 2);
    assert!(entries[before..].iter().all(|e| e.0 == "UPDATE"), "{entries:?}");
    let moved_a = entries[before..].iter().find(|e| e.2["tag_id"] == a).unwrap();
    assert_eq!(moved_a.2, json!({ "post_id": post, "tag_id": a, "position": 1 }));
    assert_eq!(moved_a.3, json!({ "post_id": post, "tag_id": a, "position": 0 }));
    // The same list again writes nothing; a title change leaves the tags alone.
    assert!(
        set_tags(&app, post, &[a, b], &token)
            .await
            .get("errors")
            .is_none()
    );
    app.ok(
        UPDATE_POST,
        json!({ "i": { "id": post.to_string(), "title": "Renamed" } }),
        Some(&token),
    )
    .await;
    assert_eq!(audit(&app, "post_tags").await.len(), before + 2);
    assert_eq!(tag_names(&app, post, Some(&token)).await, ["A", "B"]);

    // Refused, with nothing written: foreign, deleted and unknown tags read alike;
    // repeats and more than 20.
    let posts_audit = audit(&app, "posts").await.len();
    let unknown = 999_999;
    let mut messages = Vec::new();
    for bad in [vec![a, foreign], vec![deleted], vec![unknown]] {
        let body = set_tags(&app, post, &bad, &token).await;
        assert_eq!(
            code_and_field(&body),
            ("BAD_USER_INPUT".into(), "tagIds".into()),
            "{body}"
        );
        messages.push(body["errors"][0]["message"].clone());
        let body = app
            .gql(
                CREATE_POST,
                json!({ "i": { "title": "Refused", "tagIds": bad.iter().map(|t| t.to_string()).collect::<Vec<_>>() } }),
                Some(&token),
            )
            .await;
        assert_eq!(
            code_and_field(&body),
            ("BAD_USER_INPUT".into(), "tagIds".into()),
            "{body}"
        );
    }
    assert!(messages.windows(2).all(|w| w[0] == w[1]), "{messages:?}");
    let body = set_tags(&app, post, &[a, a], &token).await;
    assert_eq!(code_and_field(&body), ("BAD_USER_INPUT".into(), "tagIds".into()));
    let many: Vec<i64> = (1..=21).collect();
    let body = set_tags(&app, post, &many, &token).await;
    assert_eq!(code_and_field(&body), ("BAD_USER_INPUT".into(), "tagIds".into()));
    let body = app
        .gql(
            UPDATE_POST,
            json!({ "i": { "id": post.to_string(), "title": "Not this", "tagIds": [foreign.to_string()] } }),
            Some(&token),
        )
        .await;
    assert_eq!(code_and_field(&body), ("BAD_USER_INPUT".into(), "tagIds".into()));
    assert_eq!(tag_names(&app, post, Some(&token)).await, ["A", "B"]);
    assert_eq!(audit(&app, "post_tags").await.len(), before + 2);
    assert_eq!(audit(&app, "posts").await.len(), posts_audit);
    let data = app
        .ok(
            "query($id: ID!) { post(id: $id) { title } posts { totalCount } }",
            json!({ "id": post.to_string() }),
            Some(&token),
        )
        .await;
    assert_eq!(
        data,
        json!({ "post": { "title": "Renamed" }, "posts": { "totalCount": 1 } })
    );

    // `[]` removes every tag.
    assert!(set_tags(&app, post, &[], &token).await.get("errors").is_none());
    assert!(tag_names(&app, post, Some(&token)).await.is_empty());
}

#[tokio::test]
async fn tags_never_cross_organizations() {
    let app = TestApp::spawn().await;
    let acme = app.create_org("Acme", "acme").await;
    let other = app.create_org("Other", "other").await;
    let alice = app.create_user(acme, "alice", "ADMIN").await;
    let olga = app.create_user(other, "olga", "MEMBER").await;
    let token = app.user_token(alice);
    let theirs = tag_id(&app, other, "Theirs").await;
    let ours = tag_id(&app, acme, "Ours").await;
    let post = app.create_post(olga, "Tagged", "PUBLISHED").await;
    assert!(
        set_tags(&app, post, &[theirs], &app.platform_token())
            .await
            .get("errors")
            .is_none()
    );

    let read = "query($id: ID!, $g: ID!) { tag(id: $id) { name } node(id: $g) { id } }";
    let data = app
        .ok(
            read,
            json!({ "id": theirs.to_string(), "g": global_id("Tag", theirs) }),
            Some(&token),
        )
        .await;
    assert_eq!(data, json!({ "tag": null, "node": null }));
    let data = app
        .ok(
            read,
            json!({ "id": ours.to_string(), "g": global_id("Tag", ours) }),
            Some(&token),
        )
        .await;
    assert_eq!(data["tag"]["name"], "Ours");
    assert_eq!(data["node"]["id"], global_id("Tag", ours));
    let filtered = "query($t: ID) { posts(filter: {tagId: $t}) { totalCount } }";
    let data = app
        .ok(filtered, json!({ "t": theirs.to_string() }), Some(&token))
        .await;
    assert_eq!(data["posts"]["totalCount"], 0);
    let data = app
        .ok(
            filtered,
            json!({ "t": theirs.to_string() }),
            Some(&app.platform_token()),
        )
        .await;
    assert_eq!(data["posts"]["totalCount"], 1);
    let data = app
        .ok("{ tags { nodes { name } } }", json!({}), Some(&token))
        .await;
    assert_eq!(data["tags"]["nodes"], json!([{ "name": "Ours" }]));
    let update = json!({ "i": { "id": theirs.to_string(), "name": "Mine" } });
    assert_eq!(app.err(UPDATE_TAG, update, Some(&token)).await.0, "NOT_FOUND");
}

#[tokio::test]
async fn anonymous_callers_see_tags_of_published_posts_and_counts_follow_the_caller() {
    let app = TestApp::spawn().await;
    let acme = app.create_org("Acme", "acme").await;
    let alice = app.create_user(acme, "alice", "MEMBER").await;
    let token = app.user_token(alice);
    let platform = app.platform_token();
    let rust = tag_id(&app, acme, "Rust").await;
    let public = app.create_post(alice, "Public", "PUBLISHED").await;
    let draft = app.create_post(alice, "Draft", "DRAFT").await;
    for post in [public, draft] {
        assert!(
            set_tags(&app, post, &[rust], &platform)
                .await
                .get("errors")
                .is_none()
        );
    }
    assert_eq!(tag_names(&app, public, None).await, ["Rust"]);
    let data = app.ok(POST_TAGS, json!({ "id": draft.to_string() }), None).await;
    assert_eq!(data["post"], Value::Null);

    let page = "{ organization(slug: \"acme\") { tag(slug: \"rust\") { name postCount \
        posts { totalCount nodes { title tags { slug } } } } } }";
    let anonymous = app.ok(page, json!({}), None).await;
    let tag = &anonymous["organization"]["tag"];
    assert_eq!(tag["postCount"], 1);
    assert_eq!(tag["posts"]["totalCount"], 1);
    assert_eq!(
        tag["posts"]["nodes"],
        json!([{ "title": "Public", "tags": [{ "slug": "rust" }] }])
    );
    let member = app.ok(page, json!({}), Some(&token)).await;
    assert_eq!(member["organization"]["tag"]["postCount"], 2);
    assert_eq!(member["organization"]["tag"]["posts"]["totalCount"], 2);
    // A deleted post is not counted.
    app.ok(
        "mutation($id: ID!) { softDeletePost(input: {id: $id}) { id } }",
        json!({ "id": draft.to_string() }),
        Some(&platform),
    )
    .await;
    let member = app.ok(page, json!({}), Some(&token)).await;
    assert_eq!(member["organization"]["tag"]["postCount"], 1);
}

#[tokio::test]
async fn a_soft_deleted_tag_is_hidden_and_keeps_its_links() {
    let app = TestApp::spawn().await;
    let acme = app.create_org("Acme", "acme").await;
    let alice = app.create_user(acme, "alice", "MEMBER").await;
    let token = app.user_token(alice);
    let platform = app.platform_token();
    let [a, b, c] = [
        tag_id(&app, acme, "A").await,
        tag_id(&app, acme, "B").await,
        tag_id(&app, acme, "C").await,
    ];
    let post = app.create_post(alice, "Post", "PUBLISHED").await;
    assert!(
        set_tags(&app, post, &[a, b, c], &token)
            .await
            .get("errors")
            .is_none()
    );
    let links = audit(&app, "post_tags").await.len();
    app.ok(
        "mutation($id: ID!) { softDeleteTag(input: {id: $id}) { id } }",
        json!({ "id": b.to_string() }),
        Some(&platform),
    )
    .await;
    assert_eq!(tag_names(&app, post, Some(&token)).await, ["A", "C"]);
    let hidden = app
        .ok(
            "query($id: ID!, $g: ID!) { tag(id: $id) { id } node(id: $g) { id } \
             organization(slug: \"acme\") { tag(slug: \"b\") { id } tags { totalCount } } \
             posts(filter: {tagId: $id}) { totalCount } }",
            json!({ "id": b.to_string(), "g": global_id("Tag", b) }),
            Some(&token),
        )
        .await;
    assert_eq!(
        hidden,
        json!({ "tag": null, "node": null, "organization": { "tag": null, "tags": { "totalCount": 2 } },
                "posts": { "totalCount": 0 } })
    );
    // Setting the visible tags keeps the hidden link (C moves up: no link is removed);
    // the restore brings B back in place.
    assert!(
        set_tags(&app, post, &[a, c], &token)
            .await
            .get("errors")
            .is_none()
    );
    let entries = audit(&app, "post_tags").await;
    assert!(entries[links..].iter().all(|e| e.0 == "UPDATE"), "{entries:?}");
    app.ok(
        "mutation($id: ID!) { restoreTag(input: {id: $id}) { id } }",
        json!({ "id": b.to_string() }),
        Some(&platform),
    )
    .await;
    assert_eq!(tag_names(&app, post, Some(&token)).await, ["A", "B", "C"]);
    // Admins list deleted tags with includeDeleted; members may not.
    let list = "{ tags(includeDeleted: true) { totalCount } }";
    assert_eq!(app.err(list, json!({}), Some(&token)).await.0, "FORBIDDEN");
    assert_eq!(
        app.ok(list, json!({}), Some(&platform)).await["tags"]["totalCount"],
        3
    );
}

#[tokio::test]
async fn an_organization_cascade_takes_its_tags_and_restores_exactly_those() {
    let app = TestApp::spawn().await;
    let platform = app.platform_token();
    let acme = app.create_org("Acme", "acme").await;
    let other = app.create_org("Other", "other").await;
    let alice = app.create_user(acme, "alice", "MEMBER").await;
    let kept = tag_id(&app, acme, "Kept").await;
    let early = tag_id(&app, acme, "Early").await;
    let foreign = tag_id(&app, other, "Foreign").await;
    let post = app.create_post(alice, "Post", "PUBLISHED").await;
    assert!(
        set_tags(&app, post, &[kept, early], &platform)
            .await
            .get("errors")
            .is_none()
    );
    let mutate = |m: &'static str, id: i64| {
        let (app, platform) = (&app, platform.clone());
        async move {
            let q = format!("mutation($id: ID!) {{ {m}(input: {{id: $id}}) {{ deletedAt }} }}");
            app.ok(&q, json!({ "id": id.to_string() }), Some(&platform)).await[m]["deletedAt"].clone()
        }
    };
    let t_early = mutate("softDeleteTag", early).await;
    let t = mutate("softDeleteOrganization", acme).await;
    let deleted_at = |id: i64| {
        let app = &app;
        let platform = platform.clone();
        async move {
            let data = app
                .ok(
                    "{ tags(first: 100, includeDeleted: true) { nodes { databaseId deletedAt } } }",
                    json!({}),
                    Some(&platform),
                )
                .await;
            data["tags"]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|n| n["databaseId"] == id)
                .unwrap()["deletedAt"]
                .clone()
        }
    };
    assert_eq!(deleted_at(kept).await, t);
    assert_eq!(deleted_at(early).await, t_early);
    assert!(deleted_at(foreign).await.is_null());
    let entries = audit(&app, "tags").await;
    assert!(
        entries
            .iter()
            .any(|e| e.0 == "DELETE" && e.1 == kept && e.3["deleted_at"].is_string()),
        "{entries:?}"
    );
    // A tag of a deleted organization cannot come back on its own.
    let body = app
        .gql(
            "mutation($id: ID!) { restoreTag(input: {id: $id}) { id } }",
            json!({ "id": early.to_string() }),
            Some(&platform),
        )
        .await;
    assert_eq!(code_and_field(&body), ("BAD_USER_INPUT".into(), "id".into()));

    mutate("restoreOrganization", acme).await;
    assert!(deleted_at(kept).await.is_null());
    assert_eq!(deleted_at(early).await, t_early);
    assert_eq!(tag_names(&app, post, Some(&platform)).await, ["Kept"]);
}

#[tokio::test]
async fn tag_lists_search_order_and_page() {
    let app = TestApp::spawn().await;
    let platform = app.platform_token();
    let acme = app.create_org("Acme", "acme").await;
    let alice = app.create_user(acme, "alice", "MEMBER").await;
    let names = ["Beta", "alpha", "100% real", "under_score", "Gamma"];
    let mut ids = Vec::new();
    for name in names {
        ids.push(tag_id(&app, acme, name).await);
    }
    // Post counts: Gamma 3 (one a draft: 2 for anonymous callers), Beta 2, alpha 1.
    for (n, status) in [(3, "PUBLISHED"), (2, "PUBLISHED"), (1, "DRAFT")] {
        let post = app.create_post(alice, &format!("P{n}"), status).await;
        let tags: Vec<i64> = [ids[4], ids[0], ids[1]].into_iter().take(n).collect();
        assert!(
            set_tags(&app, post, &tags, &platform)
                .await
                .get("errors")
                .is_none()
        );
    }
    let query = "query($f: TagFilter, $o: TagOrder, $after: String) { organization(slug: \"acme\") { \
        tags(first: 2, after: $after, filter: $f, orderBy: $o) { totalCount \
        pageInfo { hasNextPage endCursor } nodes { name postCount } } } }";
    let run = |f: Value, o: Value, after: Value, token: Option<String>| {
        let app = &app;
        async move {
            app.ok(query, json!({ "f": f, "o": o, "after": after }), token.as_deref())
                .await["organization"]["tags"]
                .clone()
        }
    };
    let names_of = |page: &Value| -> Vec<String> {
        page["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["name"].as_str().unwrap().to_owned())
            .collect()
    };
    for (search, expected) in [
        ("%", vec!["100% real"]),
        ("_", vec!["under_score"]),
        ("AMM", vec!["Gamma"]),
    ] {
        let page = run(
            json!({ "search": search }),
            Value::Null,
            Value::Null,
            Some(platform.clone()),
        )
        .await;
        assert_eq!(names_of(&page), expected, "{search}");
    }
    // By post count, most first, ties by id, over two pages.
    let order = json!({ "field": "POST_COUNT", "direction": "DESC" });
    let first = run(Value::Null, order.clone(), Value::Null, Some(platform.clone())).await;
    assert_eq!(first["totalCount"], 5);
    assert_eq!(names_of(&first), ["Gamma", "Beta"]);
    assert_eq!(first["nodes"][0]["postCount"], 3);
    let second = run(
        Value::Null,
        order.clone(),
        first["pageInfo"]["endCursor"].clone(),
        Some(platform.clone()),
    )
    .await;
    // Ties are broken by id in the list's direction.
    assert_eq!(names_of(&second), ["alpha", "under_score"]);
    let third = run(
        Value::Null,
        order.clone(),
        second["pageInfo"]["endCursor"].clone(),
        Some(platform.clone()),
    )
    .await;
    assert_eq!(names_of(&third), ["100% real"]);
    assert_eq!(third["pageInfo"]["hasNextPage"], false);
    // Anonymous callers count only published posts: Gamma ties with Beta.
    let anonymous = run(Value::Null, order, Value::Null, None).await;
    assert_eq!(names_of(&anonymous), ["Gamma", "Beta"]);
    assert_eq!(anonymous["nodes"][0]["postCount"], 2);
    assert_eq!(anonymous["nodes"][1]["postCount"], 2);
    let asc = json!({ "field": "POST_COUNT", "direction": "ASC" });
    let anonymous = run(Value::Null, asc, Value::Null, None).await;
    assert_eq!(names_of(&anonymous), ["100% real", "under_score"]);
    // By name (as stored) and by creation time; a cursor is tied to its order.
    let by_name = run(Value::Null, Value::Null, Value::Null, Some(platform.clone())).await;
    assert_eq!(names_of(&by_name), ["100% real", "Beta"]);
    let created = json!({ "field": "CREATED_AT", "direction": "ASC" });
    let body = app
        .gql(
            query,
            json!({ "o": created, "after": by_name["pageInfo"]["endCursor"] }),
            Some(&platform),
        )
        .await;
    assert_eq!(code_and_field(&body), ("BAD_USER_INPUT".into(), "after".into()));
}
