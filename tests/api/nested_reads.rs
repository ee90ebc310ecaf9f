//! `organization(id:) → users → posts` read in one statement, and `Organization.users →
//! User.posts` under `organizations` in one (`loaders::nested`): the same pages as when
//! each level reads its own (what a second `posts` field under the users forces), for
//! every kind of argument, on both databases.
use serde_json::{Value, json};

use crate::helpers::TestApp;

const BATCHING: &[&str] = &["--dataloader-delay-ms", "25"];

/// Two organizations; users with 0–7 posts each, some deleted, some drafts.
async fn seed(app: &TestApp) -> Vec<i64> {
    let token = app.platform_token();
    let mut orgs = Vec::new();
    for o in 0..2 {
        let org = app.create_org(&format!("Org {o}"), &format!("org-{o}")).await;
        orgs.push(org);
        app.create_user(org, &format!("admin_{o}"), "ADMIN").await;
        for u in 0..4 {
            let user = app.create_user(org, &format!("user_{o}_{u}"), "MEMBER").await;
            for p in 0..(u * 2 + o) {
                let status = if p % 3 == 2 { "DRAFT" } else { "PUBLISHED" };
                let title = format!(
                    "{} post {p} of {o}/{u}",
                    ["Zeta", "alpha", "Mid"][(p as usize) % 3]
                );
                let post = app.create_post(user, &title, status).await;
                if p == 4 {
                    app.ok(
                        "mutation($id: ID!) { softDeletePost(input: {id: $id}) { id } }",
                        json!({ "id": post.to_string() }),
                        Some(&token),
                    )
                    .await;
                }
            }
        }
    }
    orgs
}

fn query(users_args: &str, posts_args: &str, twice: bool) -> String {
    let posts = format!(
        "posts{posts_args} {{ totalCount pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} \
         edges {{ cursor node {{ databaseId title status createdAt }} }} }}"
    );
    let second = if twice {
        format!(" again: {posts}")
    } else {
        String::new()
    };
    format!(
        "query($org: ID!) {{ organization(id: $org) {{ name users{users_args} {{ totalCount \
         pageInfo {{ hasNextPage endCursor }} nodes {{ databaseId username {posts}{second} }} }} }} }}"
    )
}

async fn statements(app: &TestApp, query: &str, org: i64) -> (u64, Value) {
    let before = app.statement_count();
    let data = app
        .ok(
            query,
            json!({ "org": org.to_string() }),
            Some(&app.platform_token()),
        )
        .await;
    (app.statement_count() - before, data)
}

#[tokio::test]
async fn users_and_their_posts_come_in_one_statement_with_the_same_pages() {
    let app = TestApp::spawn_with(BATCHING).await;
    let orgs = seed(&app).await;
    let cases = [
        ("(first: 10)", "(first: 5)"),
        ("", ""),
        (
            "(first: 2)",
            "(first: 2, orderBy: {field: TITLE, direction: ASC})",
        ),
        ("(last: 3)", "(last: 2)"),
        (
            "(first: 10)",
            "(first: 3, filter: {status: PUBLISHED}, includeDeleted: true)",
        ),
        (
            "(first: 10, orderBy: {field: USERNAME, direction: DESC})",
            "(first: 1, orderBy: {field: VIEW_COUNT, direction: DESC})",
        ),
        ("(first: 10)", "(first: 0)"),
    ];
    for (users, posts) in cases {
        for org in &orgs {
            let (one, together) = statements(&app, &query(users, posts, false), *org).await;
            let (two, apart) = statements(&app, &query(users, posts, true), *org).await;
            let users_of = |data: &Value| data["organization"]["users"].clone();
            // The second `posts` is the first one's twin: strip it and compare.
            let mut apart = users_of(&apart);
            for node in apart["nodes"].as_array_mut().unwrap() {
                let again = node.as_object_mut().unwrap().remove("again").unwrap();
                assert_eq!(again, node["posts"], "{users} {posts}: the twins differ");
            }
            assert_eq!(users_of(&together), apart, "users{users} posts{posts}, org {org}");
            // The same organization under `organizations` (the users loader's batch path).
            let listed = query(users, posts, false).replace(
                "query($org: ID!) { organization(id: $org) {",
                "{ organizations(first: 2) { nodes { databaseId",
            ) + " }";
            let data = app.ok(&listed, json!({}), Some(&app.platform_token())).await;
            let node = data["organizations"]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|o| o["databaseId"] == json!(org))
                .unwrap()
                .clone();
            assert_eq!(
                node["users"], apart,
                "organizations: users{users} posts{posts}, org {org}"
            );
            // The organization, then users and posts together (counts are their own);
            // apart: the organization, the users, the posts.
            assert!(
                one < two,
                "users{users} posts{posts}: {one} statements together, {two} apart"
            );
        }
    }
    // After a cursor: the second page of each user's posts, read with the users.
    let first = app
        .ok(
            &query("(first: 10)", "(first: 2)", false),
            json!({ "org": orgs[1].to_string() }),
            Some(&app.platform_token()),
        )
        .await;
    let cursor = first["organization"]["users"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|u| {
            u["posts"]["pageInfo"]["endCursor"]
                .as_str()
                .filter(|_| u["posts"]["pageInfo"]["hasNextPage"] == json!(true))
        })
        .unwrap()
        .to_owned();
    let after = format!("(first: 2, after: \"{cursor}\")");
    let (_, together) = statements(&app, &query("(first: 10)", &after, false), orgs[1]).await;
    let (_, mut apart) = statements(&app, &query("(first: 10)", &after, true), orgs[1]).await;
    for node in apart["organization"]["users"]["nodes"].as_array_mut().unwrap() {
        node.as_object_mut().unwrap().remove("again");
    }
    assert_eq!(together["organization"]["users"], apart["organization"]["users"]);
}

#[tokio::test]
async fn the_nested_shape_runs_one_statement() {
    let app = TestApp::spawn_with(BATCHING).await;
    let orgs = seed(&app).await;
    let shape = "query($org: ID!) { organization(id: $org) { name users(first: 10) { edges { node { username \
                 posts(first: 5) { edges { node { id title createdAt } } } } } } } }";
    let (n, data) = statements(&app, shape, orgs[1]).await;
    assert_eq!(
        data["organization"]["users"]["edges"].as_array().map(Vec::len),
        Some(5)
    );
    // The organization with its users and their posts.
    assert_eq!(n, 1, "{n} statements");
    // Every organization's users and posts: still one statement for both levels.
    let all = "{ organizations(first: 10) { nodes { name users(first: 3) { nodes { username posts(first: 2) { nodes { title } } } } } } }";
    let before = app.statement_count();
    app.ok(all, json!({}), Some(&app.platform_token())).await;
    let n = app.statement_count() - before;
    // The organizations (their count is not asked); their users with their posts.
    assert_eq!(n, 2, "{n} statements");
}

/// The one statement reads only the user columns the users' nodes select (and the sort's
/// and the required ones): every field of a user read that way is the field read apart,
/// for each user field selected alone and with the others.
#[tokio::test]
async fn users_read_with_their_posts_carry_every_selected_field() {
    let app = TestApp::spawn_with(BATCHING).await;
    let orgs = seed(&app).await;
    let fields = [
        "id",
        "databaseId",
        "username",
        "email",
        "fullName",
        "role",
        "isActive",
        "createdAt",
        "updatedAt",
        "deletedAt",
        "organization { name }",
    ];
    let all = fields.join(" ");
    let mut selections: Vec<String> = fields.iter().map(|f| (*f).to_owned()).collect();
    selections.push(all);
    for selection in selections {
        for order in ["", ", orderBy: {field: USERNAME, direction: ASC}"] {
            let posts = "posts(first: 2) { nodes { title } }";
            let one = format!(
                "query($org: ID!) {{ organization(id: $org) {{ users(first: 10{order}, includeDeleted: true) \
                 {{ pageInfo {{ endCursor }} nodes {{ {selection} {posts} }} }} }} }}"
            );
            let two = one.replace(posts, &format!("{posts} again: {posts}"));
            let (n, together) = statements(&app, &one, orgs[0]).await;
            // `User.organization` is its loader's statement.
            let expected = if selection.contains("organization") { 2 } else { 1 };
            assert_eq!(n, expected, "{selection}: {n} statements");
            let (_, mut apart) = statements(&app, &two, orgs[0]).await;
            for node in apart["organization"]["users"]["nodes"].as_array_mut().unwrap() {
                node.as_object_mut().unwrap().remove("again");
            }
            assert_eq!(together, apart, "{selection}{order}");
        }
    }
}

/// `organizations → posts → author`: each page's authors come in the pages' statement
/// (`loaders::with_authors`), not in a statement of their own. For an anonymous caller, a
/// member and a platform admin (deleted posts and a deleted author included), the posts are
/// those read without `author`, and each author is the post's writer as the organization's
/// users list reads them.
#[tokio::test]
async fn organization_posts_come_with_their_authors_in_their_statement() {
    let app = TestApp::spawn_with(BATCHING).await;
    let orgs = seed(&app).await;
    let admin = app.platform_token();
    // A deleted author: their posts are deleted with them, and an admin still reads both.
    let deleted = app.create_user(orgs[1], "user_1_gone", "MEMBER").await;
    for p in 0..2 {
        app.create_post(deleted, &format!("Mid post {p} of 1/gone"), "PUBLISHED")
            .await;
    }
    app.ok(
        "mutation($id: ID!) { softDeleteUser(input: {id: $id}) { id } }",
        json!({ "id": deleted.to_string() }),
        Some(&admin),
    )
    .await;
    let reader = app.create_user(orgs[0], "reader", "MEMBER").await;
    let member = app.user_token(reader);
    // Every user of both organizations, deleted ones included, by database id.
    let mut users = std::collections::HashMap::new();
    for org in &orgs {
        let data = app
            .ok(
                "query($org: ID!) { organization(id: $org) { users(first: 100, includeDeleted: true) { nodes { \
                 databaseId username role isActive deletedAt } } } }",
                json!({ "org": org.to_string() }),
                Some(&admin),
            )
            .await;
        for user in data["organization"]["users"]["nodes"].as_array().unwrap() {
            users.insert(user["databaseId"].as_i64().unwrap(), user.clone());
        }
    }
    let author = "author { databaseId username role isActive deletedAt }";
    let cases: [(Option<&str>, &str); 7] = [
        (None, "(first: 5)"),
        (None, "(last: 2, orderBy: {field: TITLE, direction: ASC})"),
        (Some(&member), "(first: 4)"),
        (Some(&member), "(first: 3, filter: {status: DRAFT})"),
        (Some(&admin), "(first: 20, includeDeleted: true)"),
        (
            Some(&admin),
            "(first: 2, orderBy: {field: VIEW_COUNT, direction: DESC})",
        ),
        (Some(&admin), "(first: 0)"),
    ];
    for (token, args) in cases {
        let fields = if token.is_none() {
            "author { databaseId username }"
        } else {
            author
        };
        let with = format!(
            "{{ organizations(first: 5) {{ nodes {{ slug posts{args} {{ pageInfo {{ hasNextPage endCursor }} \
             nodes {{ databaseId title status deletedAt {fields} }} }} }} }} }}"
        );
        let without = with.replace(fields, "");
        app.ok(&without, json!({}), token).await; // A member's account, cached on PostgreSQL.
        let before = app.statement_count();
        let apart = app.ok(&without, json!({}), token).await;
        let n_without = app.statement_count() - before;
        let before = app.statement_count();
        let mut together = app.ok(&with, json!({}), token).await;
        let n = app.statement_count() - before;
        // The organizations; their posts with the posts' authors (and a member's account
        // on SQLite, in both).
        assert_eq!(
            n, n_without,
            "{args}: {n} statements with authors, {n_without} without"
        );
        if token != Some(&member) {
            assert_eq!(n, 2, "{args}: {n} statements");
        }
        let mut read = 0;
        for org in together["organizations"]["nodes"].as_array_mut().unwrap() {
            for post in org["posts"]["nodes"].as_array_mut().unwrap() {
                let author = post.as_object_mut().unwrap().remove("author").unwrap();
                let writer = &users[&author["databaseId"].as_i64().unwrap()];
                for (field, value) in author.as_object().unwrap() {
                    assert_eq!(value, &writer[field], "{args}: {field} of {author}");
                }
                // Titles end with "of <org>/<user index>": the writer's username ends so.
                let of = post["title"]
                    .as_str()
                    .unwrap()
                    .rsplit(" of ")
                    .next()
                    .unwrap()
                    .replace('/', "_");
                assert!(
                    writer["username"].as_str().unwrap().ends_with(&of),
                    "{args}: {post} by {writer}"
                );
                read += 1;
            }
        }
        assert_eq!(together, apart, "{args}");
        if args != "(first: 0)" {
            assert!(read > 0, "{args}: no posts read");
        }
        if args.contains("includeDeleted") {
            let gone = together.to_string().matches("1/gone").count();
            assert_eq!(gone, 2, "{args}: the deleted author's posts");
        }
    }
    // `organization(id:) → posts → author`: the organization, then its posts with authors.
    let one = "query($org: ID!) { organization(id: $org) { posts(first: 5) { nodes { title author { username } } } } }";
    let (n, data) = statements(&app, one, orgs[1]).await;
    assert_eq!(n, 2, "{n} statements");
    assert_eq!(
        data["organization"]["posts"]["nodes"].as_array().map(Vec::len),
        Some(5)
    );
}

/// `node(id:)` on an organization with its users and their posts is one statement, as
/// `organization(id:)` is, with the same data; other shapes under `node` read per level.
#[tokio::test]
async fn an_organization_node_reads_its_users_and_posts_in_one_statement() {
    use base64::Engine;
    let app = TestApp::spawn_with(BATCHING).await;
    let orgs = seed(&app).await;
    let selection = "name users(first: 3, orderBy: {field: USERNAME, direction: DESC}) { pageInfo { hasNextPage } \
                     nodes { username posts(first: 2) { nodes { title createdAt } } } }";
    let by_field = format!("query($org: ID!) {{ organization(id: $org) {{ {selection} }} }}");
    let by_node =
        format!("query($id: ID!) {{ node(id: $id) {{ id ... on Organization {{ {selection} }} }} }}");
    let reader = app.create_user(orgs[0], "reader", "MEMBER").await;
    let (admin, member) = (app.platform_token(), app.user_token(reader));
    for (org, token) in [(orgs[0], &admin), (orgs[1], &admin), (orgs[0], &member)] {
        let global = base64::engine::general_purpose::STANDARD.encode(format!("Organization:{org}"));
        // Warms what a caller's first request reads once (a member's account on PostgreSQL).
        app.ok(&by_field, json!({ "org": org.to_string() }), Some(token))
            .await;
        let before = app.statement_count();
        let expected = app
            .ok(&by_field, json!({ "org": org.to_string() }), Some(token))
            .await;
        let n_field = app.statement_count() - before;
        let before = app.statement_count();
        let data = app.ok(&by_node, json!({ "id": global }), Some(token)).await;
        let n_node = app.statement_count() - before;
        assert_eq!(
            n_node, n_field,
            "org {org}: node {n_node} statements, organization {n_field}"
        );
        if *token == admin {
            assert_eq!(n_node, 1, "org {org}");
        }
        assert_eq!(data["node"]["id"], json!(global));
        assert_eq!(
            data["node"]["users"], expected["organization"]["users"],
            "org {org}"
        );
        assert_eq!(data["node"]["users"]["nodes"].as_array().map(Vec::len), Some(3));
    }
    // An unknown organization is null.
    let missing = base64::engine::general_purpose::STANDARD.encode("Organization:999999");
    let data = app
        .ok(&by_node, json!({ "id": missing }), Some(&app.platform_token()))
        .await;
    assert_eq!(data["node"], Value::Null);
}
