//! Builds the application — database, migrations, keys, schema, router, listener — the
//! same way for `main` and for tests (which bind port 0).
use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use axum::Router;
use migration::{Migrator, MigratorTrait};
use sea_orm::DbErr;
use tokio::net::TcpListener;

use crate::{
    auth::jwt::{KeySource, Verifier},
    config::{Config, Environment},
    db::{self, Db, StatementCounter},
    graphql,
    http::{self, AppState},
};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// A setting is missing or invalid; the message names it.
    #[error("{0}")]
    Config(String),
    #[error("database: {0}")]
    Database(#[from] DbErr),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Where a development secret is kept: beside the SQLite file, or in the working
/// directory for other databases.
fn dev_secret_path(config: &Config) -> PathBuf {
    match config.sqlite_path() {
        Some(db) => {
            let mut name = db.into_os_string();
            name.push(".jwt-secret");
            PathBuf::from(name)
        }
        None => PathBuf::from(".blogql-dev.jwt-secret"),
    }
}

/// Reads the development secret, creating it (mode 0600) on first use.
fn dev_secret(config: &Config) -> Result<String, StartupError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;

    use rand::{Rng, distr::Alphanumeric};

    let path = dev_secret_path(config);
    if let Ok(secret) = std::fs::read_to_string(&path) {
        let secret = secret.trim().to_owned();
        if secret.len() >= 16 {
            return Ok(secret);
        }
    }
    let secret: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(48)
        .map(char::from)
        .collect();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)?;
    file.write_all(secret.as_bytes())?;
    Ok(secret)
}

/// The HS256 secret tokens are minted with: the configured one, or (outside production,
/// with no public key) the development secret. `Ok(None)` when none applies.
pub fn signing_secret(config: &Config) -> Result<Option<(String, bool)>, StartupError> {
    if let Some(secret) = &config.jwt_secret {
        return Ok(Some((secret.clone(), false)));
    }
    if config.jwt_public_key.is_some() {
        return Ok(None);
    }
    if config.env == Environment::Production {
        return Err(StartupError::Config(
            "BLOGQL_JWT_SECRET or BLOGQL_JWT_PUBLIC_KEY is required when BLOGQL_ENV=production".into(),
        ));
    }
    Ok(Some((dev_secret(config)?, true)))
}

fn verifier(config: &Config, secret: Option<&str>) -> Result<Verifier, StartupError> {
    if config.jwt_public_key.is_some() && config.jwt_secret.is_some() {
        return Err(StartupError::Config(
            "set one of BLOGQL_JWT_SECRET and BLOGQL_JWT_PUBLIC_KEY, not both".into(),
        ));
    }
    let source = match (&config.jwt_public_key, secret) {
        (Some(pem), _) => KeySource::PublicKeyPem(pem),
        (None, Some(secret)) => KeySource::Secret(secret),
        (None, None) => return Err(StartupError::Config("no JWT key configured".into())),
    };
    Verifier::new(
        source,
        config.jwt_issuer.as_deref(),
        config.jwt_audience.as_deref(),
        &config.jwt_user_claim,
    )
    .map_err(StartupError::Config)
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    pub addr: SocketAddr,
    pub db: Db,
    pub statements: StatementCounter,
    /// Set when the server made up its own secret (development): tokens from it work.
    pub dev_secret: Option<String>,
    /// The scheduler and the maintenance timer, stopped when the server stops (or an
    /// application that never ran is dropped).
    _background: Background,
}

/// How often SQLite's WAL is checkpointed (`Db::checkpoint`; nothing on PostgreSQL).
const CHECKPOINT_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);

/// Tasks that live as long as their `Application`.
struct Background(Vec<tokio::task::JoinHandle<()>>);

impl Drop for Background {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

impl Application {
    pub async fn build(config: &Config) -> Result<Self, StartupError> {
        let secret = signing_secret(config)?;
        let verifier = verifier(config, secret.as_ref().map(|(s, _)| s.as_str()))?;
        let mut database = db::connect_with(
            &config.database_url,
            config.db_max_connections(),
            config.log_sql,
            Some(std::time::Duration::from_secs(config.request_timeout_secs)),
            config.sqlite_memory(),
        )
        .await?;
        database
            .db
            .cache_accounts(std::time::Duration::from_secs(config.account_cache_secs));
        if !config.no_migrate {
            Migrator::up(database.db.conn(), None).await?;
        }
        let rate_limiter = http::rate_limit::RateLimiter::new(
            http::rate_limit::Quota::per_minute(config.rate_limit_per_minute),
            http::rate_limit::Quota::per_minute(config.rate_limit_anonymous_per_minute),
            config.redis_url.as_deref(),
            &config.redis_key_prefix,
        )
        .await
        .map_err(StartupError::Config)?;
        let options = graphql::Options::from_config(config);
        let persisted = match (config.apq.unwrap_or(true), config.redis_url.as_deref()) {
            (false, _) => None,
            (true, None) => Some(graphql::persisted::Store::memory()),
            (true, Some(url)) => Some(
                graphql::persisted::Store::redis(url, &config.redis_key_prefix)
                    .await
                    .map_err(StartupError::Config)?,
            ),
        };
        let trusted = match (&config.persisted_documents, config.trusted_documents) {
            (Some(path), policy) => {
                let manifest =
                    graphql::trusted::Manifest::load(path, policy).map_err(StartupError::Config)?;
                tracing::info!(
                    documents = manifest.len(),
                    ?policy,
                    "persisted-document manifest loaded"
                );
                Some(manifest)
            }
            (None, graphql::trusted::Policy::Only) => {
                return Err(StartupError::Config(
                    "BLOGQL_TRUSTED_DOCUMENTS=only needs a manifest in BLOGQL_PERSISTED_DOCUMENTS".into(),
                ));
            }
            (None, graphql::trusted::Policy::Allow) => None,
        };
        let (hub, event_tasks) = crate::events::Hub::start(
            &database.db,
            crate::events::Settings {
                buffer: config.subscription_buffer as usize,
                retention: std::time::Duration::from_secs(config.event_retention_hours * 3600),
            },
        );
        let schema = graphql::build(database.db.clone(), &options);
        let engine = graphql::execute::Engine {
            types: graphql::order::Types::of_sdl(&schema.sdl()),
            shape: graphql::limits::Shape::of_sdl(&schema.sdl()),
            introspection_schema: graphql::build_for_introspection(database.db.clone(), &options),
            validated_schema: graphql::build_validated(database.db.clone(), &options),
            schema,
            limits: options.limits,
            documents: Default::default(),
            persisted,
            trusted,
            db: database.db.clone(),
            verifier: Arc::new(verifier),
            loader_delay: std::time::Duration::from_millis(config.dataloader_delay_ms),
            timeout: std::time::Duration::from_secs(config.request_timeout_secs),
            hub,
        };
        let state = AppState {
            engine: Arc::new(engine),
            db: database.db.clone(),
            trusted_proxies: Arc::new(config.trusted_proxies.clone()),
            graphiql: config.graphiql_enabled(),
            production: config.is_production(),
            cors_origins: config.cors_origins.clone(),
            rate_limiter,
            ws: http::ws::Settings {
                init_timeout: std::time::Duration::from_secs(config.ws_init_timeout_secs),
                keepalive: std::time::Duration::from_secs(config.ws_keepalive_secs),
                max_operations: config.ws_max_subscriptions as usize,
                max_connections: config.ws_max_connections as usize,
            },
            ws_connections: Default::default(),
        };
        let listener = TcpListener::bind(config.listen).await?;
        // Started last: a build that fails above leaves no task behind.
        // SQLite's `PRAGMA optimize` now and every hour (and at shutdown, in `Db::close`).
        let maintained = database.db.clone();
        maintained.maintain().await;
        let maintenance = tokio::spawn(async move {
            let mut hourly = tokio::time::interval(std::time::Duration::from_secs(3600));
            hourly.tick().await;
            loop {
                hourly.tick().await;
                maintained.maintain().await;
            }
        });
        // SQLite's WAL checkpoints, beside the writer instead of inside its commits; every
        // 100 ms keeps the `-wal` file to what 100 ms of writes add (a few MB). PostgreSQL
        // has none to run.
        let checkpointed = database.db.clone();
        let checkpoints = (sea_orm::ConnectionTrait::get_database_backend(&checkpointed)
            == sea_orm::DbBackend::Sqlite)
            .then(|| {
                tokio::spawn(async move {
                    let mut tick = tokio::time::interval(CHECKPOINT_INTERVAL);
                    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    loop {
                        tick.tick().await;
                        if let Err(e) = checkpointed.checkpoint().await {
                            tracing::warn!(error = %e, "SQLite checkpoint failed");
                        }
                    }
                })
            });
        // Every instance publishes due SCHEDULED posts (each exactly once, see `scheduler`).
        let scheduled = database.db.clone();
        let interval = std::time::Duration::from_millis(config.scheduler_interval_ms);
        let scheduler = tokio::spawn(async move {
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match crate::service::scheduler::publish_due(&scheduled).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(published = n, "scheduler published due posts"),
                    Err(e) => tracing::warn!(error = ?e, "scheduler run failed"),
                }
            }
        });
        Ok(Application {
            addr: listener.local_addr()?,
            listener,
            router: http::router(state),
            db: database.db,
            statements: database.statements,
            dev_secret: secret.filter(|(_, dev)| *dev).map(|(s, _)| s),
            _background: Background(
                [maintenance, scheduler]
                    .into_iter()
                    .chain(checkpoints)
                    .chain(event_tasks)
                    .collect(),
            ),
        })
    }

    /// Serves until `shutdown` completes, then drains in-flight requests and closes the pool.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), StartupError> {
        let service = self.router.into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(self.listener, service)
            .with_graceful_shutdown(shutdown)
            .await?;
        drop(self._background);
        self.db.close().await?;
        Ok(())
    }
}

/// Completes on Ctrl-C or SIGTERM. The handlers are registered when this is called, not
/// when it is first awaited: called before start-up, it keeps a signal that arrives while
/// the migrations run (an orchestrator stopping a starting instance), and the server then
/// stops gracefully as soon as it serves instead of being killed by the default action.
pub fn shutdown_signal() -> impl Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let interrupt = signal(SignalKind::interrupt());
    let terminate = signal(SignalKind::terminate());
    async move {
        let wait = |signal: std::io::Result<tokio::signal::unix::Signal>| async move {
            match signal {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = wait(interrupt) => {},
            () = wait(terminate) => {},
        }
        tracing::info!("shutting down");
    }
}
