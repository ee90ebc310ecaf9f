//! Configuration from flags, environment variables and `.env`. Defaults give a
//! zero-set-up development server on SQLite.
use std::{net::SocketAddr, path::PathBuf};

use clap::{Args, ValueEnum, builder::BoolishValueParser};
use ipnet::IpNet;

pub use crate::cli::{Cli, Command, MigrateAction};
use crate::graphql::trusted::Policy;

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Environment {
    #[default]
    Development,
    Production,
}

#[derive(Args, Debug, Clone)]
pub struct Config {
    /// Database URL: `sqlite://file.db` or `postgres://user@host/db`.
    #[arg(
        long,
        env = "DATABASE_URL",
        value_name = "DATABASE_URL",
        default_value = "sqlite://blogql.db",
        global = true
    )]
    pub database_url: String,

    /// Address to listen on.
    #[arg(
        long,
        global = true,
        env = "BLOGQL_LISTEN",
        value_name = "BLOGQL_LISTEN",
        default_value = "127.0.0.1:8000"
    )]
    pub listen: SocketAddr,

    /// Log filter (tracing `EnvFilter` syntax).
    #[arg(
        long,
        env = "BLOGQL_LOG",
        value_name = "BLOGQL_LOG",
        default_value = "info",
        global = true
    )]
    pub log: String,

    /// Log every SQL statement with its duration.
    #[arg(long, env = "BLOGQL_LOG_SQL", value_name = "BLOGQL_LOG_SQL", value_parser = BoolishValueParser::new(), global = true)]
    pub log_sql: bool,

    /// `production` refuses to start without a JWT key.
    #[arg(
        long,
        env = "BLOGQL_ENV",
        value_name = "BLOGQL_ENV",
        value_enum,
        default_value = "development",
        global = true
    )]
    pub env: Environment,

    /// HS256 secret for bearer tokens (at least 16 characters).
    #[arg(
        long,
        env = "BLOGQL_JWT_SECRET",
        value_name = "BLOGQL_JWT_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub jwt_secret: Option<String>,

    /// RS256/ES256 public key (PEM) for bearer tokens.
    #[arg(
        long,
        env = "BLOGQL_JWT_PUBLIC_KEY",
        value_name = "BLOGQL_JWT_PUBLIC_KEY",
        hide_env_values = true,
        global = true
    )]
    pub jwt_public_key: Option<String>,

    /// Required `iss` claim, when set.
    #[arg(
        long,
        env = "BLOGQL_JWT_ISSUER",
        value_name = "BLOGQL_JWT_ISSUER",
        global = true
    )]
    pub jwt_issuer: Option<String>,

    /// Required `aud` claim, when set.
    #[arg(
        long,
        env = "BLOGQL_JWT_AUDIENCE",
        value_name = "BLOGQL_JWT_AUDIENCE",
        global = true
    )]
    pub jwt_audience: Option<String>,

    /// The claim holding the user's database id (e.g. a custom claim of your identity
    /// provider).
    #[arg(
        long,
        global = true,
        env = "BLOGQL_JWT_USER_CLAIM",
        value_name = "BLOGQL_JWT_USER_CLAIM",
        default_value = "sub"
    )]
    pub jwt_user_claim: String,

    /// Proxies whose `X-Forwarded-For` is believed (comma-separated CIDRs).
    #[arg(
        long,
        global = true,
        env = "BLOGQL_TRUSTED_PROXIES",
        value_name = "BLOGQL_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<IpNet>,

    /// Database connections per instance [default: 10 on PostgreSQL; on SQLite 4 read
    /// connections, besides the one writer].
    #[arg(long, env = "BLOGQL_DB_MAX_CONNECTIONS", value_name = "BLOGQL_DB_MAX_CONNECTIONS", value_parser = clap::value_parser!(u32).range(1..=1000), global = true)]
    pub db_max_connections: Option<u32>,

    /// How long a DataLoader collects keys before it queries, in milliseconds. Larger
    /// values batch more reliably under CPU load, at that much latency per level.
    #[arg(long, env = "BLOGQL_DATALOADER_DELAY_MS", value_name = "BLOGQL_DATALOADER_DELAY_MS", default_value_t = 1, value_parser = clap::value_parser!(u64).range(0..=1000), global = true)]
    pub dataloader_delay_ms: u64,

    /// Deepest selection nesting a query may have.
    #[arg(
        long,
        global = true,
        env = "BLOGQL_MAX_DEPTH",
        value_name = "BLOGQL_MAX_DEPTH",
        default_value_t = 12
    )]
    pub max_depth: usize,

    /// Highest query cost; a connection costs its children times `first`/`last`.
    #[arg(
        long,
        global = true,
        env = "BLOGQL_MAX_COMPLEXITY",
        value_name = "BLOGQL_MAX_COMPLEXITY",
        default_value_t = 20_000
    )]
    pub max_complexity: usize,

    /// Most aliases in one document.
    #[arg(
        long,
        global = true,
        env = "BLOGQL_MAX_ALIASES",
        value_name = "BLOGQL_MAX_ALIASES",
        default_value_t = 30
    )]
    pub max_aliases: usize,

    /// Most root fields in one operation.
    #[arg(
        long,
        global = true,
        env = "BLOGQL_MAX_ROOT_FIELDS",
        value_name = "BLOGQL_MAX_ROOT_FIELDS",
        default_value_t = 20
    )]
    pub max_root_fields: usize,

    /// Most directives on one field.
    #[arg(
        long,
        global = true,
        env = "BLOGQL_MAX_DIRECTIVES",
        value_name = "BLOGQL_MAX_DIRECTIVES",
        default_value_t = 10
    )]
    pub max_directives: usize,

    /// Longest a request may run, in seconds; its database work is cancelled after.
    #[arg(long, env = "BLOGQL_REQUEST_TIMEOUT_SECS", value_name = "BLOGQL_REQUEST_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600), global = true)]
    pub request_timeout_secs: u64,

    /// How long, in seconds, an instance on PostgreSQL keeps the account behind a user's
    /// token instead of reading it for every request (0: read it every time). A change of
    /// role, `isActive` or deletion reaches every instance's cache through `NOTIFY`; the
    /// cache is off while an instance's listener is disconnected, and on SQLite.
    #[arg(long, env = "BLOGQL_ACCOUNT_CACHE_SECS", value_name = "BLOGQL_ACCOUNT_CACHE_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(0..=3600), global = true)]
    pub account_cache_secs: u64,

    /// Serve introspection (default: on, off when BLOGQL_ENV=production).
    #[arg(long, env = "BLOGQL_INTROSPECTION", value_name = "BLOGQL_INTROSPECTION", value_parser = BoolishValueParser::new(), global = true)]
    pub introspection: Option<bool>,

    /// Apollo automatic persisted queries (default: on). The store is in-process, or Redis
    /// with BLOGQL_REDIS_URL (shared by every instance).
    #[arg(long, env = "BLOGQL_APQ", value_name = "BLOGQL_APQ", value_parser = BoolishValueParser::new(), global = true)]
    pub apq: Option<bool>,

    /// A persisted-document manifest: Apollo's persisted-query-manifest.json or Relay's
    /// {"id": "text"} map. Clients then send `documentId` (or the APQ hash) for its documents.
    #[arg(
        long,
        env = "BLOGQL_PERSISTED_DOCUMENTS",
        value_name = "BLOGQL_PERSISTED_DOCUMENTS",
        global = true
    )]
    pub persisted_documents: Option<PathBuf>,

    /// `only`: run nothing but the manifest's documents; `allow` (default): any document.
    #[arg(long, env = "BLOGQL_TRUSTED_DOCUMENTS", value_name = "BLOGQL_TRUSTED_DOCUMENTS", value_enum, default_value_t = Policy::Allow, global = true)]
    pub trusted_documents: Policy,

    /// Serve GraphiQL on GET /graphql (default: on, off when BLOGQL_ENV=production).
    #[arg(long, env = "BLOGQL_GRAPHIQL", value_name = "BLOGQL_GRAPHIQL", value_parser = BoolishValueParser::new(), global = true)]
    pub graphiql: Option<bool>,

    /// Origins allowed by CORS (comma-separated); none by default.
    #[arg(
        long,
        global = true,
        env = "BLOGQL_CORS_ORIGINS",
        value_name = "BLOGQL_CORS_ORIGINS",
        value_delimiter = ','
    )]
    pub cors_origins: Vec<String>,

    /// Requests a signed-in caller may make per minute (token bucket; 0 disables).
    #[arg(
        long,
        global = true,
        env = "BLOGQL_RATE_LIMIT_PER_MINUTE",
        value_name = "BLOGQL_RATE_LIMIT_PER_MINUTE",
        default_value_t = 600
    )]
    pub rate_limit_per_minute: u32,

    /// Requests an anonymous client IP may make per minute (0 disables).
    #[arg(
        long,
        global = true,
        env = "BLOGQL_RATE_LIMIT_ANONYMOUS_PER_MINUTE",
        value_name = "BLOGQL_RATE_LIMIT_ANONYMOUS_PER_MINUTE",
        default_value_t = 120
    )]
    pub rate_limit_anonymous_per_minute: u32,

    /// Redis URL to share rate-limit buckets and persisted queries between instances
    /// (in-process without it).
    #[arg(
        long,
        env = "BLOGQL_REDIS_URL",
        value_name = "BLOGQL_REDIS_URL",
        global = true
    )]
    pub redis_url: Option<String>,

    /// Prefix of the rate-limit keys in Redis (separates deployments sharing one Redis).
    #[arg(
        long,
        global = true,
        env = "BLOGQL_REDIS_KEY_PREFIX",
        value_name = "BLOGQL_REDIS_KEY_PREFIX",
        default_value = "blogql:rl"
    )]
    pub redis_key_prefix: String,

    /// How often this instance publishes due SCHEDULED posts, in milliseconds.
    #[arg(long, env = "BLOGQL_SCHEDULER_INTERVAL_MS", value_name = "BLOGQL_SCHEDULER_INTERVAL_MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(10..=3_600_000), global = true)]
    pub scheduler_interval_ms: u64,

    /// Seconds a WebSocket client has to send `connection_init` (then closed with 4408).
    #[arg(long, env = "BLOGQL_WS_INIT_TIMEOUT_SECS", value_name = "BLOGQL_WS_INIT_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600), global = true)]
    pub ws_init_timeout_secs: u64,

    /// Seconds between the server's keep-alive `ping`s on an idle WebSocket.
    #[arg(long, env = "BLOGQL_WS_KEEPALIVE_SECS", value_name = "BLOGQL_WS_KEEPALIVE_SECS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=3600), global = true)]
    pub ws_keepalive_secs: u64,

    /// Operations one WebSocket connection may run at once.
    #[arg(long, env = "BLOGQL_WS_MAX_SUBSCRIPTIONS", value_name = "BLOGQL_WS_MAX_SUBSCRIPTIONS", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=10_000), global = true)]
    pub ws_max_subscriptions: u32,

    /// WebSocket connections one caller (a user, a platform admin, an anonymous IP) may
    /// keep open on this instance.
    #[arg(long, env = "BLOGQL_WS_MAX_CONNECTIONS", value_name = "BLOGQL_WS_MAX_CONNECTIONS", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=100_000), global = true)]
    pub ws_max_connections: u32,

    /// Events a subscriber may have waiting (not yet sent) before its subscription ends
    /// with `RATE_LIMITED`.
    #[arg(long, env = "BLOGQL_SUBSCRIPTION_BUFFER", value_name = "BLOGQL_SUBSCRIPTION_BUFFER", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=1_000_000), global = true)]
    pub subscription_buffer: u32,

    /// Hours post events are kept for `postEvents(after:)` replays.
    #[arg(long, env = "BLOGQL_EVENT_RETENTION_HOURS", value_name = "BLOGQL_EVENT_RETENTION_HOURS", default_value_t = 24, value_parser = clap::value_parser!(u64).range(1..=8760), global = true)]
    pub event_retention_hours: u64,

    /// SQLite page cache per connection, in KiB (the pool keeps one per connection).
    #[arg(long, env = "BLOGQL_SQLITE_CACHE_KIB", value_name = "BLOGQL_SQLITE_CACHE_KIB", default_value_t = 2048, value_parser = clap::value_parser!(u32).range(64..=1_048_576), global = true)]
    pub sqlite_cache_kib: u32,

    /// SQLite page cache of the single writer connection, in KiB. It stays warm (no other
    /// connection writes), so the pages of each write, FTS5's merges included, are read
    /// from memory.
    #[arg(long, env = "BLOGQL_SQLITE_WRITER_CACHE_KIB", value_name = "BLOGQL_SQLITE_WRITER_CACHE_KIB", default_value_t = 8192, value_parser = clap::value_parser!(u32).range(64..=1_048_576), global = true)]
    pub sqlite_writer_cache_kib: u32,

    /// SQLite memory map per connection, in MiB (0: reads go through the page cache).
    #[arg(long, env = "BLOGQL_SQLITE_MMAP_MIB", value_name = "BLOGQL_SQLITE_MMAP_MIB", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=65_536), global = true)]
    pub sqlite_mmap_mib: u32,

    /// Do not run migrations at start-up.
    #[arg(long, env = "BLOGQL_NO_MIGRATE", value_parser = BoolishValueParser::new(), global = true)]
    pub no_migrate: bool,
}

impl Config {
    /// The SQLite database file, when the URL names one.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        let rest = self
            .database_url
            .strip_prefix("sqlite://")
            .or_else(|| self.database_url.strip_prefix("sqlite:"))?;
        let path = rest.split('?').next().unwrap_or(rest);
        (!path.is_empty() && !path.contains(":memory:")).then(|| PathBuf::from(path))
    }

    /// The pool size: as set, or the backend's default. SQLite's readers run on the
    /// server's own cores and each keeps a page cache: more of them than a small machine
    /// has cores add memory, not throughput.
    pub fn db_max_connections(&self) -> u32 {
        self.db_max_connections
            .unwrap_or(if self.database_url.starts_with("postgres") {
                10
            } else {
                4
            })
    }

    pub fn sqlite_memory(&self) -> crate::db::SqliteMemory {
        crate::db::SqliteMemory {
            cache_kib: self.sqlite_cache_kib,
            writer_cache_kib: self.sqlite_writer_cache_kib,
            background_checkpoints: true,
            mmap_mib: self.sqlite_mmap_mib,
        }
    }

    pub fn is_production(&self) -> bool {
        self.env == Environment::Production
    }

    pub fn introspection_enabled(&self) -> bool {
        self.introspection.unwrap_or(!self.is_production())
    }

    pub fn graphiql_enabled(&self) -> bool {
        self.graphiql.unwrap_or(!self.is_production())
    }
}
