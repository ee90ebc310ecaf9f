//! Relay connections: page boundaries, walking forwards and backwards, keyset cursors
//! stable under inserts, orders with ties, `totalCount`, and the `search` filter.
use serde_json::{Value, json};

use crate::helpers::TestApp;

const POSTS: &str = r#"query($org: ID!, $first: Int, $after: String, $last: Int, $before: String,
                         $order: PostOrder, $filter: PostFilter, $deleted: Boolean! = false) {
    posts(organizationId: $org, first: $first, after: $after, last: $last, before: $before,
          orderBy: $order, filter: $filter, includeDeleted: $deleted) {
        totalCount
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { cursor node { databaseId title viewCount } }
    }
}"#;

struct Page {
    ids: Vec<i64>,
    titles: Vec<String>,
    cursors: Vec<String>,
    has_next: bool,
    has_previous: bool,
    start: Value,
    end: Value,
    total: i64,
}

/// One page of the organization's posts, read by the platform admin. `args` holds
/// `first`, `after`, `last`, `before`, `order`, `filter` as needed.
async fn page(app: &TestApp, org: i64, args: Value) -> Page {
    let mut vars = args;
    vars["org"] = json!(org.to_string());
    let data = app.ok(POSTS, vars, Some(&app.platform_token())).await;
    let c = &data["posts"];
    let edges = c["edges"].as_array().unwrap();
    let page = Page {
        ids: edges
            .iter()
            .map(|e| e["node"]["databaseId"].as_i64().unwrap())
            .collect(),
        titles: edges
            .iter()
            .map(|e| e["node"]["title"].as_str().unwrap().to_owned())
            .collect(),
        cursors: edges
            .iter()
            .map(|e| e["cursor"].as_str().unwrap().to_owned())
            .collect(),
        has_next: c["pageInfo"]["hasNextPage"].as_bool().unwrap(),
        has_previous: c["pageInfo"]["hasPreviousPage"].as_bool().unwrap(),
        start: c["pageInfo"]["startCursor"].clone(),
        end: c["pageInfo"]["endCursor"].clone(),
        total: c["totalCount"].as_i64().unwrap(),
    };
    // startCursor and endCursor are the cursors of the first and last edges.
    assert_eq!(
        page.start.as_str(),
        page.cursors.first().map(String::as_str),
        "startCursor"
    );
    assert_eq!(
        page.end.as_str(),
        page.cursors.last().map(String::as_str),
        "endCursor"
    );
    page
}

/// Every row, walking forwards with `first: size` from the start.
async fn walk_forward(app: &TestApp, org: i64, size: i64, extra: Value) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut after = Value::Null;
    for _ in 0..100 {
        let mut args = extra.clone();
        args["first"] = json!(size);
        args["after"] = after.clone();
        let p = page(app, org, args).await;
        assert!(p.ids.len() as i64 <= size);
        ids.extend(&p.ids);
        if !p.has_next {
            return ids;
        }
        assert_eq!(p.ids.len() as i64, size, "a short page claims a next page");
        after = p.end;
    }
    panic!("pagination did not end");
}

/// Every row, walking backwards with `last: size` from the end, in list order.
async fn walk_backward(app: &TestApp, org: i64, size: i64, extra: Value) -> Vec<i64> {
    let mut pages: Vec<Vec<i64>> = Vec::new();
    let mut before = Value::Null;
    for _ in 0..100 {
        let mut args = extra.clone();
        args["last"] = json!(size);
        args["before"] = before.clone();
        let p = page(app, org, args).await;
        assert!(p.ids.len() as i64 <= size);
        pages.push(p.ids.clone());
        if !p.has_previous {
            return pages.into_iter().rev().flatten().collect();
        }
        assert_eq!(p.ids.len() as i64, size, "a short page claims a previous page");
        before = p.start;
    }
    panic!("pagination did not end");
}

async fn create_post(app: &TestApp, author: i64, title: &str, content: &str) -> i64 {
    app.ok(
        "mutation($i: CreatePostInput!) { createPost(input: $i) { databaseId } }",
        json!({ "i": { "title": title, "content": content, "status": "PUBLISHED", "authorId": author.to_string() } }),
        Some(&app.platform_token()),
    )
    .await["createPost"]["databaseId"]
        .as_i64()
        .unwrap()
}

async fn setup(app: &TestApp) -> (i64, i64) {
    let org = app.create_org("Acme", "acme").await;
    let author = app.create_user(org, "alice", "ADMIN").await;
    (org, author)
}

fn order(field: &str, direction: &str) -> Value {
    json!({ "order": { "field": field, "direction": direction } })
}

#[tokio::test]
async fn empty_lists() {
    let app = TestApp::spawn().await;
    let (org, _) = setup(&app).await;
    for args in [
        json!({}),
        json!({ "first": 5 }),
        json!({ "last": 5 }),
        json!({ "first": 0 }),
        order("VIEW_COUNT", "ASC"),
    ] {
        let p = page(&app, org, args.clone()).await;
        assert!(p.ids.is_empty(), "{args}");
        assert!(!p.has_next && !p.has_previous, "{args}");
        assert!(p.start.is_null() && p.end.is_null(), "{args}");
        assert_eq!(p.total, 0);
    }
    let data = app
        .ok(
            r#"query($org: ID!) {
                organization(id: $org) { posts { totalCount edges { cursor } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }
                auditLogs(filter: {tableName: "posts"}) { totalCount edges { cursor } }
            }"#,
            json!({ "org": org.to_string() }),
            Some(&app.platform_token()),
        )
        .await;
    assert_eq!(
        data["organization"]["posts"],
        json!({ "totalCount": 0, "edges": [], "pageInfo": {
            "hasNextPage": false, "hasPreviousPage": false, "startCursor": null, "endCursor": null
        } })
    );
    assert_eq!(data["auditLogs"], json!({ "totalCount": 0, "edges": [] }));
}

#[tokio::test]
async fn exact_page_boundaries() {
    let app = TestApp::spawn().await;
    let (org, author) = setup(&app).await;
    let mut created = Vec::new();
    for i in 0..3 {
        created.push(app.create_post(author, &format!("post {i}"), "DRAFT").await);
    }
    let newest_first: Vec<i64> = created.iter().rev().copied().collect();

    let all = page(&app, org, json!({ "first": 3 })).await;
    assert_eq!(all.ids, newest_first);
    assert!(!all.has_next, "exactly `first` rows left: no next page");
    assert!(!all.has_previous);

    let first_two = page(&app, org, json!({ "first": 2 })).await;
    assert_eq!(first_two.ids, newest_first[..2]);
    assert!(first_two.has_next);
    let rest = page(&app, org, json!({ "first": 1, "after": first_two.end })).await;
    assert_eq!(rest.ids, newest_first[2..]);
    assert!(
        !rest.has_next,
        "exactly `first` rows after the cursor: no next page"
    );
    let beyond = page(&app, org, json!({ "first": 5, "after": rest.end })).await;
    assert!(beyond.ids.is_empty());
    assert!(!beyond.has_next);

    let last_three = page(&app, org, json!({ "last": 3 })).await;
    assert_eq!(last_three.ids, newest_first);
    assert!(!last_three.has_previous, "exactly `last` rows: no previous page");
    let last_two = page(&app, org, json!({ "last": 2 })).await;
    assert_eq!(last_two.ids, newest_first[1..]);
    assert!(last_two.has_previous);
    let head = page(&app, org, json!({ "last": 1, "before": last_two.start })).await;
    assert_eq!(head.ids, newest_first[..1]);
    assert!(!head.has_previous);

    // The default page is 20 rows.
    for i in 3..21 {
        app.create_post(author, &format!("post {i}"), "DRAFT").await;
    }
    let default = page(&app, org, json!({})).await;
    assert_eq!(default.ids.len(), 20);
    assert!(default.has_next);
    assert_eq!(default.total, 21);
}

#[tokio::test]
async fn walking_all_pages_forwards_and_backwards() {
    let app = TestApp::spawn().await;
    let (org, author) = setup(&app).await;
    let mut created = Vec::new();
    for i in 0..7 {
        created.push(app.create_post(author, &format!("post {i}"), "PUBLISHED").await);
    }
    let newest_first: Vec<i64> = created.iter().rev().copied().collect();
    assert_eq!(page(&app, org, json!({ "first": 100 })).await.ids, newest_first);

    for size in [1, 2, 3, 7, 10] {
        assert_eq!(
            walk_forward(&app, org, size, json!({})).await,
            newest_first,
            "first: {size}"
        );
        assert_eq!(
            walk_backward(&app, org, size, json!({})).await,
            newest_first,
            "last: {size}"
        );
    }
    let asc = order("CREATED_AT", "ASC");
    for size in [2, 3] {
        assert_eq!(walk_forward(&app, org, size, asc.clone()).await, created);
        assert_eq!(walk_backward(&app, org, size, asc.clone()).await, created);
    }

    // after and before together select the rows between them.
    let all = page(&app, org, json!({ "first": 7 })).await;
    let between = page(
        &app,
        org,
        json!({ "first": 10, "after": all.cursors[1], "before": all.cursors[5] }),
    )
    .await;
    assert_eq!(between.ids, newest_first[2..5]);

    // Nested connections page the same way.
    let nested = app
        .ok(
            r#"query($a: ID!, $after: String) { user(id: $a) { posts(first: 4, after: $after) {
                pageInfo { hasNextPage endCursor } edges { node { databaseId } } } } }"#,
            json!({ "a": author.to_string(), "after": all.cursors[0] }),
            Some(&app.platform_token()),
        )
        .await;
    let ids: Vec<i64> = nested["user"]["posts"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["databaseId"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, newest_first[1..5]);
    assert_eq!(nested["user"]["posts"]["pageInfo"]["hasNextPage"], true);
}

#[tokio::test]
async fn cursors_are_stable_across_inserts() {
    let app = TestApp::spawn().await;
    let (org, author) = setup(&app).await;
    let mut created = Vec::new();
    for i in 0..6 {
        created.push(app.create_post(author, &format!("old {i}"), "PUBLISHED").await);
    }
    let newest_first: Vec<i64> = created.iter().rev().copied().collect();

    // Newest first: new posts land before the cursor and do not shift the next page.
    let first = page(&app, org, json!({ "first": 3 })).await;
    assert_eq!(first.ids, newest_first[..3]);
    let new_a = app.create_post(author, "new a", "PUBLISHED").await;
    let new_b = app.create_post(author, "new b", "PUBLISHED").await;
    let second = page(&app, org, json!({ "first": 3, "after": first.end })).await;
    assert_eq!(second.ids, newest_first[3..], "inserts shifted the next page");
    assert!(!second.has_next);
    assert_eq!(second.total, 8);
    // Backwards from the same cursor, the new posts are there.
    let back = page(&app, org, json!({ "last": 10, "before": first.cursors[0] })).await;
    assert_eq!(back.ids, [new_b, new_a]);

    // By title: an insert before the cursor is not seen, one after it is.
    let by_title = order("TITLE", "ASC");
    let mut args = by_title.clone();
    args["first"] = json!(2);
    let p1 = page(&app, org, args).await;
    assert_eq!(p1.titles, ["new a", "new b"]);
    app.create_post(author, "a first", "PUBLISHED").await;
    let late = app.create_post(author, "old 2x", "PUBLISHED").await;
    let mut args = by_title.clone();
    args["first"] = json!(4);
    args["after"] = p1.end.clone();
    let p2 = page(&app, org, args).await;
    assert_eq!(p2.titles, ["old 0", "old 1", "old 2", "old 2x"]);
    assert_eq!(p2.ids[3], late);
    assert!(p2.has_next);

    // A cursor stays valid after its own row is deleted.
    app.ok(
        "mutation($id: ID!) { softDeletePost(input: {id: $id}) { id } }",
        json!({ "id": created[5].to_string() }),
        Some(&app.platform_token()),
    )
    .await;
    let after_deleted = page(&app, org, json!({ "first": 2, "after": first.cursors[0] })).await;
    assert_eq!(after_deleted.ids, newest_first[1..3]);
}

#[tokio::test]
async fn orders_break_ties_by_id() {
    let app = TestApp::spawn().await;
    let (org, author) = setup(&app).await;
    let specs = [("b", 2), ("a", 0), ("c", 2), ("a", 1), ("b", 0), ("a", 2)];
    let mut posts = Vec::new();
    for (title, views) in specs {
        let id = create_post(&app, author, title, "").await;
        for _ in 0..views {
            app.ok(
                "mutation($id: ID!) { recordPostView(id: $id) { id } }",
                json!({ "id": id.to_string() }),
                None,
            )
            .await;
        }
        posts.push((id, title, views));
    }

    let mut by_views = posts.clone();
    by_views.sort_by_key(|(id, _, views)| (*views, *id));
    let asc: Vec<i64> = by_views.iter().map(|p| p.0).collect();
    let desc: Vec<i64> = asc.iter().rev().copied().collect();
    let mut by_title = posts.clone();
    by_title.sort_by_key(|(id, title, _)| (*title, *id));
    let title_asc: Vec<i64> = by_title.iter().map(|p| p.0).collect();
    let title_desc: Vec<i64> = title_asc.iter().rev().copied().collect();

    for (field, direction, expected) in [
        ("VIEW_COUNT", "ASC", &asc),
        ("VIEW_COUNT", "DESC", &desc),
        ("TITLE", "ASC", &title_asc),
        ("TITLE", "DESC", &title_desc),
    ] {
        let o = order(field, direction);
        let mut args = o.clone();
        args["first"] = json!(100);
        let p = page(&app, org, args).await;
        assert_eq!(&p.ids, expected, "{field} {direction}");
        // Page by page through the ties: nothing skipped, nothing repeated.
        for size in [1, 2, 4] {
            assert_eq!(
                &walk_forward(&app, org, size, o.clone()).await,
                expected,
                "{field} {direction} first: {size}"
            );
            assert_eq!(
                &walk_backward(&app, org, size, o.clone()).await,
                expected,
                "{field} {direction} last: {size}"
            );
        }
    }
    // Views counted: the view-count order is not the creation order.
    let p = page(&app, org, order("VIEW_COUNT", "DESC")).await;
    assert_eq!(p.ids.len(), 6);
    let first = posts.iter().find(|(id, ..)| *id == p.ids[0]).unwrap();
    assert_eq!(first.2, 2);
}

#[tokio::test]
async fn total_count_counts_the_whole_filtered_list() {
    let app = TestApp::spawn().await;
    let (org, author) = setup(&app).await;
    let other_org = app.create_org("Other", "other").await;
    let other_author = app.create_user(other_org, "bob", "ADMIN").await;
    app.create_post(other_author, "elsewhere", "PUBLISHED").await;
    let mut ids = Vec::new();
    for (i, status) in ["PUBLISHED", "DRAFT", "PUBLISHED", "DRAFT", "ARCHIVED"]
        .into_iter()
        .enumerate()
    {
        ids.push(app.create_post(author, &format!("p{i}"), status).await);
    }

    let p = page(&app, org, json!({ "first": 1 })).await;
    assert_eq!(p.total, 5);
    let p = page(&app, org, json!({ "first": 1, "after": p.end })).await;
    assert_eq!(
        p.total, 5,
        "totalCount counts all pages, not what is after the cursor"
    );
    assert_eq!(page(&app, org, json!({ "last": 2 })).await.total, 5);
    let published = page(
        &app,
        org,
        json!({ "filter": { "status": "PUBLISHED" }, "first": 1 }),
    )
    .await;
    assert_eq!(published.total, 2);
    assert_eq!(published.ids.len(), 1);

    app.ok(
        "mutation($id: ID!) { softDeletePost(input: {id: $id}) { id } }",
        json!({ "id": ids[0].to_string() }),
        Some(&app.platform_token()),
    )
    .await;
    assert_eq!(page(&app, org, json!({})).await.total, 4);
    assert_eq!(page(&app, org, json!({ "deleted": true })).await.total, 5);
    let all = app
        .ok(
            "{ posts(first: 1) { totalCount } organizations(first: 1) { totalCount } users(first: 1) { totalCount } }",
            json!({}),
            Some(&app.platform_token()),
        )
        .await;
    assert_eq!(
        all,
        json!({ "posts": { "totalCount": 5 }, "organizations": { "totalCount": 2 }, "users": { "totalCount": 2 } })
    );
    // Anonymous callers count only what they can see.
    let public = app.ok("{ posts { totalCount } }", json!({}), None).await;
    assert_eq!(public["posts"]["totalCount"], 2);
}

#[tokio::test]
async fn a_cursor_belongs_to_its_order() {
    let app = TestApp::spawn().await;
    let (org, author) = setup(&app).await;
    for i in 0..3 {
        app.create_post(author, &format!("p{i}"), "PUBLISHED").await;
    }
    let by_views = {
        let mut args = order("VIEW_COUNT", "DESC");
        args["first"] = json!(1);
        page(&app, org, args).await.end
    };
    let by_default = page(&app, org, json!({ "first": 1 })).await.end;
    for (cursor, field, arg) in [
        (&by_views, "TITLE", "after"),
        (&by_views, "CREATED_AT", "before"),
        (&by_default, "VIEW_COUNT", "after"),
        (&by_default, "UPDATED_AT", "before"),
    ] {
        let mut vars = order(field, "ASC");
        vars["org"] = json!(org.to_string());
        vars[arg] = cursor.clone();
        let body = app.gql(POSTS, vars, Some(&app.platform_token())).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{body:#}"
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], arg, "{body:#}");
    }
    // The same cursor with its own order works.
    let mut args = order("VIEW_COUNT", "DESC");
    args["after"] = by_views;
    assert_eq!(page(&app, org, args).await.ids.len(), 2);
}

#[tokio::test]
async fn search_is_case_insensitive_and_literal() {
    let app = TestApp::spawn().await;
    let (org, author) = setup(&app).await;
    for (title, content) in [
        ("Hello World", "a greeting"),
        ("100% sure", "with a percent sign"),
        ("1000 sure", "without one"),
        ("snake_case", "an underscore"),
        ("snakeXcase", "a lookalike"),
        ("back\\slash", "an escape"),
        ("backslash", "no escape"),
        ("plain", "Find the NEEDLE here"),
    ] {
        create_post(&app, author, title, content).await;
    }
    for (search, expected) in [
        ("hello", vec!["Hello World"]),
        ("WORLD", vec!["Hello World"]),
        ("hElLo wOrLd", vec!["Hello World"]),
        ("  hello  ", vec!["Hello World"]),
        ("%", vec!["100% sure"]),
        ("0%", vec!["100% sure"]),
        ("0% s", vec!["100% sure"]),
        ("_", vec!["snake_case"]),
        ("e_c", vec!["snake_case"]),
        ("\\", vec!["back\\slash"]),
        ("k\\s", vec!["back\\slash"]),
        ("needle", vec!["plain"]),
        ("the NEEDLE", vec!["plain"]),
        ("escape", vec!["back\\slash", "backslash"]),
        ("nothing like this", vec![]),
    ] {
        let p = page(&app, org, json!({ "filter": { "search": search }, "first": 100 })).await;
        let mut titles = p.titles.clone();
        titles.sort();
        assert_eq!(titles, expected, "search {search:?}");
        assert_eq!(p.total, expected.len() as i64, "search {search:?}");
    }
    // Search combines with the other filters.
    app.ok(
        r#"mutation($o: ID!) { createPost(input: {title: "hello draft", status: DRAFT, authorId: $o}) { id } }"#,
        json!({ "o": author.to_string() }),
        Some(&app.platform_token()),
    )
    .await;
    let p = page(
        &app,
        org,
        json!({ "filter": { "search": "HELLO", "status": "DRAFT" } }),
    )
    .await;
    assert_eq!(p.titles, ["hello draft"]);
    let anonymous = app
        .ok(
            r#"{ posts(filter: {search: "hello"}) { totalCount } }"#,
            json!({}),
            None,
        )
        .await;
    assert_eq!(anonymous["posts"]["totalCount"], 1);
}

#[tokio::test]
async fn titles_and_names_that_look_like_dates_or_numbers_paginate() {
    let app = TestApp::spawn().await;
    let (org, author) = setup(&app).await;
    let titles = [
        "2024-01-01T00:00:00Z",
        "2023-06-01T12:00:00+02:00",
        "42",
        "true",
        "null",
        "zebra",
    ];
    let mut posts = Vec::new();
    for title in titles {
        posts.push((title, create_post(&app, author, title, "").await));
    }
    posts.sort();
    let expected: Vec<i64> = posts.iter().map(|p| p.1).collect();
    for size in [1, 2] {
        assert_eq!(
            walk_forward(&app, org, size, order("TITLE", "ASC")).await,
            expected,
            "first: {size}"
        );
        assert_eq!(
            walk_backward(&app, org, size, order("TITLE", "ASC")).await,
            expected,
            "last: {size}"
        );
    }

    // Organization names, the same way.
    for (i, name) in titles.iter().enumerate() {
        app.create_org(name, &format!("org-{i}")).await;
    }
    let mut names: Vec<&str> = titles.iter().copied().chain(["Acme"]).collect();
    names.sort();
    let mut seen = Vec::new();
    let mut after = Value::Null;
    for _ in 0..20 {
        let body = app
            .gql(
                "query($after: String) { organizations(first: 1, after: $after, orderBy: {field: NAME, direction: ASC}) {
                    pageInfo { hasNextPage endCursor } edges { node { name } } } }",
                json!({ "after": after }),
                Some(&app.platform_token()),
            )
            .await;
        assert!(body.get("errors").is_none(), "after {seen:?}: {body:#}");
        let c = &body["data"]["organizations"];
        seen.push(c["edges"][0]["node"]["name"].as_str().unwrap().to_owned());
        if c["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = c["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, names);
}

/// Every `databaseId` of a root list, walking with `first`/`after` (or `last`/`before`).
async fn walk_list(app: &TestApp, list: &str, args: &str, size: i64, forward: bool) -> Vec<i64> {
    let (page_arg, cursor_arg, more, cursor) = if forward {
        ("first", "after", "hasNextPage", "endCursor")
    } else {
        ("last", "before", "hasPreviousPage", "startCursor")
    };
    let query = format!(
        "query($c: String) {{ {list}({page_arg}: {size}, {cursor_arg}: $c{args}) {{
            totalCount pageInfo {{ {more} {cursor} }} edges {{ node {{ databaseId }} }} }} }}"
    );
    let mut pages: Vec<Vec<i64>> = Vec::new();
    let mut c = Value::Null;
    for _ in 0..100 {
        let data = app
            .ok(&query, json!({ "c": c }), Some(&app.platform_token()))
            .await;
        let conn = &data[list];
        pages.push(
            conn["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"]["databaseId"].as_i64().unwrap())
                .collect(),
        );
        if conn["pageInfo"][more] != true {
            if !forward {
                pages.reverse();
            }
            let all: Vec<i64> = pages.into_iter().flatten().collect();
            assert_eq!(conn["totalCount"].as_i64().unwrap() as usize, all.len());
            return all;
        }
        c = conn["pageInfo"][cursor].clone();
    }
    panic!("pagination of {list} did not end");
}

#[tokio::test]
async fn users_organizations_and_audit_logs_page_the_same_way() {
    let app = TestApp::spawn().await;
    let (org, alice) = setup(&app).await;
    let other = app.create_org("Other", "other").await;
    let mut users = vec![("alice".to_owned(), alice)];
    for (i, name) in ["mallory", "bob", "zed", "carol", "dave"].into_iter().enumerate() {
        let id = app
            .create_user(if i % 2 == 0 { org } else { other }, name, "MEMBER")
            .await;
        users.push((name.to_owned(), id));
    }
    let full = walk_list(&app, "users", "", 100, true).await;
    let by_creation: Vec<i64> = users.iter().map(|u| u.1).collect();
    assert_eq!(full, by_creation, "users default to oldest first");
    let mut by_name = users.clone();
    by_name.sort();
    let by_name: Vec<i64> = by_name.iter().map(|u| u.1).collect();
    let by_name_desc: Vec<i64> = by_name.iter().rev().copied().collect();
    for size in [1, 2, 4] {
        for forward in [true, false] {
            assert_eq!(walk_list(&app, "users", "", size, forward).await, by_creation);
            assert_eq!(
                walk_list(
                    &app,
                    "users",
                    ", orderBy: {field: USERNAME, direction: ASC}",
                    size,
                    forward
                )
                .await,
                by_name
            );
            assert_eq!(
                walk_list(
                    &app,
                    "users",
                    ", orderBy: {field: USERNAME, direction: DESC}",
                    size,
                    forward
                )
                .await,
                by_name_desc
            );
        }
    }
    let orgs = walk_list(&app, "organizations", "", 1, true).await;
    assert_eq!(orgs, [org, other]);
    assert_eq!(walk_list(&app, "organizations", "", 1, false).await, [org, other]);

    // The audit log, newest first: 2 organizations and 6 users created.
    let log = walk_list(&app, "auditLogs", "", 100, true).await;
    assert_eq!(log.len(), 8);
    let mut newest_first = log.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(log, newest_first);
    for size in [1, 3] {
        assert_eq!(walk_list(&app, "auditLogs", "", size, true).await, log);
        assert_eq!(walk_list(&app, "auditLogs", "", size, false).await, log);
        let oldest_first: Vec<i64> = log.iter().rev().copied().collect();
        assert_eq!(
            walk_list(&app, "auditLogs", ", orderBy: {direction: ASC}", size, true).await,
            oldest_first
        );
    }
}

#[tokio::test]
async fn created_after_and_before_filter_posts() {
    let app = TestApp::spawn().await;
    let (org, author) = setup(&app).await;
    let mut created = Vec::new();
    for i in 0..4 {
        let data = app
            .ok(
                "mutation($a: ID!, $t: String!) { createPost(input: {title: $t, authorId: $a}) { databaseId createdAt } }",
                json!({ "a": author.to_string(), "t": format!("p{i}") }),
                Some(&app.platform_token()),
            )
            .await;
        created.push((
            data["createPost"]["databaseId"].as_i64().unwrap(),
            data["createPost"]["createdAt"].clone(),
        ));
    }
    let ids =
        |range: std::ops::Range<usize>| -> Vec<i64> { created[range].iter().rev().map(|c| c.0).collect() };
    let at = |i: usize| created[i].1.clone();
    let p = page(&app, org, json!({ "filter": { "createdAfter": at(1) } })).await;
    assert_eq!(p.ids, ids(1..4), "createdAfter is inclusive");
    let p = page(&app, org, json!({ "filter": { "createdBefore": at(2) } })).await;
    assert_eq!(p.ids, ids(0..2), "createdBefore is exclusive");
    let p = page(
        &app,
        org,
        json!({ "filter": { "createdAfter": at(1), "createdBefore": at(3) } }),
    )
    .await;
    assert_eq!(p.ids, ids(1..3));
    assert_eq!(p.total, 2);
}

/// `first: 0` returns no edges, and `hasNextPage` still says whether rows exist.
#[tokio::test]
async fn first_zero_reports_whether_rows_exist() {
    let app = TestApp::spawn().await;
    let token = app.platform_token();
    let query = "{ organizations(first: 0) { edges { cursor } pageInfo { hasNextPage } } }";
    let empty = app.ok(query, json!({}), Some(&token)).await;
    assert_eq!(empty["organizations"]["pageInfo"]["hasNextPage"], false);
    app.create_org("Acme", "acme").await;
    let some = app.ok(query, json!({}), Some(&token)).await;
    assert_eq!(some["organizations"]["edges"], json!([]));
    assert_eq!(some["organizations"]["pageInfo"]["hasNextPage"], true);
}

/// A page whose selection does not read `hasNextPage`/`hasPreviousPage` is read without
/// the extra row that tells them; wherever the selection does read them (directly, through
/// a fragment, beside the same list read without them in one request, nested), they are
/// right.
#[tokio::test]
async fn page_ends_are_right_however_they_are_selected() {
    let app = TestApp::spawn().await;
    let (org, author) = setup(&app).await;
    for i in 0..3 {
        create_post(&app, author, &format!("Post {i}"), "body").await;
    }
    let token = app.platform_token();
    let vars = json!({ "org": org.to_string() });
    let query = "query($org: ID!) { \
        direct: posts(organizationId: $org, first: 2) { pageInfo { hasNextPage hasPreviousPage } nodes { title } } \
        bare: posts(organizationId: $org, first: 2) { pageInfo { endCursor } nodes { title } } \
        named: posts(organizationId: $org, first: 2) { pageInfo { ...Ends } nodes { title } } \
        inline: posts(organizationId: $org, first: 2) { ... on PostConnection { pageInfo { ... on PageInfo { hasNextPage } } } } \
        back: posts(organizationId: $org, last: 2) { pageInfo { hasPreviousPage } nodes { title } } \
        exact: posts(organizationId: $org, first: 3) { pageInfo { hasNextPage } nodes { title } } \
        zero: posts(organizationId: $org, first: 0) { nodes { title } } \
        organization(id: $org) { \
          users(first: 1) { nodes { bare: posts(first: 2) { nodes { title } } none: posts(first: 0) { nodes { title } } \
                                    ends: posts(first: 2) { pageInfo { hasNextPage } nodes { title } } } } \
          posts(first: 2) { pageInfo { hasNextPage } } } } \
        fragment Ends on PageInfo { hasNextPage }";
    let data = app.ok(query, vars, Some(&token)).await;
    assert_eq!(data["direct"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(data["direct"]["pageInfo"]["hasPreviousPage"], false);
    assert_eq!(data["bare"]["nodes"], data["direct"]["nodes"]);
    assert_eq!(data["bare"]["nodes"].as_array().map(Vec::len), Some(2));
    assert_eq!(data["named"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(data["inline"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(data["back"]["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(data["exact"]["pageInfo"]["hasNextPage"], false);
    assert_eq!(data["zero"]["nodes"], json!([]));
    let user = &data["organization"]["users"]["nodes"][0];
    assert_eq!(user["ends"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(user["bare"]["nodes"], user["ends"]["nodes"]);
    assert_eq!(user["none"]["nodes"], json!([]));
    assert_eq!(data["organization"]["posts"]["pageInfo"]["hasNextPage"], true);
    // `first: 0` without the page's ends reads no row, in the one-statement path too.
    let planned = app
        .ok(
            "query($org: ID!) { organization(id: $org) { users(first: 1) { nodes { username posts(first: 0) { nodes { title } } } } } }",
            json!({ "org": org.to_string() }),
            Some(&token),
        )
        .await;
    let user = &planned["organization"]["users"]["nodes"][0];
    assert_eq!(user["username"], "alice");
    assert_eq!(user["posts"]["nodes"], json!([]));
}
