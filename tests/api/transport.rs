//! HTTP transport: GET for queries only, GraphiQL for browsers, health probes, and Relay
//! ids (`node`, `nodes`, database ids in typed arguments).
use reqwest::{StatusCode, Url, header};
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// `GET /graphql` with the given query-string parameters.
async fn get(app: &TestApp, params: &[(&str, &str)], token: Option<&str>) -> reqwest::Response {
    let url = Url::parse_with_params(&app.url("/graphql"), params).unwrap();
    let mut request = app.client.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

async fn organization_count(app: &TestApp) -> i64 {
    app.ok(
        "{ organizations(includeDeleted: true) { totalCount } }",
        json!({}),
        Some(&app.platform_token()),
    )
    .await["organizations"]["totalCount"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn queries_work_over_get() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Acme", "acme").await;
    let author = app.create_user(org, "alice", "MEMBER").await;
    app.create_post(author, "Hello", "PUBLISHED").await;
    let platform = app.platform_token();

    let response = get(
        &app,
        &[(
            "query",
            "{ organizations { totalCount edges { node { slug plan } } } }",
        )],
        Some(&platform),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({ "data": { "organizations": { "totalCount": 1, "edges": [{ "node": { "slug": "acme", "plan": "FREE" } }] } } })
    );

    // Variables, anonymously.
    let response = get(
        &app,
        &[
            (
                "query",
                "query($slug: String!) { organization(slug: $slug) { name posts { edges { node { title } } } } }",
            ),
            ("variables", r#"{"slug":"acme"}"#),
        ],
        None,
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({ "data": { "organization": { "name": "Acme", "posts": { "edges": [{ "node": { "title": "Hello" } }] } } } })
    );
}

/// GraphQL over HTTP names the GET parameter `operationName`.
#[tokio::test]
async fn get_runs_the_operation_named_by_operation_name() {
    let app = TestApp::spawn().await;
    let platform = app.platform_token();
    app.create_org("Acme", "acme").await;

    let response = get(
        &app,
        &[
            (
                "query",
                "query Other { viewer { id } } query BySlug($slug: String!) { organization(slug: $slug) { name } }",
            ),
            ("variables", r#"{"slug":"acme"}"#),
            ("operationName", "BySlug"),
        ],
        None,
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({ "data": { "organization": { "name": "Acme" } } }));

    // The query of a document that also holds a mutation runs, and only it.
    let both = r#"query Read { organizations { totalCount } }
                  mutation Write { createOrganization(input: {name: "Evil", slug: "evil"}) { id } }"#;
    let response = get(
        &app,
        &[("query", both), ("operationName", "Read")],
        Some(&platform),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({ "data": { "organizations": { "totalCount": 1 } } }));
    assert_eq!(organization_count(&app).await, 1);
}

#[tokio::test]
async fn mutations_over_get_are_refused_and_write_nothing() {
    let app = TestApp::spawn().await;
    let platform = app.platform_token();
    let org = app.create_org("Acme", "acme").await;
    let author = app.create_user(org, "alice", "MEMBER").await;
    let post = app.create_post(author, "Hello", "PUBLISHED").await;
    let post_id = post.to_string();

    let create = r#"mutation { createOrganization(input: {name: "Evil", slug: "evil"}) { id } }"#;
    let view = format!(r#"mutation {{ recordPostView(id: "{post_id}") {{ viewCount }} }}"#);
    let both = r#"query Read { organizations { totalCount } }
                  mutation Write { createOrganization(input: {name: "Evil", slug: "evil"}) { id } }"#;
    let refused: [Vec<(&str, &str)>; 4] = [
        vec![("query", create)],
        vec![("query", view.as_str())],
        vec![("query", both), ("operationName", "Write")],
        vec![
            (
                "query",
                "mutation M($n: String!) { createOrganization(input: {name: $n, slug: \"evil\"}) { id } }",
            ),
            ("variables", r#"{"n":"Evil"}"#),
        ],
    ];
    for params in refused {
        let response = get(&app, &params, Some(&platform)).await;
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "{params:?}");
        let allow = response
            .headers()
            .get(header::ALLOW)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(allow.contains("POST"), "Allow: {allow}");
        let body: Value = response.json().await.unwrap();
        assert!(body["errors"][0]["message"].is_string(), "{body:#}");
        assert!(body.get("data").is_none_or(Value::is_null), "{body:#}");
    }
    assert_eq!(organization_count(&app).await, 1);
    let views = app
        .ok(
            "query($id: ID!) { post(id: $id) { viewCount } }",
            json!({ "id": post_id }),
            None,
        )
        .await;
    assert_eq!(views["post"]["viewCount"], 0);

    // The same mutation POSTed works.
    app.ok(create, json!({}), Some(&platform)).await;
    assert_eq!(organization_count(&app).await, 2);
}

#[tokio::test]
async fn browsers_get_graphiql() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(app.url("/graphql"))
        .header(
            header::ACCEPT,
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let html = response.text().await.unwrap();
    assert!(html.to_lowercase().contains("graphiql"), "{html}");
    // Every asset comes from blogql itself (no CDN), and the script points at the endpoint.
    assert!(!html.contains("unpkg") && !html.contains("https://"), "{html}");
    let script = html
        .split('"')
        .find(|part| part.starts_with("/graphiql/graphiql.js"))
        .expect("the page loads blogql's GraphiQL script");
    let js = app.client.get(app.url(script)).send().await.unwrap();
    assert_eq!(js.status(), StatusCode::OK);
    assert!(
        js.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(
        js.text().await.unwrap().contains("/graphql"),
        "GraphiQL must point at the endpoint"
    );

    // Without a browser's Accept header, a GET without a query is not GraphiQL.
    let response = app
        .client
        .get(app.url("/graphql"))
        .header(header::ACCEPT, "application/json")
        .send()
        .await
        .unwrap();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(!content_type.starts_with("text/html"), "{content_type}");
}

#[tokio::test]
async fn health_and_readiness() {
    let app = TestApp::spawn().await;
    for path in ["/healthz", "/readyz"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    let missing = app.client.get(app.url("/nope")).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

const NODE: &str = r#"
    fragment N on Node {
        __typename id
        ... on Organization { databaseId slug }
        ... on User { databaseId username }
        ... on Post { databaseId title }
        ... on AuditLog { databaseId action }
    }"#;

#[tokio::test]
async fn node_and_nodes_resolve_global_ids() {
    let app = TestApp::spawn().await;
    let platform = app.platform_token();
    let t = Some(platform.as_str());
    let org = app.create_org("Acme", "acme").await;
    let user = app.create_user(org, "alice", "ADMIN").await;
    let post = app.create_post(user, "Hello", "PUBLISHED").await;
    let gone = app.create_post(user, "Gone", "PUBLISHED").await;
    let ids = app
        .ok(
            r#"query($o: ID!, $u: ID!, $p: ID!, $g: ID!) {
                organization(id: $o) { id } user(id: $u) { id } post(id: $p) { id } gone: post(id: $g) { id }
                auditLogs(first: 1, filter: {tableName: "posts"}) { edges { node { id databaseId } } }
            }"#,
            json!({ "o": org.to_string(), "u": user.to_string(), "p": post.to_string(), "g": gone.to_string() }),
            t,
        )
        .await;
    let org_gid = ids["organization"]["id"].as_str().unwrap().to_owned();
    let user_gid = ids["user"]["id"].as_str().unwrap().to_owned();
    let post_gid = ids["post"]["id"].as_str().unwrap().to_owned();
    let gone_gid = ids["gone"]["id"].as_str().unwrap().to_owned();
    let audit_gid = ids["auditLogs"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let audit_id = ids["auditLogs"]["edges"][0]["node"]["databaseId"].clone();
    // Global ids are opaque, distinct per type, and not the database id.
    let all = [&org_gid, &user_gid, &post_gid, &gone_gid, &audit_gid];
    for (i, a) in all.iter().enumerate() {
        assert!(a.parse::<i64>().is_err(), "{a} is a bare number");
        for b in &all[i + 1..] {
            assert_ne!(a, b);
        }
    }
    app.ok(
        "mutation($id: ID!) { softDeletePost(input: {id: $id}) { id } }",
        json!({ "id": gone_gid }),
        t,
    )
    .await;

    let query = format!("query($id: ID!) {{ node(id: $id) {{ ...N }} }} {NODE}");
    for (gid, expected) in [
        (
            &org_gid,
            json!({ "__typename": "Organization", "id": org_gid, "databaseId": org, "slug": "acme" }),
        ),
        (
            &user_gid,
            json!({ "__typename": "User", "id": user_gid, "databaseId": user, "username": "alice" }),
        ),
        (
            &post_gid,
            json!({ "__typename": "Post", "id": post_gid, "databaseId": post, "title": "Hello" }),
        ),
        (
            &audit_gid,
            json!({ "__typename": "AuditLog", "id": audit_gid, "databaseId": audit_id, "action": "CREATE" }),
        ),
    ] {
        let data = app.ok(&query, json!({ "id": gid }), t).await;
        assert_eq!(data["node"], expected);
    }
    // Deleted, malformed, unknown, or a bare database id: null.
    for id in [
        gone_gid.as_str(),
        "garbage",
        "UG9zdDo5OTk5",
        &post.to_string(),
        "",
    ] {
        let data = app.ok(&query, json!({ "id": id }), t).await;
        assert!(data["node"].is_null(), "node({id:?}) = {data}");
    }

    let query = format!("query($ids: [ID!]!) {{ nodes(ids: $ids) {{ ...N }} }} {NODE}");
    let data = app
        .ok(
            &query,
            json!({ "ids": [post_gid, "garbage", user_gid, org_gid, gone_gid, post_gid] }),
            t,
        )
        .await;
    let types: Vec<Value> = data["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["__typename"].clone())
        .collect();
    assert_eq!(
        types,
        [
            json!("Post"),
            Value::Null,
            json!("User"),
            json!("Organization"),
            Value::Null,
            json!("Post")
        ]
    );
    assert_eq!(data["nodes"][0]["databaseId"], post);
    let empty = app.ok(&query, json!({ "ids": [] }), t).await;
    assert_eq!(empty["nodes"], json!([]));
}

#[tokio::test]
async fn typed_arguments_take_global_or_database_ids() {
    let app = TestApp::spawn().await;
    let platform = app.platform_token();
    let t = Some(platform.as_str());
    let org = app.create_org("Acme", "acme").await;
    let user = app.create_user(org, "alice", "ADMIN").await;
    let post = app.create_post(user, "Hello", "PUBLISHED").await;
    let read = r#"query($o: ID!, $u: ID!, $p: ID!) {
        organization(id: $o) { id databaseId }
        user(id: $u) { id databaseId }
        post(id: $p) { id databaseId }
        posts(organizationId: $o, filter: {authorId: $u}) { totalCount }
        users(organizationId: $o) { totalCount }
    }"#;
    let by_db = app
        .ok(
            read,
            json!({ "o": org.to_string(), "u": user.to_string(), "p": post.to_string() }),
            t,
        )
        .await;
    assert_eq!(by_db["organization"]["databaseId"], org);
    assert_eq!(by_db["user"]["databaseId"], user);
    assert_eq!(by_db["post"]["databaseId"], post);
    assert_eq!(by_db["posts"]["totalCount"], 1);
    assert_eq!(by_db["users"]["totalCount"], 1);
    let by_global = app
        .ok(
            read,
            json!({
                "o": by_db["organization"]["id"],
                "u": by_db["user"]["id"],
                "p": by_db["post"]["id"],
            }),
            t,
        )
        .await;
    assert_eq!(by_global, by_db);

    // Mutations too.
    for id in [json!(post.to_string()), by_db["post"]["id"].clone()] {
        let data = app
            .ok(
                "mutation($id: ID!) { recordPostView(id: $id) { databaseId } }",
                json!({ "id": id }),
                t,
            )
            .await;
        assert_eq!(data["recordPostView"]["databaseId"], post);
    }
    let created = app
        .ok(
            "mutation($a: ID!, $o: ID!) { createPost(input: {title: \"Second\", authorId: $a, organizationId: $o}) { author { databaseId } organization { databaseId } } }",
            json!({ "a": by_db["user"]["id"], "o": org.to_string() }),
            t,
        )
        .await;
    assert_eq!(created["createPost"]["author"]["databaseId"], user);
    assert_eq!(created["createPost"]["organization"]["databaseId"], org);
    let renamed = app
        .ok(
            "mutation($id: ID!) { updatePost(input: {id: $id, title: \"Renamed\"}) { title viewCount } }",
            json!({ "id": post.to_string() }),
            t,
        )
        .await;
    assert_eq!(
        renamed["updatePost"],
        json!({ "title": "Renamed", "viewCount": 2 })
    );

    // A global id of another type, or not an id at all, is a bad input naming the argument.
    for (query, vars, field) in [
        (
            "query($id: ID!) { post(id: $id) { id } }",
            json!({ "id": by_db["user"]["id"] }),
            "id",
        ),
        (
            "query($id: ID!) { user(id: $id) { id } }",
            json!({ "id": "not-an-id" }),
            "id",
        ),
        (
            "query($id: ID!) { posts(organizationId: $id) { totalCount } }",
            json!({ "id": by_db["post"]["id"] }),
            "organizationId",
        ),
        (
            "mutation($id: ID!) { updatePost(input: {id: $id, title: \"X\"}) { id } }",
            json!({ "id": "-4" }),
            "id",
        ),
    ] {
        let (code, error) = app.err(query, vars, t).await;
        assert_eq!(code, "BAD_USER_INPUT", "{error}");
        assert_eq!(error["extensions"]["field"], field, "{error}");
    }
}

/// Response keys follow the selection set (GraphQL spec, "Serialized Map Ordering"), also
/// through aliases, fragments and lists, every time.
#[tokio::test]
async fn response_keys_follow_the_selection_order() {
    let app = TestApp::spawn().await;
    let token = app.platform_token();
    let org = app.create_org("Acme", "acme").await;
    let alice = app.create_user(org, "alice", "MEMBER").await;
    app.create_post(alice, "Hello", "PUBLISHED").await;
    let query = "{ users { totalCount edges { node { ...U } } } organizations { totalCount nodes { slug name } } \
                 viewer { id } posts { nodes { zz: title organization { slug } author { username } ... on Post { viewCount } id } } } \
                 fragment U on User { username databaseId organization { name } }";
    for _ in 0..20 {
        let data = app.ok(query, json!({}), Some(&token)).await;
        let keys = |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&data), ["users", "organizations", "viewer", "posts"]);
        assert_eq!(keys(&data["users"]), ["totalCount", "edges"]);
        assert_eq!(
            keys(&data["users"]["edges"][0]["node"]),
            ["username", "databaseId", "organization"]
        );
        assert_eq!(keys(&data["organizations"]["nodes"][0]), ["slug", "name"]);
        assert_eq!(
            keys(&data["posts"]["nodes"][0]),
            ["zz", "organization", "author", "viewCount", "id"]
        );
    }
}

/// Under `node`/`nodes` each object's keys follow the fragments its own type matches:
/// a Post answers `b, a` even when the User fragment before it says `a, b`. (The key
/// order once merged every fragment, so a Post came back `a, b`.)
#[tokio::test]
async fn keys_under_an_abstract_field_follow_the_objects_own_fragments() {
    let app = TestApp::spawn().await;
    let token = app.platform_token();
    let org = app.create_org("Acme", "acme").await;
    let alice = app.create_user(org, "alice", "MEMBER").await;
    let post = app.create_post(alice, "Hello", "PUBLISHED").await;
    let ids = json!([
        crate::helpers::global_id("User", alice),
        crate::helpers::global_id("Post", post),
        crate::helpers::global_id("Organization", org)
    ]);
    let query = "query($ids: [ID!]!) { nodes(ids: $ids) { \
                 ... on User { a: id b: username } ... on Post { b: title a: id } ...O } } \
                 fragment O on Organization { b: slug ... on Node { a: id } c: name }";
    for _ in 0..10 {
        let data = app.ok(query, json!({ "ids": ids }), Some(&token)).await;
        let keys = |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        let nodes = &data["nodes"];
        assert_eq!(keys(&nodes[0]), ["a", "b"], "{data}");
        assert_eq!(keys(&nodes[1]), ["b", "a"], "{data}");
        assert_eq!(keys(&nodes[2]), ["b", "a", "c"], "{data}");
        assert_eq!(nodes[1]["b"], "Hello");
    }
}
