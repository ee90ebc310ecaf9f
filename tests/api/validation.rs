//! Validation: every input rule of the contract is `BAD_USER_INPUT` naming the input field
//! (camelCase) and writes nothing; unique values are `CONFLICT`; deleted records are
//! `NOT_FOUND` to change and live ones cannot be restored.
use serde_json::{Value, json};

use crate::helpers::TestApp;

const CREATE_ORG: &str =
    "mutation($i: CreateOrganizationInput!) { createOrganization(input: $i) { databaseId name slug } }";
const UPDATE_ORG: &str =
    "mutation($i: UpdateOrganizationInput!) { updateOrganization(input: $i) { databaseId name slug } }";
const CREATE_USER: &str =
    "mutation($i: CreateUserInput!) { createUser(input: $i) { databaseId username email fullName } }";
const UPDATE_USER: &str =
    "mutation($i: UpdateUserInput!) { updateUser(input: $i) { databaseId username email fullName } }";
const CREATE_POST: &str =
    "mutation($i: CreatePostInput!) { createPost(input: $i) { databaseId title content } }";
const UPDATE_POST: &str =
    "mutation($i: UpdatePostInput!) { updatePost(input: $i) { databaseId title content } }";

/// Asserts the request fails with `code` naming `field` (when given), and that the failed
/// field returned no data.
async fn expect_error(
    app: &TestApp,
    query: &str,
    vars: Value,
    token: Option<&str>,
    code: &str,
    field: Option<&str>,
) {
    let body = app.gql(query, vars.clone(), token).await;
    let error = &body["errors"][0];
    assert_eq!(
        error["extensions"]["code"], code,
        "variables {vars}\nresponse {body:#}"
    );
    if let Some(field) = field {
        assert_eq!(
            error["extensions"]["field"], field,
            "variables {vars}\nresponse {body:#}"
        );
    }
    let returned = body["data"]
        .as_object()
        .is_some_and(|data| data.values().any(|v| !v.is_null()));
    assert!(!returned, "a failed request returned data: {body:#}");
}

async fn bad_input(app: &TestApp, query: &str, vars: Value, token: &str, field: &str) {
    expect_error(app, query, vars, Some(token), "BAD_USER_INPUT", Some(field)).await;
}

/// The number of organizations, users or posts stored, deleted ones included.
async fn count(app: &TestApp, list: &str) -> i64 {
    let query = format!("{{ {list}(includeDeleted: true) {{ totalCount }} }}");
    let data = app.ok(&query, json!({}), Some(&app.platform_token())).await;
    data[list]["totalCount"].as_i64().unwrap()
}

#[tokio::test]
async fn organization_name_and_slug_rules() {
    let app = TestApp::spawn().await;
    let admin = app.platform_token();
    let a = admin.as_str();

    let too_long_name = "n".repeat(101);
    for name in ["", "   ", "\t\n", too_long_name.as_str(), "Ac\0me"] {
        bad_input(
            &app,
            CREATE_ORG,
            json!({ "i": { "name": name, "slug": "valid-slug" } }),
            a,
            "name",
        )
        .await;
    }
    let too_long_slug = "s".repeat(51);
    for slug in [
        "",
        "   ",
        "Acme",
        "acme--blog",
        "-acme",
        "acme-",
        "acme_blog",
        "acme blog",
        "acme.blog",
        "acmé",
        too_long_slug.as_str(),
        "ac\0me",
    ] {
        bad_input(
            &app,
            CREATE_ORG,
            json!({ "i": { "name": "Valid Name", "slug": slug } }),
            a,
            "slug",
        )
        .await;
    }
    assert_eq!(
        count(&app, "organizations").await,
        0,
        "a refused input wrote a row"
    );

    // The limits themselves are accepted, and strings are trimmed.
    let longest_name = "n".repeat(100);
    let longest_slug = "s".repeat(50);
    let longest = app
        .ok(
            CREATE_ORG,
            json!({ "i": { "name": longest_name, "slug": longest_slug } }),
            Some(a),
        )
        .await;
    assert_eq!(longest["createOrganization"]["name"], longest_name);
    assert_eq!(longest["createOrganization"]["slug"], longest_slug);
    let shortest = app
        .ok(CREATE_ORG, json!({ "i": { "name": "x", "slug": "x" } }), Some(a))
        .await;
    assert_eq!(shortest["createOrganization"]["slug"], "x");
    let trimmed = app
        .ok(
            CREATE_ORG,
            json!({ "i": { "name": "  Padded Name \t", "slug": "  a1-b2-c3  " } }),
            Some(a),
        )
        .await["createOrganization"]
        .clone();
    assert_eq!(trimmed["name"], "Padded Name");
    assert_eq!(trimmed["slug"], "a1-b2-c3");
    assert_eq!(count(&app, "organizations").await, 3);

    // Updates follow the same rules and leave the row unchanged when refused.
    let id = trimmed["databaseId"].to_string();
    bad_input(
        &app,
        UPDATE_ORG,
        json!({ "i": { "id": id, "name": "  " } }),
        a,
        "name",
    )
    .await;
    bad_input(
        &app,
        UPDATE_ORG,
        json!({ "i": { "id": id, "name": too_long_name } }),
        a,
        "name",
    )
    .await;
    bad_input(
        &app,
        UPDATE_ORG,
        json!({ "i": { "id": id, "slug": "Bad Slug" } }),
        a,
        "slug",
    )
    .await;
    let org = app
        .ok(
            "query($id: ID!) { organization(id: $id) { name slug } }",
            json!({ "id": id }),
            Some(a),
        )
        .await;
    assert_eq!(
        org["organization"],
        json!({ "name": "Padded Name", "slug": "a1-b2-c3" })
    );
}

#[tokio::test]
async fn user_field_rules() {
    let app = TestApp::spawn().await;
    let admin = app.platform_token();
    let a = admin.as_str();
    let org = app.create_org("Acme", "acme").await.to_string();
    let user = |username: &str, email: &str, full_name: Option<&str>| {
        json!({ "i": {
            "username": username,
            "email": email,
            "fullName": full_name,
            "organizationId": org,
        } })
    };

    let too_long_username = "u".repeat(81);
    for username in [
        "",
        "ab",
        "  ab  ",
        too_long_username.as_str(),
        "alice bob",
        "alice!",
        "alice@acme",
        "ali/ce",
        "ali\0ce",
    ] {
        bad_input(
            &app,
            CREATE_USER,
            user(username, "valid@example.com", None),
            a,
            "username",
        )
        .await;
    }
    // 109 + "@example.com" (12) = 121 characters.
    let too_long_email = format!("{}@example.com", "e".repeat(109));
    for email in [
        "",
        "   ",
        "plain",
        "a@b",
        "alice@localhost",
        "a@@example.com",
        "a@b@example.com",
        "a b@example.com",
        ".alice@example.com",
        "alice.@example.com",
        "al..ice@example.com",
        "alice@example..com",
        "@example.com",
        "alice@",
        too_long_email.as_str(),
        "alice\0@example.com",
    ] {
        bad_input(&app, CREATE_USER, user("valid", email, None), a, "email").await;
    }
    let too_long_full_name = "f".repeat(101);
    for full_name in [too_long_full_name.as_str(), "Al\0ice"] {
        bad_input(
            &app,
            CREATE_USER,
            user("valid", "valid@example.com", Some(full_name)),
            a,
            "fullName",
        )
        .await;
    }
    assert_eq!(count(&app, "users").await, 0, "a refused input wrote a row");

    // The limits themselves are accepted.
    let longest_username = "u".repeat(80);
    let longest_email = format!("{}@example.com", "e".repeat(108));
    assert_eq!(longest_email.len(), 120);
    let longest_full_name = "f".repeat(100);
    let longest = app
        .ok(
            CREATE_USER,
            user(&longest_username, &longest_email, Some(&longest_full_name)),
            Some(a),
        )
        .await["createUser"]
        .clone();
    assert_eq!(longest["username"], longest_username);
    assert_eq!(longest["email"], longest_email);
    assert_eq!(longest["fullName"], longest_full_name);
    let allowed = app
        .ok(
            CREATE_USER,
            user("A.b-c_D9", "first.last+tag@sub.example.org", None),
            Some(a),
        )
        .await;
    assert_eq!(allowed["createUser"]["username"], "A.b-c_D9");
    let shortest = app
        .ok(CREATE_USER, user("abc", "abc@example.com", None), Some(a))
        .await;
    assert_eq!(shortest["createUser"]["username"], "abc");

    // Strings are trimmed.
    let trimmed = app
        .ok(
            CREATE_USER,
            user(
                "  trimmed.user \t",
                "  trimmed@example.com  ",
                Some("  Trimmed Name  "),
            ),
            Some(a),
        )
        .await["createUser"]
        .clone();
    assert_eq!(trimmed["username"], "trimmed.user");
    assert_eq!(trimmed["email"], "trimmed@example.com");
    assert_eq!(trimmed["fullName"], "Trimmed Name");
    assert_eq!(count(&app, "users").await, 4);

    // Updates follow the same rules and leave the row unchanged when refused.
    let id = trimmed["databaseId"].to_string();
    bad_input(
        &app,
        UPDATE_USER,
        json!({ "i": { "id": id, "username": "no" } }),
        a,
        "username",
    )
    .await;
    bad_input(
        &app,
        UPDATE_USER,
        json!({ "i": { "id": id, "email": "not-an-email" } }),
        a,
        "email",
    )
    .await;
    bad_input(
        &app,
        UPDATE_USER,
        json!({ "i": { "id": id, "fullName": too_long_full_name } }),
        a,
        "fullName",
    )
    .await;
    let stored = app
        .ok(
            "query($id: ID!) { user(id: $id) { username email fullName } }",
            json!({ "id": id }),
            Some(a),
        )
        .await;
    assert_eq!(
        stored["user"],
        json!({ "username": "trimmed.user", "email": "trimmed@example.com", "fullName": "Trimmed Name" })
    );
}

#[tokio::test]
async fn post_title_and_content_rules() {
    let app = TestApp::spawn().await;
    let admin = app.platform_token();
    let a = admin.as_str();
    let org = app.create_org("Acme", "acme").await;
    let author = app.create_user(org, "alice", "MEMBER").await.to_string();

    let too_long_title = "t".repeat(201);
    for title in ["", "   ", "\t\n ", too_long_title.as_str(), "Hel\0lo"] {
        bad_input(
            &app,
            CREATE_POST,
            json!({ "i": { "title": title, "authorId": author } }),
            a,
            "title",
        )
        .await;
    }
    bad_input(
        &app,
        CREATE_POST,
        json!({ "i": { "title": "Fine", "content": "bad\0content", "authorId": author } }),
        a,
        "content",
    )
    .await;
    assert_eq!(count(&app, "posts").await, 0, "a refused input wrote a row");

    // 200 characters is the limit, counted in characters, not bytes.
    for title in ["t".repeat(200), "é".repeat(200), "x".to_owned()] {
        let post = app
            .ok(
                CREATE_POST,
                json!({ "i": { "title": title, "authorId": author } }),
                Some(a),
            )
            .await;
        assert_eq!(post["createPost"]["title"], title);
    }
    let trimmed = app
        .ok(
            CREATE_POST,
            json!({ "i": { "title": "  Padded title \n", "authorId": author } }),
            Some(a),
        )
        .await["createPost"]
        .clone();
    assert_eq!(trimmed["title"], "Padded title");
    assert_eq!(count(&app, "posts").await, 4);

    let id = trimmed["databaseId"].to_string();
    for title in ["", "  ", too_long_title.as_str()] {
        bad_input(
            &app,
            UPDATE_POST,
            json!({ "i": { "id": id, "title": title } }),
            a,
            "title",
        )
        .await;
    }
    bad_input(
        &app,
        UPDATE_POST,
        json!({ "i": { "id": id, "content": "\0" } }),
        a,
        "content",
    )
    .await;
    let stored = app
        .ok(
            "query($id: ID!) { post(id: $id) { title content } }",
            json!({ "id": id }),
            Some(a),
        )
        .await;
    assert_eq!(
        stored["post"],
        json!({ "title": "Padded title", "content": null })
    );
}

#[tokio::test]
async fn unknown_enum_values_are_rejected_by_the_schema() {
    let app = TestApp::spawn().await;
    let admin = app.platform_token();
    let a = Some(admin.as_str());

    let cases = [
        (
            r#"mutation { createOrganization(input: {name: "Gold", slug: "gold", plan: GOLD}) { id } }"#,
            json!({}),
            "GOLD",
        ),
        (
            CREATE_ORG,
            json!({ "i": { "name": "Gold", "slug": "gold", "plan": "GOLD" } }),
            "GOLD",
        ),
        // Enum values are the upper-case names, not the stored lower-case values.
        (
            CREATE_ORG,
            json!({ "i": { "name": "Pro", "slug": "pro", "plan": "pro" } }),
            "pro",
        ),
    ];
    for (query, vars, value) in cases {
        let body = app.gql(query, vars, a).await;
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(value), "{body:#}");
        assert!(body["data"].is_null(), "{body:#}");
    }
    assert_eq!(count(&app, "organizations").await, 0);

    let org = app.create_org("Acme", "acme").await;
    let author = app.create_user(org, "alice", "MEMBER").await;
    let body = app
        .gql(
            CREATE_POST,
            json!({ "i": { "title": "T", "status": "DELETED", "authorId": author.to_string() } }),
            a,
        )
        .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("DELETED"),
        "{body:#}"
    );
    let body = app
        .gql(
            "{ posts(orderBy: {field: POPULARITY, direction: DESC}) { totalCount } }",
            json!({}),
            a,
        )
        .await;
    assert!(body["errors"][0].is_object(), "{body:#}");
    assert!(body["data"].is_null(), "{body:#}");
    let role = app
        .gql(
            CREATE_USER,
            json!({ "i": { "username": "bob", "email": "bob@example.com", "role": "OWNER", "organizationId": org.to_string() } }),
            a,
        )
        .await;
    assert!(role["errors"][0].is_object(), "{role:#}");
    assert_eq!(count(&app, "posts").await, 0);
    assert_eq!(count(&app, "users").await, 1);
}

#[tokio::test]
async fn page_sizes_out_of_range_and_malformed_cursors() {
    let app = TestApp::spawn().await;
    let admin = app.platform_token();
    let a = admin.as_str();
    let org = app.create_org("Acme", "acme").await;
    let author = app.create_user(org, "alice", "MEMBER").await;
    app.create_post(author, "Hello", "PUBLISHED").await;

    let lists = ["posts", "users", "organizations", "auditLogs"];
    for list in lists {
        for (arg, value) in [("first", 101), ("first", -1), ("last", 101), ("last", -1)] {
            let query = format!("{{ {list}({arg}: {value}) {{ totalCount }} }}");
            expect_error(&app, &query, json!({}), Some(a), "BAD_USER_INPUT", Some(arg)).await;
        }
        // The bounds themselves are fine.
        for arg in ["first: 100", "first: 0", "last: 100", "last: 0"] {
            let query = format!("{{ {list}({arg}) {{ totalCount }} }}");
            app.ok(&query, json!({}), Some(a)).await;
        }
    }
    // Nested connections too.
    expect_error(
        &app,
        "query($id: ID!) { organization(id: $id) { posts(first: 101) { totalCount } } }",
        json!({ "id": org.to_string() }),
        Some(a),
        "BAD_USER_INPUT",
        Some("first"),
    )
    .await;
    expect_error(
        &app,
        "query($id: ID!) { user(id: $id) { posts(last: -3) { totalCount } } }",
        json!({ "id": author.to_string() }),
        Some(a),
        "BAD_USER_INPUT",
        Some("last"),
    )
    .await;

    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let malformed = [
        "not a cursor".to_owned(),
        "!!!".to_owned(),
        String::new(),
        URL_SAFE_NO_PAD.encode("{}"),
        URL_SAFE_NO_PAD.encode("[1,2,3]"),
        URL_SAFE_NO_PAD.encode(r#"{"f":"CREATED_AT","k":"yesterday","i":"x"}"#),
    ];
    for cursor in &malformed {
        for arg in ["after", "before"] {
            let query = format!("query($c: String) {{ posts({arg}: $c) {{ totalCount }} }}");
            expect_error(
                &app,
                &query,
                json!({ "c": cursor }),
                Some(a),
                "BAD_USER_INPUT",
                Some(arg),
            )
            .await;
        }
        expect_error(
            &app,
            "query($c: String) { users(after: $c) { totalCount } }",
            json!({ "c": cursor }),
            Some(a),
            "BAD_USER_INPUT",
            Some("after"),
        )
        .await;
    }
}

#[tokio::test]
async fn platform_admins_must_name_the_organization_and_the_author() {
    let app = TestApp::spawn().await;
    let admin = app.platform_token();
    let org = app.create_org("Acme", "acme").await;
    let author = app.create_user(org, "alice", "ADMIN").await;

    bad_input(
        &app,
        CREATE_USER,
        json!({ "i": { "username": "bob", "email": "bob@example.com" } }),
        &admin,
        "organizationId",
    )
    .await;
    bad_input(
        &app,
        CREATE_POST,
        json!({ "i": { "title": "Orphan" } }),
        &admin,
        "authorId",
    )
    .await;
    assert_eq!(count(&app, "users").await, 1);
    assert_eq!(count(&app, "posts").await, 0);

    // A signed-in user has defaults for both.
    let alice = app.user_token(author);
    let bob = app
        .ok(
            "mutation($i: CreateUserInput!) { createUser(input: $i) { organization { databaseId } } }",
            json!({ "i": { "username": "bob", "email": "bob@example.com" } }),
            Some(&alice),
        )
        .await;
    assert_eq!(bob["createUser"]["organization"]["databaseId"], org);
    let post = app
        .ok(
            "mutation($i: CreatePostInput!) { createPost(input: $i) { author { databaseId } } }",
            json!({ "i": { "title": "Mine" } }),
            Some(&alice),
        )
        .await;
    assert_eq!(post["createPost"]["author"]["databaseId"], author);
}

#[tokio::test]
async fn taken_unique_values_are_conflicts_naming_the_field() {
    let app = TestApp::spawn().await;
    let admin = app.platform_token();
    let a = Some(admin.as_str());
    let acme = app.create_org("Acme", "acme").await;
    let globex = app.create_org("Globex", "globex").await;

    for (name, slug, field) in [
        ("Acme", "other", "name"),
        ("  Acme ", "other", "name"),
        ("Other", "acme", "slug"),
        ("Other", " acme ", "slug"),
    ] {
        expect_error(
            &app,
            CREATE_ORG,
            json!({ "i": { "name": name, "slug": slug } }),
            a,
            "CONFLICT",
            Some(field),
        )
        .await;
    }
    assert_eq!(count(&app, "organizations").await, 2);
    expect_error(
        &app,
        UPDATE_ORG,
        json!({ "i": { "id": globex.to_string(), "name": "Acme" } }),
        a,
        "CONFLICT",
        Some("name"),
    )
    .await;
    expect_error(
        &app,
        UPDATE_ORG,
        json!({ "i": { "id": globex.to_string(), "slug": "acme" } }),
        a,
        "CONFLICT",
        Some("slug"),
    )
    .await;

    app.create_user(acme, "alice", "ADMIN").await;
    let bob = app.create_user(globex, "bob", "MEMBER").await;
    for (username, email, field) in [
        ("alice", "new@example.com", "username"),
        (" alice ", "new@example.com", "username"),
        ("alice2", "alice@example.com", "email"),
    ] {
        expect_error(
            &app,
            CREATE_USER,
            json!({ "i": { "username": username, "email": email, "organizationId": globex.to_string() } }),
            a,
            "CONFLICT",
            Some(field),
        )
        .await;
    }
    expect_error(
        &app,
        UPDATE_USER,
        json!({ "i": { "id": bob.to_string(), "username": "alice" } }),
        a,
        "CONFLICT",
        Some("username"),
    )
    .await;
    expect_error(
        &app,
        UPDATE_USER,
        json!({ "i": { "id": bob.to_string(), "email": "alice@example.com" } }),
        a,
        "CONFLICT",
        Some("email"),
    )
    .await;
    assert_eq!(count(&app, "users").await, 2);
    let stored = app
        .ok(
            "query($id: ID!) { user(id: $id) { username email } organization(slug: \"globex\") { name } }",
            json!({ "id": bob.to_string() }),
            a,
        )
        .await;
    assert_eq!(
        stored,
        json!({ "user": { "username": "bob", "email": "bob@example.com" }, "organization": { "name": "Globex" } })
    );
}

#[tokio::test]
async fn deleted_records_cannot_change_and_live_ones_cannot_be_restored() {
    let app = TestApp::spawn().await;
    let platform = app.platform_token();
    let org = app.create_org("Acme", "acme").await;
    let admin_id = app.create_user(org, "admin", "ADMIN").await;
    let member = app.create_user(org, "member", "MEMBER").await;
    let post = app.create_post(member, "Hello", "PUBLISHED").await;
    let org_admin = app.user_token(admin_id);

    // Posts, by an org admin and by the platform admin.
    for token in [org_admin.as_str(), platform.as_str()] {
        let id = json!({ "i": { "id": post.to_string() } });
        let t = Some(token);
        expect_error(
            &app,
            "mutation($i: RestorePostInput!) { restorePost(input: $i) { id } }",
            id.clone(),
            t,
            "BAD_USER_INPUT",
            Some("id"),
        )
        .await;
        app.ok(
            "mutation($i: SoftDeletePostInput!) { softDeletePost(input: $i) { id } }",
            id.clone(),
            t,
        )
        .await;
        expect_error(
            &app,
            UPDATE_POST,
            json!({ "i": { "id": post.to_string(), "title": "Changed" } }),
            t,
            "NOT_FOUND",
            None,
        )
        .await;
        expect_error(
            &app,
            "mutation($i: SoftDeletePostInput!) { softDeletePost(input: $i) { id } }",
            id.clone(),
            t,
            "NOT_FOUND",
            None,
        )
        .await;
        app.ok(
            "mutation($i: RestorePostInput!) { restorePost(input: $i) { id } }",
            id.clone(),
            t,
        )
        .await;
        expect_error(
            &app,
            "mutation($i: RestorePostInput!) { restorePost(input: $i) { id } }",
            id,
            t,
            "BAD_USER_INPUT",
            Some("id"),
        )
        .await;
    }
    let title = app
        .ok(
            "query($id: ID!) { post(id: $id) { title } }",
            json!({ "id": post.to_string() }),
            Some(&platform),
        )
        .await;
    assert_eq!(title["post"]["title"], "Hello");

    // Users.
    let id = json!({ "i": { "id": member.to_string() } });
    let t = Some(org_admin.as_str());
    expect_error(
        &app,
        "mutation($i: RestoreUserInput!) { restoreUser(input: $i) { id } }",
        id.clone(),
        t,
        "BAD_USER_INPUT",
        Some("id"),
    )
    .await;
    app.ok(
        "mutation($i: SoftDeleteUserInput!) { softDeleteUser(input: $i) { id } }",
        id.clone(),
        t,
    )
    .await;
    expect_error(
        &app,
        UPDATE_USER,
        json!({ "i": { "id": member.to_string(), "fullName": "Changed" } }),
        t,
        "NOT_FOUND",
        None,
    )
    .await;
    expect_error(
        &app,
        "mutation($i: SoftDeleteUserInput!) { softDeleteUser(input: $i) { id } }",
        id.clone(),
        t,
        "NOT_FOUND",
        None,
    )
    .await;
    app.ok(
        "mutation($i: RestoreUserInput!) { restoreUser(input: $i) { id } }",
        id.clone(),
        t,
    )
    .await;
    expect_error(
        &app,
        "mutation($i: RestoreUserInput!) { restoreUser(input: $i) { id } }",
        id,
        t,
        "BAD_USER_INPUT",
        Some("id"),
    )
    .await;

    // Organizations.
    let id = json!({ "i": { "id": org.to_string() } });
    let t = Some(platform.as_str());
    expect_error(
        &app,
        "mutation($i: RestoreOrganizationInput!) { restoreOrganization(input: $i) { id } }",
        id.clone(),
        t,
        "BAD_USER_INPUT",
        Some("id"),
    )
    .await;
    app.ok(
        "mutation($i: SoftDeleteOrganizationInput!) { softDeleteOrganization(input: $i) { id } }",
        id.clone(),
        t,
    )
    .await;
    expect_error(
        &app,
        UPDATE_ORG,
        json!({ "i": { "id": org.to_string(), "name": "Changed" } }),
        t,
        "NOT_FOUND",
        None,
    )
    .await;
    expect_error(
        &app,
        "mutation($i: SoftDeleteOrganizationInput!) { softDeleteOrganization(input: $i) { id } }",
        id.clone(),
        t,
        "NOT_FOUND",
        None,
    )
    .await;
    // The organization's users and posts were deleted with it.
    expect_error(
        &app,
        UPDATE_POST,
        json!({ "i": { "id": post.to_string(), "title": "Changed" } }),
        t,
        "NOT_FOUND",
        None,
    )
    .await;
    expect_error(
        &app,
        UPDATE_USER,
        json!({ "i": { "id": member.to_string(), "fullName": "Changed" } }),
        t,
        "NOT_FOUND",
        None,
    )
    .await;
    app.ok(
        "mutation($i: RestoreOrganizationInput!) { restoreOrganization(input: $i) { id } }",
        id.clone(),
        t,
    )
    .await;
    expect_error(
        &app,
        "mutation($i: RestoreOrganizationInput!) { restoreOrganization(input: $i) { id } }",
        id,
        t,
        "BAD_USER_INPUT",
        Some("id"),
    )
    .await;
    let org_name = app
        .ok(
            "query($id: ID!) { organization(id: $id) { name } }",
            json!({ "id": org.to_string() }),
            t,
        )
        .await;
    assert_eq!(org_name["organization"]["name"], "Acme");
}

#[tokio::test]
async fn nul_bytes_in_lookups_and_filters_are_refused() {
    let app = TestApp::spawn().await;
    let admin = app.platform_token();
    let org = app.create_org("Acme", "acme").await;
    let author = app.create_user(org, "alice", "MEMBER").await;
    app.create_post(author, "Hello", "PUBLISHED").await;

    for (query, field) in [
        ("query($s: String) { organization(slug: $s) { id } }", "slug"),
        (
            "query($s: String) { posts(filter: {search: $s}) { totalCount } }",
            "search",
        ),
        (
            "query($s: String) { auditLogs(filter: {tableName: $s}) { totalCount } }",
            "tableName",
        ),
    ] {
        expect_error(
            &app,
            query,
            json!({ "s": "ac\0me" }),
            Some(&admin),
            "BAD_USER_INPUT",
            Some(field),
        )
        .await;
    }
}

#[tokio::test]
async fn cursors_with_a_key_of_the_wrong_type_are_malformed() {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

    let app = TestApp::spawn().await;
    let admin = app.platform_token();
    let org = app.create_org("Acme", "acme").await;
    let author = app.create_user(org, "alice", "MEMBER").await;
    for title in ["a", "b", "c"] {
        app.create_post(author, title, "PUBLISHED").await;
    }
    // Cursors are opaque, but a client can forge one: its key must fit its order.
    for (field, cursor) in [
        ("CREATED_AT", r#"{"f":"CREATED_AT","k":5,"i":1}"#),
        ("CREATED_AT", r#"{"f":"CREATED_AT","k":"yesterday","i":1}"#),
        ("VIEW_COUNT", r#"{"f":"VIEW_COUNT","k":"many","i":1}"#),
        (
            "VIEW_COUNT",
            r#"{"f":"VIEW_COUNT","k":"2024-01-01T00:00:00Z","i":1}"#,
        ),
        ("TITLE", r#"{"f":"TITLE","k":5,"i":1}"#),
        ("TITLE", r#"{"f":"TITLE","k":"a\u0000","i":1}"#),
    ] {
        let query = format!(
            "query($c: String) {{ posts(after: $c, orderBy: {{field: {field}, direction: ASC}}) {{ edges {{ node {{ title }} }} }} }}"
        );
        expect_error(
            &app,
            &query,
            json!({ "c": URL_SAFE_NO_PAD.encode(cursor) }),
            Some(&admin),
            "BAD_USER_INPUT",
            Some("after"),
        )
        .await;
    }
}

/// A document that passed full validation once skips it on later requests whose variables
/// are vouched for (`graphql::variables`); every other request still gets the full
/// validation's answer. Each bad request is compared with the same request of a copy of
/// the document (one more trailing space: another cache entry) that never passed.
#[tokio::test]
async fn a_document_validated_once_refuses_bad_variables_as_before() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Vouch", "vouch").await;
    let author = app.create_user(org, "vouch.author", "ADMIN").await;
    let post = app.create_post(author, "Vouched", "PUBLISHED").await;
    let token = app.platform_token();
    let query = "query Q($id: ID!, $ids: [ID!]!, $n: Int, $full: Boolean!, $status: PostStatus) {
        post(id: $id) { databaseId title @include(if: $full) }
        nodes(ids: $ids) { id }
        posts(first: $n, filter: {status: $status}) { totalCount }
    }";
    let copy = format!("{query} ");
    let id = crate::helpers::global_id("Post", post);
    let good = json!({ "id": id, "ids": [id], "n": 2, "full": true, "status": "PUBLISHED" });

    let first = app.gql(query, good.clone(), Some(&token)).await;
    assert!(first.get("errors").is_none(), "{first:#}");
    assert_eq!(first["data"]["post"]["title"], "Vouched");
    let again = app.gql(query, good.clone(), Some(&token)).await;
    assert_eq!(again, first, "vouched variables give the same response");
    let unselected = app
        .gql(
            query,
            json!({ "id": post, "ids": id, "full": false }),
            Some(&token),
        )
        .await;
    assert!(unselected.get("errors").is_none(), "{unselected:#}");
    assert!(unselected["data"]["post"].get("title").is_none());

    let bad = [
        json!({ "id": 1.5, "ids": [id], "full": true }),
        json!({ "id": true, "ids": [id], "full": true }),
        json!({ "id": null, "ids": [id], "full": true }),
        json!({ "id": id, "ids": [id, 2.5], "full": true }),
        json!({ "id": id, "ids": [null], "full": true }),
        json!({ "id": id, "ids": [id], "n": "2", "full": true }),
        json!({ "id": id, "ids": [id], "n": 2.5, "full": true }),
        json!({ "id": id, "ids": [id], "full": "yes" }),
        json!({ "id": id, "ids": [id], "full": null }),
        json!({ "id": id, "ids": [id], "full": true, "status": "LOST" }),
        json!({ "id": id, "ids": [id], "full": true, "status": 3 }),
    ];
    for variables in bad {
        let validated = app.gql(query, variables.clone(), Some(&token)).await;
        let never = app.gql(&copy, variables.clone(), Some(&token)).await;
        assert_eq!(validated, never, "variables {variables}");
        assert_eq!(
            validated["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "variables {variables}: {validated:#}"
        );
        assert!(
            validated["data"].is_null(),
            "variables {variables}: {validated:#}"
        );
    }
    let last = app.gql(query, good, Some(&token)).await;
    assert_eq!(last, first);

    // Two operations: running one validates the document, but not the other's variables.
    let two =
        "query A($id: ID!) { post(id: $id) { title } } query B($n: Int) { posts(first: $n) { totalCount } }";
    let two_copy = format!("{two} ");
    let named =
        |name: &str, variables: Value| json!({ "query": two, "operationName": name, "variables": variables });
    let app = &app;
    let send = |body: Value| async move {
        app.client
            .post(app.url("/graphql"))
            .bearer_auth(app.platform_token())
            .json(&body)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    let a = send(named("A", json!({ "id": id }))).await;
    assert_eq!(a["data"]["post"]["title"], "Vouched", "{a:#}");
    for variables in [json!({ "n": "2" }), json!({ "n": 1.5 }), json!({ "n": null })] {
        let validated = send(named("B", variables.clone())).await;
        let mut never = named("B", variables.clone());
        never["query"] = json!(two_copy);
        let never = send(never).await;
        assert_eq!(validated, never, "variables {variables}");
    }
    let b = send(named("B", json!({ "n": 1 }))).await;
    assert!(b.get("errors").is_none(), "{b:#}");
}
