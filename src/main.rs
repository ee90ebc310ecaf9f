use std::{io::IsTerminal, process::ExitCode};

use blogql::{
    auth::jwt::{self, Subject},
    config::{Cli, Command, Config, Environment, MigrateAction},
    graphql,
    startup::{self, Application, StartupError},
};
use migration::{Migrator, MigratorTrait};
use tracing_subscriber::EnvFilter;

/// mimalloc instead of glibc malloc: a request allocates and frees many small objects
/// across worker threads, where glibc's malloc spent ~14% of the server's CPU (perf, bench/).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn init_tracing(config: &Config) {
    let filter = EnvFilter::try_new(&config.log).unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only on a terminal: a log file or collector gets plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if config.env == Environment::Production {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// No transparent huge pages for this process: mimalloc reserves 1 GiB arenas, and the
/// kernel backed the parts it touched with 2 MiB pages (`AnonHugePages`), so a small heap
/// cost whole huge pages of RSS: 17 MiB anonymous memory at idle, 5 MiB without.
#[cfg(target_os = "linux")]
fn small_pages() {
    // SAFETY: PR_SET_THP_DISABLE takes plain integer arguments and only sets a flag of
    // this process's memory map; its result is advisory (an older kernel may refuse).
    let _ = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
}

#[cfg(not(target_os = "linux"))]
fn small_pages() {}

fn main() -> ExitCode {
    small_pages();
    let _ = dotenvy::dotenv();
    let cli = Cli::parse_or_exit();
    if EnvFilter::try_new(&cli.config.log).is_err() {
        eprintln!("blogql: invalid value for BLOGQL_LOG: `{}`", cli.config.log);
        return ExitCode::from(2);
    }
    init_tracing(&cli.config);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("blogql: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(StartupError::Config(message)) => {
            eprintln!("blogql: {message}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("blogql: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), StartupError> {
    let config = cli.config;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&config).await,
        Command::PrintSchema => {
            print!("{}", graphql::sdl());
            Ok(())
        }
        Command::Backup { path } => {
            if !config.database_url.starts_with("sqlite") {
                return Err(StartupError::Config(
                    "backup copies SQLite databases; on PostgreSQL use pg_dump \
                     (e.g. `pg_dump -Fc -f blogql.dump \"$DATABASE_URL\"`, restore with pg_restore)"
                        .into(),
                ));
            }
            if path.exists() {
                return Err(StartupError::Config(format!("{} already exists", path.display())));
            }
            let target = path
                .to_str()
                .ok_or_else(|| StartupError::Config("the backup path must be UTF-8".into()))?;
            let database = blogql::db::connect(&config.database_url, 1, config.log_sql, None).await?;
            database.db.backup_sqlite(target).await?;
            database.db.conn().clone().close().await?;
            println!("blogql: backed up to {}", path.display());
            Ok(())
        }
        Command::Migrate { action } => {
            let database = blogql::db::connect(&config.database_url, 1, config.log_sql, None).await?;
            let db = database.db.conn();
            match action {
                MigrateAction::Up => Migrator::up(db, None).await?,
                MigrateAction::Down => Migrator::down(db, Some(1)).await?,
                MigrateAction::Status => Migrator::status(db).await?,
            }
            Ok(())
        }
        Command::Token {
            user,
            platform_admin,
            ttl,
        } => {
            let Some((secret, _)) = startup::signing_secret(&config)? else {
                return Err(StartupError::Config(
                    "minting tokens needs BLOGQL_JWT_SECRET (a public key can only verify)".into(),
                ));
            };
            let subject = match (user, platform_admin) {
                (Some(id), _) => Subject::User(id),
                (None, _) => Subject::PlatformAdmin("cli".into()),
            };
            let token = jwt::mint(
                &secret,
                &subject,
                ttl,
                config.jwt_issuer.as_deref(),
                config.jwt_audience.as_deref(),
            )
            .map_err(|e| StartupError::Config(format!("cannot mint a token: {e}")))?;
            println!("{token}");
            Ok(())
        }
    }
}

async fn serve(config: &Config) -> Result<(), StartupError> {
    let shutdown = startup::shutdown_signal();
    let app = Application::build(config).await?;
    tracing::info!(address = %app.addr, "blogql listening");
    println!("blogql: GraphiQL at http://{}/graphql", app.addr);
    if let Some(secret) = &app.dev_secret {
        let subject = Subject::PlatformAdmin("dev".into());
        let ttl = chrono::Duration::days(7);
        if let Ok(token) = jwt::mint(
            secret,
            &subject,
            ttl,
            config.jwt_issuer.as_deref(),
            config.jwt_audience.as_deref(),
        ) {
            println!("blogql: development platform-admin token (valid 7 days):\n\n{token}\n");
            println!("Paste into GraphiQL's Headers tab:\n\n{{\"Authorization\": \"Bearer {token}\"}}\n");
        }
    }
    app.run(shutdown).await
}
