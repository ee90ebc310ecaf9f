//! Request-scoped DataLoaders. Built per request with the viewer, so every batch goes
//! through the same tenant scope as a single read, and caching lasts one request.
mod by_id;
pub mod children;

use std::{
    sync::{Arc, atomic::AtomicU64},
    time::Duration,
};

use async_graphql::dataloader::DataLoader;
use futures_util::future::BoxFuture;
use sea_orm::DatabaseConnection;

pub use self::by_id::ById;
use self::children::{ChildCounts, ChildPages};
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

/// How a request's loaders are made: how long they collect keys (see
/// `BLOGQL_DATALOADER_DELAY_MS`) and which statement counter their tasks report to.
struct Factory {
    delay: Duration,
    statements: Arc<AtomicU64>,
}

impl Factory {
    /// `ById` remembers its batches itself, so no DataLoader caches.
    fn make<L: Send + Sync + 'static>(&self, loader: L) -> DataLoader<L> {
        let statements = self.statements.clone();
        let spawn = move |batch: BoxFuture<'static, ()>| {
            tokio::spawn(crate::db::REQUEST_STATEMENTS.scope(statements.clone(), batch));
        };
        DataLoader::new(loader, spawn).delay(self.delay)
    }
}

impl Loaders {
    pub fn new(
        db: &DatabaseConnection,
        viewer: &Viewer,
        delay: Duration,
        statements: Arc<AtomicU64>,
    ) -> Self {
        let f = Factory { delay, statements };
        let deleted = scope::Deleted::Include;
        Loaders {
            organization: f.make(ById::new(
                db,
                scope::organizations(viewer, deleted),
                organization::Column::Id,
                |m: &organization::Model| m.id,
            )),
            user: f.make(ById::new(
                db,
                scope::users(viewer, deleted),
                user::Column::Id,
                |m: &user::Model| m.id,
            )),
            post: f.make(ById::new(
                db,
                scope::posts(viewer, deleted),
                post::Column::Id,
                |m: &post::Model| m.id,
            )),
            audit_log: f.make(ById::new(
                db,
                scope::audit_logs(viewer),
                audit_log::Column::Id,
                |m: &audit_log::Model| m.id,
            )),
            post_pages: f.make(ChildPages::new(db, viewer)),
            post_counts: Arc::new(f.make(ChildCounts::new(db, viewer))),
            user_pages: f.make(ChildPages::new(db, viewer)),
            user_counts: Arc::new(f.make(ChildCounts::new(db, viewer))),
        }
    }
}
