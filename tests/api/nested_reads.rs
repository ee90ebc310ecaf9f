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
