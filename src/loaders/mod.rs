//! Request-scoped DataLoaders. Built per request with the viewer, so every batch goes
//! through the same tenant scope as a single read, and caching lasts one request.
mod by_id;
pub mod children;

use std::{sync::Arc, time::Duration};

use async_graphql::dataloader::DataLoader;
use sea_orm::DatabaseConnection;

pub use self::by_id::ById;
use self::children::{ChildCounts, ChildList, ChildPages};
use crate::{
    auth::Viewer,
    entity::{audit_log, organization, post, scope, user},
    graphql::{post::PostChildren, user::UserChildren},
};

/// Loaders by primary key (deleted rows included: a visible child always has its parent
/// visible to the same viewer, an admin listing deleted children needs their deleted
/// parents, and `node` drops deleted rows itself), and the nested lists.
pub struct Loaders {
    pub organization: DataLoader<ById<organization::Entity>>,
    pub user: DataLoader<ById<user::Entity>>,
    pub post: DataLoader<ById<post::Entity>>,
    pub audit_log: DataLoader<ById<audit_log::Entity>>,
    pub post_pages: DataLoader<ChildPages<PostChildren>>,
    pub post_counts: Arc<DataLoader<ChildCounts<PostChildren>>>,
    pub user_pages: DataLoader<ChildPages<UserChildren>>,
    pub user_counts: Arc<DataLoader<ChildCounts<UserChildren>>>,
}

impl Loaders {
    /// `delay` is how long a loader collects keys before it queries (see
    /// `BLOGQL_DATALOADER_DELAY_MS`).
    pub fn new(db: &DatabaseConnection, viewer: &Viewer, delay: Duration) -> Self {
        let deleted = scope::Deleted::Include;
        Loaders {
            organization: loader(
                ById::new(
                    db,
                    scope::organizations(viewer, deleted),
                    organization::Column::Id,
                    |m: &organization::Model| m.id,
                ),
                delay,
            ),
            user: loader(
                ById::new(
                    db,
                    scope::users(viewer, deleted),
                    user::Column::Id,
                    |m: &user::Model| m.id,
                ),
                delay,
            ),
            post: loader(
                ById::new(
                    db,
                    scope::posts(viewer, deleted),
                    post::Column::Id,
                    |m: &post::Model| m.id,
                ),
                delay,
            ),
            audit_log: loader(
                ById::new(
                    db,
                    scope::audit_logs(viewer),
                    audit_log::Column::Id,
                    |m: &audit_log::Model| m.id,
                ),
                delay,
            ),
            post_pages: pages(db, viewer, delay),
            post_counts: Arc::new(counts(db, viewer, delay)),
            user_pages: pages(db, viewer, delay),
            user_counts: Arc::new(counts(db, viewer, delay)),
        }
    }
}

/// `ById` remembers its batches itself, so the DataLoader does not cache.
fn loader<E: sea_orm::EntityTrait>(by_id: ById<E>, delay: Duration) -> DataLoader<ById<E>>
where
    E::Model: Clone + Send + Sync + 'static,
{
    DataLoader::new(by_id, tokio::spawn).delay(delay)
}

fn pages<L: ChildList>(
    db: &DatabaseConnection,
    viewer: &Viewer,
    delay: Duration,
) -> DataLoader<ChildPages<L>> {
    DataLoader::new(ChildPages::new(db, viewer), tokio::spawn).delay(delay)
}

fn counts<L: ChildList>(
    db: &DatabaseConnection,
    viewer: &Viewer,
    delay: Duration,
) -> DataLoader<ChildCounts<L>> {
    DataLoader::new(ChildCounts::new(db, viewer), tokio::spawn).delay(delay)
}
