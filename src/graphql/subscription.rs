//! `Subscription.postEvents`: live post changes from the outbox (see `events`).
use async_graphql::{Context, Enum, ID, Object, Result, Subscription};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};

use super::{
    context::{db, viewer},
    ids::{self, Kind},
    post::Post,
};
use crate::{
    auth::Viewer,
    entity,
    error::{ApiError, ApiResult},
    events::{self, Delivery, Hub, Interest},
    service,
};

/// What happened to a post.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "entity::post_event::Kind")]
pub enum PostEventKind {
    /// The post was created (any status; a post created `PUBLISHED` also has a `PUBLISHED` event).
    Created,
    /// A field changed and the status stayed on the same side of `PUBLISHED`.
    Updated,
    /// The post became `PUBLISHED` (by a mutation or by the scheduler).
    Published,
    /// The post left `PUBLISHED` (draft, scheduled or archived again).
    Unpublished,
    /// The post was soft-deleted (itself, or in its author's or organization's cascade).
    Deleted,
    /// The post was restored.
    Restored,
}

/// One change of a post, as the subscriber may see it when it is delivered.
pub struct PostEvent(Delivery);

/// One change of a post, as the subscriber may see it when it is delivered.
#[Object]
impl PostEvent {
    /// Where this event is in the stream: pass it as `postEvents(after:)` to resume after it.
    async fn cursor(&self) -> String {
        encode_cursor(self.0.event.id)
    }
    /// What happened.
    async fn kind(&self) -> PostEventKind {
        self.0.event.kind.into()
    }
    /// The post's global id (also when `post` is null).
    async fn post_id(&self) -> ID {
        ids::encode(Kind::Post, self.0.event.post_id)
    }
    /// The post as the subscriber may read it when the event is delivered; null when it may
    /// not (deleted, or no longer public for anonymous subscribers).
    async fn post(&self) -> Option<Post> {
        self.0.post.as_deref().cloned().map(Post)
    }
    /// When the change was committed.
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.event.occurred_at
    }
}

/// Subscription cursors: `base64url("event:<id>")`, opaque to clients.
fn encode_cursor(id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("event:{id}"))
}

fn decode_cursor(cursor: &str) -> ApiResult<i64> {
    URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix("event:")?.parse().ok())
        .filter(|id: &i64| *id > 0)
        .ok_or_else(|| ApiError::bad_input("after", "`after` is not a cursor of `postEvents`"))
}

#[derive(Default)]
pub struct SubscriptionRoot;

/// Live updates, over `graphql-transport-ws` on `/graphql/ws`.
#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// Changes of one organization's posts, in commit order: live, or first replaying the
    /// events after `after` (events are kept at least 24 hours). `organizationId` defaults
    /// to the caller's organization; anonymous callers must pass it and receive only
    /// events of posts that are or were public; a platform admin without it receives every
    /// organization's events. Each event is checked against the subscriber when it is
    /// delivered. Errors: `NOT_FOUND` (an organization the caller cannot read),
    /// `BAD_USER_INPUT` (`organizationId` missing for anonymous callers; `after` unknown,
    /// expired or of another organization), `RATE_LIMITED` (the subscriber fell too far
    /// behind: subscribe again with `after:` the last cursor).
    async fn post_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization whose posts to follow (default: the caller's).")]
        organization_id: Option<ID>,
        #[graphql(desc = "Resume after this event's `cursor`: its successors are replayed first.")]
        after: Option<String>,
    ) -> Result<impl Stream<Item = Result<PostEvent>> + use<>> {
        let (db, viewer) = (db(ctx)?, viewer(ctx)?);
        let hub = ctx
            .data::<Hub>()
            .map_err(|_| ApiError::Internal("subscriptions are not served here".into()))?;
        let organization = ids::decode_opt(organization_id.as_ref(), Kind::Organization, "organizationId")?;
        let interest = match (organization, viewer) {
            (Some(id), _) => {
                service::organization::by_id(db, viewer, id)
                    .await?
                    .ok_or_else(|| ApiError::not_found("Organization"))?;
                Interest::Organization(id)
            }
            (None, Viewer::Member(m)) => Interest::Organization(m.organization_id),
            (None, Viewer::PlatformAdmin { .. }) => Interest::All,
            (None, Viewer::Anonymous) => {
                return Err(ApiError::bad_input(
                    "organizationId",
                    "Anonymous subscribers must pass `organizationId`",
                )
                .into());
            }
        };
        let after = after.as_deref().map(decode_cursor).transpose()?;
        let deliveries = events::subscribe(hub, viewer, interest, after).await?;
        Ok(deliveries.map(|delivery| delivery.map(PostEvent).map_err(Into::into)))
    }
}
