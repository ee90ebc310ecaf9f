//! Live post events: the outbox (`service::outbox` writes it) read by one task per
//! instance and fanned out to that instance's subscribers.
//!
//! Wakes come from PostgreSQL `NOTIFY` (every instance hears every commit; after the
//! listener's connection is lost it reads every organization's new rows, so nothing is
//! lost while it was down) or, on SQLite, from the commit itself.
mod dispatch;
pub mod feed;
mod listen;
mod stream;

use std::{sync::Arc, time::Duration};

use tokio::sync::mpsc;

pub use self::stream::{Subscription, subscribe};
use crate::{
    db::Db,
    entity::{post, post_event, scope::PostAudience},
};

/// An event for one subscriber, with the post as that subscriber may read it now.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub event: Arc<post_event::Model>,
    /// `None` when the subscriber may no longer read the post (deleted, unpublished).
    pub post: Option<Arc<post::Model>>,
}

/// Which organizations' events a subscription wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interest {
    Organization(i32),
    /// Every organization (platform admins).
    All,
}

impl Interest {
    fn covers(self, organization_id: i32) -> bool {
        match self {
            Interest::Organization(id) => id == organization_id,
            Interest::All => true,
        }
    }
}

/// Whether a reader of `audience` receives `event`: its organization's readers get every
/// event, anyone else only the events of posts that are or were public.
fn receives(audience: PostAudience, event: &post_event::Model) -> bool {
    match audience {
        PostAudience::Everyone => true,
        PostAudience::Organization(id) => id == event.organization_id || event.public,
        PostAudience::Public => event.public,
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// Deliveries a subscriber may fall behind before its subscription ends.
    pub buffer: usize,
    /// How long events are kept for `after:` replays.
    pub retention: Duration,
}

/// The instance's subscriptions: `subscribe` registers one; the reader task feeds them.
#[derive(Clone)]
pub struct Hub {
    db: Db,
    commands: mpsc::UnboundedSender<dispatch::Command>,
    settings: Settings,
}

/// Events older than the retention are deleted this many at a time.
const PRUNE_BATCH: u64 = 1000;

impl Hub {
    /// Starts the reader and its wake source; both stop when the returned tasks are
    /// aborted (`startup::Background`).
    pub fn start(db: &Db, settings: Settings) -> (Hub, Vec<tokio::task::JoinHandle<()>>) {
        let (commands, receiver) = mpsc::unbounded_channel();
        let reader = tokio::spawn(dispatch::run(db.clone(), receiver));
        let wakes = tokio::spawn(listen::run(db.clone(), commands.clone()));
        let hub = Hub {
            db: db.clone(),
            commands,
            settings,
        };
        let pruned = hub.clone();
        let pruning = tokio::spawn(async move {
            // The first run one interval after start: a server starting is not the moment.
            let every = Duration::from_secs(300);
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            loop {
                tick.tick().await;
                pruned.prune().await;
            }
        });
        (hub, vec![reader, wakes, pruning])
    }

    /// Deletes the events past the retention.
    pub async fn prune(&self) {
        let Ok(retention) = chrono::Duration::from_std(self.settings.retention) else {
            return;
        };
        let before = chrono::Utc::now() - retention;
        match feed::prune(&self.db, before, PRUNE_BATCH).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "pruned post events past the retention"),
            Err(e) => tracing::warn!(error = %e, "pruning post events failed"),
        }
    }
}
