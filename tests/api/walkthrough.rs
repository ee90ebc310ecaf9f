//! The original demo's walkthrough, in GraphQL, as the README shows it.
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn the_readme_walkthrough() {
    let app = TestApp::spawn().await;
    let admin = app.platform_token();
    let t = Some(admin.as_str());

    let acme = app
        .ok(
            r#"mutation { createOrganization(input: {name: "Acme", slug: "acme", plan: PRO}) { id databaseId name slug plan } }"#,
            json!({}),
            t,
        )
        .await["createOrganization"]
        .clone();
    assert_eq!(acme["plan"], "PRO");
    let acme_id = acme["id"].as_str().unwrap().to_owned();

    let alice = app
        .ok(
            r#"mutation($org: ID!) { createUser(input: {username: "alice", email: "alice@acme.test", fullName: "Alice Liddell", organizationId: $org}) { id databaseId username organization { name } } }"#,
            json!({ "org": acme_id }),
            t,
        )
        .await["createUser"]
        .clone();
    assert_eq!(alice["organization"]["name"], "Acme");
    let alice_id = alice["id"].as_str().unwrap().to_owned();
    app.ok(
        r#"mutation($org: ID!) { createUser(input: {username: "bob", email: "bob@acme.test", organizationId: $org}) { id } }"#,
        json!({ "org": acme_id }),
        t,
    )
    .await;

    let post = app
        .ok(
            r#"mutation($a: ID!) { createPost(input: {title: "Hello, world", content: "First post", status: PUBLISHED, excerpt: "Where it all begins", authorId: $a}) { id title slug status publishedAt author { username } organization { slug } } }"#,
            json!({ "a": alice_id }),
            t,
        )
        .await["createPost"]
        .clone();
    assert_eq!(post["author"]["username"], "alice");
    assert_eq!(post["organization"]["slug"], "acme");
    assert_eq!(post["slug"], "hello-world");
    assert!(post["publishedAt"].is_string());
    let by_slug = app
        .ok(
            r#"{ organization(slug: "acme") { post(slug: "hello-world") { title excerpt author { username } } } }"#,
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        by_slug["organization"]["post"],
        json!({ "title": "Hello, world", "excerpt": "Where it all begins", "author": { "username": "alice" } })
    );

    let list = app
        .ok(
            r#"query($org: ID!) { posts(organizationId: $org) { totalCount edges { node { title author { username } } } } }"#,
            json!({ "org": acme_id }),
            t,
        )
        .await;
    assert_eq!(list["posts"]["totalCount"], 1);
    assert_eq!(list["posts"]["edges"][0]["node"]["author"]["username"], "alice");

    let audit = app
        .ok(
            r#"{ auditLogs(filter: {tableName: "posts"}) { edges { node { action tableName recordId newValues } } } }"#,
            json!({}),
            t,
        )
        .await;
    let entry = &audit["auditLogs"]["edges"][0]["node"];
    assert_eq!(entry["action"], "CREATE");
    assert_eq!(entry["newValues"]["title"], "Hello, world");
    assert_eq!(entry["newValues"]["status"], "published");

    // Soft-delete alice: she and her post disappear from lists and reads.
    let deleted = app
        .ok(
            r#"mutation($id: ID!) { softDeleteUser(input: {id: $id}) { username deletedAt } }"#,
            json!({ "id": alice_id }),
            t,
        )
        .await;
    assert!(deleted["softDeleteUser"]["deletedAt"].is_string());
    let after = app
        .ok(
            r#"query($org: ID!, $a: ID!) { organization(id: $org) { users { totalCount edges { node { username } } } posts { totalCount } } user(id: $a) { username } }"#,
            json!({ "org": acme_id, "a": alice_id }),
            t,
        )
        .await;
    assert_eq!(after["organization"]["users"]["totalCount"], 1);
    assert_eq!(
        after["organization"]["users"]["edges"][0]["node"]["username"],
        "bob"
    );
    assert_eq!(after["organization"]["posts"]["totalCount"], 0);
    assert!(after["user"].is_null());

    // Restore: alice and the post her deletion took are back.
    let restored = app
        .ok(
            r#"mutation($id: ID!) { restoreUser(input: {id: $id}) { username deletedAt } }"#,
            json!({ "id": alice_id }),
            t,
        )
        .await;
    assert!(restored["restoreUser"]["deletedAt"].is_null());
    let back = app
        .ok(
            r#"query($org: ID!) { organization(id: $org) { users { totalCount } posts { totalCount } } }"#,
            json!({ "org": acme_id }),
            t,
        )
        .await;
    assert_eq!(back["organization"]["users"]["totalCount"], 2);
    assert_eq!(back["organization"]["posts"]["totalCount"], 1);

    // A second organization with charlie; each organization lists only its own users.
    let globex = app
        .ok(
            r#"mutation { createOrganization(input: {name: "Globex", slug: "globex"}) { id } }"#,
            json!({}),
            t,
        )
        .await["createOrganization"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.ok(
        r#"mutation($org: ID!) { createUser(input: {username: "charlie", email: "charlie@globex.test", organizationId: $org}) { id } }"#,
        json!({ "org": globex }),
        t,
    )
    .await;
    let globex_users = app
        .ok(
            r#"query($org: ID!) { organization(id: $org) { users { edges { node { username } } } } }"#,
            json!({ "org": globex }),
            t,
        )
        .await;
    assert_eq!(
        globex_users["organization"]["users"]["edges"],
        json!([{ "node": { "username": "charlie" } }])
    );

    // A post by alice in the second organization is refused.
    let (code, error) = app
        .err(
            r#"mutation($a: ID!, $org: ID!) { createPost(input: {title: "Wrong org", authorId: $a, organizationId: $org}) { id } }"#,
            json!({ "a": alice_id, "org": globex }),
            t,
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
    assert_eq!(error["message"], "User does not belong to this organization");

    // Step 11: a tag, the post's tags, and the tag's page as anonymous readers see it.
    let tag = app
        .ok(
            r#"mutation($org: ID!) { createTag(input: {name: "Getting started", organizationId: $org}) { id name slug } }"#,
            json!({ "org": acme_id }),
            t,
        )
        .await["createTag"]
        .clone();
    assert_eq!(tag["name"], "Getting started");
    assert_eq!(tag["slug"], "getting-started");
    let tagged = app
        .ok(
            r#"mutation($p: ID!, $t: ID!) { updatePost(input: {id: $p, tagIds: [$t]}) { title tags { name slug } } }"#,
            json!({ "p": post["id"], "t": tag["id"] }),
            t,
        )
        .await;
    assert_eq!(
        tagged["updatePost"],
        json!({ "title": "Hello, world", "tags": [{ "name": "Getting started", "slug": "getting-started" }] })
    );
    let page = app
        .ok(
            r#"{ organization(slug: "acme") { tag(slug: "getting-started") { name postCount posts { edges { node { title author { username } } } } } } }"#,
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        page["organization"]["tag"],
        json!({ "name": "Getting started", "postCount": 1, "posts": { "edges": [
            { "node": { "title": "Hello, world", "author": { "username": "alice" } } }
        ] } })
    );

    // Step 12: search, as anonymous readers do.
    let found = app
        .ok(
            r#"{ bySubstring: posts(filter: {search: "LLO, W"}) { nodes { title } } byWords: posts(filter: {fullText: "begins -draft"}) { totalCount nodes { title excerpt } } }"#,
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        found,
        json!({
            "bySubstring": { "nodes": [{ "title": "Hello, world" }] },
            "byWords": { "totalCount": 1, "nodes": [{ "title": "Hello, world", "excerpt": "Where it all begins" }] }
        })
    );
    let (code, error) = app
        .err(
            r#"{ posts(filter: {search: "he"}) { totalCount } }"#,
            json!({}),
            None,
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
    assert_eq!(error["extensions"]["field"], "search");
}
