//! Index-backed `search` (substring) and ranked `fullText` of post lists (migration 10):
//! exact semantics, the under-3-characters rule, tenancy and visibility, web-search
//! syntax, ranking, RELEVANCE pagination, refusals, index maintenance and query plans.
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};

const POSTS: &str = r#"query($org: ID, $first: Int, $after: String, $last: Int, $before: String,
                         $order: PostOrder, $filter: PostFilter) {
    posts(organizationId: $org, first: $first, after: $after, last: $last, before: $before,
          orderBy: $order, filter: $filter) {
        totalCount
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { cursor node { databaseId title } }
    }
}"#;

struct Listed {
    titles: Vec<String>,
    ids: Vec<i64>,
    total: i64,
    end: Value,
    start: Value,
    has_next: bool,
    has_previous: bool,
}

async fn list(app: &TestApp, token: Option<&str>, vars: Value) -> Listed {
    let data = app.ok(POSTS, vars, token).await;
    let c = &data["posts"];
    let edges = c["edges"].as_array().unwrap();
    Listed {
        titles: edges
            .iter()
            .map(|e| e["node"]["title"].as_str().unwrap().to_owned())
            .collect(),
        ids: edges
            .iter()
            .map(|e| e["node"]["databaseId"].as_i64().unwrap())
            .collect(),
        total: c["totalCount"].as_i64().unwrap(),
        end: c["pageInfo"]["endCursor"].clone(),
        start: c["pageInfo"]["startCursor"].clone(),
        has_next: c["pageInfo"]["hasNextPage"].as_bool().unwrap(),
        has_previous: c["pageInfo"]["hasPreviousPage"].as_bool().unwrap(),
    }
}

async fn post(
    app: &TestApp,
    author: i64,
    title: &str,
    content: &str,
    excerpt: Option<&str>,
    status: &str,
) -> i64 {
    let data = app
        .ok(
            "mutation($i: CreatePostInput!) { createPost(input: $i) { databaseId } }",
            json!({ "i": { "title": title, "content": content, "excerpt": excerpt, "status": status,
                           "authorId": author.to_string() } }),
            Some(&app.platform_token()),
        )
        .await;
    data["createPost"]["databaseId"].as_i64().unwrap()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

async fn bad_input(app: &TestApp, token: Option<&str>, vars: Value, field: &str) {
    let body = app.gql(POSTS, vars.clone(), token).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{vars}: {body:#}"
    );
    assert_eq!(
        body["errors"][0]["extensions"]["field"], field,
        "{vars}: {body:#}"
    );
}

#[tokio::test]
async fn search_is_an_exact_case_insensitive_substring_everywhere() {
    let app = TestApp::spawn().await;
    let admin = app.platform_token();
    let org = app.create_org("Acme", "acme").await;
    let other = app.create_org("Globex", "globex").await;
    let author = app.create_user(org, "alice", "MEMBER").await;
    let stranger = app.create_user(other, "bob", "MEMBER").await;
    for (title, content) in [
        ("Hello World", "a greeting"),
        ("100% sure", "with a percent sign"),
        ("1000 sure", "without one"),
        ("snake_case", "an underscore"),
        ("snakeXcase", "a lookalike"),
        ("back\\slash", "an escape"),
        ("backslash", "no escape"),
        ("plain", "Find the NEEDLE here"),
        ("abc bcd", "trigrams of a-b-c-d, apart"),
    ] {
        post(&app, author, title, content, None, "PUBLISHED").await;
    }
    post(&app, stranger, "Globex hello", "", None, "PUBLISHED").await;
    for (search, here, everywhere) in [
        ("hello", vec!["Hello World"], vec!["Globex hello", "Hello World"]),
        ("LLO WO", vec!["Hello World"], vec!["Hello World"]),
        ("  hElLo wOrLd ", vec!["Hello World"], vec!["Hello World"]),
        ("0% s", vec!["100% sure"], vec!["100% sure"]),
        ("e_c", vec!["snake_case"], vec!["snake_case"]),
        ("k\\s", vec!["back\\slash"], vec!["back\\slash"]),
        ("the needle", vec!["plain"], vec!["plain"]),
        ("abcd", vec![], vec![]),
        ("c bcd", vec!["abc bcd"], vec!["abc bcd"]),
        ("bcd a", vec![], vec![]),
        (
            "escape",
            vec!["back\\slash", "backslash"],
            vec!["back\\slash", "backslash"],
        ),
        ("%%%", vec![], vec![]),
        ("nothing like this", vec![], vec![]),
    ] {
        let filter = json!({ "search": search });
        let within = list(
            &app,
            Some(&admin),
            json!({ "org": org.to_string(), "first": 100, "filter": filter }),
        )
        .await;
        assert_eq!(sorted(within.titles), here, "{search:?} in one organization");
        assert_eq!(within.total, here.len() as i64, "{search:?}");
        let across = list(&app, Some(&admin), json!({ "first": 100, "filter": filter })).await;
        assert_eq!(
            sorted(across.titles),
            everywhere,
            "{search:?} across organizations"
        );
        assert_eq!(across.total, everywhere.len() as i64, "{search:?}");
    }
    // Edits and soft deletes are followed (the SQLite index is kept by triggers).
    let id = post(&app, author, "Old name", "", None, "PUBLISHED").await;
    app.ok(
        "mutation($i: UpdatePostInput!) { updatePost(input: $i) { id } }",
        json!({ "i": { "id": id.to_string(), "title": "Brand new name", "content": "fresh body" } }),
        Some(&admin),
    )
    .await;
    let find = |s: &str| json!({ "first": 100, "filter": { "search": s } });
    assert!(list(&app, Some(&admin), find("old name")).await.titles.is_empty());
    assert_eq!(
        list(&app, Some(&admin), find("and new")).await.titles,
        ["Brand new name"]
    );
    assert_eq!(
        list(&app, Some(&admin), find("FRESH")).await.titles,
        ["Brand new name"]
    );
    app.ok(
        "mutation($i: SoftDeletePostInput!) { softDeletePost(input: $i) { id } }",
        json!({ "i": { "id": id.to_string() } }),
        Some(&admin),
    )
    .await;
    assert!(list(&app, Some(&admin), find("and new")).await.titles.is_empty());
}

#[tokio::test]
async fn a_search_under_three_characters_needs_one_organization() {
    let app = TestApp::spawn().await;
    let admin = app.platform_token();
    let org = app.create_org("Acme", "acme").await;
    let author = app.create_user(org, "alice", "MEMBER").await;
    let member = app.user_token(author);
    post(&app, author, "100% sure", "", None, "PUBLISHED").await;
    post(&app, author, "snake_case", "", None, "PUBLISHED").await;
    for search in ["%", "_", "ab", "", "  x  "] {
        for token in [Some(admin.as_str()), Some(member.as_str()), None] {
            bad_input(&app, token, json!({ "filter": { "search": search } }), "search").await;
        }
    }
    let within = |s: &str| json!({ "org": org.to_string(), "first": 100, "filter": { "search": s } });
    assert_eq!(list(&app, Some(&admin), within("%")).await.titles, ["100% sure"]);
    assert_eq!(
        list(&app, Some(&member), within("_")).await.titles,
        ["snake_case"]
    );
    assert_eq!(list(&app, None, within("E_")).await.titles, ["snake_case"]);
    assert_eq!(list(&app, None, within("")).await.total, 2);
    // A nested list is within one organization (or one author, or one tag).
    let data = app
        .ok(
            r#"query($o: ID!) { organization(id: $o) { posts(filter: {search: "%"}) { nodes { title } } } }"#,
            json!({ "o": org.to_string() }),
            None,
        )
        .await;
    assert_eq!(
        data["organization"]["posts"]["nodes"],
        json!([{ "title": "100% sure" }])
    );
    // 201 characters are refused whatever the scope.
    bad_input(&app, Some(&admin), within(&"a".repeat(201)), "search").await;
}

#[tokio::test]
async fn searches_stay_within_the_callers_scope() {
    let app = TestApp::spawn().await;
    let admin = app.platform_token();
    let acme = app.create_org("Acme", "acme").await;
    let globex = app.create_org("Globex", "globex").await;
    let alice = app.create_user(acme, "alice", "MEMBER").await;
    let bob = app.create_user(globex, "bob", "MEMBER").await;
    post(&app, alice, "acme zebra published", "", None, "PUBLISHED").await;
    post(&app, alice, "acme zebra draft", "", None, "DRAFT").await;
    post(&app, bob, "globex zebra published", "", None, "PUBLISHED").await;
    post(&app, bob, "globex zebra draft", "", None, "DRAFT").await;
    let alice_token = app.user_token(alice);
    for filter in [json!({ "search": "zebra" }), json!({ "fullText": "zebra" })] {
        let vars = json!({ "first": 100, "filter": filter });
        let mine = list(&app, Some(&alice_token), vars.clone()).await;
        assert_eq!(
            sorted(mine.titles),
            ["acme zebra draft", "acme zebra published"],
            "{filter}"
        );
        // Another organization's id gives nothing, not its posts.
        let mut foreign = vars.clone();
        foreign["org"] = json!(globex.to_string());
        assert_eq!(list(&app, Some(&alice_token), foreign).await.total, 0, "{filter}");
        let public = list(&app, None, vars.clone()).await;
        assert_eq!(
            sorted(public.titles),
            ["acme zebra published", "globex zebra published"],
            "{filter}"
        );
        assert_eq!(list(&app, Some(&admin), vars.clone()).await.total, 4, "{filter}");
    }
    // A deactivated organization's posts leave the public results.
    app.ok(
        "mutation($i: UpdateOrganizationInput!) { updateOrganization(input: $i) { id } }",
        json!({ "i": { "id": globex.to_string(), "isActive": false } }),
        Some(&admin),
    )
    .await;
    for filter in [json!({ "search": "zebra" }), json!({ "fullText": "zebra" })] {
        let public = list(&app, None, json!({ "first": 100, "filter": filter })).await;
        assert_eq!(public.titles, ["acme zebra published"], "{filter}");
    }
}

#[tokio::test]
async fn full_text_takes_words_phrases_exclusions_and_alternatives() {
    let app = TestApp::spawn().await;
    let admin = app.platform_token();
    let org = app.create_org("Acme", "acme").await;
    let author = app.create_user(org, "alice", "MEMBER").await;
    for (title, content) in [
        ("Async Rust", "tokio runtime"),
        ("Rust async", "no runtime here, just words"),
        ("Java streams", "rust is mentioned once"),
        ("Cooking", "how to make bread"),
        ("Runtimes", "plural only"),
    ] {
        post(&app, author, title, content, None, "PUBLISHED").await;
    }
    for (query, expected) in [
        ("rust", vec!["Async Rust", "Java streams", "Rust async"]),
        ("RUST", vec!["Async Rust", "Java streams", "Rust async"]),
        ("\"async rust\"", vec!["Async Rust"]),
        ("\"rust async\"", vec!["Rust async"]),
        ("rust async", vec!["Async Rust", "Rust async"]),
        ("rust -java", vec!["Async Rust", "Rust async"]),
        ("rust -\"tokio runtime\"", vec!["Java streams", "Rust async"]),
        ("bread or tokio", vec!["Async Rust", "Cooking"]),
        ("runtime", vec!["Async Rust", "Rust async"]),
        ("run", vec![]),
        // Syntax of the databases' own query languages is only words here.
        ("rust*", vec!["Async Rust", "Java streams", "Rust async"]),
        ("(rust)", vec!["Async Rust", "Java streams", "Rust async"]),
        ("rust NEAR", vec![]),
        ("title:rust", vec![]),
        ("bread AND", vec![]),
    ] {
        let vars = json!({ "org": org.to_string(), "first": 100, "filter": { "fullText": query } });
        let found = list(&app, Some(&admin), vars).await;
        assert_eq!(sorted(found.titles), expected, "{query:?}");
        assert_eq!(found.total, expected.len() as i64, "{query:?}");
    }
    // fullText combines with other filters and orders.
    let vars = json!({ "org": org.to_string(), "filter": { "fullText": "rust", "search": "async" },
                       "order": { "field": "TITLE", "direction": "ASC" } });
    assert_eq!(
        list(&app, Some(&admin), vars).await.titles,
        ["Async Rust", "Rust async"]
    );
}

#[tokio::test]
async fn title_outranks_excerpt_which_outranks_content() {
    let app = TestApp::spawn().await;
    let admin = app.platform_token();
    let org = app.create_org("Acme", "acme").await;
    let author = app.create_user(org, "alice", "MEMBER").await;
    // Created in the reverse of the expected order, so neither id nor time explains it.
    post(
        &app,
        author,
        "In the content",
        "about gardening today",
        Some("a summary"),
        "PUBLISHED",
    )
    .await;
    post(
        &app,
        author,
        "In the excerpt",
        "a body",
        Some("on gardening"),
        "PUBLISHED",
    )
    .await;
    post(
        &app,
        author,
        "Gardening tips",
        "a body",
        Some("a summary"),
        "PUBLISHED",
    )
    .await;
    for token in [Some(admin.as_str()), None] {
        let found = list(&app, token, json!({ "filter": { "fullText": "gardening" } })).await;
        assert_eq!(
            found.titles,
            ["Gardening tips", "In the excerpt", "In the content"]
        );
        let vars = json!({ "filter": { "fullText": "gardening" }, "order": { "field": "RELEVANCE", "direction": "ASC" } });
        let reversed = list(&app, token, vars).await;
        assert_eq!(
            reversed.titles,
            ["In the content", "In the excerpt", "Gardening tips"]
        );
    }
}

#[tokio::test]
async fn relevance_pages_have_no_duplicates_or_gaps() {
    let app = TestApp::spawn().await;
    let admin = app.platform_token();
    let org = app.create_org("Acme", "acme").await;
    let author = app.create_user(org, "alice", "MEMBER").await;
    for i in 0..13 {
        // Ranks repeat (ties broken by id) and differ (title, content, repeated words).
        let title = if i % 3 == 0 {
            format!("kiwi {i}")
        } else {
            format!("post {i}")
        };
        let content = "kiwi ".repeat(1 + i % 4);
        post(&app, author, &title, &content, None, "PUBLISHED").await;
    }
    post(&app, author, "no fruit", "nothing", None, "PUBLISHED").await;
    let base = json!({ "org": org.to_string(), "filter": { "fullText": "kiwi" } });
    let mut all_vars = base.clone();
    all_vars["first"] = json!(100);
    let all = list(&app, Some(&admin), all_vars).await;
    assert_eq!(all.ids.len(), 13);
    assert_eq!(all.total, 13);
    for size in [1, 4, 5] {
        let (mut seen, mut after) = (Vec::new(), Value::Null);
        loop {
            let mut vars = base.clone();
            vars["first"] = json!(size);
            vars["after"] = after.clone();
            let page = list(&app, Some(&admin), vars).await;
            assert_eq!(page.has_previous, !after.is_null());
            seen.extend(page.ids);
            if !page.has_next {
                break;
            }
            after = page.end;
        }
        assert_eq!(seen, all.ids, "forward by {size}");
        let (mut seen, mut before) = (Vec::new(), Value::Null);
        loop {
            let mut vars = base.clone();
            vars["last"] = json!(size);
            vars["before"] = before.clone();
            let page = list(&app, Some(&admin), vars).await;
            seen.splice(0..0, page.ids);
            if !page.has_previous {
                break;
            }
            before = page.start;
        }
        assert_eq!(seen, all.ids, "backward by {size}");
    }
    // A RELEVANCE cursor is not a cursor of another order.
    let mut vars = base.clone();
    vars["first"] = json!(2);
    let first = list(&app, Some(&admin), vars).await;
    let mut vars = base.clone();
    vars["after"] = first.end;
    vars["order"] = json!({ "field": "CREATED_AT", "direction": "DESC" });
    bad_input(&app, Some(&admin), vars, "after").await;
}

#[tokio::test]
async fn relevance_and_full_text_refusals() {
    let app = TestApp::spawn().await;
    let admin = app.platform_token();
    let org = app.create_org("Acme", "acme").await;
    let author = app.create_user(org, "alice", "MEMBER").await;
    post(&app, author, "Rust", "", None, "PUBLISHED").await;
    let relevance = json!({ "field": "RELEVANCE", "direction": "DESC" });
    bad_input(&app, Some(&admin), json!({ "order": relevance }), "orderBy").await;
    bad_input(
        &app,
        None,
        json!({ "order": relevance, "filter": { "search": "rust" } }),
        "orderBy",
    )
    .await;
    for text in [
        "",
        "   ",
        "-rust",
        "!!!",
        "rust or -java",
        &"a".repeat(201),
        "a\u{0}b",
    ] {
        bad_input(
            &app,
            Some(&admin),
            json!({ "filter": { "fullText": text } }),
            "fullText",
        )
        .await;
    }
    // Nested post lists refuse fullText with a clear error.
    for query in [
        r#"query($o: ID!) { organization(id: $o) { posts(filter: {fullText: "rust"}) { totalCount } } }"#,
        r#"query($o: ID!) { organization(id: $o) { users(first: 5) { nodes { posts(first: 1, filter: {fullText: "rust"}) { totalCount } } } } }"#,
    ] {
        let body = app
            .gql(query, json!({ "o": org.to_string() }), Some(&admin))
            .await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{body:#}"
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], "fullText", "{body:#}");
    }
    let body = app
        .gql(
            r#"query($o: ID!) { organization(id: $o) { posts(orderBy: {field: RELEVANCE, direction: DESC}) { totalCount } } }"#,
            json!({ "o": org.to_string() }),
            Some(&admin),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "orderBy", "{body:#}");
}

/// The shapes read their indexes: with thousands of posts, a platform admin's search and
/// fullText across every organization (and an anonymous one) never scan `posts`.
#[tokio::test]
async fn search_plans_read_the_indexes() {
    use blogql::{
        auth::Viewer,
        entity::{post, post_columns::Columns},
        query::PageArgs,
        service::post::{Engine, Parent, PostConditions, PostList, PostSort},
    };
    use sea_orm::{ConnectionTrait, Database, DbBackend, QueryOrder, QuerySelect, QueryTrait, Statement};

    let app = TestApp::spawn().await;
    let org = app.create_org("Acme", "acme").await;
    let author = app.create_user(org, "alice", "MEMBER").await;
    post(&app, author, "seed", "seed body", None, "PUBLISHED").await;
    post(&app, author, "The quokka diaries", "", None, "PUBLISHED").await;
    let db = Database::connect(app.database_url()).await.unwrap();
    let backend = db.get_database_backend();
    let copies = "INSERT INTO posts (user_id, organization_id, title, slug, content, status, view_count, featured, \
                  created_at, updated_at) \
                  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000) \
                  SELECT p.user_id, p.organization_id, 'title ' || n.i, 'copy-' || n.i, 'body of ' || n.i, p.status, 0, \
                  p.featured, p.created_at, p.updated_at FROM posts p, n WHERE p.slug = 'seed'";
    db.execute_unprepared(copies).await.unwrap();
    // On PostgreSQL, VACUUM moves the GIN indexes' pending entries into the index proper (as
    // autovacuum does), which the planner's costs count on.
    let analyze = match app.backend {
        Backend::Postgres => "VACUUM ANALYZE posts",
        Backend::Sqlite => "ANALYZE",
    };
    db.execute_unprepared(analyze).await.unwrap();
    let engine = match app.backend {
        Backend::Postgres => Engine::Postgres,
        Backend::Sqlite => Engine::Sqlite,
    };
    let shape = |filter: PostConditions, sort: PostSort| PostList {
        filter,
        sort,
        descending: true,
        page: PageArgs::default(),
        include_deleted: false,
        columns: Columns::REQUIRED,
        engine,
    };
    let search = PostConditions {
        search: Some("QUOKKA di".into()),
        ..Default::default()
    };
    let full_text = PostConditions {
        full_text: Some("\"body of\" 1234".into()),
        ..Default::default()
    };
    let admin = Viewer::PlatformAdmin { subject: "t".into() };
    for (list, viewer) in [
        (shape(search.clone(), PostSort::CreatedAt), &admin),
        (shape(search, PostSort::CreatedAt), &Viewer::Anonymous),
        (shape(full_text.clone(), PostSort::CreatedAt), &admin),
        (shape(full_text.clone(), PostSort::Relevance), &admin),
        (shape(full_text, PostSort::Relevance), &Viewer::Anonymous),
    ] {
        let select = list
            .select(viewer, Parent::Any)
            .unwrap()
            .order_by_desc(post::Column::CreatedAt)
            .order_by_desc(post::Column::Id)
            .limit(21);
        let statement = select.build(backend);
        let explain = match backend {
            DbBackend::Postgres => format!("EXPLAIN {}", statement.sql),
            _ => format!("EXPLAIN QUERY PLAN {}", statement.sql),
        };
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                explain,
                statement.values.clone().map(|v| v.0).unwrap_or_default(),
            ))
            .await
            .unwrap();
        let plan: Vec<String> = rows
            .iter()
            .map(|row| match backend {
                DbBackend::Postgres => row.try_get_by_index::<String>(0).unwrap(),
                _ => row.try_get_by_index::<String>(3).unwrap(),
            })
            .collect();
        let text = plan.join("\n");
        let index = match (backend, list.filter.search.is_some()) {
            (DbBackend::Postgres, true) => "idx_posts_lower_title_trgm",
            (DbBackend::Postgres, false) => "idx_posts_search_vector",
            (_, true) => "posts_search VIRTUAL TABLE",
            (_, false) => "posts_fulltext VIRTUAL TABLE",
        };
        assert!(text.contains(index), "{:?} reads {index}:\n{text}", list.filter);
        assert!(!text.contains("Seq Scan on posts"), "{text}");
        assert!(
            !plan.iter().any(|p| p
                .trim_start_matches(['|', '-', '`', ' '])
                .starts_with("SCAN posts ")
                || p.trim() == "SCAN posts"),
            "{text}"
        );
    }
}
