//! Request-scoped DataLoaders. Built per request with the viewer, so every batch goes
//! through the same tenant scope as a single read, and caching lasts one request.
mod by_id;

use async_graphql::dataloader::DataLoader;
use sea_orm::DatabaseConnection;

pub use self::by_id::ById;
use crate::{
    auth::Viewer,
    entity::{audit_log, organization, post, scope, user},
};

/// Loaders by primary key. Deleted rows are included: a visible child always has its
/// parent visible to the same viewer, an admin listing deleted children needs their
/// deleted parents, and `node` drops deleted rows itself.
pub struct Loaders {
    pub organization: DataLoader<ById<organization::Entity>>,
    pub user: DataLoader<ById<user::Entity>>,
    pub post: DataLoader<ById<post::Entity>>,
    pub audit_log: DataLoader<ById<audit_log::Entity>>,
}

impl Loaders {
    pub fn new(db: &DatabaseConnection, viewer: &Viewer) -> Self {
        let deleted = scope::Deleted::Include;
        Loaders {
            organization: loader(ById::new(
                db,
                scope::organizations(viewer, deleted),
                organization::Column::Id,
                |m: &organization::Model| m.id,
            )),
            user: loader(ById::new(
                db,
                scope::users(viewer, deleted),
                user::Column::Id,
                |m: &user::Model| m.id,
            )),
            post: loader(ById::new(
                db,
                scope::posts(viewer, deleted),
                post::Column::Id,
                |m: &post::Model| m.id,
            )),
            audit_log: loader(ById::new(
                db,
                scope::audit_logs(viewer),
                audit_log::Column::Id,
                |m: &audit_log::Model| m.id,
            )),
        }
    }
}

fn loader<E: sea_orm::EntityTrait>(by_id: ById<E>) -> DataLoader<ById<E>>
where
    E::Model: Clone + Send + Sync + 'static,
{
    DataLoader::new(by_id, tokio::spawn)
}
