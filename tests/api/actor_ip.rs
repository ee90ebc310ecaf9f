//! Audit entries record who acted (a user's database id, or `platform_admin:<sub>`) and
//! from where: the peer address, or `X-Forwarded-For` only from trusted proxies.
use serde_json::{Value, json};

use crate::helpers::TestApp;

const ENTRIES: &str = r#"query($t: String!, $r: Int!) {
  auditLogs(filter: {tableName: $t, recordId: $r}, orderBy: {direction: ASC}) {
    nodes { action tableName recordId ipAddress actorSubject actor { databaseId username } }
  }
}"#;

/// The audit entries about one row, oldest first (read by the platform admin).
async fn entries(app: &TestApp, table: &str, record: i64) -> Vec<Value> {
    app.ok(
        ENTRIES,
        json!({ "t": table, "r": record }),
        Some(&app.platform_token()),
    )
    .await["auditLogs"]["nodes"]
        .as_array()
        .unwrap()
        .clone()
}

async fn last_entry(app: &TestApp, table: &str, record: i64) -> Value {
    entries(app, table, record).await.pop().unwrap()
}

/// Renames post `id` as `token`'s caller with extra request headers.
async fn edit_post(app: &TestApp, id: i64, title: &str, token: &str, headers: &[(&str, &str)]) {
    let body = app
        .gql_with(
            "mutation($id: ID!, $t: String!) { updatePost(input: {id: $id, title: $t}) { title } }",
            json!({ "id": id.to_string(), "t": title }),
            Some(token),
            headers,
        )
        .await;
    assert_eq!(body["data"]["updatePost"]["title"], title, "{body}");
}

struct World {
    admin: i64,
    member: i64,
    post: i64,
}

async fn world(app: &TestApp) -> World {
    let org = app.create_org("Acme", "acme").await;
    let admin = app.create_user(org, "alice", "ADMIN").await;
    let member = app.create_user(org, "bob", "MEMBER").await;
    let post = app.create_post(member, "Hello", "DRAFT").await;
    World { admin, member, post }
}

#[tokio::test]
async fn audit_entries_record_the_actor() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;

    // The fixtures were made by the platform admin: no user, the token's subject.
    let created = last_entry(&app, "posts", w.post).await;
    assert_eq!(created["action"], "CREATE");
    assert!(created["actor"].is_null(), "{created}");
    assert_eq!(created["actorSubject"], "platform_admin:tests");

    // A member edits their own post, then an org admin edits it.
    edit_post(&app, w.post, "By the member", &app.user_token(w.member), &[]).await;
    let entry = last_entry(&app, "posts", w.post).await;
    assert_eq!(entry["action"], "UPDATE");
    assert_eq!(
        entry["actor"],
        json!({ "databaseId": w.member, "username": "bob" })
    );
    assert!(entry["actorSubject"].is_null(), "{entry}");

    edit_post(&app, w.post, "By the admin", &app.user_token(w.admin), &[]).await;
    let entry = last_entry(&app, "posts", w.post).await;
    assert_eq!(entry["actor"]["databaseId"], w.admin);
    assert!(entry["actorSubject"].is_null(), "{entry}");

    // A platform admin with its own subject.
    let ops = blogql::auth::jwt::mint(
        crate::helpers::SECRET,
        &blogql::auth::jwt::Subject::PlatformAdmin("ops@example.net".into()),
        chrono::Duration::hours(1),
        None,
        None,
    )
    .unwrap();
    edit_post(&app, w.post, "By the operator", &ops, &[]).await;
    let entry = last_entry(&app, "posts", w.post).await;
    assert!(entry["actor"].is_null(), "{entry}");
    assert_eq!(entry["actorSubject"], "platform_admin:ops@example.net");

    // Cascades: every row a soft delete touched carries the same actor.
    let second = app.create_post(w.member, "Second", "PUBLISHED").await;
    app.ok(
        "mutation($id: ID!) { softDeleteUser(input: {id: $id}) { id } }",
        json!({ "id": w.member.to_string() }),
        Some(&app.user_token(w.admin)),
    )
    .await;
    for (table, id) in [("users", w.member), ("posts", w.post), ("posts", second)] {
        let entry = last_entry(&app, table, id).await;
        assert_eq!(entry["action"], "DELETE", "{table} {id}");
        assert_eq!(entry["actor"]["databaseId"], w.admin, "{table} {id}: {entry}");
        assert_eq!(entry["ipAddress"], "127.0.0.1", "{table} {id}: {entry}");
    }

    // `actorId` finds exactly the admin's entries (3 deletes and 1 update), and the org
    // admin reading their own log sees the same actors.
    let by_admin = app
        .ok(
            "query($a: ID!) { auditLogs(filter: {actorId: $a}) { totalCount nodes { action actor { databaseId } } } }",
            json!({ "a": w.admin.to_string() }),
            Some(&app.user_token(w.admin)),
        )
        .await;
    assert_eq!(by_admin["auditLogs"]["totalCount"], 4, "{by_admin}");
    assert!(
        by_admin["auditLogs"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["actor"]["databaseId"] == w.admin)
    );
    // The deleted member is still named as the actor of their earlier change.
    let history = entries(&app, "posts", w.post).await;
    let by_member: Vec<_> = history
        .iter()
        .filter(|e| e["actor"]["databaseId"] == w.member)
        .collect();
    assert_eq!(by_member.len(), 1, "{history:?}");
}

#[tokio::test]
async fn the_peer_address_is_recorded_and_forged_forwarding_ignored() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let token = app.user_token(w.admin);

    // The fixtures (made by the platform admin) came from the test client.
    assert_eq!(last_entry(&app, "posts", w.post).await["ipAddress"], "127.0.0.1");

    let forged: [&[(&str, &str)]; 4] = [
        &[("x-forwarded-for", "6.6.6.6")],
        &[("x-forwarded-for", "6.6.6.6, 198.51.100.7")],
        &[("x-real-ip", "6.6.6.6"), ("forwarded", "for=6.6.6.6")],
        &[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "198.51.100.7"),
        ],
    ];
    for (i, headers) in forged.iter().enumerate() {
        edit_post(&app, w.post, &format!("Edit {i}"), &token, headers).await;
        let entry = last_entry(&app, "posts", w.post).await;
        assert_eq!(entry["ipAddress"], "127.0.0.1", "{headers:?}: {entry}");
        assert_eq!(entry["actor"]["databaseId"], w.admin);
    }
}

#[tokio::test]
async fn forwarding_from_an_untrusted_peer_is_ignored_even_with_proxies_configured() {
    let app = TestApp::spawn_with(&["--trusted-proxies", "10.0.0.0/8,192.168.0.0/16"]).await;
    let w = world(&app).await;
    let token = app.user_token(w.admin);
    edit_post(
        &app,
        w.post,
        "Forged",
        &token,
        &[("x-forwarded-for", "6.6.6.6, 10.0.0.1")],
    )
    .await;
    assert_eq!(last_entry(&app, "posts", w.post).await["ipAddress"], "127.0.0.1");
}

#[tokio::test]
async fn behind_trusted_proxies_the_rightmost_untrusted_hop_is_recorded() {
    let app = TestApp::spawn_with(&["--trusted-proxies", "127.0.0.0/8"]).await;
    let w = world(&app).await;
    let member = app.user_token(w.member);
    let cases: [(&[(&str, &str)], &str); 8] = [
        // No header: the proxy itself.
        (&[], "127.0.0.1"),
        (&[("x-forwarded-for", "203.0.113.5")], "203.0.113.5"),
        // The client forged the left-most hops; the right-most untrusted one is real.
        (&[("x-forwarded-for", "6.6.6.6, 198.51.100.7")], "198.51.100.7"),
        // Trusted proxies in the chain are skipped.
        (
            &[("x-forwarded-for", "6.6.6.6, 198.51.100.7, 127.0.0.9, 127.0.0.5")],
            "198.51.100.7",
        ),
        (&[("x-forwarded-for", " 2001:db8::7 ")], "2001:db8::7"),
        // Garbage is not an address: the peer.
        (&[("x-forwarded-for", "unknown")], "127.0.0.1"),
        // A garbage hop stops the walk; nothing left of it is believed.
        (&[("x-forwarded-for", "6.6.6.6, garbage, 127.0.0.7")], "127.0.0.7"),
        // Only trusted hops: the left-most of them.
        (&[("x-forwarded-for", "127.0.0.2, 127.0.0.3")], "127.0.0.2"),
    ];
    let mut failures = Vec::new();
    for (i, (headers, expected)) in cases.iter().enumerate() {
        edit_post(&app, w.post, &format!("Edit {i}"), &member, headers).await;
        let entry = last_entry(&app, "posts", w.post).await;
        assert_eq!(entry["actor"]["databaseId"], w.member);
        if entry["ipAddress"] != *expected {
            failures.push(format!(
                "{headers:?}: expected {expected}, recorded {}",
                entry["ipAddress"]
            ));
        }
    }
    // A cascade records the same address on every row.
    let org = app
        .ok(
            "query($id: ID!) { post(id: $id) { organization { databaseId } } }",
            json!({ "id": w.post.to_string() }),
            Some(&member),
        )
        .await["post"]["organization"]["databaseId"]
        .as_i64()
        .unwrap();
    let body = app
        .gql_with(
            "mutation($id: ID!) { softDeleteOrganization(input: {id: $id}) { id } }",
            json!({ "id": org.to_string() }),
            Some(&app.platform_token()),
            &[("x-forwarded-for", "6.6.6.6, 192.0.2.44")],
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    for (table, id) in [
        ("organizations", org),
        ("users", w.admin),
        ("users", w.member),
        ("posts", w.post),
    ] {
        let entry = last_entry(&app, table, id).await;
        assert_eq!(entry["action"], "DELETE");
        assert_eq!(entry["ipAddress"], "192.0.2.44", "{table} {id}");
        assert_eq!(entry["actorSubject"], "platform_admin:tests");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A proxy that adds its own header line (HAProxy `option forwardfor`) instead of
/// appending to the client's: the lines of one header form one list (RFC 9110 §5.3), so
/// the right-most hop is at the end of the last line, and a client-sent first line must
/// not win.
#[tokio::test]
async fn forwarded_for_header_lines_form_one_list() {
    let app = TestApp::spawn_with(&["--trusted-proxies", "127.0.0.0/8"]).await;
    let w = world(&app).await;
    let member = app.user_token(w.member);
    let cases: [(&[(&str, &str)], &str); 2] = [
        (
            &[
                ("x-forwarded-for", "6.6.6.6"),
                ("x-forwarded-for", "198.51.100.7"),
            ],
            "198.51.100.7",
        ),
        (
            &[
                ("x-forwarded-for", "6.6.6.6, 7.7.7.7"),
                ("x-forwarded-for", "198.51.100.7, 127.0.0.4"),
            ],
            "198.51.100.7",
        ),
    ];
    for (i, (headers, expected)) in cases.iter().enumerate() {
        edit_post(&app, w.post, &format!("Edit {i}"), &member, headers).await;
        let entry = last_entry(&app, "posts", w.post).await;
        assert_eq!(entry["ipAddress"], *expected, "{headers:?}");
    }
}

/// A platform operator's address and token subject are the platform's: an org admin
/// reading their audit log sees `platform_admin` and no address; the platform admin sees
/// both. The organization's own users' entries are shown in full to its admin.
#[tokio::test]
async fn org_admins_do_not_see_a_platform_operators_address_or_subject() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    edit_post(&app, w.post, "By its author", &app.user_token(w.member), &[]).await;
    edit_post(&app, w.post, "By the operator", &app.platform_token(), &[]).await;
    let admin = app.user_token(w.admin);
    let read = |token: String| {
        let app = &app;
        async move {
            app.ok(ENTRIES, json!({ "t": "posts", "r": w.post }), Some(&token))
                .await["auditLogs"]["nodes"]
                .as_array()
                .unwrap()
                .clone()
        }
    };
    let as_admin = read(admin).await;
    let (by_member, by_operator) = (&as_admin[1], &as_admin[2]);
    assert_eq!(by_member["actor"]["databaseId"], w.member, "{by_member}");
    assert_eq!(by_member["ipAddress"], "127.0.0.1", "{by_member}");
    assert!(by_operator["ipAddress"].is_null(), "{by_operator}");
    assert_eq!(by_operator["actorSubject"], "platform_admin", "{by_operator}");
    let as_platform = read(app.platform_token()).await;
    let by_operator = as_platform.last().unwrap();
    assert_eq!(by_operator["ipAddress"], "127.0.0.1", "{by_operator}");
    assert_eq!(
        by_operator["actorSubject"], "platform_admin:tests",
        "{by_operator}"
    );
}
