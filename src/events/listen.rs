//! What wakes the reader: this process's commits; on PostgreSQL also a `LISTEN`
//! connection of its own (every instance hears every instance's `NOTIFY`, sent here for
//! this instance's commits) and a periodic sweep. The same connection hears account
//! changes (`db::accounts`): the account cache is on only while it is connected.
use std::time::Duration;

use sea_orm::sqlx::{
    self,
    postgres::{PgConnectOptions, PgListener, PgPoolOptions},
};
use tokio::sync::mpsc::UnboundedSender;

use sea_orm::{DbBackend, Statement};

use super::dispatch::Command;
use crate::{
    db::{
        Db,
        accounts::{self, AccountChange},
    },
    service::outbox::CHANNEL,
};

/// The listener's `application_name`, to find it in `pg_stat_activity`.
pub const APPLICATION_NAME: &str = "blogql-listener";

pub(super) async fn run(db: Db, commands: UnboundedSender<Command>) {
    match db.pg_options() {
        Some(options) => {
            tokio::select! {
                () = listen(&db, options.application_name(APPLICATION_NAME), commands.clone()) => {}
                () = notify(db.clone(), commands.clone()) => {}
                () = sweep(commands) => {}
            }
        }
        None => {
            let committed = db.committed().clone();
            loop {
                committed.next().await;
                if commands.send(Command::Wake(None)).is_err() {
                    return;
                }
            }
        }
    }
}

/// This instance's commits: its own reader wakes at once, and one `NOTIFY` per
/// organization goes out for everything committed since the last one (other instances),
/// outside the requests' transactions.
async fn notify(db: Db, commands: UnboundedSender<Command>) {
    let committed = db.committed().clone();
    loop {
        let organizations = committed.next().await;
        for org in &organizations {
            if commands.send(Command::Wake(Some(*org))).is_err() {
                return;
            }
        }
        if organizations.is_empty() {
            continue;
        }
        let payload = serde_json::Value::from(organizations).to_string();
        // Its own transaction, which need not wait for the WAL flush: a notification is
        // not data (the rows it announces are committed), and a lost one is swept up.
        let statement = Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "SELECT set_config('synchronous_commit', 'off', true), pg_notify('{CHANNEL}', value) \
                 FROM json_array_elements_text(CAST($1 AS json))"
            ),
            [payload.into()],
        );
        if let Err(e) = db.execute_uncounted(&statement).await {
            // Other instances catch up at their next sweep (or the next notification).
            tracing::warn!(error = %e, "NOTIFY of new post events failed");
        }
        // Commits meanwhile join the next batch: at most one NOTIFY per organization per
        // `NOTIFY_EVERY` (a notification's transaction takes PostgreSQL's notification lock).
        tokio::time::sleep(NOTIFY_EVERY).await;
    }
}

/// The least time between two batches of notifications: other instances hear of a commit
/// up to this much later (this instance's own subscribers do not wait).
const NOTIFY_EVERY: Duration = Duration::from_millis(5);

/// Every instance reads every organization's new rows now and then: what an instance
/// committed and could not announce (it stopped between its commit and its `NOTIFY`)
/// arrives within this interval.
const SWEEP: Duration = Duration::from_secs(10);

async fn sweep(commands: UnboundedSender<Command>) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + SWEEP, SWEEP);
    loop {
        tick.tick().await;
        if commands.send(Command::Wake(None)).is_err() {
            return;
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
    listener.listen_all([CHANNEL, accounts::CHANNEL]).await?;
    Ok(listener)
}

/// Turns the account cache off when the listener stops (its task ended or was aborted):
/// nobody hears changes any more.
struct Deaf<'a>(&'a Db);

impl Drop for Deaf<'_> {
    fn drop(&mut self) {
        self.0.accounts().forget_all(false);
    }
}

async fn listen(db: &Db, options: PgConnectOptions, commands: UnboundedSender<Command>) {
    let _deaf = Deaf(db);
    let mut backoff = Duration::from_millis(100);
    loop {
        // Changes are not heard until the listener is connected: no account is cached.
        db.accounts().forget_all(false);
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
        // Whatever committed while no listener was connected is read now; accounts cached
        // from now on hear their changes.
        db.accounts().forget_all(true);
        if commands.send(Command::Wake(None)).is_err() {
            return;
        }
        loop {
            let wake = match listener.try_recv().await {
                Ok(Some(notification)) if notification.channel() == accounts::CHANNEL => {
                    match AccountChange::parse(notification.payload()) {
                        Some(change) => db.accounts().forget(change),
                        None => db.accounts().forget_all(true),
                    }
                    continue;
                }
                Ok(Some(notification)) => Command::Wake(notification.payload().parse().ok()),
                // The connection was lost, and is back (listening again): read everything,
                // and forget every account (their changes meanwhile were not heard).
                Ok(None) => {
                    db.accounts().forget_all(true);
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
