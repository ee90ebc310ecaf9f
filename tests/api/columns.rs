//! Post reads select only the columns a selection needs (`entity::post_columns`): whatever
//! fields a query selects, through whichever path, each one reads what a full read of the
//! same post reads, and pages ordered by a field the selection leaves out still continue
//! where they stopped (the sort column is read for the cursor).
use serde_json::{Value, json};

use crate::helpers::{TestApp, global_id};

/// Every `Post` field that reads a column of its own.
const FIELDS: [&str; 12] = [
    "title",
    "content",
    "slug",
    "excerpt",
    "featured",
    "publishedAt",
    "publishAt",
    "status",
    "viewCount",
    "createdAt",
    "updatedAt",
    "deletedAt",
];

/// An organization with posts that differ in every column; returns its id and the ids.
async fn seed(app: &TestApp) -> (i64, Vec<i64>) {
    let org = app.create_org("Columns", "columns").await;
    let author = app.create_user(org, "columnist", "MEMBER").await;
    let token = app.platform_token();
    let create = "mutation($i: CreatePostInput!) { createPost(input: $i) { databaseId } }";
    let inputs = [
        json!({ "title": "Beta", "content": "first body", "status": "PUBLISHED", "excerpt": "a summary",
                "featured": true, "slug": "beta-post" }),
        json!({ "title": "alpha", "status": "SCHEDULED", "publishAt": "2999-01-01T00:00:00Z" }),
        json!({ "title": "Gamma", "content": "third body", "status": "DRAFT" }),
        json!({ "title": "delta", "content": "fourth", "status": "PUBLISHED" }),
        json!({ "title": "Epsilon", "content": "deleted later", "status": "PUBLISHED", "featured": true }),
    ];
    let mut ids = Vec::new();
    for mut input in inputs {
        input["authorId"] = json!(author.to_string());
        let data = app.ok(create, json!({ "i": input }), Some(&token)).await;
        ids.push(data["createPost"]["databaseId"].as_i64().unwrap());
    }
    // Different view counts, and an update, so the orders by them differ from the ids'.
    for (post, views) in [(ids[2], 3), (ids[0], 1), (ids[3], 2)] {
        for _ in 0..views {
            app.ok(
                "mutation($id: ID!) { recordPostView(id: $id) { id } }",
                json!({ "id": post.to_string() }),
                Some(&token),
            )
            .await;
        }
    }
    app.ok(
        "mutation($i: UpdatePostInput!) { updatePost(input: $i) { id } }",
        json!({ "i": { "id": ids[1].to_string(), "title": "zeta" } }),
        Some(&token),
    )
    .await;
    app.ok(
        "mutation($i: SoftDeletePostInput!) { softDeletePost(input: $i) { id } }",
        json!({ "i": { "id": ids[4].to_string() } }),
        Some(&token),
    )
    .await;
    (org, ids)
}

/// Each post's every field, read whole: live ones through `node` (the loader's rows), the
/// deleted one through a nested list (rows decoded by column name, every column).
async fn full_reads(app: &TestApp, org: i64, ids: &[i64]) -> Vec<Value> {
    let fields = FIELDS.join(" ");
    let nested = format!(
        "query($org: ID!) {{ organization(id: $org) {{ posts(includeDeleted: true) {{ nodes {{ databaseId {fields} }} }} }} }}"
    );
    let data = app
        .ok(
            &nested,
            json!({ "org": org.to_string() }),
            Some(&app.platform_token()),
        )
        .await;
    let mut posts: Vec<Value> = data["organization"]["posts"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| !p["deletedAt"].is_null())
        .cloned()
        .collect();
    assert_eq!(posts.len(), 1, "{data}");
    let query = format!("query($id: ID!) {{ node(id: $id) {{ ... on Post {{ databaseId {fields} }} }} }}");
    for id in &ids[..ids.len() - 1] {
        let data = app
            .ok(
                &query,
                json!({ "id": global_id("Post", *id) }),
                Some(&app.platform_token()),
            )
            .await;
        assert!(data["node"].is_object(), "post {id}: {data}");
        posts.push(data["node"].clone());
    }
    posts
}

fn expected<'a>(full: &'a [Value], post: &Value) -> &'a Value {
    full.iter()
        .find(|p| p["databaseId"] == post["databaseId"])
        .unwrap_or_else(|| panic!("a post no full read has: {post}"))
}

#[tokio::test]
async fn every_selection_reads_what_a_full_read_reads() {
    let app = TestApp::spawn().await;
    let (org, ids) = seed(&app).await;
    let full = full_reads(&app, org, &ids).await;
    let token = app.platform_token();
    let mut selections: Vec<String> = FIELDS.iter().map(|f| f.to_string()).collect();
    selections.push(FIELDS.join(" "));
    selections.push("title excerpt publishedAt author { username }".into());
    for fields in &selections {
        let lists = [
            format!(
                "{{ posts(organizationId: $org, includeDeleted: true) {{ nodes {{ databaseId {fields} }} }} }}"
            ),
            format!(
                "{{ posts(organizationId: $org, includeDeleted: true) {{ edges {{ node {{ databaseId author {{ username }} {fields} }} }} }} }}"
            ),
            format!(
                "{{ posts(organizationId: $org, includeDeleted: true) {{ nodes {{ databaseId ...F }} }} }} fragment F on Post {{ {fields} }}"
            ),
            format!(
                "{{ posts(organizationId: $org, includeDeleted: true) {{ edges {{ node {{ ... on Post {{ databaseId {fields} }} }} }} }} }}"
            ),
            format!(
                "{{ organization(id: $org) {{ posts(includeDeleted: true) {{ nodes {{ databaseId {fields} }} }} }} }}"
            ),
        ];
        for list in lists {
            let query = format!("query($org: ID!) {list}");
            let data = app
                .ok(&query, json!({ "org": org.to_string() }), Some(&token))
                .await;
            let connection = data.get("organization").map_or(&data["posts"], |o| &o["posts"]);
            let posts: Vec<Value> = match connection.get("nodes") {
                Some(nodes) => nodes.as_array().unwrap().clone(),
                None => connection["edges"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e["node"].clone())
                    .collect(),
            };
            assert_eq!(posts.len(), ids.len(), "{query}: {data}");
            for post in &posts {
                let whole = expected(&full, post);
                for field in FIELDS.iter().filter(|f| post.get(**f).is_some()) {
                    assert_eq!(post[*field], whole[*field], "{field} of {post} in {query}");
                }
            }
        }
        // One post: by id and by slug (live posts only).
        for id in &ids[..4] {
            let whole = expected(&full, &json!({ "databaseId": id }));
            let by_id = format!("query($id: ID!) {{ post(id: $id) {{ databaseId {fields} }} }}");
            let data = app
                .ok(&by_id, json!({ "id": id.to_string() }), Some(&token))
                .await;
            let slug = app
                .ok(
                    "query($id: ID!) { post(id: $id) { slug } }",
                    json!({ "id": id.to_string() }),
                    Some(&token),
                )
                .await["post"]["slug"]
                .clone();
            let by_slug = format!(
                "query($org: ID!, $slug: String!) {{ organization(id: $org) {{ post(slug: $slug) {{ databaseId {fields} }} }} }}"
            );
            let other = app
                .ok(
                    &by_slug,
                    json!({ "org": org.to_string(), "slug": slug }),
                    Some(&token),
                )
                .await;
            for post in [&data["post"], &other["organization"]["post"]] {
                assert_eq!(post["databaseId"], whole["databaseId"], "{fields}: {post}");
                for field in FIELDS.iter().filter(|f| post.get(**f).is_some()) {
                    assert_eq!(post[*field], whole[*field], "{field} of post {id} ({fields})");
                }
            }
        }
    }
}

#[tokio::test]
async fn pages_ordered_by_an_unselected_field_continue_where_they_stopped() {
    let app = TestApp::spawn().await;
    let (org, _) = seed(&app).await;
    let token = app.platform_token();
    for field in ["CREATED_AT", "UPDATED_AT", "VIEW_COUNT", "TITLE", "PUBLISHED_AT"] {
        for direction in ["ASC", "DESC"] {
            let order = json!({ "field": field, "direction": direction });
            let whole = app
                .ok(
                    "query($org: ID!, $order: PostOrder) { posts(organizationId: $org, first: 50, orderBy: $order) { nodes { databaseId } } }",
                    json!({ "org": org.to_string(), "order": order }),
                    Some(&token),
                )
                .await["posts"]["nodes"]
                .clone();
            let mut walked = Vec::new();
            let mut after = Value::Null;
            loop {
                let data = app
                    .ok(
                        "query($org: ID!, $order: PostOrder, $after: String) { posts(organizationId: $org, first: 1, after: $after, orderBy: $order) { pageInfo { hasNextPage endCursor } nodes { databaseId } } }",
                        json!({ "org": org.to_string(), "order": order, "after": after }),
                        Some(&token),
                    )
                    .await;
                let page = &data["posts"];
                walked.extend(page["nodes"].as_array().unwrap().iter().cloned());
                if page["pageInfo"]["hasNextPage"] != json!(true) || walked.len() > 10 {
                    break;
                }
                after = page["pageInfo"]["endCursor"].clone();
            }
            assert!(whole.as_array().unwrap().len() >= 2, "{field}: {whole}");
            assert_eq!(
                Value::Array(walked),
                whole,
                "{field} {direction}: pages of one against one page"
            );
        }
    }
}
