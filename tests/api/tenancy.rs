//! Tenancy: another organization's data is never returned and never revealed. A foreign
//! id gets exactly the response a non-existent id gets; lists, nested connections and
//! DataLoader-backed relations hold only the caller's organization; emails stay inside it.
use std::collections::{BTreeMap, BTreeSet};

use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// A database id no row has.
const MISSING: i64 = 987_654;

struct World {
    id: BTreeMap<&'static str, i64>,
    gid: BTreeMap<&'static str, String>,
    kind: BTreeMap<&'static str, &'static str>,
}

impl World {
    fn id(&self, name: &str) -> i64 {
        self.id[name]
    }
    fn gid(&self, name: &str) -> String {
        self.gid[name].clone()
    }
}

async fn platform(app: &TestApp, query: &str, vars: Value) -> Value {
    app.ok(query, vars, Some(&app.platform_token())).await
}

async fn soft_delete(app: &TestApp, what: &str, id: i64) {
    let query = format!("mutation($id: ID!) {{ softDelete{what}(input: {{id: $id}}) {{ deletedAt }} }}");
    let data = platform(app, &query, json!({ "id": id.to_string() })).await;
    assert!(data[format!("softDelete{what}")]["deletedAt"].is_string());
}

/// Organizations A and B (active), C (inactive) and D (deleted), each with users and
/// posts; deleted rows in A; an audit trail with actions by A's admin.
async fn build_world(app: &TestApp) -> World {
    let mut id = BTreeMap::new();
    let mut kind = BTreeMap::new();
    for (name, slug) in [
        ("orgA", "org-a"),
        ("orgB", "org-b"),
        ("orgC", "org-c"),
        ("orgD", "org-d"),
    ] {
        id.insert(name, app.create_org(&format!("Org {slug}"), slug).await);
        kind.insert(name, "Organization");
    }
    let users = [
        ("adminA", "orgA", "ADMIN"),
        ("memberA", "orgA", "MEMBER"),
        ("goneA", "orgA", "MEMBER"),
        ("adminB", "orgB", "ADMIN"),
        ("memberB", "orgB", "MEMBER"),
        ("memberC", "orgC", "MEMBER"),
        ("memberD", "orgD", "MEMBER"),
    ];
    for (name, org, role) in users {
        let username = name.to_lowercase();
        id.insert(name, app.create_user(id[org], &username, role).await);
        kind.insert(name, "User");
    }
    let posts = [
        ("pubA", "memberA", "PUBLISHED"),
        ("draftA", "memberA", "DRAFT"),
        ("adminPostA", "adminA", "PUBLISHED"),
        ("deletedA", "memberA", "PUBLISHED"),
        ("gonePostA", "goneA", "PUBLISHED"),
        ("pubB", "memberB", "PUBLISHED"),
        ("draftB", "memberB", "DRAFT"),
        ("pubC", "memberC", "PUBLISHED"),
        ("pubD", "memberD", "PUBLISHED"),
    ];
    for (name, author, status) in posts {
        id.insert(
            name,
            app.create_post(id[author], &format!("{name} title"), status)
                .await,
        );
        kind.insert(name, "Post");
    }
    // Admin A acts, so the audit trail has entries with A's admin as actor.
    let admin_a = app.user_token(id["adminA"]);
    app.ok(
        "mutation($id: ID!) { updatePost(input: {id: $id, content: \"edited by admin A\"}) { id } }",
        json!({ "id": id["draftA"].to_string() }),
        Some(&admin_a),
    )
    .await;
    app.ok(
        "mutation($id: ID!) { updateUser(input: {id: $id, fullName: \"Member of A\"}) { id } }",
        json!({ "id": id["memberA"].to_string() }),
        Some(&admin_a),
    )
    .await;

    for (name, org) in [("tagA", "orgA"), ("goneTagA", "orgA")] {
        let data = platform(
            app,
            "mutation($i: CreateTagInput!) { createTag(input: $i) { databaseId } }",
            json!({ "i": { "name": name, "organizationId": id[org].to_string() } }),
        )
        .await;
        id.insert(name, data["createTag"]["databaseId"].as_i64().unwrap());
        kind.insert(name, "Tag");
    }

    let mut gid = BTreeMap::new();
    for (name, kind) in &kind {
        let field = kind.to_lowercase();
        let query = format!("query($id: ID!) {{ {field}(id: $id) {{ id }} }}");
        let data = platform(app, &query, json!({ "id": id[name].to_string() })).await;
        gid.insert(*name, data[field.as_str()]["id"].as_str().unwrap().to_owned());
    }
    let audit = platform(
        app,
        r#"query($r: Int!) { auditLogs(filter: {tableName: "posts", recordId: $r, action: UPDATE}) { nodes { id databaseId } } }"#,
        json!({ "r": id["draftA"] }),
    )
    .await;
    let entry = &audit["auditLogs"]["nodes"][0];
    id.insert("auditA", entry["databaseId"].as_i64().unwrap());
    gid.insert("auditA", entry["id"].as_str().unwrap().to_owned());
    kind.insert("auditA", "AuditLog");

    platform(
        app,
        "mutation($id: ID!) { updateOrganization(input: {id: $id, isActive: false}) { isActive } }",
        json!({ "id": id["orgC"].to_string() }),
    )
    .await;
    soft_delete(app, "Post", id["deletedA"]).await;
    soft_delete(app, "User", id["goneA"]).await;
    soft_delete(app, "Tag", id["goneTagA"]).await;
    soft_delete(app, "Organization", id["orgD"]).await;
    World { id, gid, kind }
}

/// The global id of a row of `kind` that does not exist. Checked against the server's
/// own encoding first, so a change of format fails loudly instead of testing nothing.
fn missing_gid(w: &World, kind: &str) -> String {
    let (name, _) = w.kind.iter().find(|(_, k)| **k == kind).unwrap();
    assert_eq!(
        STANDARD.encode(format!("{kind}:{}", w.id(name))),
        w.gid(name),
        "global id format changed; update missing_gid"
    );
    STANDARD.encode(format!("{kind}:{MISSING}"))
}

/// One comparison: `query` with `$id` set to a foreign id and to a missing one.
struct Case {
    query: &'static str,
    /// Names of foreign rows (their global and their database ids are both tried).
    foreign: &'static [&'static str],
    /// The kind of the missing id to compare with.
    kind: &'static str,
    /// Who tries: the outsiders of organization A.
    callers: &'static [Caller],
}

#[derive(Clone, Copy, Debug)]
enum Caller {
    Anonymous,
    MemberB,
    AdminB,
}

const B: &[Caller] = &[Caller::MemberB, Caller::AdminB];
const ALL: &[Caller] = &[Caller::Anonymous, Caller::MemberB, Caller::AdminB];

fn token(app: &TestApp, w: &World, caller: Caller) -> Option<String> {
    match caller {
        Caller::Anonymous => None,
        Caller::MemberB => Some(app.user_token(w.id("memberB"))),
        Caller::AdminB => Some(app.user_token(w.id("adminB"))),
    }
}

/// Runs every case for every caller and id form; returns the failures.
async fn compare(app: &TestApp, w: &World, cases: &[Case]) -> (usize, Vec<String>) {
    let mut failures = Vec::new();
    let mut checks = 0;
    for case in cases {
        for caller in case.callers {
            let token = token(app, w, *caller);
            for name in case.foreign {
                let forms = [
                    (json!(w.gid(name)), json!(missing_gid(w, case.kind))),
                    (json!(w.id(name).to_string()), json!(MISSING.to_string())),
                ];
                for (foreign, missing) in forms {
                    let f = app
                        .gql(case.query, json!({ "id": foreign }), token.as_deref())
                        .await;
                    let m = app
                        .gql(case.query, json!({ "id": missing }), token.as_deref())
                        .await;
                    checks += 1;
                    if f != m {
                        failures.push(format!(
                            "{caller:?} {name} ({foreign}) vs missing ({missing}) differ for {}\n    foreign: {f}\n    missing: {m}",
                            case.query
                        ));
                    }
                }
            }
        }
    }
    (checks, failures)
}

#[tokio::test]
async fn foreign_ids_read_exactly_like_missing_ones() {
    let app = TestApp::spawn().await;
    let w = build_world(&app).await;

    // The foreign ids are real: organization A's own users and platform admins read them.
    let member_a = app.user_token(w.id("memberA"));
    let seen = app
        .ok(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": (["orgA", "memberA", "pubA", "draftA"].map(|n| w.gid(n))) }),
            Some(&member_a),
        )
        .await;
    assert!(
        seen["nodes"].as_array().unwrap().iter().all(|n| n.is_object()),
        "{seen}"
    );

    let cases = [
        Case {
            query: "query($id: ID!) { post(id: $id) { id title } }",
            foreign: &["pubA", "draftA", "deletedA", "gonePostA"],
            kind: "Post",
            callers: B,
        },
        Case {
            query: "query($id: ID!) { tag(id: $id) { id name posts { totalCount } } }",
            foreign: &["tagA", "goneTagA"],
            kind: "Tag",
            callers: B,
        },
        Case {
            query: "query($id: ID!) { post(id: $id) { id title author { username } } }",
            foreign: &["draftA", "deletedA", "pubC", "pubD"],
            kind: "Post",
            callers: ALL,
        },
        Case {
            query: "query($id: ID!) { user(id: $id) { id username email } }",
            foreign: &["memberA", "adminA", "goneA", "memberC"],
            kind: "User",
            callers: ALL,
        },
        Case {
            query: "query($id: ID!) { organization(id: $id) { id name } }",
            foreign: &["orgA", "orgD"],
            kind: "Organization",
            callers: B,
        },
        Case {
            query: "query($id: ID!) { organization(id: $id) { id name } }",
            foreign: &["orgC", "orgD"],
            kind: "Organization",
            callers: ALL,
        },
        Case {
            query: "query($id: ID!) { node(id: $id) { id } }",
            foreign: &["orgA", "memberA", "pubA", "draftA", "auditA"],
            kind: "Post",
            callers: B,
        },
        Case {
            query: "query($id: ID!) { node(id: $id) { id } }",
            foreign: &["draftA", "deletedA", "pubC", "orgC", "orgD", "auditA"],
            kind: "Post",
            callers: ALL,
        },
        Case {
            query: "query($id: ID!) { nodes(ids: [$id, $id]) { id } }",
            foreign: &["orgA", "memberA", "goneA", "pubA", "draftA", "auditA"],
            kind: "User",
            callers: B,
        },
        // What anonymous callers may not see: drafts, deleted rows, users, audit entries,
        // inactive and deleted organizations.
        Case {
            query: "query($id: ID!) { nodes(ids: [$id, $id]) { id } }",
            foreign: &[
                "memberA", "goneA", "draftA", "deletedA", "pubC", "orgC", "orgD", "auditA",
            ],
            kind: "User",
            callers: ALL,
        },
        Case {
            query: "query($id: ID!) { users(organizationId: $id) { totalCount nodes { id } pageInfo { startCursor endCursor } } }",
            foreign: &["orgA", "orgD"],
            kind: "Organization",
            callers: ALL,
        },
        Case {
            query: "query($id: ID!) { posts(organizationId: $id) { totalCount nodes { id } pageInfo { startCursor endCursor } } }",
            foreign: &["orgA", "orgD"],
            kind: "Organization",
            callers: B,
        },
        Case {
            query: "query($id: ID!) { posts(organizationId: $id) { totalCount nodes { id } pageInfo { startCursor endCursor } } }",
            foreign: &["orgC", "orgD"],
            kind: "Organization",
            callers: ALL,
        },
        Case {
            query: "query($id: ID!) { posts(filter: {authorId: $id}) { totalCount nodes { id } } }",
            foreign: &["memberA", "adminA", "goneA"],
            kind: "User",
            callers: B,
        },
        Case {
            query: "query($id: ID!) { posts(filter: {authorId: $id}) { totalCount nodes { id } } }",
            foreign: &["goneA", "memberC", "memberD"],
            kind: "User",
            callers: ALL,
        },
        Case {
            query: "query($id: ID!) { viewer { organization { posts(filter: {authorId: $id}) { totalCount } } } }",
            foreign: &["memberA", "adminA"],
            kind: "User",
            callers: B,
        },
        Case {
            query: "query($id: ID!) { auditLogs(filter: {actorId: $id}) { totalCount nodes { id } } }",
            foreign: &["adminA", "memberA"],
            kind: "User",
            callers: ALL,
        },
    ];
    let (mut checks, mut failures) = compare(&app, &w, &cases).await;

    // Slugs and audit record ids are ids too.
    for caller in ALL {
        let token = token(&app, &w, *caller);
        let slugs: &[&str] = match caller {
            Caller::Anonymous => &["org-c", "org-d"],
            _ => &["org-a", "org-c", "org-d"],
        };
        for slug in slugs {
            let q = "query($s: String!) { organization(slug: $s) { id name } }";
            let f = app.gql(q, json!({ "s": slug }), token.as_deref()).await;
            let m = app.gql(q, json!({ "s": "no-such-org" }), token.as_deref()).await;
            checks += 1;
            if f != m {
                failures.push(format!("{caller:?} slug {slug}: {f} vs {m}"));
            }
        }
    }
    let admin_b = app.user_token(w.id("adminB"));
    for (table, name) in [("posts", "pubA"), ("users", "memberA"), ("organizations", "orgA")] {
        let q = "query($t: String!, $r: Int!) { auditLogs(filter: {tableName: $t, recordId: $r}) { totalCount nodes { id } } }";
        let f = app
            .gql(q, json!({ "t": table, "r": w.id(name) }), Some(&admin_b))
            .await;
        let m = app
            .gql(q, json!({ "t": table, "r": MISSING }), Some(&admin_b))
            .await;
        checks += 1;
        if f != m {
            failures.push(format!("admin B audit recordId {name}: {f} vs {m}"));
        }
    }
    println!("foreign vs missing reads: {checks} comparisons");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The mutation cases, keyed by mutation field. Every mutation the schema has must be
/// here; `createOrganization` names no existing row.
fn mutation_cases() -> BTreeMap<&'static str, Vec<Case>> {
    let mut cases: BTreeMap<&'static str, Vec<Case>> = BTreeMap::new();
    let mut add = |field, query, foreign, kind, callers| {
        cases.entry(field).or_default().push(Case {
            query,
            foreign,
            kind,
            callers,
        })
    };
    add(
        "updateOrganization",
        r#"mutation($id: ID!) { updateOrganization(input: {id: $id, name: "Taken over"}) { id name } }"#,
        &["orgA", "orgC", "orgD"],
        "Organization",
        ALL,
    );
    add(
        "updateOrganization",
        r#"mutation($id: ID!) { updateOrganization(input: {id: $id, slug: "bad slug!"}) { id } }"#,
        &["orgA"],
        "Organization",
        ALL,
    );
    add(
        "softDeleteOrganization",
        "mutation($id: ID!) { softDeleteOrganization(input: {id: $id}) { id } }",
        &["orgA", "orgD"],
        "Organization",
        ALL,
    );
    add(
        "restoreOrganization",
        "mutation($id: ID!) { restoreOrganization(input: {id: $id}) { id } }",
        &["orgA", "orgD"],
        "Organization",
        ALL,
    );
    add(
        "createUser",
        r#"mutation($id: ID!) { createUser(input: {username: "intruder", email: "intruder@example.com", organizationId: $id}) { id } }"#,
        &["orgA", "orgC", "orgD"],
        "Organization",
        ALL,
    );
    add(
        "updateUser",
        r#"mutation($id: ID!) { updateUser(input: {id: $id, fullName: "Hijacked"}) { id fullName } }"#,
        &["memberA", "adminA", "goneA", "memberC"],
        "User",
        ALL,
    );
    add(
        "updateUser",
        "mutation($id: ID!) { updateUser(input: {id: $id, role: ADMIN}) { id role } }",
        &["memberA"],
        "User",
        ALL,
    );
    add(
        "softDeleteUser",
        "mutation($id: ID!) { softDeleteUser(input: {id: $id}) { id } }",
        &["memberA", "adminA", "goneA"],
        "User",
        ALL,
    );
    add(
        "restoreUser",
        "mutation($id: ID!) { restoreUser(input: {id: $id}) { id } }",
        &["goneA", "memberA", "memberD"],
        "User",
        ALL,
    );
    add(
        "createPost",
        r#"mutation($id: ID!) { createPost(input: {title: "Intrusion", authorId: $id}) { id } }"#,
        &["memberA", "adminA", "goneA"],
        "User",
        ALL,
    );
    add(
        "createPost",
        r#"mutation($id: ID!) { createPost(input: {title: "Intrusion", organizationId: $id}) { id } }"#,
        &["orgA", "orgC", "orgD"],
        "Organization",
        ALL,
    );
    add(
        "updatePost",
        r#"mutation($id: ID!) { updatePost(input: {id: $id, title: "Defaced"}) { id title } }"#,
        &["pubA", "draftA", "deletedA", "pubC"],
        "Post",
        ALL,
    );
    add(
        "softDeletePost",
        "mutation($id: ID!) { softDeletePost(input: {id: $id}) { id } }",
        &["pubA", "draftA", "deletedA"],
        "Post",
        ALL,
    );
    add(
        "restorePost",
        "mutation($id: ID!) { restorePost(input: {id: $id}) { id } }",
        &["deletedA", "gonePostA", "pubA", "pubD"],
        "Post",
        ALL,
    );
    add(
        "recordPostView",
        "mutation($id: ID!) { recordPostView(id: $id) { id viewCount } }",
        &["draftA", "deletedA", "pubC", "pubD"],
        "Post",
        ALL,
    );
    add(
        "recordPostView",
        "mutation($id: ID!) { recordPostView(id: $id) { id viewCount } }",
        &["pubA"],
        "Post",
        B,
    );
    add(
        "createTag",
        r#"mutation($id: ID!) { createTag(input: {name: "Intrusion", organizationId: $id}) { id } }"#,
        &["orgA", "orgC", "orgD"],
        "Organization",
        ALL,
    );
    add(
        "updateTag",
        r#"mutation($id: ID!) { updateTag(input: {id: $id, name: "Defaced"}) { id name } }"#,
        &["tagA", "goneTagA"],
        "Tag",
        ALL,
    );
    add(
        "softDeleteTag",
        "mutation($id: ID!) { softDeleteTag(input: {id: $id}) { id } }",
        &["tagA", "goneTagA"],
        "Tag",
        ALL,
    );
    add(
        "restoreTag",
        "mutation($id: ID!) { restoreTag(input: {id: $id}) { id } }",
        &["goneTagA", "tagA"],
        "Tag",
        ALL,
    );
    cases
}

#[tokio::test]
async fn every_mutation_target_reads_like_a_missing_id() {
    let app = TestApp::spawn().await;
    let w = build_world(&app).await;

    let mutations = app
        .ok(
            "{ __schema { mutationType { fields { name args { name } } } } }",
            json!({}),
            None,
        )
        .await;
    let cases = mutation_cases();
    let mut missing = Vec::new();
    for field in mutations["__schema"]["mutationType"]["fields"]
        .as_array()
        .unwrap()
    {
        let name = field["name"].as_str().unwrap();
        if name != "createOrganization" && !cases.contains_key(name) {
            missing.push(name.to_owned());
        }
    }
    assert!(
        missing.is_empty(),
        "mutations without a tenancy case: {missing:?}"
    );

    let audit_before = platform(&app, "{ auditLogs { totalCount } }", json!({})).await;
    let state = "{ organizations(includeDeleted: true, first: 100) { nodes { name slug isActive deletedAt } } \
                   users(includeDeleted: true, first: 100) { nodes { username fullName role deletedAt } } \
                   posts(includeDeleted: true, first: 100) { nodes { title viewCount deletedAt } } }";
    let state_before = platform(&app, state, json!({})).await;

    let all: Vec<Case> = cases.into_values().flatten().collect();
    let (checks, failures) = compare(&app, &w, &all).await;

    // Nothing was changed by any of those attempts.
    let audit_after = platform(&app, "{ auditLogs { totalCount } }", json!({})).await;
    let state_after = platform(&app, state, json!({})).await;
    println!("foreign vs missing mutation targets: {checks} comparisons");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        audit_before, audit_after,
        "a refused mutation left an audit entry"
    );
    assert_eq!(state_before, state_after, "a refused mutation changed data");
}

// ---- nested lists and loaders -------------------------------------------------------

/// Every `(__typename, databaseId)` anywhere in a response.
fn rows(value: &Value, out: &mut BTreeSet<(String, i64)>) {
    match value {
        Value::Object(map) => {
            if let (Some(Value::String(ty)), Some(Value::Number(id))) =
                (map.get("__typename"), map.get("databaseId"))
            {
                out.insert((ty.clone(), id.as_i64().unwrap()));
            }
            map.values().for_each(|v| rows(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| rows(v, out)),
        _ => {}
    }
}

const EVERYTHING: &str = r#"{
  organizations(first: 10) { nodes { __typename databaseId
    users(first: 10) { nodes { __typename databaseId organization { __typename databaseId }
      posts(first: 10) { nodes { __typename databaseId organization { __typename databaseId } author { __typename databaseId } } } } }
    posts(first: 10) { nodes { __typename databaseId
      author { __typename databaseId organization { __typename databaseId } }
      organization { __typename databaseId } } } } }
  users(first: 10) { nodes { __typename databaseId organization { __typename databaseId }
    posts(first: 10) { nodes { __typename databaseId author { __typename databaseId } } } } }
  posts(first: 10) { nodes { __typename databaseId
    author { __typename databaseId organization { __typename databaseId }
      posts(first: 10) { nodes { __typename databaseId organization { __typename databaseId } } } }
    organization { __typename databaseId } } }
  viewer { __typename databaseId organization { __typename databaseId users(first: 10) { nodes { __typename databaseId } } } }
}"#;

/// Anonymous callers may not read users: everything they can reach from posts.
const PUBLIC: &str = r#"{
  organizations(first: 10) { nodes { __typename databaseId
    posts(first: 10) { nodes { __typename databaseId author { __typename databaseId username fullName }
      organization { __typename databaseId } } } } }
  posts(first: 10) { nodes { __typename databaseId
    author { __typename databaseId username } organization { __typename databaseId name slug } } }
}"#;

fn set(w: &World, names: &[&str]) -> BTreeSet<(String, i64)> {
    names.iter().map(|n| (w.kind[n].to_owned(), w.id(n))).collect()
}

#[tokio::test]
async fn nested_lists_and_loaders_never_leak_another_organization() {
    let app = TestApp::spawn().await;
    let w = build_world(&app).await;

    // What each organization's users may see: live rows of their organization.
    let own_a = set(&w, &["orgA", "adminA", "memberA", "pubA", "draftA", "adminPostA"]);
    let own_b = set(&w, &["orgB", "adminB", "memberB", "pubB", "draftB"]);
    let callers = [
        ("memberA", &own_a),
        ("adminA", &own_a),
        ("memberB", &own_b),
        ("adminB", &own_b),
    ];
    for (name, expected) in callers {
        let token = app.user_token(w.id(name));
        let data = app.ok(EVERYTHING, json!({}), Some(&token)).await;
        let mut seen = BTreeSet::new();
        rows(&data, &mut seen);
        assert_eq!(&seen, expected, "{name} sees other rows: {data:#}");
    }

    // Anonymous callers: published, live posts of active organizations, with their authors.
    let data = app.ok(PUBLIC, json!({}), None).await;
    let mut seen = BTreeSet::new();
    rows(&data, &mut seen);
    assert_eq!(
        seen,
        set(
            &w,
            &[
                "orgA",
                "orgB",
                "pubA",
                "adminPostA",
                "memberA",
                "adminA",
                "pubB",
                "memberB"
            ]
        ),
        "{data:#}"
    );

    // One `nodes` batch mixing every row of every organization: each loader batch is
    // scoped to the caller.
    let names: Vec<&str> = w.gid.keys().copied().collect();
    let ids: Vec<String> = names.iter().map(|n| w.gid(n)).collect();
    let q = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename ... on Organization { databaseId } ... on User { databaseId } ... on Post { databaseId } ... on Tag { databaseId } ... on AuditLog { databaseId } } }";
    let with = |base: &BTreeSet<(String, i64)>, more: &[&str]| {
        let mut s = base.clone();
        s.extend(set(&w, more));
        s
    };
    for (caller, token, expected) in [
        (
            "memberA",
            Some(app.user_token(w.id("memberA"))),
            with(&own_a, &["tagA"]),
        ),
        (
            "adminA",
            Some(app.user_token(w.id("adminA"))),
            with(&own_a, &["auditA", "tagA"]),
        ),
        ("adminB", Some(app.user_token(w.id("adminB"))), own_b.clone()),
        (
            "anonymous",
            None,
            set(&w, &["orgA", "orgB", "pubA", "adminPostA", "pubB", "tagA"]),
        ),
    ] {
        let data = app.ok(q, json!({ "ids": ids }), token.as_deref()).await;
        let list = data["nodes"].as_array().unwrap();
        assert_eq!(list.len(), names.len());
        let mut seen = BTreeSet::new();
        rows(&data, &mut seen);
        assert_eq!(seen, expected, "{caller}: {data:#}");
        // …and each result sits at the position of its id.
        for (name, node) in names.iter().zip(list) {
            if !node.is_null() {
                assert_eq!(node["databaseId"], w.id(name), "{caller}: {name} out of place");
            }
        }
    }

    // The audit log of an org admin: exactly the entries about A's rows, with actors of A.
    let a_rows: BTreeSet<(String, i64)> = ["orgA", "adminA", "memberA", "goneA"]
        .iter()
        .map(|n| (if *n == "orgA" { "organizations" } else { "users" }, w.id(n)))
        .chain(
            ["pubA", "draftA", "adminPostA", "deletedA", "gonePostA"]
                .iter()
                .map(|n| ("posts", w.id(n))),
        )
        .chain(["tagA", "goneTagA"].iter().map(|n| ("tags", w.id(n))))
        .map(|(t, id)| (t.to_owned(), id))
        .collect();
    let audit = "{ auditLogs(first: 100) { totalCount nodes { databaseId tableName recordId actor { databaseId organization { databaseId } } } } }";
    let everything = platform(&app, audit, json!({})).await;
    assert!(everything["auditLogs"]["totalCount"].as_i64().unwrap() <= 100);
    let expected: Vec<Value> = everything["auditLogs"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            a_rows.contains(&(
                e["tableName"].as_str().unwrap().to_owned(),
                e["recordId"].as_i64().unwrap(),
            ))
        })
        .map(|e| e["databaseId"].clone())
        .collect();
    let admin_a = app.user_token(w.id("adminA"));
    let mine = app.ok(audit, json!({}), Some(&admin_a)).await;
    let got: Vec<Value> = mine["auditLogs"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["databaseId"].clone())
        .collect();
    assert_eq!(got, expected, "admin A's audit log is not exactly A's trail");
    assert!(!got.is_empty());
    let actors: BTreeSet<i64> = mine["auditLogs"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !e["actor"].is_null())
        .map(|e| {
            assert_eq!(e["actor"]["organization"]["databaseId"], w.id("orgA"));
            e["actor"]["databaseId"].as_i64().unwrap()
        })
        .collect();
    assert_eq!(actors, BTreeSet::from([w.id("adminA")]));
}

#[tokio::test]
async fn concurrent_requests_of_two_organizations_stay_apart() {
    let app = TestApp::spawn().await;
    let w = build_world(&app).await;
    let a = app.user_token(w.id("memberA"));
    let b = app.user_token(w.id("memberB"));
    let requests = (0..24).map(|i| {
        let (token, org) = if i % 2 == 0 { (&a, "orgA") } else { (&b, "orgB") };
        let app = &app;
        async move { (org, app.ok(EVERYTHING, json!({}), Some(token)).await) }
    });
    for (org, data) in futures_util::future::join_all(requests).await {
        let mut seen = BTreeSet::new();
        rows(&data, &mut seen);
        let orgs: Vec<_> = seen.iter().filter(|(t, _)| t == "Organization").collect();
        assert_eq!(orgs, vec![&("Organization".to_owned(), w.id(org))], "{data}");
        assert!(seen.len() >= 5, "{data}");
    }
}

// ---- emails -------------------------------------------------------------------------

/// The email addresses of organization A's users.
fn emails_of_a() -> [&'static str; 3] {
    ["admina@example.com", "membera@example.com", "gonea@example.com"]
}

#[tokio::test]
async fn emails_are_visible_only_inside_the_organization() {
    let app = TestApp::spawn().await;
    let w = build_world(&app).await;
    let vars = json!({
        "pubA": w.gid("pubA"), "memberA": w.gid("memberA"), "orgA": w.gid("orgA"),
        "ids": (["memberA", "adminA", "pubA"].map(|n| w.gid(n))),
    });

    // Anonymous: every way to an email is UNAUTHENTICATED and no address is in the body.
    for query in [
        "query($pubA: ID!) { post(id: $pubA) { author { username email } } }",
        "{ posts { nodes { title author { email } } } }",
        "{ organizations { nodes { posts { nodes { author { email } } } } } }",
        "query($memberA: ID!) { user(id: $memberA) { email } }",
        "query($orgA: ID!) { organization(id: $orgA) { users { nodes { email } } } }",
        "query($ids: [ID!]!) { nodes(ids: $ids) { ... on User { email } ... on Post { author { email } } } }",
        "{ viewer { email } }",
    ] {
        let body = app.gql(query, vars.clone(), None).await;
        let text = body.to_string();
        assert!(!text.contains("@example.com"), "anonymous got an email: {text}");
        let user_reached = !query.contains("viewer") && !query.contains("nodes(ids");
        if user_reached {
            assert_eq!(
                body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
                "{query}: {body}"
            );
        }
    }
    // …while the public fields of the same author are readable.
    let public = app
        .ok(
            "query($pubA: ID!) { post(id: $pubA) { author { username fullName } } }",
            vars.clone(),
            None,
        )
        .await;
    assert_eq!(public["post"]["author"]["username"], "membera");

    // Organization B, admins included: A's addresses appear nowhere, the audit log too.
    for caller in ["memberB", "adminB"] {
        let token = app.user_token(w.id(caller));
        for query in [
            "query($memberA: ID!) { user(id: $memberA) { email } }",
            "query($pubA: ID!) { post(id: $pubA) { author { email } } }",
            "query($ids: [ID!]!) { nodes(ids: $ids) { ... on User { email } ... on Post { author { email } } } }",
            "{ users(first: 100) { nodes { email } } posts(first: 100) { nodes { author { email } } } }",
            "{ auditLogs(first: 100) { nodes { oldValues newValues } } }",
        ] {
            let text = app.gql(query, vars.clone(), Some(&token)).await.to_string();
            for email in emails_of_a() {
                assert!(!text.contains(email), "{caller} saw {email}: {text}");
            }
        }
    }

    // Inside A and for platform admins the addresses are there.
    for token in [app.user_token(w.id("memberA")), app.platform_token()] {
        let data = app
            .ok(
                "query($memberA: ID!, $pubA: ID!) { user(id: $memberA) { email } post(id: $pubA) { author { email } } }",
                vars.clone(),
                Some(&token),
            )
            .await;
        assert_eq!(data["user"]["email"], "membera@example.com");
        assert_eq!(data["post"]["author"]["email"], "membera@example.com");
    }
    // The audit log of A's admin carries A's addresses (same organization).
    let admin_a = app.user_token(w.id("adminA"));
    let text = app
        .gql(
            "{ auditLogs(first: 100) { nodes { newValues } } }",
            json!({}),
            Some(&admin_a),
        )
        .await
        .to_string();
    assert!(text.contains("membera@example.com"), "{text}");
}

/// Anonymous callers read an organization's `name` and `slug` only: they cannot filter by
/// `plan` or `isActive` nor order by creation time (which listed exactly the ENTERPRISE
/// organizations, and put `createdAt` in every cursor); their lists are ordered by name.
#[tokio::test]
async fn anonymous_callers_cannot_filter_or_order_by_what_they_cannot_read() {
    let app = TestApp::spawn().await;
    let platform = app.platform_token();
    for (name, slug, plan) in [("Zeta", "zeta", "ENTERPRISE"), ("Alpha", "alpha", "FREE")] {
        app.ok(
            "mutation($i: CreateOrganizationInput!) { createOrganization(input: $i) { id } }",
            json!({ "i": { "name": name, "slug": slug, "plan": plan } }),
            Some(&platform),
        )
        .await;
    }
    for query in [
        "{ organizations(filter: {plan: ENTERPRISE}) { nodes { slug } } }",
        "{ organizations(filter: {isActive: true}) { nodes { slug } } }",
        "{ organizations(orderBy: {field: CREATED_AT, direction: ASC}) { nodes { slug } } }",
    ] {
        let (code, body) = app.err(query, json!({}), None).await;
        assert_eq!(code, "UNAUTHENTICATED", "{query}: {body}");
    }
    let data = app
        .ok(
            "{ organizations { edges { cursor node { slug } } } }",
            json!({}),
            None,
        )
        .await;
    let edges = data["organizations"]["edges"].as_array().unwrap();
    let slugs: Vec<&str> = edges
        .iter()
        .map(|e| e["node"]["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["alpha", "zeta"], "anonymous lists are ordered by name");
    for edge in edges {
        let cursor = edge["cursor"].as_str().unwrap();
        let raw = STANDARD
            .decode(cursor)
            .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor))
            .unwrap_or_default();
        let text = String::from_utf8_lossy(&raw);
        let year = chrono::Utc::now().format("%Y").to_string();
        assert!(!text.contains(&year), "the cursor carries a time: {text}");
    }
    // Signed in, the same filters and order work.
    let data = app
        .ok(
            "{ organizations(filter: {plan: ENTERPRISE}, orderBy: {field: CREATED_AT, direction: ASC}) { nodes { slug } } }",
            json!({}),
            Some(&platform),
        )
        .await;
    assert_eq!(data["organizations"]["nodes"], json!([{ "slug": "zeta" }]));
}

/// `post(id:)`'s statement is built once per audience and column set and reused with the
/// next id (`db::template`): callers of every audience, asking in turn for the same posts
/// with different selections, each see exactly their own.
#[tokio::test]
async fn post_by_id_reused_statements_keep_each_callers_scope() {
    let app = TestApp::spawn().await;
    let a = app.create_org("Org A", "org-a").await;
    let b = app.create_org("Org B", "org-b").await;
    let (writer_a, writer_b) = (
        app.create_user(a, "writer_a", "MEMBER").await,
        app.create_user(b, "writer_b", "MEMBER").await,
    );
    let a_published = app.create_post(writer_a, "A published", "PUBLISHED").await;
    let a_draft = app.create_post(writer_a, "A draft", "DRAFT").await;
    let b_published = app.create_post(writer_b, "B published", "PUBLISHED").await;
    let callers = [
        ("anonymous", None, vec![a_published, b_published]),
        (
            "member of A",
            Some(app.user_token(writer_a)),
            vec![a_published, a_draft],
        ),
        ("member of B", Some(app.user_token(writer_b)), vec![b_published]),
        (
            "platform admin",
            Some(app.platform_token()),
            vec![a_published, a_draft, b_published],
        ),
    ];
    let selections = ["title", "title content status", "databaseId"];
    for round in 0..2 {
        for selection in selections {
            for post in [a_published, a_draft, b_published] {
                for (who, token, visible) in &callers {
                    let data = app
                        .ok(
                            &format!("query($id: ID!) {{ post(id: $id) {{ databaseId {selection} }} }}"),
                            json!({ "id": post.to_string() }),
                            token.as_deref(),
                        )
                        .await;
                    let seen = data["post"]["databaseId"].as_i64();
                    let expected = visible.contains(&post).then_some(post);
                    assert_eq!(
                        seen, expected,
                        "round {round}, {who}, post {post}, {{ {selection} }}"
                    );
                    if seen.is_some() && selection.contains("content") {
                        assert!(
                            data["post"]["content"]
                                .as_str()
                                .is_some_and(|c| c.ends_with(" body"))
                        );
                    }
                }
            }
        }
    }
}

/// A list of one organization's posts is built once per audience and list and reused with
/// the next organization's id (`service::post::list`): callers of every audience, asking
/// in turn for each organization's posts with and without authors (and an admin with the
/// deleted ones), each get exactly the posts they may see, with the right authors.
#[tokio::test]
async fn organization_post_lists_reused_statements_keep_each_callers_scope() {
    let app = TestApp::spawn().await;
    let admin = app.platform_token();
    let mut orgs = Vec::new();
    let mut members = Vec::new();
    for name in ["a", "b"] {
        let org = app
            .create_org(&format!("Org {name}"), &format!("org-{name}"))
            .await;
        let writer = app.create_user(org, &format!("writer_{name}"), "MEMBER").await;
        for (i, status) in ["PUBLISHED", "DRAFT", "PUBLISHED"].into_iter().enumerate() {
            app.create_post(writer, &format!("{name} {status} {i}"), status)
                .await;
        }
        let gone = app
            .create_post(writer, &format!("{name} DELETED"), "PUBLISHED")
            .await;
        app.ok(
            "mutation($id: ID!) { softDeletePost(input: {id: $id}) { id } }",
            json!({ "id": gone.to_string() }),
            Some(&admin),
        )
        .await;
        orgs.push((name, org));
        members.push(app.user_token(writer));
    }
    // Titles each caller may list in organization `name`, deleted ones with `all`.
    let visible = |who: &str, name: &str, all: bool| -> BTreeSet<String> {
        let titles = [
            (format!("{name} PUBLISHED 0"), "published"),
            (format!("{name} DRAFT 1"), "draft"),
            (format!("{name} PUBLISHED 2"), "published"),
            (format!("{name} DELETED"), "deleted"),
        ];
        titles
            .into_iter()
            .filter(|(_, kind)| match (who, *kind) {
                (_, "deleted") => all,
                ("anonymous", kind) => kind == "published",
                ("admin", _) => true,
                (member, _) => member == format!("member of {name}"),
            })
            .map(|(title, _)| title)
            .collect()
    };
    let callers = [
        ("anonymous", None),
        ("member of a", Some(members[0].clone())),
        ("member of b", Some(members[1].clone())),
        ("admin", Some(admin.clone())),
    ];
    for round in 0..2 {
        for selection in ["title", "title author { username }"] {
            for (name, org) in &orgs {
                for (who, token) in &callers {
                    for all in [false, true] {
                        if all && *who != "admin" {
                            continue;
                        }
                        let query = format!(
                            "query($org: ID!) {{ posts(organizationId: $org, first: 10, includeDeleted: {all}) \
                             {{ nodes {{ {selection} }} }} }}"
                        );
                        let data = app
                            .ok(&query, json!({ "org": org.to_string() }), token.as_deref())
                            .await;
                        let nodes = data["posts"]["nodes"].as_array().unwrap();
                        let titles: BTreeSet<String> = nodes
                            .iter()
                            .map(|n| n["title"].as_str().unwrap().to_owned())
                            .collect();
                        assert_eq!(
                            titles,
                            visible(who, name, all),
                            "round {round}, {who}, org {name}, {{ {selection} }}"
                        );
                        assert_eq!(titles.len(), nodes.len(), "no duplicates");
                        if selection.contains("author") {
                            for node in nodes {
                                assert_eq!(node["author"]["username"], json!(format!("writer_{name}")));
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A list of an organization the caller cannot see is empty (the list's statement also
/// asks whether the organization is visible, so PostgreSQL can skip reading its posts):
/// an anonymous caller and a deactivated organization, a member and another organization;
/// a platform admin still lists the deactivated organization's posts.
#[tokio::test]
async fn a_post_list_of_an_organization_the_caller_cannot_see_is_empty() {
    let app = TestApp::spawn().await;
    let admin = app.platform_token();
    let a = app.create_org("Org A", "org-a").await;
    let b = app.create_org("Org B", "org-b").await;
    let writer = app.create_user(b, "writer_b", "MEMBER").await;
    let reader = app.create_user(a, "reader_a", "MEMBER").await;
    app.create_post(writer, "B published", "PUBLISHED").await;
    let query =
        "query($org: ID!) { posts(organizationId: $org, first: 5) { nodes { title author { username } } } }";
    let titles = |data: Value| -> Vec<String> {
        data["posts"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["title"].as_str().unwrap().to_owned())
            .collect()
    };
    let vars = json!({ "org": b.to_string() });
    let member = app.user_token(reader);
    assert_eq!(titles(app.ok(query, vars.clone(), None).await), ["B published"]);
    assert!(titles(app.ok(query, vars.clone(), Some(&member)).await).is_empty());
    app.ok(
        "mutation($id: ID!) { updateOrganization(input: {id: $id, isActive: false}) { id } }",
        json!({ "id": b.to_string() }),
        Some(&admin),
    )
    .await;
    assert!(titles(app.ok(query, vars.clone(), None).await).is_empty());
    assert_eq!(titles(app.ok(query, vars, Some(&admin)).await), ["B published"]);
}
