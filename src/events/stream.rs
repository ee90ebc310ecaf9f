//! One subscriber's stream: the replay after its cursor, then the live deliveries, with
//! no gap and no duplicate between the two.
use std::{
    collections::{HashMap, VecDeque},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
};

use futures_util::stream::{self, BoxStream};
use sea_orm::{ColumnTrait, QueryFilter};
use tokio::sync::{mpsc, oneshot};

use super::{
    Delivery, Hub, Interest,
    dispatch::{Command, Subscriber},
    feed, receives,
};
use crate::{
    auth::Viewer,
    db::Db,
    entity::{
        post, post_event,
        scope::{self, Deleted},
    },
    error::{ApiError, ApiResult},
};

/// The deliveries of one subscription, ending with an error when it fell too far behind.
pub type Subscription = BoxStream<'static, ApiResult<Delivery>>;

fn unknown_cursor() -> ApiError {
    ApiError::bad_input(
        "after",
        "This cursor is unknown or expired (events are kept for a limited time); subscribe without `after`",
    )
}

/// Starts a subscription for `viewer` (whose right to `interest` the caller checked):
/// live from now, or replaying from the event after `after` first.
pub async fn subscribe(
    hub: &Hub,
    viewer: &Viewer,
    interest: Interest,
    after: Option<i64>,
) -> ApiResult<Subscription> {
    // A cursor names an event of the subscription's organization that is still kept; a
    // foreign one reads like an expired one.
    let floor = match after {
        None => None,
        Some(id) => match (feed::organization_of(&hub.db, id).await?, interest) {
            (None, _) => return Err(unknown_cursor()),
            (Some(org), Interest::Organization(wanted)) if org != wanted => return Err(unknown_cursor()),
            (Some(org), _) => Some((org, id)),
        },
    };
    // Registered before the replay reads: whatever commits from now on is in the buffer.
    let (deliveries, receiver) = mpsc::unbounded_channel();
    let overflowed = Arc::new(AtomicBool::new(false));
    let pending = Arc::new(AtomicUsize::new(0));
    let (ready, registered) = oneshot::channel();
    let subscriber = Subscriber {
        interest,
        viewer: viewer.clone(),
        deliveries,
        pending: pending.clone(),
        buffer: hub.settings.buffer,
        overflowed: overflowed.clone(),
    };
    hub.commands
        .send(Command::Register(subscriber, ready))
        .map_err(|_| ApiError::Internal("the events reader has stopped".into()))?;
    registered
        .await
        .map_err(|_| ApiError::Internal("the events reader could not register the subscription".into()))?;
    let state = State {
        db: hub.db.clone(),
        viewer: viewer.clone(),
        interest,
        replay: after,
        replayed: HashMap::new(),
        floor,
        queue: VecDeque::new(),
        receiver,
        pending,
        overflowed,
        buffer: hub.settings.buffer,
        done: false,
        _open: Open::new(),
    };
    Ok(Box::pin(stream::unfold(state, next)))
}

struct State {
    db: Db,
    viewer: Viewer,
    interest: Interest,
    /// The cursor the replay has reached; `None` once it has caught up.
    replay: Option<i64>,
    /// The last replayed id per organization: live deliveries up to it were replayed.
    replayed: HashMap<i32, i64>,
    /// The cursor's own event: live deliveries of its organization up to it are old.
    floor: Option<(i32, i64)>,
    /// Deliveries ready to go out (a page of the replay, or one live wave).
    queue: VecDeque<Delivery>,
    receiver: mpsc::UnboundedReceiver<Vec<Delivery>>,
    /// Live deliveries handed over and not yet taken (the dispatcher's overflow count).
    pending: Arc<AtomicUsize>,
    overflowed: Arc<AtomicBool>,
    buffer: usize,
    done: bool,
    _open: Open,
}

impl State {
    fn seen(&self, event: &post_event::Model) -> bool {
        let org = event.organization_id;
        self.replayed.get(&org).is_some_and(|last| event.id <= *last)
            || self
                .floor
                .is_some_and(|(floor_org, id)| floor_org == org && event.id <= id)
    }

    /// Reads the next page of the replay into `queue`, posts resolved in one read.
    async fn replay_page(&mut self, after: i64) -> ApiResult<()> {
        let organization = match self.interest {
            Interest::Organization(id) => Some(id),
            Interest::All => None,
        };
        let page = feed::replay(&self.db, organization, after).await?;
        self.replay = (page.len() as u64 == feed::PAGE)
            .then(|| page.last().map(|e| e.id))
            .flatten();
        let audience = scope::post_audience(&self.viewer);
        let events: Vec<_> = page.into_iter().filter(|e| receives(audience, e)).collect();
        for e in &events {
            self.replayed.insert(e.organization_id, e.id);
        }
        let ids: Vec<i32> = events.iter().map(|e| e.post_id).collect();
        let posts: HashMap<i32, Arc<post::Model>> = if ids.is_empty() {
            HashMap::new()
        } else {
            scope::posts(&self.viewer, Deleted::Exclude)
                .filter(post::Column::Id.is_in(ids))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|p| (p.id, Arc::new(p)))
                .collect()
        };
        self.queue.extend(events.into_iter().map(|e| Delivery {
            post: posts.get(&e.post_id).cloned(),
            event: Arc::new(e),
        }));
        Ok(())
    }
}

async fn next(mut state: State) -> Option<(ApiResult<Delivery>, State)> {
    loop {
        if let Some(delivery) = state.queue.pop_front() {
            return Some((Ok(delivery), state));
        }
        if state.done {
            return None;
        }
        if let Some(after) = state.replay {
            if let Err(e) = state.replay_page(after).await {
                state.done = true;
                return Some((Err(e), state));
            }
            continue;
        }
        match state.receiver.recv().await {
            Some(wave) => {
                state.pending.fetch_sub(wave.len(), Ordering::AcqRel);
                let now = chrono::Utc::now();
                for delivery in wave {
                    if state.seen(&delivery.event) {
                        continue;
                    }
                    let lag = now - delivery.event.occurred_at;
                    metrics::histogram!("blogql_subscription_delivery_lag_seconds")
                        .record(lag.as_seconds_f64().max(0.0));
                    metrics::counter!("blogql_subscription_events_delivered_total").increment(1);
                    state.queue.push_back(delivery);
                }
            }
            None => {
                state.done = true;
                if state.overflowed.load(Ordering::Acquire) {
                    let error = ApiError::RateLimited(format!(
                        "This subscriber fell more than {} events behind and was dropped; \
                         subscribe again with `after:` the last cursor received",
                        state.buffer
                    ));
                    return Some((Err(error), state));
                }
                return None;
            }
        }
    }
}

/// Counts the open subscriptions (`/metrics`).
struct Open;

impl Open {
    fn new() -> Self {
        metrics::gauge!("blogql_subscriptions").increment(1.0);
        Open
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        metrics::gauge!("blogql_subscriptions").decrement(1.0);
    }
}
