//! The command line: subcommands and how a bad setting is reported. The settings
//! themselves are `config::Config`.
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::Config;

#[derive(Parser, Debug)]
#[command(name = "blogql", version, about = "Multi-tenant blog GraphQL API server")]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Run database migrations by hand.
    Migrate {
        #[arg(value_enum)]
        action: MigrateAction,
    },
    /// Print the GraphQL schema (SDL).
    PrintSchema,
    /// Write a consistent copy of the SQLite database to PATH while the server runs
    /// (`VACUUM INTO`). On PostgreSQL use `pg_dump`.
    Backup {
        /// Where the copy goes; must not exist yet.
        path: PathBuf,
    },
    /// Mint a token from the configured secret, for scripts and development.
    Token {
        /// The user's database id.
        #[arg(
            long,
            conflicts_with = "platform_admin",
            required_unless_present = "platform_admin"
        )]
        user: Option<i32>,
        /// A platform-admin token instead.
        #[arg(long)]
        platform_admin: bool,
        /// Lifetime, e.g. `30m`, `1h`, `7d`.
        #[arg(long, default_value = "1h", value_parser = parse_ttl)]
        ttl: chrono::Duration,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MigrateAction {
    /// Apply pending migrations.
    Up,
    /// Roll back the last migration.
    Down,
    /// List applied and pending migrations.
    Status,
}

fn parse_ttl(value: &str) -> Result<chrono::Duration, String> {
    let (number, unit) = value.split_at(value.trim_end_matches(char::is_alphabetic).len());
    let n: i64 = number
        .parse()
        .map_err(|_| format!("invalid duration `{value}`"))?;
    let seconds = match unit {
        "s" | "" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86400,
        _ => return Err(format!("invalid duration unit in `{value}` (use s, m, h or d)")),
    };
    if seconds <= 0 {
        return Err("the duration must be positive".into());
    }
    Ok(chrono::Duration::seconds(seconds))
}

impl Cli {
    /// Parses flags and environment; an invalid setting prints one line naming it and
    /// exits with status 2.
    pub fn parse_or_exit() -> Self {
        match Cli::try_parse() {
            Ok(cli) => cli,
            Err(e) => {
                use clap::error::ErrorKind::*;
                if matches!(
                    e.kind(),
                    DisplayHelp | DisplayVersion | DisplayHelpOnMissingArgumentOrSubcommand
                ) {
                    e.exit();
                }
                let rendered = e.to_string();
                let line = rendered.lines().next().unwrap_or("invalid configuration");
                eprintln!("blogql: {}", line.trim_start_matches("error: "));
                std::process::exit(2);
            }
        }
    }
}
