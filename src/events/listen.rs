//! What wakes the reader: on PostgreSQL a `LISTEN` connection of its own (every
//! instance hears every commit's `NOTIFY`), on SQLite the commits of this process.
use std::time::Duration;

use sea_orm::sqlx::{
    self,
    postgres::{PgConnectOptions, PgListener, PgPoolOptions},
};
use tokio::sync::mpsc::UnboundedSender;

use super::dispatch::Command;
use crate::{db::Db, service::outbox::CHANNEL};

/// The listener's `application_name`, to find it in `pg_stat_activity`.
pub const APPLICATION_NAME: &str = "blogql-listener";

pub(super) async fn run(db: Db, commands: UnboundedSender<Command>) {
    match db.pg_options() {
        Some(options) => listen(options.application_name(APPLICATION_NAME), commands).await,
        None => {
            let committed = db.committed().clone();
            loop {
                committed.notified().await;
                if commands.send(Command::Wake(None)).is_err() {
                    return;
                }
            }
        }
    }
}

async fn connect(options: &PgConnectOptions) -> Result<PgListener, sqlx::Error> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(3))
        .connect_with(options.clone())
        .await?;
    let mut listener = PgListener::connect_with(&pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

async fn listen(options: PgConnectOptions, commands: UnboundedSender<Command>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let mut listener = match connect(&options).await {
            Ok(listener) => listener,
            Err(e) => {
                tracing::warn!(error = %e, "outbox listener cannot connect; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        backoff = Duration::from_millis(100);
        // Whatever committed while no listener was connected is read now.
        if commands.send(Command::Wake(None)).is_err() {
            return;
        }
        loop {
            let wake = match listener.try_recv().await {
                Ok(Some(notification)) => Command::Wake(notification.payload().parse().ok()),
                // The connection was lost, and is back (listening again): read everything.
                Ok(None) => {
                    tracing::info!("outbox listener reconnected");
                    metrics::counter!("blogql_outbox_listener_reconnects_total").increment(1);
                    Command::Wake(None)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "outbox listener lost its connection");
                    metrics::counter!("blogql_outbox_listener_reconnects_total").increment(1);
                    break;
                }
            };
            if commands.send(wake).is_err() {
                return;
            }
        }
    }
}
