//! The number of SQL statements a request runs depends on its shape, never on how many
//! rows it returns (counted by SeaORM's metric callback on the server's connection).
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};

/// The loaders collect keys for 25 ms instead of 1 ms: on a loaded 2-core CI machine a
/// debug build can take longer than 1 ms to reach every sibling of a level, which would
/// split one batch into two and make the count depend on timing instead of shape.
const BATCHING: &[&str] = &["--dataloader-delay-ms", "25"];

/// Runs `query` and returns how many statements the server executed for it.
async fn statements(app: &TestApp, query: &str, variables: Value, token: &str) -> u64 {
    let before = app.statement_count();
    app.ok(query, variables, Some(token)).await;
    app.statement_count() - before
}

/// `orgs` organizations, each with `users` users with `posts` published posts each.
async fn seed(app: &TestApp, orgs: usize, users: usize, posts: usize) -> Vec<i64> {
    let mut org_ids = Vec::new();
    for o in 0..orgs {
        let org = app.create_org(&format!("Org {o}"), &format!("org-{o}")).await;
        org_ids.push(org);
        for u in 0..users {
            let user = app.create_user(org, &format!("user_{o}_{u}"), "MEMBER").await;
            for p in 0..posts {
                app.create_post(user, &format!("Post {p} by {o}/{u}"), "PUBLISHED")
                    .await;
            }
        }
    }
    org_ids
}

const POSTS_WITH_AUTHORS: &str = "{ posts(first: 100) { totalCount edges { node { title author { username organization { name } } organization { slug } } } } }";

const ORGS_USERS_POSTS: &str = "{ organizations(first: 10) { totalCount edges { node { name \
    users(first: 5) { totalCount edges { node { username \
      posts(first: 3) { totalCount pageInfo { hasNextPage } edges { node { title author { username } } } } } } } \
    posts(first: 2) { edges { node { title } } } } } } }";

#[tokio::test]
async fn posts_with_authors_cost_the_same_for_5_and_50_rows() {
    let small = TestApp::spawn_with(BATCHING).await;
    seed(&small, 1, 5, 1).await;
    let large = TestApp::spawn_with(BATCHING).await;
    seed(&large, 2, 5, 5).await;
    let (a, b) = (small.platform_token(), large.platform_token());
    let n_small = statements(&small, POSTS_WITH_AUTHORS, json!({}), &a).await;
    let n_large = statements(&large, POSTS_WITH_AUTHORS, json!({}), &b).await;
    let rows = large.ok(POSTS_WITH_AUTHORS, json!({}), Some(&b)).await;
    assert_eq!(rows["posts"]["edges"].as_array().map(Vec::len), Some(50));
    assert_eq!(
        n_small, n_large,
        "5 rows: {n_small} statements, 50 rows: {n_large}"
    );
    // posts joined with their authors + count + organizations (of posts and of authors,
    // one batch).
    assert_eq!(n_large, 3, "{n_large} statements");
}

#[tokio::test]
async fn a_post_list_reads_its_authors_in_the_same_statement() {
    let app = TestApp::spawn_with(BATCHING).await;
    let orgs = seed(&app, 2, 3, 2).await;
    let query = "query($org: ID) { posts(organizationId: $org, first: 50) { edges { node { title author { username } } } } }";
    // Anonymous, a member and a platform admin: each scope gets its authors from the join.
    let member = app.create_user(orgs[0], "reader", "MEMBER").await;
    let cases = [
        ("anonymous", None, json!({ "org": orgs[1].to_string() }), 6),
        ("member", Some(app.user_token(member)), json!({}), 6),
        ("platform admin", Some(app.platform_token()), json!({}), 12),
    ];
    for (who, token, variables, rows) in cases {
        let before = app.statement_count();
        let data = app.ok(query, variables, token.as_deref()).await;
        let n = app.statement_count() - before;
        let edges = data["posts"]["edges"].as_array().cloned().unwrap_or_default();
        assert_eq!(edges.len(), rows, "{who}: {data}");
        assert!(
            edges.iter().all(|e| e["node"]["author"]["username"]
                .as_str()
                .is_some_and(|u| u.starts_with("user_"))),
            "{who}: {data}"
        );
        // A member's viewer (user and organization) is one more statement.
        let expected = if who == "member" { 2 } else { 1 };
        assert_eq!(n, expected, "{who}: {n} statements");
    }
}

/// Every field of a post and of its author read through the joined list (decoded by
/// column position) equals the same post read alone (by name, through the loaders),
/// with `content` selected and without it.
#[tokio::test]
async fn a_joined_post_list_reads_every_column_where_it_belongs() {
    let app = TestApp::spawn_with(BATCHING).await;
    let orgs = seed(&app, 1, 2, 2).await;
    let admin = app.platform_token();
    let author = app.create_user(orgs[0], "writer", "ADMIN").await;
    app.ok(
        "mutation($a: ID!) { createPost(input: {title: \"With a body\", content: \"The body.\", \
         authorId: $a, status: PUBLISHED}) { id } }",
        json!({ "a": author.to_string() }),
        Some(&admin),
    )
    .await;
    let fields = "id databaseId title status viewCount createdAt updatedAt deletedAt \
        organization { databaseId } author { id databaseId username email fullName isActive role \
        createdAt updatedAt deletedAt organization { databaseId } }";
    for with_content in [true, false] {
        let fields = if with_content {
            format!("{fields} content")
        } else {
            fields.to_owned()
        };
        let list = app
            .ok(
                &format!(
                    "query($org: ID) {{ posts(organizationId: $org, first: 10) {{ nodes {{ {fields} }} }} }}"
                ),
                json!({ "org": orgs[0].to_string() }),
                Some(&admin),
            )
            .await;
        let nodes = list["posts"]["nodes"].as_array().cloned().unwrap_or_default();
        assert_eq!(nodes.len(), 5, "{list}");
        assert_eq!(
            nodes.iter().filter(|n| n["content"] == "The body.").count(),
            usize::from(with_content),
            "{list}"
        );
        for node in nodes {
            let alone = app
                .ok(
                    &format!("query($id: ID!) {{ post(id: $id) {{ {fields} }} }}"),
                    json!({ "id": node["id"] }),
                    Some(&admin),
                )
                .await;
            assert_eq!(node, alone["post"], "content selected: {with_content}");
            assert!(
                node["author"]["email"].as_str().is_some_and(|e| e.contains('@')),
                "{node}"
            );
        }
    }
}

#[tokio::test]
async fn nested_connections_are_batched_per_level() {
    let small = TestApp::spawn_with(BATCHING).await;
    seed(&small, 1, 1, 1).await;
    let large = TestApp::spawn_with(BATCHING).await;
    seed(&large, 3, 5, 4).await;
    let (a, b) = (small.platform_token(), large.platform_token());
    let n_small = statements(&small, ORGS_USERS_POSTS, json!({}), &a).await;
    let n_large = statements(&large, ORGS_USERS_POSTS, json!({}), &b).await;
    let data = large.ok(ORGS_USERS_POSTS, json!({}), Some(&b)).await;
    let org = &data["organizations"]["edges"][0]["node"];
    assert_eq!(data["organizations"]["totalCount"], 3);
    assert_eq!(org["users"]["totalCount"], 5);
    assert_eq!(org["users"]["edges"].as_array().map(Vec::len), Some(5));
    let user_posts = &org["users"]["edges"][0]["node"]["posts"];
    assert_eq!(user_posts["totalCount"], 4);
    assert_eq!(user_posts["edges"].as_array().map(Vec::len), Some(3));
    assert_eq!(user_posts["pageInfo"]["hasNextPage"], true);
    assert_eq!(n_small, n_large, "small: {n_small} statements, large: {n_large}");
}

#[tokio::test]
async fn nodes_cost_the_same_for_2_and_10_ids() {
    let app = TestApp::spawn_with(BATCHING).await;
    let orgs = seed(&app, 5, 2, 2).await;
    let token = app.platform_token();
    // Each half: organizations and users (user ids 1..=10 exist: 5 orgs × 2 users).
    let ids: Vec<String> = orgs
        .iter()
        .zip(1..)
        .flat_map(|(org, user)| [base64_id("Organization", *org), base64_id("User", user)])
        .collect();
    let query = "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Organization { name users(first: 2) { edges { node { username posts(first: 1) { totalCount } } } } } ... on User { username organization { name } } } }";
    let two = statements(&app, query, json!({ "ids": ids[..2] }), &token).await;
    let ten = statements(&app, query, json!({ "ids": ids }), &token).await;
    assert_eq!(two, ten, "2 ids: {two} statements, 10 ids: {ten}");
}

fn base64_id(kind: &str, id: i64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{kind}:{id}"))
}

#[tokio::test]
async fn mutations_run_a_bounded_number_of_statements() {
    let app = TestApp::spawn_with(BATCHING).await;
    let token = app.platform_token();
    let org = app.create_org("Acme", "acme").await;
    let user = app.create_user(org, "alice", "MEMBER").await;
    let post = app.create_post(user, "Hello", "PUBLISHED").await;
    // On PostgreSQL a change of a user's or organization's access also sends the `NOTIFY`
    // that drops the cached account on every instance.
    let notify = u64::from(app.backend == Backend::Postgres);
    let cases = [
        (
            "mutation($i: CreatePostInput!) { createPost(input: $i) { id } }",
            json!({ "i": { "title": "T", "authorId": user.to_string() } }),
            // The author, the free slug, the post, its audit entry and its outbox event
            // (+ 1 for each write of posts below: its outbox event). A new post has no
            // tag links to read first (SQLite's single writer runs each of these).
            5,
        ),
        (
            "mutation($i: UpdatePostInput!) { updatePost(input: $i) { id } }",
            json!({ "i": { "id": post.to_string(), "title": "New" } }),
            7,
        ),
        (
            "mutation($id: ID!) { recordPostView(id: $id) { viewCount } }",
            json!({ "id": post.to_string() }),
            1,
        ),
        (
            "mutation($i: SoftDeleteUserInput!) { softDeleteUser(input: $i) { id } }",
            json!({ "i": { "id": user.to_string() } }),
            8 + notify,
        ),
        (
            "mutation($i: RestoreUserInput!) { restoreUser(input: $i) { id } }",
            json!({ "i": { "id": user.to_string() } }),
            // + 1: the returning posts whose slug a live post took meanwhile.
            10 + notify,
        ),
        (
            "mutation($i: SoftDeleteOrganizationInput!) { softDeleteOrganization(input: $i) { id } }",
            json!({ "i": { "id": org.to_string() } }),
            9 + notify,
        ),
    ];
    for (query, variables, bound) in cases {
        let n = statements(&app, query, variables, &token).await;
        assert!(n <= bound, "{query}: {n} statements, bound {bound}");
    }
}

/// Lists that do not select `content` leave the column out; every way of selecting it —
/// `edges.node`, `nodes`, fragments, nested lists — still gets the body.
#[tokio::test]
async fn content_is_fetched_whenever_it_is_selected() {
    let app = TestApp::spawn().await;
    let token = app.platform_token();
    let org = app.create_org("Acme", "acme").await;
    let alice = app.create_user(org, "alice", "MEMBER").await;
    app.create_post(alice, "Hello", "PUBLISHED").await;
    let queries = [
        "{ posts { edges { node { content } } } }",
        "{ posts { nodes { content } } }",
        "{ posts { edges { node { ...Body } } } } fragment Body on Post { content }",
        "{ posts { edges { node { ... on Post { content } } } } }",
        "{ organizations { nodes { posts { nodes { content } } } } }",
        "{ users { nodes { posts { edges { node { ...Body } } } } } } fragment Body on Post { content }",
    ];
    for query in queries {
        let body = app.ok(query, json!({}), Some(&token)).await.to_string();
        assert!(body.contains("Hello body"), "{query}: {body}");
    }
    let titles = app
        .ok(
            "{ posts { nodes { title content: title } } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(titles["posts"]["nodes"][0]["content"], "Hello");
}

#[tokio::test]
async fn a_total_count_alone_runs_only_its_count() {
    let app = TestApp::spawn_with(BATCHING).await;
    seed(&app, 2, 3, 2).await;
    let token = app.platform_token();
    let cases = [
        // The count, and no page query.
        ("{ posts { totalCount } }", 1),
        ("{ users(first: 5) { totalCount } }", 1),
        ("{ auditLogs { totalCount } }", 1),
        // Organizations' page, then the users' counts of all of them; no users page.
        ("{ organizations { edges { node { users { totalCount } } } } }", 2),
        // `pageInfo` needs the rows (whether another page follows).
        ("{ posts(first: 1) { totalCount pageInfo { hasNextPage } } }", 2),
    ];
    for (query, expected) in cases {
        let before = app.statement_count();
        let data = app.ok(query, json!({}), Some(&token)).await;
        let n = app.statement_count() - before;
        assert_eq!(n, expected, "{query}: {n} statements");
        match query {
            q if q.starts_with("{ posts {") => assert_eq!(data["posts"]["totalCount"], 12),
            q if q.starts_with("{ users") => assert_eq!(data["users"]["totalCount"], 6),
            q if q.starts_with("{ organizations") => {
                let edges = data["organizations"]["edges"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                assert_eq!(edges.len(), 2, "{data}");
                assert!(
                    edges.iter().all(|e| e["node"]["users"]["totalCount"] == 3),
                    "{data}"
                );
            }
            q if q.starts_with("{ posts(first: 1)") => {
                assert_eq!(data["posts"]["totalCount"], 12);
                assert_eq!(data["posts"]["pageInfo"]["hasNextPage"], true);
            }
            _ => assert!(data["auditLogs"]["totalCount"].as_i64().unwrap() > 0, "{data}"),
        }
    }
}

/// One organization with `posts` published posts, each tagged with up to three of
/// `tags` tags (in a rotating order).
async fn seed_tagged(app: &TestApp, posts: usize, tags: usize) {
    let token = app.platform_token();
    let org = app.create_org("Tagged", "tagged").await;
    let user = app.create_user(org, "tagger", "MEMBER").await;
    let mut tag_ids = Vec::new();
    for t in 0..tags {
        let data = app
            .ok(
                "mutation($i: CreateTagInput!) { createTag(input: $i) { id } }",
                json!({ "i": { "name": format!("Tag {t}"), "organizationId": org.to_string() } }),
                Some(&token),
            )
            .await;
        tag_ids.push(data["createTag"]["id"].clone());
    }
    for p in 0..posts {
        let post = app.create_post(user, &format!("Tagged {p}"), "PUBLISHED").await;
        let ids: Vec<Value> = (0..3.min(tags))
            .map(|i| tag_ids[(p + i) % tags].clone())
            .collect();
        app.ok(
            "mutation($i: UpdatePostInput!) { updatePost(input: $i) { id } }",
            json!({ "i": { "id": post.to_string(), "tagIds": ids } }),
            Some(&token),
        )
        .await;
    }
}

const POSTS_WITH_TAGS: &str = "{ posts(first: 20) { edges { node { title tags { name } } } } }";
const POSTS_WITHOUT_TAGS: &str = "{ posts(first: 20) { edges { node { title } } } }";

#[tokio::test]
async fn the_tags_of_a_page_of_posts_cost_one_statement() {
    let small = TestApp::spawn_with(BATCHING).await;
    seed_tagged(&small, 2, 3).await;
    let large = TestApp::spawn_with(BATCHING).await;
    seed_tagged(&large, 20, 5).await;
    let (a, b) = (small.platform_token(), large.platform_token());
    let n_small = statements(&small, POSTS_WITH_TAGS, json!({}), &a).await;
    let n_large = statements(&large, POSTS_WITH_TAGS, json!({}), &b).await;
    let without = statements(&large, POSTS_WITHOUT_TAGS, json!({}), &b).await;
    let data = large.ok(POSTS_WITH_TAGS, json!({}), Some(&b)).await;
    let edges = data["posts"]["edges"].as_array().cloned().unwrap_or_default();
    assert_eq!(edges.len(), 20);
    assert!(
        edges
            .iter()
            .all(|e| e["node"]["tags"].as_array().map(Vec::len) == Some(3)),
        "{data}"
    );
    assert_eq!(
        n_small, n_large,
        "2 posts: {n_small} statements, 20 posts: {n_large}"
    );
    assert_eq!(n_large, without + 1, "with tags: {n_large}, without: {without}");
    // The same for an anonymous reader and for a nested list.
    let before = large.statement_count();
    large.ok(POSTS_WITH_TAGS, json!({}), None).await;
    assert_eq!(large.statement_count() - before, n_large);
    let nested = "{ organizations { nodes { posts(first: 20) { nodes { title tags { name } } } } } }";
    let n_small = statements(&small, nested, json!({}), &a).await;
    let n_large = statements(&large, nested, json!({}), &b).await;
    assert_eq!(n_small, n_large, "nested: {n_small} vs {n_large}");
}

#[tokio::test]
async fn tag_lists_with_counts_and_posts_cost_the_same_for_3_and_10_tags() {
    let small = TestApp::spawn_with(BATCHING).await;
    seed_tagged(&small, 2, 3).await;
    let large = TestApp::spawn_with(BATCHING).await;
    seed_tagged(&large, 12, 10).await;
    let query = "{ tags(first: 50) { totalCount nodes { name postCount organization { name } \
        posts(first: 2) { totalCount nodes { title tags { slug } } } } } }";
    let (a, b) = (small.platform_token(), large.platform_token());
    let n_small = statements(&small, query, json!({}), &a).await;
    let n_large = statements(&large, query, json!({}), &b).await;
    let data = large.ok(query, json!({}), Some(&b)).await;
    assert_eq!(data["tags"]["totalCount"], 10);
    assert!(
        data["tags"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["postCount"].as_i64().unwrap() >= 3
                && t["posts"]["nodes"].as_array().unwrap().len() == 2),
        "{data}"
    );
    assert_eq!(
        n_small, n_large,
        "3 tags: {n_small} statements, 10 tags: {n_large}"
    );
}
