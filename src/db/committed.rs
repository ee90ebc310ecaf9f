//! The organizations whose outbox rows committed transactions wrote, for the events reader.

/// Organizations with newly committed outbox rows, and a wake-up for whoever drains them.
#[derive(Default)]
pub struct Committed {
    organizations: std::sync::Mutex<std::collections::HashSet<i32>>,
    ready: tokio::sync::Notify,
}

impl Committed {
    pub(super) fn add(&self, organizations: Vec<i32>) {
        if let Ok(mut set) = self.organizations.lock() {
            set.extend(organizations);
        }
        // A permit is kept when nobody waits: no wake-up is lost.
        self.ready.notify_one();
    }

    /// Waits for commits, then takes the organizations they name (possibly none, on
    /// SQLite, where any commit means "read on").
    pub async fn next(&self) -> Vec<i32> {
        self.ready.notified().await;
        self.organizations
            .lock()
            .map(|mut set| set.drain().collect())
            .unwrap_or_default()
    }
}
