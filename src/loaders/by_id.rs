use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use async_graphql::dataloader::Loader;
use futures_util::{
    FutureExt,
    future::{BoxFuture, Shared},
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Select};

use crate::{db::Db, error::ApiError, query::any_of};

type Batch<M> = Shared<BoxFuture<'static, Result<Arc<HashMap<i32, M>>, Arc<ApiError>>>>;

/// Rows of one entity by id, batched into one `WHERE id IN (…)` within a scope (one
/// array parameter, `query::any_of`).
///
/// It remembers every batch of the request, finished or still running: `post {
/// organization }` and `post { author { organization } }` ask for the same rows at two
/// levels, and the second ask joins the first batch instead of running another query,
/// whichever finishes first. This makes the statement count a function of the request's
/// shape, not of timing.
pub struct ById<E: EntityTrait> {
    db: Db,
    scope: Select<E>,
    id: E::Column,
    id_of: fn(&E::Model) -> i32,
    batches: Mutex<HashMap<i32, Batch<E::Model>>>,
}

impl<E: EntityTrait> ById<E> {
    /// `scope` is the viewer's scoped query (from `entity::scope`).
    pub fn new(db: &Db, scope: Select<E>, id: E::Column, id_of: fn(&E::Model) -> i32) -> Self {
        ById {
            db: db.clone(),
            scope,
            id,
            id_of,
            batches: Mutex::default(),
        }
    }
}

impl<E> ById<E>
where
    E: EntityTrait,
    E::Model: Clone + Send + Sync + 'static,
{
    /// Rows already read within this loader's scope (a list joined with them): later
    /// loads of their ids use them instead of querying.
    pub fn prime(&self, rows: impl IntoIterator<Item = E::Model>) {
        let Ok(mut batches) = self.batches.lock() else {
            return;
        };
        let rows: HashMap<i32, E::Model> = rows
            .into_iter()
            .map(|row| ((self.id_of)(&row), row))
            .filter(|(id, _)| !batches.contains_key(id))
            .collect();
        if rows.is_empty() {
            return;
        }
        let ids: Vec<i32> = rows.keys().copied().collect();
        let batch: Batch<E::Model> = futures_util::future::ready(Ok(Arc::new(rows))).boxed().shared();
        // Polled once, so `ready` can read it without waiting.
        let _ = batch.clone().now_or_never();
        for id in ids {
            batches.insert(id, batch.clone());
        }
    }

    /// The row of `id` if a finished batch holds it: no need to go through the
    /// DataLoader's delay and task.
    pub fn ready(&self, id: i32) -> Option<E::Model> {
        let batches = self.batches.lock().ok()?;
        match batches.get(&id)?.peek()? {
            Ok(rows) => rows.get(&id).cloned(),
            Err(_) => None,
        }
    }
}

impl<E> Loader<i32> for ById<E>
where
    E: EntityTrait,
    E::Model: Clone + Send + Sync + 'static,
{
    type Value = E::Model;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        let waits: Vec<(i32, Batch<E::Model>)> = {
            let mut batches = self
                .batches
                .lock()
                .map_err(|_| Arc::new(ApiError::Internal("loader poisoned".into())))?;
            let new: Vec<i32> = keys
                .iter()
                .copied()
                .filter(|k| !batches.contains_key(k))
                .collect();
            if !new.is_empty() {
                let (db, id, id_of) = (self.db.clone(), self.id, self.id_of);
                let backend = self.db.get_database_backend();
                let select = self.scope.clone().filter(any_of(backend, id.into_expr(), &new));
                let batch: Batch<E::Model> = async move {
                    let rows = select.all(&db).await.map_err(|e| Arc::new(e.into()))?;
                    Ok(Arc::new(rows.into_iter().map(|row| (id_of(&row), row)).collect()))
                }
                .boxed()
                .shared();
                for key in new {
                    batches.insert(key, batch.clone());
                }
            }
            keys.iter()
                .filter_map(|k| batches.get(k).map(|b| (*k, b.clone())))
                .collect()
        };
        let mut found = HashMap::new();
        for (key, batch) in waits {
            if let Some(row) = batch.await?.get(&key) {
                found.insert(key, row.clone());
            }
        }
        Ok(found)
    }
}
