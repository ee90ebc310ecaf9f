use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::Loader;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Select};

/// Rows of one entity by id, batched into one `WHERE id IN (…)` within a scope.
pub struct ById<E: EntityTrait> {
    db: DatabaseConnection,
    scope: Select<E>,
    id: E::Column,
    id_of: fn(&E::Model) -> i32,
}

impl<E: EntityTrait> ById<E> {
    /// `scope` is the viewer's scoped query (from `entity::scope`).
    pub fn new(
        db: &DatabaseConnection,
        scope: Select<E>,
        id: E::Column,
        id_of: fn(&E::Model) -> i32,
    ) -> Self {
        ById {
            db: db.clone(),
            scope,
            id,
            id_of,
        }
    }
}

impl<E> Loader<i32> for ById<E>
where
    E: EntityTrait,
    E::Model: Clone + Send + Sync + 'static,
{
    type Value = E::Model;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        let rows = self
            .scope
            .clone()
            .filter(self.id.is_in(keys.iter().copied()))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|row| ((self.id_of)(&row), row)).collect())
    }
}
