//! `totalCount`, computed only when selected.
use std::sync::Arc;

use futures_util::future::BoxFuture;
use sea_orm::{
    ConnectionTrait,
    sea_query::{Alias, Expr, Query, SelectStatement},
};

use crate::{
    db::Db,
    error::{ApiError, ApiResult},
};

/// A list's row count, run on demand: a `COUNT(*)` of its query, or a batched count for
/// nested lists (built by the loaders).
#[derive(Clone)]
pub struct Count(Arc<dyn Fn() -> BoxFuture<'static, ApiResult<i64>> + Send + Sync>);

impl Count {
    pub fn new(count: impl Fn() -> BoxFuture<'static, ApiResult<i64>> + Send + Sync + 'static) -> Self {
        Count(Arc::new(count))
    }

    /// Counts the rows of `query` (without its order and page bounds).
    pub fn of_query(db: &Db, mut query: SelectStatement) -> Self {
        query.clear_order_by();
        let db = db.clone();
        Count::new(move || {
            let db = db.clone();
            let query = Query::select()
                .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
                .from_subquery(query.clone(), Alias::new("sub"))
                .to_owned();
            Box::pin(async move {
                let row = db
                    .query_one(&query)
                    .await?
                    .ok_or_else(|| ApiError::Internal("COUNT returned no row".into()))?;
                Ok(row.try_get::<i64>("", "n")?)
            })
        })
    }

    /// Runs the count.
    pub async fn get(&self) -> ApiResult<i64> {
        (self.0)().await
    }
}
