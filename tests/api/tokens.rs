//! Bearer tokens: every bad token is `UNAUTHENTICATED` with HTTP 401 and never read as
//! an anonymous request; a valid token names its caller, whose state is read from the
//! database on every request.
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

use crate::helpers::{SECRET, TestApp};

/// Anonymous callers get data for this, so a bad token treated as anonymous shows.
const PROBE: &str = "{ organizations { totalCount } viewer { databaseId username } }";

struct Reply {
    status: u16,
    www_authenticate: Option<String>,
    body: Value,
}

async fn call(app: &TestApp, authorization: Option<&str>, query: &str) -> Reply {
    let mut request = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": query }));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let response = request.send().await.unwrap();
    Reply {
        status: response.status().as_u16(),
        www_authenticate: response
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_owned()),
        body: response.json().await.unwrap(),
    }
}

async fn call_get(app: &TestApp, authorization: &str) -> (u16, Value) {
    let query: String = PROBE
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let response = app
        .client
        .get(app.url(&format!("/graphql?query={query}")))
        .header("authorization", authorization)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn sign(alg: Algorithm, claims: &Value, secret: &str) -> String {
    encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn hs256(claims: &Value) -> String {
    sign(Algorithm::HS256, claims, SECRET)
}

/// An unsigned token (`alg: none`).
fn unsigned(claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{header}.{payload}.")
}

fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// The rejection: 401, `WWW-Authenticate: Bearer`, one `UNAUTHENTICATED` error, no data.
fn assert_rejected(case: &str, reply: &Reply) {
    assert_eq!(reply.status, 401, "{case}: {}", reply.body);
    assert_eq!(reply.www_authenticate.as_deref(), Some("Bearer"), "{case}");
    let errors = reply.body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("{case}: {}", reply.body));
    assert_eq!(errors.len(), 1, "{case}: {}", reply.body);
    assert_eq!(
        errors[0]["extensions"]["code"], "UNAUTHENTICATED",
        "{case}: {}",
        reply.body
    );
    assert!(
        reply.body.get("data").is_none_or(Value::is_null),
        "{case}: a rejected token got data: {}",
        reply.body
    );
}

/// The request ran as user `id`.
fn assert_user(case: &str, reply: &Reply, id: i64) {
    assert_eq!(reply.status, 200, "{case}: {}", reply.body);
    assert!(reply.body.get("errors").is_none(), "{case}: {}", reply.body);
    assert_eq!(
        reply.body["data"]["viewer"]["databaseId"], id,
        "{case}: {}",
        reply.body
    );
}

#[tokio::test]
async fn bad_tokens_are_unauthenticated_never_anonymous() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Acme", "acme").await;
    let user = app.create_user(org, "alice", "ADMIN").await;
    let t = now();

    // Anonymous and valid requests succeed, so each rejection below is the token's doing.
    let anonymous = call(&app, None, PROBE).await;
    assert_eq!(anonymous.status, 200);
    assert_eq!(anonymous.body["data"]["organizations"]["totalCount"], 1);
    assert!(anonymous.body["data"]["viewer"].is_null());
    let valid = hs256(&json!({ "sub": user.to_string(), "exp": t + 3600 }));
    assert_user(
        "valid",
        &call(&app, Some(&format!("Bearer {valid}")), PROBE).await,
        user,
    );

    let claims = |extra: Value| {
        let mut c = json!({ "sub": user.to_string(), "exp": t + 3600, "iat": t });
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    let platform = json!({ "sub": "intruder", "role": "platform_admin", "exp": t + 3600 });

    // Tampering: the payload of a valid token swapped for a platform admin's.
    let tampered = {
        let parts: Vec<&str> = valid.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(platform.to_string());
        format!("{}.{forged}.{}", parts[0], parts[2])
    };
    // Tampering: one signature byte changed.
    let bad_signature = {
        let (rest, sig) = valid.rsplit_once('.').unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(sig).unwrap();
        bytes[0] ^= 0x01;
        format!("{rest}.{}", URL_SAFE_NO_PAD.encode(bytes))
    };
    let without_exp = hs256(&json!({ "sub": user.to_string() }));
    let cases: Vec<(&str, String)> = vec![
        (
            "expired",
            format!("Bearer {}", hs256(&claims(json!({ "exp": t - 3600 })))),
        ),
        (
            "expired beyond the leeway",
            format!("Bearer {}", hs256(&claims(json!({ "exp": t - 120 })))),
        ),
        (
            "not yet valid (nbf)",
            format!("Bearer {}", hs256(&claims(json!({ "nbf": t + 3600 })))),
        ),
        ("without exp", format!("Bearer {without_exp}")),
        ("alg none", format!("Bearer {}", unsigned(&claims(json!({}))))),
        (
            "alg none, platform admin",
            format!("Bearer {}", unsigned(&platform)),
        ),
        (
            "alg none without the trailing dot",
            format!("Bearer {}", unsigned(&platform).trim_end_matches('.')),
        ),
        (
            "HS512 with the right secret (algorithm swap)",
            format!("Bearer {}", sign(Algorithm::HS512, &claims(json!({})), SECRET)),
        ),
        ("tampered payload", format!("Bearer {tampered}")),
        ("tampered signature", format!("Bearer {bad_signature}")),
        (
            "wrong secret",
            format!(
                "Bearer {}",
                sign(Algorithm::HS256, &claims(json!({})), "another-secret-0123456789")
            ),
        ),
        (
            "wrong secret, platform admin",
            format!(
                "Bearer {}",
                sign(Algorithm::HS256, &platform, "another-secret-0123456789")
            ),
        ),
        ("malformed", "Bearer not-a-token".into()),
        ("malformed, three parts", "Bearer a.b.c".into()),
        (
            "malformed, two parts",
            format!("Bearer {}", valid.rsplit_once('.').unwrap().0),
        ),
        ("empty bearer", "Bearer ".into()),
        ("bearer without token", "Bearer".into()),
        ("Basic", "Basic YWxpY2U6c2VjcmV0".into()),
        ("other scheme", format!("Token {valid}")),
        ("token without scheme", valid.clone()),
        ("empty header", String::new()),
        (
            "non-numeric sub",
            format!("Bearer {}", hs256(&claims(json!({ "sub": "alice" })))),
        ),
        (
            "sub 0",
            format!("Bearer {}", hs256(&claims(json!({ "sub": "0" })))),
        ),
        (
            "negative sub",
            format!("Bearer {}", hs256(&claims(json!({ "sub": "-1" })))),
        ),
        (
            "sub beyond any id",
            format!("Bearer {}", hs256(&claims(json!({ "sub": "99999999999" })))),
        ),
        (
            "user that does not exist",
            format!("Bearer {}", hs256(&claims(json!({ "sub": "987654" })))),
        ),
    ];
    for (case, header) in &cases {
        assert_rejected(case, &call(&app, Some(header), PROBE).await);
        let (status, body) = call_get(&app, header).await;
        assert_eq!(status, 401, "{case} (GET): {body}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
            "{case} (GET)"
        );
    }

    // A rejected platform-admin forgery does nothing.
    let create = r#"mutation { createOrganization(input: {name: "Forged", slug: "forged"}) { id } }"#;
    for token in [unsigned(&platform), tampered.clone()] {
        assert_rejected(
            "forged mutation",
            &call(&app, Some(&format!("Bearer {token}")), create).await,
        );
    }
    let orgs = app.ok("{ organizations { totalCount } }", json!({}), None).await;
    assert_eq!(orgs["organizations"]["totalCount"], 1);
    println!("bad tokens: {} cases, POST and GET", cases.len());
}

/// Tokens of users whose state changed are refused from the next request on, and work
/// again when the state is restored: the user is read from the database every time.
#[tokio::test]
async fn tokens_follow_the_users_state() {
    let app = TestApp::spawn().await;
    let p = app.platform_token();
    let p = Some(p.as_str());
    let acme = app.create_org("Acme", "acme").await;
    app.create_user(acme, "boss", "ADMIN").await;
    let admin = app.create_user(acme, "alice", "ADMIN").await;
    let deleted = app.create_user(acme, "bob", "MEMBER").await;
    let inactive = app.create_user(acme, "carol", "MEMBER").await;
    let dormant = app.create_org("Dormant", "dormant").await;
    let dormant_user = app.create_user(dormant, "dave", "ADMIN").await;
    let gone = app.create_org("Gone", "gone").await;
    let gone_user = app.create_user(gone, "erin", "ADMIN").await;

    let bearer = |id: i64| format!("Bearer {}", app.user_token(id));
    for id in [admin, deleted, inactive, dormant_user, gone_user] {
        assert_user("before", &call(&app, Some(&bearer(id)), PROBE).await, id);
    }

    let change = |query: &'static str, id: i64| {
        let app = &app;
        async move {
            app.ok(query, json!({ "id": id.to_string() }), p).await;
        }
    };
    change(
        "mutation($id: ID!) { softDeleteUser(input: {id: $id}) { id } }",
        deleted,
    )
    .await;
    change(
        "mutation($id: ID!) { updateUser(input: {id: $id, isActive: false}) { id } }",
        inactive,
    )
    .await;
    change(
        "mutation($id: ID!) { updateOrganization(input: {id: $id, isActive: false}) { id } }",
        dormant,
    )
    .await;
    change(
        "mutation($id: ID!) { softDeleteOrganization(input: {id: $id}) { id } }",
        gone,
    )
    .await;
    for (case, id) in [
        ("deleted user", deleted),
        ("inactive user", inactive),
        ("user of an inactive organization", dormant_user),
        ("user of a deleted organization", gone_user),
    ] {
        assert_rejected(case, &call(&app, Some(&bearer(id)), PROBE).await);
    }
    // Unaffected users keep working.
    assert_user("admin", &call(&app, Some(&bearer(admin)), PROBE).await, admin);

    change(
        "mutation($id: ID!) { restoreUser(input: {id: $id}) { id } }",
        deleted,
    )
    .await;
    change(
        "mutation($id: ID!) { updateUser(input: {id: $id, isActive: true}) { id } }",
        inactive,
    )
    .await;
    change(
        "mutation($id: ID!) { updateOrganization(input: {id: $id, isActive: true}) { id } }",
        dormant,
    )
    .await;
    change(
        "mutation($id: ID!) { restoreOrganization(input: {id: $id}) { id } }",
        gone,
    )
    .await;
    for id in [deleted, inactive, dormant_user, gone_user] {
        assert_user("restored", &call(&app, Some(&bearer(id)), PROBE).await, id);
    }

    // The role too: a demoted admin loses the audit log at once.
    let audit = "{ auditLogs { totalCount } }";
    let before = call(&app, Some(&bearer(admin)), audit).await;
    assert!(before.body.get("errors").is_none(), "{}", before.body);
    change(
        "mutation($id: ID!) { updateUser(input: {id: $id, role: MEMBER}) { id } }",
        admin,
    )
    .await;
    let after = call(&app, Some(&bearer(admin)), audit).await;
    assert_eq!(after.status, 200);
    assert_eq!(
        after.body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{}",
        after.body
    );
}

#[tokio::test]
async fn viewer_is_the_caller() {
    let app = TestApp::spawn().await;
    let acme = app.create_org("Acme", "acme").await;
    let globex = app.create_org("Globex", "globex").await;
    let alice = app.create_user(acme, "alice", "ADMIN").await;
    let bob = app.create_user(acme, "bob", "MEMBER").await;
    let carol = app.create_user(globex, "carol", "MEMBER").await;
    let q = "{ viewer { databaseId username email role organization { slug } } }";
    for (id, username, role, slug) in [
        (alice, "alice", "ADMIN", "acme"),
        (bob, "bob", "MEMBER", "acme"),
        (carol, "carol", "MEMBER", "globex"),
    ] {
        let data = app.ok(q, json!({}), Some(&app.user_token(id))).await;
        assert_eq!(
            data["viewer"],
            json!({
                "databaseId": id,
                "username": username,
                "email": format!("{username}@example.com"),
                "role": role,
                "organization": { "slug": slug },
            })
        );
    }
    // Anonymous callers and platform admins have no user.
    assert!(app.ok(q, json!({}), None).await["viewer"].is_null());
    let platform = app.ok(q, json!({}), Some(&app.platform_token())).await;
    assert!(platform["viewer"].is_null());
    // The platform admin's token is valid: it can do what only platform admins can.
    app.ok(
        r#"mutation { createOrganization(input: {name: "Initech", slug: "initech"}) { id } }"#,
        json!({}),
        Some(&app.platform_token()),
    )
    .await;
    // A token with a lowercase scheme and surrounding spaces is still the caller's.
    let reply = call(&app, Some(&format!("bearer  {} ", app.user_token(bob))), PROBE).await;
    assert_user("lowercase scheme", &reply, bob);
}

/// `blogql token` mints tokens the server accepts, from the configured secret.
#[tokio::test]
async fn the_token_command_mints_working_tokens() {
    let app = TestApp::spawn().await;
    let acme = app.create_org("Acme", "acme").await;
    let alice = app.create_user(acme, "alice", "MEMBER").await;
    let dir = tempfile::tempdir().unwrap();
    let mint = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_blogql"))
            .args(["--jwt-secret", SECRET, "--log", "error", "token"])
            .args(args)
            .current_dir(dir.path())
            .env_remove("BLOGQL_JWT_ISSUER")
            .env_remove("BLOGQL_JWT_AUDIENCE")
            .env_remove("BLOGQL_JWT_PUBLIC_KEY")
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    };

    let user_token = mint(&["--user", &alice.to_string()]);
    let claims = payload(&user_token);
    assert_eq!(claims["sub"], alice.to_string());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
    assert_user(
        "cli user token",
        &call(&app, Some(&format!("Bearer {user_token}")), PROBE).await,
        alice,
    );

    let admin_token = mint(&["--platform-admin", "--ttl", "5m"]);
    let claims = payload(&admin_token);
    assert_eq!(claims["role"], "platform_admin");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        300
    );
    let data = app
        .ok(
            r#"mutation { createOrganization(input: {name: "Initech", slug: "initech"}) { slug } }"#,
            json!({}),
            Some(&admin_token),
        )
        .await;
    assert_eq!(data["createOrganization"]["slug"], "initech");

    // Minted from another secret, the same command's token is refused.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_blogql"))
        .args([
            "--jwt-secret",
            "some-other-secret-0123456789",
            "--log",
            "error",
            "token",
            "--platform-admin",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let foreign = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    assert!(!foreign.is_empty());
    assert_rejected(
        "cli token from another secret",
        &call(&app, Some(&format!("Bearer {foreign}")), PROBE).await,
    );
}

/// Identity-provider shapes: an `aud` array (RFC 7519) and the user id in a custom claim
/// (`--jwt-user-claim`), as a string or a number.
#[tokio::test]
async fn provider_tokens_with_aud_arrays_and_custom_user_claims_work() {
    let app = TestApp::spawn_with(&[
        "--jwt-audience",
        "blogql",
        "--jwt-user-claim",
        "https://blogql/user_id",
    ])
    .await;
    let org = app.create_org("Acme", "acme").await;
    let user = app.create_user(org, "alice", "MEMBER").await;
    let probe = "{ viewer { databaseId } }";
    for id in [json!(user.to_string()), json!(user)] {
        let claims = json!({
            "sub": "auth0|abc123",
            "https://blogql/user_id": id,
            "aud": ["blogql", "https://tenant.example/userinfo"],
            "exp": now() + 600,
        });
        let reply = call(&app, Some(&format!("Bearer {}", hs256(&claims))), probe).await;
        assert_user("custom claim", &reply, user);
    }
    // The provider's own `sub` is not a blogql id, and another audience is refused.
    let wrong_claim = json!({ "sub": user.to_string(), "aud": "blogql", "exp": now() + 600 });
    assert_rejected(
        "no custom claim",
        &call(&app, Some(&format!("Bearer {}", hs256(&wrong_claim))), probe).await,
    );
    let wrong_aud = json!({ "https://blogql/user_id": user, "aud": ["other"], "exp": now() + 600 });
    assert_rejected(
        "other audience",
        &call(&app, Some(&format!("Bearer {}", hs256(&wrong_aud))), probe).await,
    );
}

/// RFC 7519 makes `sub` a string: a numeric `sub` is refused (never anonymous), while a
/// custom user claim may hold a number (see the test above).
#[tokio::test]
async fn a_numeric_sub_is_refused() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Acme", "acme").await;
    let user = app.create_user(org, "alice", "MEMBER").await;
    let probe = "{ viewer { databaseId } }";
    let numeric = json!({ "sub": user, "exp": now() + 600 });
    assert_rejected(
        "numeric sub",
        &call(&app, Some(&format!("Bearer {}", hs256(&numeric))), probe).await,
    );
    let string = json!({ "sub": user.to_string(), "exp": now() + 600 });
    assert_user(
        "string sub",
        &call(&app, Some(&format!("Bearer {}", hs256(&string))), probe).await,
        user,
    );
}
