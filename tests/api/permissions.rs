//! The permission matrix: every Query field, Mutation field and nested connection field
//! the running server exposes (found by introspection), run as each kind of caller
//! against organization A's data.
//!
//! A field without a rule in `rules()` fails the test, so a new field cannot ship without
//! a permission decision written down here.
use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Value, json};

use crate::helpers::TestApp;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Role {
    Anonymous,
    MemberA,
    AdminA,
    MemberB,
    AdminB,
    Platform,
}

const ROLES: [Role; 6] = [
    Role::Anonymous,
    Role::MemberA,
    Role::AdminA,
    Role::MemberB,
    Role::AdminB,
    Role::Platform,
];

impl Role {
    fn label(self) -> &'static str {
        match self {
            Role::Anonymous => "anonymous",
            Role::MemberA => "member A",
            Role::AdminA => "admin A",
            Role::MemberB => "member B",
            Role::AdminB => "admin B",
            Role::Platform => "platform",
        }
    }

    /// Signed in to organization B: A's data is foreign.
    fn in_b(self) -> bool {
        matches!(self, Role::MemberB | Role::AdminB)
    }

    /// Organization A's own users and platform admins: those who read all of A.
    fn reads_a(self) -> bool {
        matches!(self, Role::MemberA | Role::AdminA | Role::Platform)
    }

    fn is_member(self) -> bool {
        matches!(self, Role::MemberA | Role::MemberB)
    }
}

/// The expected result of one operation for one caller.
#[derive(Clone, Debug, PartialEq)]
enum Exp {
    /// No error; the operation's root field equals this value.
    Data(Value),
    /// No error; the root field is null (foreign or invisible, exactly like missing).
    Null,
    /// Exactly one error with this `extensions.code`, and a null root field.
    Err(&'static str),
}

use Exp::{Data, Err, Null};

const UNAUTHENTICATED: Exp = Err("UNAUTHENTICATED");
const FORBIDDEN: Exp = Err("FORBIDDEN");
const NOT_FOUND: Exp = Err("NOT_FOUND");

impl Exp {
    fn short(&self) -> &'static str {
        match self {
            Data(_) => "ok",
            Null => "null",
            Err("UNAUTHENTICATED") => "UNAUTH",
            Err("FORBIDDEN") => "FORBID",
            Err("NOT_FOUND") => "NOT_FOUND",
            Err("BAD_USER_INPUT") => "BAD_INPUT",
            Err(_) => "error",
        }
    }
}

/// A fresh target created (by the platform admin) before each caller's attempt, so an
/// allowed mutation never changes what the next caller sees.
#[derive(Clone, Copy, Debug)]
enum Setup {
    None,
    FreshOrg,
    DeletedOrg,
    FreshMemberA,
    DeletedMemberA,
    /// A post in organization A: (by admin A instead of member A, published, deleted).
    PostA {
        by_admin: bool,
        published: bool,
        deleted: bool,
    },
    /// A tag of organization A (soft-deleted or not).
    TagA {
        deleted: bool,
    },
}

/// What must (not) change in the database, read by the platform admin before and after.
#[derive(Clone, Copy, Debug)]
enum Probe {
    /// A read: nothing to compare.
    None,
    /// An audited write: the audit trail grows when allowed and never when denied.
    Audit,
    /// An allowed no-op write: the audit trail never grows.
    AuditUnchanged,
    /// `recordPostView`: the target's `viewCount` grows when allowed, never when denied.
    ViewCount,
}

struct Ctx<'a> {
    w: &'a World,
    role: Role,
    target: i64,
    uniq: &'a str,
}

struct Rule {
    /// `Query.x`, `Mutation.x` or `Type.connectionField`.
    field: &'static str,
    /// The case exercises `includeDeleted: true`.
    include_deleted: bool,
    /// One root field; variables come from `World::vars` plus `target`, `targetId`, `uniq`.
    query: &'static str,
    setup: Setup,
    probe: Probe,
    expect: fn(&Ctx) -> Exp,
}

fn q(field: &'static str, query: &'static str, expect: fn(&Ctx) -> Exp) -> Rule {
    Rule {
        field,
        include_deleted: query.contains("includeDeleted: true"),
        query,
        setup: Setup::None,
        probe: Probe::None,
        expect,
    }
}

fn m(field: &'static str, query: &'static str, setup: Setup, expect: fn(&Ctx) -> Exp) -> Rule {
    Rule {
        field,
        include_deleted: false,
        query,
        setup,
        probe: Probe::Audit,
        expect,
    }
}

/// The data every rule reads: organizations A, B and an inactive C, with users and posts.
struct World {
    tokens: HashMap<Role, Option<String>>,
    /// Database ids by name.
    id: BTreeMap<&'static str, i64>,
    /// Global ids by name.
    gid: BTreeMap<&'static str, String>,
}

impl World {
    fn id(&self, name: &str) -> i64 {
        self.id[name]
    }
    fn gid(&self, name: &str) -> String {
        self.gid[name].clone()
    }
    fn token(&self, role: Role) -> Option<&str> {
        self.tokens[&role].as_deref()
    }
    fn vars(&self) -> serde_json::Map<String, Value> {
        let mut vars: serde_json::Map<String, Value> = self
            .gid
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect();
        vars.insert("draftAId".into(), json!(self.id("draftA")));
        vars.insert(
            "allA".into(),
            json!(["orgA", "memberA", "pubA", "draftA", "auditA"].map(|k| self.gid(k))),
        );
        vars
    }
}

async fn global_id(app: &TestApp, field: &str, id: i64) -> String {
    let query = format!("query($id: ID!) {{ {field}(id: $id) {{ id }} }}");
    let data = app
        .ok(
            &query,
            json!({ "id": id.to_string() }),
            Some(&app.platform_token()),
        )
        .await;
    data[field]["id"].as_str().unwrap().to_owned()
}

async fn platform(app: &TestApp, query: &str, vars: Value) -> Value {
    app.ok(query, vars, Some(&app.platform_token())).await
}

async fn soft_delete(app: &TestApp, what: &str, id: i64) {
    let query = format!("mutation($id: ID!) {{ softDelete{what}(input: {{id: $id}}) {{ deletedAt }} }}");
    let data = platform(app, &query, json!({ "id": id.to_string() })).await;
    assert!(data[format!("softDelete{what}")]["deletedAt"].is_string());
}

async fn build_world(app: &TestApp) -> World {
    let mut id = BTreeMap::new();
    id.insert("orgA", app.create_org("Org A", "org-a").await);
    id.insert("orgB", app.create_org("Org B", "org-b").await);
    id.insert("orgC", app.create_org("Org C", "org-c").await);
    platform(
        app,
        "mutation($id: ID!) { updateOrganization(input: {id: $id, isActive: false}) { isActive } }",
        json!({ "id": id["orgC"].to_string() }),
    )
    .await;
    id.insert("adminA", app.create_user(id["orgA"], "admin-a", "ADMIN").await);
    id.insert("memberA", app.create_user(id["orgA"], "member-a", "MEMBER").await);
    id.insert("goneA", app.create_user(id["orgA"], "gone-a", "MEMBER").await);
    id.insert("adminB", app.create_user(id["orgB"], "admin-b", "ADMIN").await);
    id.insert("memberB", app.create_user(id["orgB"], "member-b", "MEMBER").await);
    id.insert("pubA", app.create_post(id["memberA"], "Pub A", "PUBLISHED").await);
    id.insert("draftA", app.create_post(id["memberA"], "Draft A", "DRAFT").await);
    id.insert(
        "deletedA",
        app.create_post(id["memberA"], "Deleted A", "PUBLISHED").await,
    );
    id.insert("pubB", app.create_post(id["memberB"], "Pub B", "PUBLISHED").await);
    id.insert("draftB", app.create_post(id["memberB"], "Draft B", "DRAFT").await);

    let mut gid = BTreeMap::new();
    for name in ["orgA", "orgB", "orgC"] {
        gid.insert(name, global_id(app, "organization", id[name]).await);
    }
    for name in ["adminA", "memberA", "goneA", "adminB", "memberB"] {
        gid.insert(name, global_id(app, "user", id[name]).await);
    }
    for name in ["pubA", "draftA", "deletedA", "pubB", "draftB"] {
        gid.insert(name, global_id(app, "post", id[name]).await);
    }
    let audit = platform(
        app,
        r#"query($r: Int!) { auditLogs(filter: {tableName: "posts", recordId: $r, action: CREATE}) { nodes { id databaseId } } }"#,
        json!({ "r": id["draftA"] }),
    )
    .await;
    let entry = &audit["auditLogs"]["nodes"][0];
    id.insert("auditA", entry["databaseId"].as_i64().unwrap());
    gid.insert("auditA", entry["id"].as_str().unwrap().to_owned());
    // Tag A is on Pub A, Draft A and (deleted) Deleted A; Gone Tag A is soft-deleted.
    for (name, key) in [("Tag A", "tagA"), ("Gone Tag A", "goneTagA")] {
        let data = platform(
            app,
            "mutation($i: CreateTagInput!) { createTag(input: $i) { id databaseId } }",
            json!({ "i": { "name": name, "organizationId": id["orgA"].to_string() } }),
        )
        .await;
        id.insert(key, data["createTag"]["databaseId"].as_i64().unwrap());
        gid.insert(key, data["createTag"]["id"].as_str().unwrap().to_owned());
    }
    for post in ["pubA", "draftA", "deletedA"] {
        platform(
            app,
            "mutation($id: ID!, $t: [ID!]) { updatePost(input: {id: $id, tagIds: $t}) { id } }",
            json!({ "id": id[post].to_string(), "t": [gid["tagA"].clone()] }),
        )
        .await;
    }
    soft_delete(app, "Tag", id["goneTagA"]).await;
    soft_delete(app, "User", id["goneA"]).await;
    soft_delete(app, "Post", id["deletedA"]).await;

    let tokens = HashMap::from([
        (Role::Anonymous, None),
        (Role::MemberA, Some(app.user_token(id["memberA"]))),
        (Role::AdminA, Some(app.user_token(id["adminA"]))),
        (Role::MemberB, Some(app.user_token(id["memberB"]))),
        (Role::AdminB, Some(app.user_token(id["adminB"]))),
        (Role::Platform, Some(app.platform_token())),
    ]);
    World { tokens, id, gid }
}

fn titles(list: &[&str]) -> Value {
    json!({ "nodes": list.iter().map(|t| json!({ "title": t })).collect::<Vec<_>>() })
}

fn usernames(list: &[&str]) -> Value {
    json!({ "nodes": list.iter().map(|u| json!({ "username": u })).collect::<Vec<_>>() })
}

/// The decisions. Queries first: mutations add rows to organization A.
fn rules() -> Vec<Rule> {
    use Role::*;
    vec![
        // ---- Query -------------------------------------------------------------------
        q(
            "Query.node",
            "query($draftA: ID!) { node(id: $draftA) { id ... on Post { title } } }",
            |c| match c.role {
                r if r.reads_a() => Data(json!({ "id": c.w.gid("draftA"), "title": "Draft A" })),
                _ => Null,
            },
        ),
        q(
            "Query.nodes",
            "query($allA: [ID!]!) { nodes(ids: $allA) { __typename id } }",
            |c| {
                let n = |ty: &str, name: &str| json!({ "__typename": ty, "id": c.w.gid(name) });
                let (org, user, publ, draft, audit) = (
                    n("Organization", "orgA"),
                    n("User", "memberA"),
                    n("Post", "pubA"),
                    n("Post", "draftA"),
                    n("AuditLog", "auditA"),
                );
                Data(match c.role {
                    Anonymous => json!([org, null, publ, null, null]),
                    MemberA => json!([org, user, publ, draft, null]),
                    AdminA | Platform => json!([org, user, publ, draft, audit]),
                    MemberB | AdminB => json!([null, null, null, null, null]),
                })
            },
        ),
        q(
            "Query.organizations",
            "{ organizations { nodes { slug } } }",
            |c| {
                let slugs = match c.role {
                    Anonymous => vec!["org-a", "org-b"],
                    MemberA | AdminA => vec!["org-a"],
                    MemberB | AdminB => vec!["org-b"],
                    Platform => vec!["org-a", "org-b", "org-c"],
                };
                Data(json!({ "nodes": slugs.iter().map(|s| json!({ "slug": s })).collect::<Vec<_>>() }))
            },
        ),
        q(
            "Query.organizations",
            "{ organizations(includeDeleted: true) { nodes { slug } } }",
            |c| match c.role {
                Anonymous => UNAUTHENTICATED,
                r if r.is_member() => FORBIDDEN,
                AdminA => Data(json!({ "nodes": [{ "slug": "org-a" }] })),
                AdminB => Data(json!({ "nodes": [{ "slug": "org-b" }] })),
                _ => {
                    Data(json!({ "nodes": [{ "slug": "org-a" }, { "slug": "org-b" }, { "slug": "org-c" }] }))
                }
            },
        ),
        q(
            "Query.organization",
            "query($orgA: ID!) { organization(id: $orgA) { name slug } }",
            |c| match c.role {
                r if r.in_b() => Null,
                _ => Data(json!({ "name": "Org A", "slug": "org-a" })),
            },
        ),
        q(
            "Query.organization",
            "query($orgA: ID!) { organization(id: $orgA) { plan } }",
            |c| match c.role {
                Anonymous => UNAUTHENTICATED,
                r if r.in_b() => Null,
                _ => Data(json!({ "plan": "FREE" })),
            },
        ),
        q(
            "Query.users",
            "query($orgA: ID!) { users(organizationId: $orgA) { nodes { username } } }",
            |c| match c.role {
                Anonymous => UNAUTHENTICATED,
                r if r.in_b() => Data(usernames(&[])),
                _ => Data(usernames(&["admin-a", "member-a"])),
            },
        ),
        q(
            "Query.users",
            "query($orgA: ID!) { users(organizationId: $orgA, includeDeleted: true) { nodes { username } } }",
            |c| match c.role {
                Anonymous => UNAUTHENTICATED,
                r if r.is_member() => FORBIDDEN,
                AdminB => Data(usernames(&[])),
                _ => Data(usernames(&["admin-a", "member-a", "gone-a"])),
            },
        ),
        q(
            "Query.user",
            "query($memberA: ID!) { user(id: $memberA) { username email } }",
            |c| match c.role {
                Anonymous => UNAUTHENTICATED,
                r if r.in_b() => Null,
                _ => Data(json!({ "username": "member-a", "email": "member-a@example.com" })),
            },
        ),
        q("Query.viewer", "{ viewer { databaseId } }", |c| match c.role {
            Anonymous | Platform => Null,
            MemberA => Data(json!({ "databaseId": c.w.id("memberA") })),
            AdminA => Data(json!({ "databaseId": c.w.id("adminA") })),
            MemberB => Data(json!({ "databaseId": c.w.id("memberB") })),
            AdminB => Data(json!({ "databaseId": c.w.id("adminB") })),
        }),
        q(
            "Query.posts",
            "query($orgA: ID!) { posts(organizationId: $orgA) { nodes { title } } }",
            |c| match c.role {
                Anonymous => Data(titles(&["Pub A"])),
                r if r.in_b() => Data(titles(&[])),
                _ => Data(titles(&["Draft A", "Pub A"])),
            },
        ),
        q(
            "Query.posts",
            "query($orgA: ID!) { posts(organizationId: $orgA, includeDeleted: true) { nodes { title } } }",
            |c| match c.role {
                Anonymous => UNAUTHENTICATED,
                r if r.is_member() => FORBIDDEN,
                AdminB => Data(titles(&[])),
                _ => Data(titles(&["Deleted A", "Draft A", "Pub A"])),
            },
        ),
        q(
            "Query.post",
            "query($draftA: ID!) { post(id: $draftA) { title } }",
            |c| match c.role {
                r if r.reads_a() => Data(json!({ "title": "Draft A" })),
                _ => Null,
            },
        ),
        q(
            "Query.post",
            "query($pubA: ID!) { post(id: $pubA) { title author { username fullName } organization { name slug } } }",
            |c| match c.role {
                r if r.in_b() => Null,
                _ => Data(json!({
                    "title": "Pub A",
                    "author": { "username": "member-a", "fullName": null },
                    "organization": { "name": "Org A", "slug": "org-a" },
                })),
            },
        ),
        q(
            "Query.auditLogs",
            r#"query($draftAId: Int!) { auditLogs(filter: {tableName: "posts", recordId: $draftAId}) { nodes { action recordId } } }"#,
            |c| match c.role {
                Anonymous => UNAUTHENTICATED,
                r if r.is_member() => FORBIDDEN,
                AdminB => Data(json!({ "nodes": [] })),
                _ => Data(json!({ "nodes": [{ "action": "CREATE", "recordId": c.w.id("draftA") }] })),
            },
        ),
        q(
            "Query.auditLogs",
            r#"query($draftAId: Int!) { auditLogs(includeDeleted: true, filter: {tableName: "posts", recordId: $draftAId}) { nodes { action } } }"#,
            |c| match c.role {
                Anonymous => UNAUTHENTICATED,
                r if r.is_member() => FORBIDDEN,
                AdminB => Data(json!({ "nodes": [] })),
                _ => Data(json!({ "nodes": [{ "action": "CREATE" }] })),
            },
        ),
        q(
            "Query.tags",
            "query($orgA: ID!) { tags(organizationId: $orgA) { nodes { name } } }",
            |c| match c.role {
                r if r.in_b() => Data(json!({ "nodes": [] })),
                _ => Data(json!({ "nodes": [{ "name": "Tag A" }] })),
            },
        ),
        q(
            "Query.tags",
            "query($orgA: ID!) { tags(organizationId: $orgA, includeDeleted: true) { nodes { name } } }",
            |c| match c.role {
                Anonymous => UNAUTHENTICATED,
                r if r.is_member() => FORBIDDEN,
                AdminB => Data(json!({ "nodes": [] })),
                _ => Data(json!({ "nodes": [{ "name": "Gone Tag A" }, { "name": "Tag A" }] })),
            },
        ),
        q(
            "Query.tag",
            "query($tagA: ID!) { tag(id: $tagA) { name postCount organization { slug } } }",
            |c| match c.role {
                r if r.in_b() => Null,
                Anonymous => {
                    Data(json!({ "name": "Tag A", "postCount": 1, "organization": { "slug": "org-a" } }))
                }
                _ => Data(json!({ "name": "Tag A", "postCount": 2, "organization": { "slug": "org-a" } })),
            },
        ),
        q(
            "Query.tag",
            "query($goneTagA: ID!) { tag(id: $goneTagA) { name } }",
            |_| Null,
        ),
        q(
            "Query.post",
            "query($pubA: ID!) { post(id: $pubA) { tags { name } } }",
            |c| match c.role {
                r if r.in_b() => Null,
                _ => Data(json!({ "tags": [{ "name": "Tag A" }] })),
            },
        ),
        // ---- nested connections ------------------------------------------------------
        q(
            "Tag.posts",
            "query($tagA: ID!) { tag(id: $tagA) { posts { nodes { title } } } }",
            |c| match c.role {
                Anonymous => Data(json!({ "posts": titles(&["Pub A"]) })),
                r if r.in_b() => Null,
                _ => Data(json!({ "posts": titles(&["Draft A", "Pub A"]) })),
            },
        ),
        q(
            "Tag.posts",
            "query($tagA: ID!) { tag(id: $tagA) { posts(includeDeleted: true) { nodes { title } } } }",
            |c| match c.role {
                Anonymous => UNAUTHENTICATED,
                MemberA => FORBIDDEN,
                r if r.in_b() => Null,
                _ => Data(json!({ "posts": titles(&["Deleted A", "Draft A", "Pub A"]) })),
            },
        ),
        q(
            "Organization.tags",
            "query($orgA: ID!) { organization(id: $orgA) { tags { nodes { name } } } }",
            |c| match c.role {
                r if r.in_b() => Null,
                _ => Data(json!({ "tags": { "nodes": [{ "name": "Tag A" }] } })),
            },
        ),
        q(
            "Organization.tags",
            "query($orgA: ID!) { organization(id: $orgA) { tags(includeDeleted: true) { nodes { name } } } }",
            |c| match c.role {
                Anonymous => UNAUTHENTICATED,
                MemberA => FORBIDDEN,
                r if r.in_b() => Null,
                _ => Data(json!({ "tags": { "nodes": [{ "name": "Gone Tag A" }, { "name": "Tag A" }] } })),
            },
        ),
        q(
            "Organization.users",
            "query($orgA: ID!) { organization(id: $orgA) { users { nodes { username } } } }",
            |c| match c.role {
                Anonymous => UNAUTHENTICATED,
                r if r.in_b() => Null,
                _ => Data(json!({ "users": usernames(&["admin-a", "member-a"]) })),
            },
        ),
        q(
            "Organization.users",
            "query($orgA: ID!) { organization(id: $orgA) { users(includeDeleted: true) { nodes { username } } } }",
            |c| match c.role {
                Anonymous => UNAUTHENTICATED,
                MemberA => FORBIDDEN,
                r if r.in_b() => Null,
                _ => Data(json!({ "users": usernames(&["admin-a", "member-a", "gone-a"]) })),
            },
        ),
        q(
            "Organization.posts",
            "query($orgA: ID!) { organization(id: $orgA) { posts { nodes { title } } } }",
            |c| match c.role {
                Anonymous => Data(json!({ "posts": titles(&["Pub A"]) })),
                r if r.in_b() => Null,
                _ => Data(json!({ "posts": titles(&["Draft A", "Pub A"]) })),
            },
        ),
        q(
            "Organization.posts",
            "query($orgA: ID!) { organization(id: $orgA) { posts(includeDeleted: true) { nodes { title } } } }",
            |c| match c.role {
                Anonymous => UNAUTHENTICATED,
                MemberA => FORBIDDEN,
                r if r.in_b() => Null,
                _ => Data(json!({ "posts": titles(&["Deleted A", "Draft A", "Pub A"]) })),
            },
        ),
        q(
            "User.posts",
            "query($pubA: ID!) { post(id: $pubA) { author { posts { nodes { title } } } } }",
            |c| match c.role {
                Anonymous => UNAUTHENTICATED,
                r if r.in_b() => Null,
                _ => Data(json!({ "author": { "posts": titles(&["Draft A", "Pub A"]) } })),
            },
        ),
        q(
            "User.posts",
            "query($pubA: ID!) { post(id: $pubA) { author { posts(includeDeleted: true) { nodes { title } } } } }",
            |c| match c.role {
                Anonymous => UNAUTHENTICATED,
                MemberA => FORBIDDEN,
                r if r.in_b() => Null,
                _ => Data(json!({ "author": { "posts": titles(&["Deleted A", "Draft A", "Pub A"]) } })),
            },
        ),
        // ---- Mutation: organizations -------------------------------------------------
        m(
            "Mutation.createOrganization",
            "mutation($uniq: String!) { createOrganization(input: {name: $uniq, slug: $uniq}) { slug } }",
            Setup::None,
            |c| match c.role {
                Anonymous => UNAUTHENTICATED,
                Platform => Data(json!({ "slug": c.uniq })),
                _ => FORBIDDEN,
            },
        ),
        m(
            "Mutation.updateOrganization",
            "mutation($orgA: ID!, $uniq: String!) { updateOrganization(input: {id: $orgA, name: $uniq}) { name slug } }",
            Setup::None,
            |c| match c.role {
                Anonymous => UNAUTHENTICATED,
                r if r.is_member() => FORBIDDEN,
                AdminB => NOT_FOUND,
                _ => Data(json!({ "name": c.uniq, "slug": "org-a" })),
            },
        ),
        m(
            "Mutation.updateOrganization",
            "mutation($orgA: ID!) { updateOrganization(input: {id: $orgA, plan: PRO}) { plan } }",
            Setup::None,
            |c| match c.role {
                Anonymous => UNAUTHENTICATED,
                Platform => Data(json!({ "plan": "PRO" })),
                _ => FORBIDDEN,
            },
        ),
        m(
            "Mutation.softDeleteOrganization",
            "mutation($target: ID!) { softDeleteOrganization(input: {id: $target}) { databaseId } }",
            Setup::FreshOrg,
            |c| match c.role {
                Anonymous => UNAUTHENTICATED,
                Platform => Data(json!({ "databaseId": c.target })),
                _ => FORBIDDEN,
            },
        ),
        m(
            "Mutation.restoreOrganization",
            "mutation($target: ID!) { restoreOrganization(input: {id: $target}) { databaseId deletedAt } }",
            Setup::DeletedOrg,
            |c| match c.role {
                Anonymous => UNAUTHENTICATED,
                Platform => Data(json!({ "databaseId": c.target, "deletedAt": null })),
                _ => FORBIDDEN,
            },
        ),
        // ---- Mutation: users ---------------------------------------------------------
        m(
            "Mutation.createUser",
            "mutation($uniq: String!, $email: String!, $orgA: ID!) { createUser(input: {username: $uniq, email: $email, organizationId: $orgA}) { username organization { slug } } }",
            Setup::None,
            |c| match c.role {
                Anonymous => UNAUTHENTICATED,
                r if r.is_member() => FORBIDDEN,
                AdminB => NOT_FOUND,
                _ => Data(json!({ "username": c.uniq, "organization": { "slug": "org-a" } })),
            },
        ),
        m(
            "Mutation.updateUser",
            "mutation($memberA: ID!, $uniq: String!) { updateUser(input: {id: $memberA, fullName: $uniq}) { username fullName } }",
            Setup::None,
            |c| match c.role {
                Anonymous => UNAUTHENTICATED,
                r if r.in_b() => NOT_FOUND,
                _ => Data(json!({ "username": "member-a", "fullName": c.uniq })),
            },
        ),
        m(
            "Mutation.updateUser",
            "mutation($target: ID!, $uniq: String!) { updateUser(input: {id: $target, fullName: $uniq}) { fullName } }",
            Setup::FreshMemberA,
            |c| match c.role {
                Anonymous => UNAUTHENTICATED,
                MemberA => FORBIDDEN,
                r if r.in_b() => NOT_FOUND,
                _ => Data(json!({ "fullName": c.uniq })),
            },
        ),
        Rule {
            probe: Probe::AuditUnchanged,
            ..m(
                "Mutation.updateUser",
                "mutation($memberA: ID!) { updateUser(input: {id: $memberA, role: MEMBER, isActive: true}) { role isActive } }",
                Setup::None,
                |c| match c.role {
                    Anonymous => UNAUTHENTICATED,
                    MemberA => FORBIDDEN,
                    r if r.in_b() => NOT_FOUND,
                    _ => Data(json!({ "role": "MEMBER", "isActive": true })),
                },
            )
        },
        m(
            "Mutation.softDeleteUser",
            "mutation($target: ID!) { softDeleteUser(input: {id: $target}) { databaseId } }",
            Setup::FreshMemberA,
            |c| match c.role {
                Anonymous => UNAUTHENTICATED,
                r if r.is_member() => FORBIDDEN,
                AdminB => NOT_FOUND,
                _ => Data(json!({ "databaseId": c.target })),
            },
        ),
        m(
            "Mutation.restoreUser",
            "mutation($target: ID!) { restoreUser(input: {id: $target}) { databaseId deletedAt } }",
            Setup::DeletedMemberA,
            |c| match c.role {
                Anonymous => UNAUTHENTICATED,
                r if r.is_member() => FORBIDDEN,
                AdminB => NOT_FOUND,
                _ => Data(json!({ "databaseId": c.target, "deletedAt": null })),
            },
        ),
        // ---- Mutation: posts ---------------------------------------------------------
        m(
            "Mutation.createPost",
            "mutation($uniq: String!, $memberA: ID!) { createPost(input: {title: $uniq, authorId: $memberA}) { title author { username } } }",
            Setup::None,
            |c| match c.role {
                Anonymous => UNAUTHENTICATED,
                MemberB => FORBIDDEN,
                AdminB => NOT_FOUND,
                _ => Data(json!({ "title": c.uniq, "author": { "username": "member-a" } })),
            },
        ),
        m(
            "Mutation.createPost",
            "mutation($uniq: String!, $orgA: ID!) { createPost(input: {title: $uniq, organizationId: $orgA}) { title organization { slug } } }",
            Setup::None,
            |c| match c.role {
                Anonymous => UNAUTHENTICATED,
                r if r.in_b() => NOT_FOUND,
                Platform => Err("BAD_USER_INPUT"),
                _ => Data(json!({ "title": c.uniq, "organization": { "slug": "org-a" } })),
            },
        ),
        m(
            "Mutation.updatePost",
            "mutation($target: ID!, $uniq: String!) { updatePost(input: {id: $target, title: $uniq}) { title } }",
            Setup::PostA {
                by_admin: false,
                published: false,
                deleted: false,
            },
            |c| match c.role {
                Anonymous => UNAUTHENTICATED,
                r if r.in_b() => NOT_FOUND,
                _ => Data(json!({ "title": c.uniq })),
            },
        ),
        m(
            "Mutation.updatePost",
            "mutation($target: ID!, $uniq: String!) { updatePost(input: {id: $target, title: $uniq}) { title } }",
            Setup::PostA {
                by_admin: true,
                published: true,
                deleted: false,
            },
            |c| match c.role {
                Anonymous => UNAUTHENTICATED,
                MemberA => FORBIDDEN,
                r if r.in_b() => NOT_FOUND,
                _ => Data(json!({ "title": c.uniq })),
            },
        ),
        m(
            "Mutation.softDeletePost",
            "mutation($target: ID!) { softDeletePost(input: {id: $target}) { databaseId } }",
            Setup::PostA {
                by_admin: false,
                published: true,
                deleted: false,
            },
            |c| match c.role {
                Anonymous => UNAUTHENTICATED,
                r if r.in_b() => NOT_FOUND,
                _ => Data(json!({ "databaseId": c.target })),
            },
        ),
        m(
            "Mutation.softDeletePost",
            "mutation($target: ID!) { softDeletePost(input: {id: $target}) { databaseId } }",
            Setup::PostA {
                by_admin: true,
                published: true,
                deleted: false,
            },
            |c| match c.role {
                Anonymous => UNAUTHENTICATED,
                MemberA => FORBIDDEN,
                r if r.in_b() => NOT_FOUND,
                _ => Data(json!({ "databaseId": c.target })),
            },
        ),
        m(
            "Mutation.restorePost",
            "mutation($target: ID!) { restorePost(input: {id: $target}) { databaseId deletedAt } }",
            Setup::PostA {
                by_admin: false,
                published: true,
                deleted: true,
            },
            |c| match c.role {
                Anonymous => UNAUTHENTICATED,
                r if r.in_b() => NOT_FOUND,
                _ => Data(json!({ "databaseId": c.target, "deletedAt": null })),
            },
        ),
        m(
            "Mutation.restorePost",
            "mutation($target: ID!) { restorePost(input: {id: $target}) { databaseId deletedAt } }",
            Setup::PostA {
                by_admin: true,
                published: true,
                deleted: true,
            },
            |c| match c.role {
                Anonymous => UNAUTHENTICATED,
                MemberA => FORBIDDEN,
                r if r.in_b() => NOT_FOUND,
                _ => Data(json!({ "databaseId": c.target, "deletedAt": null })),
            },
        ),
        // ---- Mutation: tags ----------------------------------------------------------
        m(
            "Mutation.createTag",
            "mutation($uniq: String!, $orgA: ID!) { createTag(input: {name: $uniq, organizationId: $orgA}) { name slug } }",
            Setup::None,
            |c| match c.role {
                Anonymous => UNAUTHENTICATED,
                r if r.is_member() => FORBIDDEN,
                AdminB => NOT_FOUND,
                _ => Data(json!({ "name": c.uniq, "slug": c.uniq })),
            },
        ),
        m(
            "Mutation.updateTag",
            "mutation($target: ID!, $uniq: String!) { updateTag(input: {id: $target, description: $uniq}) { description } }",
            Setup::TagA { deleted: false },
            |c| match c.role {
                Anonymous => UNAUTHENTICATED,
                r if r.is_member() => FORBIDDEN,
                AdminB => NOT_FOUND,
                _ => Data(json!({ "description": c.uniq })),
            },
        ),
        m(
            "Mutation.softDeleteTag",
            "mutation($target: ID!) { softDeleteTag(input: {id: $target}) { databaseId } }",
            Setup::TagA { deleted: false },
            |c| match c.role {
                Anonymous => UNAUTHENTICATED,
                r if r.is_member() => FORBIDDEN,
                AdminB => NOT_FOUND,
                _ => Data(json!({ "databaseId": c.target })),
            },
        ),
        m(
            "Mutation.restoreTag",
            "mutation($target: ID!) { restoreTag(input: {id: $target}) { databaseId deletedAt } }",
            Setup::TagA { deleted: true },
            |c| match c.role {
                Anonymous => UNAUTHENTICATED,
                r if r.is_member() => FORBIDDEN,
                AdminB => NOT_FOUND,
                _ => Data(json!({ "databaseId": c.target, "deletedAt": null })),
            },
        ),
        Rule {
            probe: Probe::ViewCount,
            ..m(
                "Mutation.recordPostView",
                "mutation($target: ID!) { recordPostView(id: $target) { databaseId viewCount } }",
                Setup::PostA {
                    by_admin: true,
                    published: true,
                    deleted: false,
                },
                |c| match c.role {
                    r if r.in_b() => NOT_FOUND,
                    _ => Data(json!({ "databaseId": c.target, "viewCount": 1 })),
                },
            )
        },
        Rule {
            probe: Probe::ViewCount,
            ..m(
                "Mutation.recordPostView",
                "mutation($target: ID!) { recordPostView(id: $target) { databaseId viewCount } }",
                Setup::PostA {
                    by_admin: false,
                    published: false,
                    deleted: false,
                },
                |c| match c.role {
                    r if r.reads_a() => Data(json!({ "databaseId": c.target, "viewCount": 1 })),
                    _ => NOT_FOUND,
                },
            )
        },
    ]
}

// ---- introspection ------------------------------------------------------------------

const INTROSPECTION: &str = r#"{ __schema {
    queryType { name } mutationType { name }
    types { kind name fields { name args { name } type { ...T } } }
} }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }"#;

/// The innermost named type of a field type (through NON_NULL and LIST).
fn named(ty: &Value) -> (String, String) {
    let mut ty = ty;
    while ty["name"].is_null() {
        ty = &ty["ofType"];
    }
    (
        ty["kind"].as_str().unwrap_or_default().to_owned(),
        ty["name"].as_str().unwrap_or_default().to_owned(),
    )
}

struct Field {
    /// `Type.field`.
    name: String,
    args: BTreeSet<String>,
    kind: String,
}

/// Every field of every object type, by type name.
async fn schema_fields(app: &TestApp) -> (Value, BTreeMap<String, Vec<Field>>) {
    let data = app.ok(INTROSPECTION, json!({}), None).await;
    let mut types = BTreeMap::new();
    for ty in data["__schema"]["types"].as_array().unwrap() {
        if ty["kind"] != "OBJECT" {
            continue;
        }
        let type_name = ty["name"].as_str().unwrap().to_owned();
        if type_name.starts_with("__") {
            continue;
        }
        let fields = ty["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| Field {
                name: format!("{type_name}.{}", f["name"].as_str().unwrap()),
                args: f["args"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a["name"].as_str().unwrap().to_owned())
                    .collect(),
                kind: {
                    let (kind, name) = named(&f["type"]);
                    if name.ends_with("Connection") {
                        "CONNECTION".to_owned()
                    } else {
                        kind
                    }
                },
            })
            .collect();
        types.insert(type_name, fields);
    }
    (data["__schema"].clone(), types)
}

/// Query fields, Mutation fields and every connection field of other object types.
async fn discover(app: &TestApp) -> Vec<Field> {
    let (schema, types) = schema_fields(app).await;
    let query = schema["queryType"]["name"].as_str().unwrap().to_owned();
    let mutation = schema["mutationType"]["name"].as_str().unwrap().to_owned();
    let mut out = Vec::new();
    for (type_name, fields) in types {
        let root = type_name == query || type_name == mutation;
        let fields = fields
            .into_iter()
            .filter(|f| root || f.kind == "CONNECTION")
            .map(|f| Field {
                name: f
                    .name
                    .replacen(&query, "Query", 1)
                    .replacen(&mutation, "Mutation", 1),
                ..f
            });
        out.extend(fields);
    }
    assert!(
        out.iter().any(|f| f.name.starts_with("Query."))
            && out.iter().any(|f| f.name.starts_with("Mutation."))
            && out
                .iter()
                .any(|f| !f.name.starts_with("Query.") && !f.name.starts_with("Mutation.")),
        "introspection found no Query, Mutation or nested connection fields"
    );
    out
}

// ---- running ------------------------------------------------------------------------

/// The operation's single root field (null when `data` itself is null).
fn root(body: &Value) -> Value {
    match &body["data"] {
        Value::Object(map) if map.len() == 1 => map.values().next().cloned().unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

/// The field an error names returned nothing: following the error's `path` through
/// `data` reaches a null (the field itself or an ancestor it nulled).
fn denied_field_is_null(body: &Value, path: &Value) -> bool {
    let Some(path) = path.as_array().filter(|p| !p.is_empty()) else {
        return false;
    };
    let mut value = &body["data"];
    for step in path {
        if value.is_null() {
            return true;
        }
        value = match step {
            Value::String(key) => &value[key.as_str()],
            Value::Number(i) => &value[i.as_u64().unwrap_or(u64::MAX) as usize],
            _ => return false,
        };
    }
    value.is_null()
}

/// `None` when `body` is what `exp` says; otherwise why not.
fn mismatch(exp: &Exp, body: &Value) -> Option<String> {
    let errors = body["errors"].as_array().cloned().unwrap_or_default();
    let value = root(body);
    let ok = match exp {
        Data(expected) => errors.is_empty() && value == *expected,
        Null => errors.is_empty() && value.is_null() && body["data"].is_object(),
        Err(code) => {
            errors.len() == 1
                && errors[0]["extensions"]["code"] == *code
                && errors[0]["message"].as_str().is_some_and(|m| !m.is_empty())
                && denied_field_is_null(body, &errors[0]["path"])
        }
    };
    (!ok).then(|| format!("expected {exp:?}, got {body}"))
}

async fn setup(app: &TestApp, w: &World, setup: Setup, uniq: &str) -> i64 {
    match setup {
        Setup::None => 0,
        Setup::FreshOrg | Setup::DeletedOrg => {
            let id = app
                .create_org(&format!("Org {uniq}"), &format!("org-{uniq}"))
                .await;
            if matches!(setup, Setup::DeletedOrg) {
                soft_delete(app, "Organization", id).await;
            }
            id
        }
        Setup::FreshMemberA | Setup::DeletedMemberA => {
            let id = app
                .create_user(w.id("orgA"), &format!("user-{uniq}"), "MEMBER")
                .await;
            if matches!(setup, Setup::DeletedMemberA) {
                soft_delete(app, "User", id).await;
            }
            id
        }
        Setup::PostA {
            by_admin,
            published,
            deleted,
        } => {
            let author = w.id(if by_admin { "adminA" } else { "memberA" });
            let status = if published { "PUBLISHED" } else { "DRAFT" };
            let id = app.create_post(author, &format!("Post {uniq}"), status).await;
            if deleted {
                soft_delete(app, "Post", id).await;
            }
            id
        }
        Setup::TagA { deleted } => {
            let data = platform(
                app,
                "mutation($i: CreateTagInput!) { createTag(input: $i) { databaseId } }",
                json!({ "i": { "name": format!("Tag {uniq}"), "organizationId": w.id("orgA").to_string() } }),
            )
            .await;
            let id = data["createTag"]["databaseId"].as_i64().unwrap();
            if deleted {
                soft_delete(app, "Tag", id).await;
            }
            id
        }
    }
}

async fn probe(app: &TestApp, probe: Probe, target: i64) -> Value {
    match probe {
        Probe::None => Value::Null,
        Probe::Audit | Probe::AuditUnchanged => {
            platform(app, "{ auditLogs { totalCount } }", json!({})).await
        }
        Probe::ViewCount => {
            platform(
                app,
                "query($id: ID!) { post(id: $id) { viewCount } } ",
                json!({ "id": target.to_string() }),
            )
            .await
        }
    }
}

#[tokio::test]
async fn permission_matrix_covers_every_field_and_role() {
    let app = TestApp::spawn().await;
    let w = build_world(&app).await;
    let rules = rules();

    // Every discovered field has a rule (and one for `includeDeleted: true` when it has
    // that argument); every rule names a field that exists.
    let fields = discover(&app).await;
    let mut missing = Vec::new();
    for f in &fields {
        if !rules.iter().any(|r| r.field == f.name && !r.include_deleted) {
            missing.push(f.name.clone());
        }
        if f.args.contains("includeDeleted") && !rules.iter().any(|r| r.field == f.name && r.include_deleted)
        {
            missing.push(format!("{}(includeDeleted: true)", f.name));
        }
    }
    assert!(
        missing.is_empty(),
        "fields without a permission rule: {missing:?}"
    );
    let stale: Vec<_> = rules
        .iter()
        .filter(|r| !fields.iter().any(|f| f.name == r.field))
        .map(|r| r.field)
        .collect();
    assert!(
        stale.is_empty(),
        "rules for fields the schema no longer has: {stale:?}"
    );

    let base = w.vars();
    let mut failures = Vec::new();
    let mut table: BTreeMap<&str, BTreeMap<Role, BTreeSet<&str>>> = BTreeMap::new();
    let mut checks = 0;
    let mut n = 0;
    for rule in &rules {
        for role in ROLES {
            n += 1;
            let uniq = format!("p{n:04}");
            let target = setup(&app, &w, rule.setup, &uniq).await;
            let mut vars = base.clone();
            vars.insert("uniq".into(), json!(uniq));
            vars.insert("email".into(), json!(format!("{uniq}@example.com")));
            if target != 0 {
                vars.insert("target".into(), json!(target.to_string()));
            }
            let ctx = Ctx {
                w: &w,
                role,
                target,
                uniq: &uniq,
            };
            let exp = (rule.expect)(&ctx);
            let before = probe(&app, rule.probe, target).await;
            let body = app.gql(rule.query, Value::Object(vars), w.token(role)).await;
            let after = probe(&app, rule.probe, target).await;
            checks += 1;
            let label = format!("{} as {}: {}", rule.field, role.label(), rule.query);
            if let Some(why) = mismatch(&exp, &body) {
                failures.push(format!("{label}\n    {why}"));
            }
            let should_change =
                matches!(exp, Data(_)) && matches!(rule.probe, Probe::Audit | Probe::ViewCount);
            if !matches!(rule.probe, Probe::None) {
                checks += 1;
                if (before != after) != should_change {
                    failures.push(format!(
                        "{label}\n    side effect: expected {}, before {before} after {after}",
                        if should_change { "a change" } else { "none" }
                    ));
                }
            }
            table
                .entry(rule.field)
                .or_default()
                .entry(role)
                .or_default()
                .insert(exp.short());
        }
    }

    println!(
        "permission matrix: {} fields × {} roles = {} cells ({} cases, {} checks)",
        fields.len(),
        ROLES.len(),
        fields.len() * ROLES.len(),
        rules.len() * ROLES.len(),
        checks
    );
    print!("{:<34}", "field");
    for role in ROLES {
        print!("{:<20}", role.label());
    }
    println!();
    for (field, row) in &table {
        print!("{field:<34}");
        for role in ROLES {
            let cell: Vec<_> = row[&role].iter().copied().collect();
            print!("{:<20}", cell.join("/"));
        }
        println!();
    }
    assert!(
        failures.is_empty(),
        "{} of {checks} permission checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Field-level rules on visible objects: anonymous callers read only the public fields
/// (post fields, an author's `username`/`fullName`, an organization's `name`/`slug`/
/// `posts`); every other field is `UNAUTHENTICATED`. Signed-in callers read every field of
/// their own organization's objects. Every field of every entity type must be listed.
#[tokio::test]
async fn field_rules_cover_every_entity_field() {
    let app = TestApp::spawn().await;
    let w = build_world(&app).await;
    let (_, types) = schema_fields(&app).await;

    // (type, public to anonymous callers, signed-in only)
    let rules: [(&str, &[&str], &[&str]); 5] = [
        (
            "Post",
            &[
                "id",
                "databaseId",
                "title",
                "content",
                "status",
                "viewCount",
                "slug",
                "excerpt",
                "featured",
                "publishedAt",
                "publishAt",
                "createdAt",
                "updatedAt",
                "deletedAt",
                "author",
                "organization",
                "tags",
            ],
            &[],
        ),
        (
            "Tag",
            &[
                "id",
                "databaseId",
                "name",
                "slug",
                "description",
                "createdAt",
                "updatedAt",
                "deletedAt",
                "organization",
                "postCount",
                "posts",
            ],
            &[],
        ),
        (
            "User",
            &["id", "databaseId", "username", "fullName"],
            &[
                "email",
                "role",
                "isActive",
                "createdAt",
                "updatedAt",
                "deletedAt",
                "organization",
                "posts",
            ],
        ),
        (
            "Organization",
            &["id", "databaseId", "name", "slug", "posts", "post", "tag", "tags"],
            &["plan", "isActive", "createdAt", "updatedAt", "deletedAt", "users"],
        ),
        (
            "AuditLog",
            &[],
            &[
                "id",
                "databaseId",
                "action",
                "tableName",
                "recordId",
                "oldValues",
                "newValues",
                "ipAddress",
                "createdAt",
                "actor",
                "actorSubject",
            ],
        ),
    ];
    let mut failures = Vec::new();
    let mut checks = 0;
    for (ty, public, private) in rules {
        let fields = &types[ty];
        for f in fields {
            let name = f.name.split_once('.').unwrap().1;
            if !public.contains(&name) && !private.contains(&name) {
                failures.push(format!("{ty}.{name} has no field rule"));
                continue;
            }
            let selection = match f.kind.as_str() {
                // The one field with a required argument.
                _ if ty == "Organization" && (name == "post" || name == "tag") => {
                    format!("{name}(slug: \"none\") {{ __typename }}")
                }
                "OBJECT" | "INTERFACE" => format!("{name} {{ __typename }}"),
                "CONNECTION" => format!("{name} {{ totalCount }}"),
                _ => name.to_owned(),
            };
            // How each caller reaches an object of this type in organization A.
            let (anonymous, signed_in, token) = match ty {
                "Post" => (
                    Some(format!(
                        "query($pubA: ID!) {{ post(id: $pubA) {{ {selection} }} }}"
                    )),
                    format!("query($draftA: ID!) {{ post(id: $draftA) {{ {selection} }} }}"),
                    w.token(Role::MemberA),
                ),
                "User" => (
                    Some(format!(
                        "query($pubA: ID!) {{ post(id: $pubA) {{ author {{ {selection} }} }} }}"
                    )),
                    format!("query($memberA: ID!) {{ user(id: $memberA) {{ {selection} }} }}"),
                    w.token(Role::MemberA),
                ),
                "Tag" => (
                    Some(format!(
                        "query($tagA: ID!) {{ tag(id: $tagA) {{ {selection} }} }}"
                    )),
                    format!("query($tagA: ID!) {{ tag(id: $tagA) {{ {selection} }} }}"),
                    w.token(Role::MemberA),
                ),
                "Organization" => (
                    Some(format!(
                        "query($orgA: ID!) {{ organization(id: $orgA) {{ {selection} }} }}"
                    )),
                    format!("query($orgA: ID!) {{ organization(id: $orgA) {{ {selection} }} }}"),
                    w.token(Role::MemberA),
                ),
                _ => (
                    None,
                    format!(
                        "query($auditA: ID!) {{ node(id: $auditA) {{ ... on AuditLog {{ {selection} }} }} }}"
                    ),
                    w.token(Role::AdminA),
                ),
            };
            let vars = Value::Object(w.vars());
            if let Some(query) = anonymous {
                checks += 1;
                let body = app.gql(&query, vars.clone(), None).await;
                let errors = body["errors"].as_array().cloned().unwrap_or_default();
                if public.contains(&name) {
                    if !errors.is_empty() || root(&body).is_null() {
                        failures.push(format!("anonymous {ty}.{name} should be readable: {body}"));
                    }
                } else {
                    let denied = errors.len() == 1
                        && errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
                        && errors[0]["path"].as_array().and_then(|p| p.last()) == Some(&json!(name));
                    if !denied {
                        failures.push(format!("anonymous {ty}.{name} should be UNAUTHENTICATED: {body}"));
                    }
                }
            }
            checks += 1;
            let body = app.gql(&signed_in, vars, token).await;
            let value = root(&body);
            let found = value.as_object().is_some_and(|o| o.contains_key(name));
            if body.get("errors").is_some() || !found {
                failures.push(format!("signed-in {ty}.{name} should be readable: {body}"));
            }
        }
    }
    println!("field rules: {checks} checks");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
