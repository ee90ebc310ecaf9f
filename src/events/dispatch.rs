//! The instance's one reader of the outbox: on each wake it reads what is new, resolves
//! each event's post once per audience (not once per subscriber), and hands each
//! subscriber its share of the wave. A subscriber with more than its buffer's worth of
//! deliveries not yet taken is dropped and told so (`Subscriber::overflowed`); nobody else
//! waits for it, and what it holds is bounded.
use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
};

use sea_orm::{ColumnTrait, DbErr, QueryFilter};
use tokio::sync::{mpsc, oneshot};

use super::{Delivery, Interest, feed, feed::Positions, receives};
use crate::{
    auth::Viewer,
    db::Db,
    entity::{
        post, post_event,
        scope::{self, Deleted, PostAudience},
    },
};

pub(super) enum Command {
    Register(Subscriber, oneshot::Sender<()>),
    /// New events may be there: for these organizations (a PostgreSQL notification) or
    /// for any (a SQLite commit; a PostgreSQL listener back after an outage).
    Wake(Option<i32>),
}

pub(super) struct Subscriber {
    pub interest: Interest,
    pub viewer: Viewer,
    /// Waves of deliveries; `pending` counts the deliveries not yet taken.
    pub deliveries: mpsc::UnboundedSender<Vec<Delivery>>,
    pub pending: Arc<AtomicUsize>,
    pub buffer: usize,
    /// Set when the buffer overflowed and the subscriber was dropped.
    pub overflowed: Arc<AtomicBool>,
}

pub(super) async fn run(db: Db, mut commands: mpsc::UnboundedReceiver<Command>) {
    let mut reader = Reader {
        db,
        subscribers: Vec::new(),
        positions: None,
    };
    while let Some(first) = commands.recv().await {
        // Everything queued meanwhile joins this round: one read for many wakes.
        let mut dirty = Dirty::default();
        let mut next = Some(first);
        while let Some(command) = next {
            match command {
                Command::Register(subscriber, ready) => {
                    if let Err(e) = reader.register(subscriber, ready).await {
                        tracing::warn!(error = %e, "subscription could not start reading the outbox");
                    }
                }
                Command::Wake(Some(org)) => {
                    dirty.organizations.insert(org);
                }
                Command::Wake(None) => dirty.everything = true,
            }
            next = commands.try_recv().ok();
        }
        if let Err(e) = reader.read(dirty).await {
            tracing::warn!(error = %e, "reading the outbox failed; the next wake reads again");
        }
    }
}

#[derive(Default)]
struct Dirty {
    organizations: HashSet<i32>,
    everything: bool,
}

struct Reader {
    db: Db,
    subscribers: Vec<Subscriber>,
    /// `None` while nobody subscribes: an idle instance does not read the outbox.
    positions: Option<Positions>,
}

impl Reader {
    async fn register(&mut self, subscriber: Subscriber, ready: oneshot::Sender<()>) -> Result<(), DbErr> {
        self.subscribers.retain(|s| !s.deliveries.is_closed());
        if self.positions.is_none() {
            self.positions = Some(feed::positions(&self.db).await?);
        }
        self.subscribers.push(subscriber);
        let _ = ready.send(());
        Ok(())
    }

    async fn read(&mut self, mut dirty: Dirty) -> Result<(), DbErr> {
        self.subscribers.retain(|s| !s.deliveries.is_closed());
        if self.subscribers.is_empty() {
            self.positions = None;
        }
        loop {
            let Some(positions) = &mut self.positions else {
                return Ok(());
            };
            let events = match positions {
                Positions::Global(after) => {
                    if !dirty.everything && dirty.organizations.is_empty() {
                        return Ok(());
                    }
                    let events = feed::after_global(&self.db, *after).await?;
                    if let Some(last) = events.last() {
                        *after = last.id;
                    }
                    dirty = Dirty {
                        everything: events.len() as u64 == feed::PAGE,
                        ..Dirty::default()
                    };
                    events
                }
                Positions::PerOrganization(map) => {
                    if dirty.everything {
                        // After an outage: organizations created meanwhile start at 0.
                        for org in feed::organization_ids(&self.db).await? {
                            map.entry(org).or_insert(0);
                        }
                        dirty.organizations.extend(map.keys().copied());
                        dirty.everything = false;
                    }
                    if dirty.organizations.is_empty() {
                        return Ok(());
                    }
                    let wanted: Vec<(i32, i64)> = dirty
                        .organizations
                        .drain()
                        .map(|org| (org, map.get(&org).copied().unwrap_or(0)))
                        .collect();
                    let events = feed::after_each(&self.db, &wanted).await?;
                    let mut counts: HashMap<i32, u64> = HashMap::new();
                    for e in &events {
                        map.insert(e.organization_id, e.id);
                        *counts.entry(e.organization_id).or_default() += 1;
                    }
                    dirty.organizations = counts
                        .into_iter()
                        .filter(|(_, n)| *n == feed::PAGE)
                        .map(|(org, _)| org)
                        .collect();
                    events
                }
            };
            if events.is_empty() {
                return Ok(());
            }
            self.deliver(events).await?;
        }
    }

    /// One wave: each organization's events to the subscribers interested in it.
    async fn deliver(&mut self, events: Vec<post_event::Model>) -> Result<(), DbErr> {
        let events: Vec<Arc<post_event::Model>> = events.into_iter().map(Arc::new).collect();
        // The posts, read once per audience among the subscribers (the ids any of them
        // will receive), within the scope of one of them: the scope depends on the
        // audience only (`scope::post_audience`).
        let mut wanted: HashMap<PostAudience, (&Viewer, HashSet<i32>)> = HashMap::new();
        for subscriber in &self.subscribers {
            let audience = scope::post_audience(&subscriber.viewer);
            let (_, ids) = wanted
                .entry(audience)
                .or_insert_with(|| (&subscriber.viewer, HashSet::new()));
            ids.extend(
                events
                    .iter()
                    .filter(|e| subscriber.interest.covers(e.organization_id) && receives(audience, e))
                    .map(|e| e.post_id),
            );
        }
        let mut posts: HashMap<PostAudience, HashMap<i32, Arc<post::Model>>> = HashMap::new();
        for (audience, (viewer, ids)) in wanted {
            if ids.is_empty() {
                continue;
            }
            let rows = scope::posts(viewer, Deleted::Exclude)
                .filter(post::Column::Id.is_in(ids))
                .all(&self.db)
                .await?;
            posts.insert(audience, rows.into_iter().map(|p| (p.id, Arc::new(p))).collect());
        }
        self.subscribers.retain(|subscriber| {
            let audience = scope::post_audience(&subscriber.viewer);
            let readable = posts.get(&audience);
            let wave: Vec<Delivery> = events
                .iter()
                .filter(|e| subscriber.interest.covers(e.organization_id) && receives(audience, e))
                .map(|event| Delivery {
                    event: event.clone(),
                    post: readable.and_then(|p| p.get(&event.post_id)).cloned(),
                })
                .collect();
            if wave.is_empty() {
                return true;
            }
            let pending = subscriber.pending.fetch_add(wave.len(), Ordering::AcqRel) + wave.len();
            if pending > subscriber.buffer {
                subscriber.overflowed.store(true, Ordering::Release);
                metrics::counter!("blogql_subscription_overflows_total").increment(1);
                metrics::counter!("blogql_subscription_events_dropped_total").increment(wave.len() as u64);
                return false;
            }
            subscriber.deliveries.send(wave).is_ok()
        });
        Ok(())
    }
}
