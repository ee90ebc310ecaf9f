//! `TestApp`: the real server on an ephemeral port, on a fresh database of its own.
//!
//! The backend comes from `BLOGQL_TEST_DATABASE` (`sqlite`, the default, or `postgres`);
//! PostgreSQL tests create a uniquely named database on `BLOGQL_TEST_POSTGRES_URL`
//! (default `postgres://postgres@127.0.0.1:5432/postgres`) and drop it afterwards. An
//! unreachable PostgreSQL fails the test; it never skips it.
#![allow(dead_code)]

use std::time::Duration;

use blogql::{
    auth::jwt::{self, Subject},
    config::Cli,
    startup::Application,
};
use clap::Parser;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

pub const SECRET: &str = "test-secret-0123456789abcdef";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub fn backend() -> Backend {
    match std::env::var("BLOGQL_TEST_DATABASE").as_deref() {
        Ok("postgres") => Backend::Postgres,
        Ok("sqlite") | Err(_) => Backend::Sqlite,
        Ok(other) => panic!("BLOGQL_TEST_DATABASE must be sqlite or postgres, not {other}"),
    }
}

fn postgres_admin_url() -> String {
    std::env::var("BLOGQL_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// Replaces the database name of a PostgreSQL URL.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
    format!("{base}/{name}{query}")
}

pub struct TestApp {
    pub addr: std::net::SocketAddr,
    pub client: reqwest::Client,
    pub statements: blogql::db::StatementCounter,
    pub backend: Backend,
    /// The URL the test itself can use to reach the app's database directly.
    pub database_url: String,
    pg_database: Option<String>,
    _dir: Option<tempfile::TempDir>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(&[]).await
    }

    /// Spawns with extra command-line settings (e.g. `--trusted-proxies`).
    pub async fn spawn_with(extra: &[&str]) -> TestApp {
        Self::spawn_custom(extra, None).await
    }

    /// Spawns with the server reaching PostgreSQL through `127.0.0.1:proxy_port` (a
    /// fault-injecting proxy of the test's own); SQLite ignores it.
    pub async fn spawn_custom(extra: &[&str], proxy_port: Option<u16>) -> TestApp {
        let backend = backend();
        let (url, dir, pg_database) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                (url, Some(dir), None)
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let name = format!("blogql_test_{}", uuid::Uuid::new_v4().simple());
                let conn = Database::connect(&admin)
                    .await
                    .unwrap_or_else(|e| panic!("PostgreSQL unreachable at {admin}: {e}"));
                conn.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .unwrap();
                conn.close().await.unwrap();
                (with_database(&admin, &name), None, Some(name))
            }
        };
        let server_url = match proxy_port {
            Some(port) if backend == Backend::Postgres => {
                url.replacen("127.0.0.1:5432", &format!("127.0.0.1:{port}"), 1)
            }
            _ => url.clone(),
        };
        Self::launch(backend, url, server_url, dir, pg_database, extra).await
    }

    /// Another instance on `other`'s database (a second server behind the load balancer);
    /// the database stays `other`'s to clean up.
    pub async fn spawn_sharing(other: &TestApp, extra: &[&str]) -> TestApp {
        let url = other.database_url.clone();
        Self::launch(other.backend, url.clone(), url, None, None, extra).await
    }

    /// Spawns on an existing SQLite database (a backup, say), left in place afterwards.
    pub async fn spawn_on(sqlite_url: &str) -> TestApp {
        Self::launch(
            Backend::Sqlite,
            sqlite_url.to_owned(),
            sqlite_url.to_owned(),
            None,
            None,
            &[],
        )
        .await
    }

    async fn launch(
        backend: Backend,
        url: String,
        server_url: String,
        dir: Option<tempfile::TempDir>,
        pg_database: Option<String>,
        extra: &[&str],
    ) -> TestApp {
        let mut args = vec![
            "blogql",
            "--database-url",
            &server_url,
            "--listen",
            "127.0.0.1:0",
            "--jwt-secret",
            SECRET,
            "--db-max-connections",
            "5",
            "--log",
            "warn",
        ];
        // Tests send bursts from one address; rate limits are tested on their own.
        if !extra.iter().any(|a| a.starts_with("--rate-limit")) {
            args.extend_from_slice(&[
                "--rate-limit-per-minute",
                "0",
                "--rate-limit-anonymous-per-minute",
                "0",
            ]);
        }
        // Statement counts are per server: the scheduler runs only where a test asks for it.
        if !extra.iter().any(|a| a.starts_with("--scheduler")) {
            args.extend_from_slice(&["--scheduler-interval-ms", "3600000"]);
        }
        args.extend_from_slice(extra);
        let cli = Cli::try_parse_from(args).unwrap();
        let app = Application::build(&cli.config).await.unwrap();
        let addr = app.addr;
        let statements = app.statements.clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run(async {
            let _ = rx.await;
        }));
        TestApp {
            addr,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
            statements,
            backend,
            database_url: url,
            pg_database,
            _dir: dir,
            shutdown: Some(tx),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The URL of this app's own database, for tests that must act on it directly.
    pub fn database_url(&self) -> String {
        match (&self._dir, &self.pg_database) {
            (Some(dir), _) => format!("sqlite://{}", dir.path().join("test.db").display()),
            (None, Some(name)) => with_database(&postgres_admin_url(), name),
            (None, None) => self.database_url.clone(),
        }
    }

    pub fn platform_token(&self) -> String {
        jwt::mint(
            SECRET,
            &Subject::PlatformAdmin("tests".into()),
            chrono::Duration::hours(1),
            None,
            None,
        )
        .unwrap()
    }

    pub fn user_token(&self, id: i64) -> String {
        jwt::mint(
            SECRET,
            &Subject::User(id as i32),
            chrono::Duration::hours(1),
            None,
            None,
        )
        .unwrap()
    }

    /// POSTs a GraphQL request and returns the whole response body.
    pub async fn gql(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        self.gql_with(query, variables, token, &[]).await
    }

    pub async fn gql_with(
        &self,
        query: &str,
        variables: Value,
        token: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Value {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        response.json().await.unwrap()
    }

    /// Runs a request that must succeed; returns `data`.
    pub async fn ok(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        let body = self.gql(query, variables, token).await;
        assert!(
            body.get("errors").is_none(),
            "unexpected errors: {body:#}\nquery: {query}"
        );
        body["data"].clone()
    }

    /// Runs a request that must fail; returns the first error's `extensions.code`.
    pub async fn err(&self, query: &str, variables: Value, token: Option<&str>) -> (String, Value) {
        let body = self.gql(query, variables, token).await;
        let error = body["errors"][0].clone();
        assert!(!error.is_null(), "expected an error: {body:#}\nquery: {query}");
        (
            error["extensions"]["code"].as_str().unwrap_or("").to_owned(),
            error,
        )
    }

    pub fn statement_count(&self) -> u64 {
        self.statements.get()
    }

    // ---- fixtures -------------------------------------------------------------------

    pub async fn create_org(&self, name: &str, slug: &str) -> i64 {
        let data = self
            .ok(
                "mutation($i: CreateOrganizationInput!) { createOrganization(input: $i) { databaseId } }",
                json!({ "i": { "name": name, "slug": slug } }),
                Some(&self.platform_token()),
            )
            .await;
        data["createOrganization"]["databaseId"].as_i64().unwrap()
    }

    pub async fn create_user(&self, org: i64, username: &str, role: &str) -> i64 {
        let data = self
            .ok(
                "mutation($i: CreateUserInput!) { createUser(input: $i) { databaseId } }",
                json!({ "i": {
                    "username": username,
                    "email": format!("{username}@example.com"),
                    "organizationId": org.to_string(),
                    "role": role,
                } }),
                Some(&self.platform_token()),
            )
            .await;
        data["createUser"]["databaseId"].as_i64().unwrap()
    }

    pub async fn create_post(&self, author: i64, title: &str, status: &str) -> i64 {
        let data = self
            .ok(
                "mutation($i: CreatePostInput!) { createPost(input: $i) { databaseId } }",
                json!({ "i": { "title": title, "content": format!("{title} body"), "status": status, "authorId": author.to_string() } }),
                Some(&self.platform_token()),
            )
            .await;
        data["createPost"]["databaseId"].as_i64().unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(name) = self.pg_database.take() {
            let admin = postgres_admin_url();
            // Drop runs inside the test's runtime: clean up from a thread of its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    if let Ok(conn) = Database::connect(&admin).await {
                        let _ = conn
                            .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                            .await;
                        let _ = conn.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// The global (`node`) id of a record: base64 of `Type:id`.
pub fn global_id(kind: &str, id: i64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{kind}:{id}"))
}
