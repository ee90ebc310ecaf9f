//! Nested connections batched per level: the pages of every parent in one statement.
//!
//! `organizations { users(first: 5) }` asks for the first five users of each organization.
//! One query reads them for all parents: on PostgreSQL a `LATERAL` subquery per parent
//! with `LIMIT` (an index range scan that stops at the page), on SQLite a `UNION ALL` of
//! one such `LIMIT`ed read per parent. Keyset
//! bounds, filters and order are the same as for a top-level list. Loaders are keyed by
//! (parent id, list arguments), so parents asking for the same page share one query.
use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::Loader;
use sea_orm::{
    Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, IdenStatic, JoinType,
    QueryFilter, QueryOrder, QueryResult, QuerySelect, QueryTrait,
    sea_query::{Alias, Asterisk, Expr, ExprTrait, Func, Query, SelectStatement},
};

use crate::{
    auth::Viewer,
    db::Db,
    error::ApiError,
    query::{ChildList, Count, Page, Window, any_of, ids::array_param},
};

/// Pages of a nested list, for many parents at once. Values are rows in fetch order.
pub struct ChildPages<L> {
    db: Db,
    viewer: Viewer,
    _list: std::marker::PhantomData<L>,
}

impl<L> ChildPages<L> {
    pub fn new(db: &Db, viewer: &Viewer) -> Self {
        ChildPages {
            db: db.clone(),
            viewer: viewer.clone(),
            _list: std::marker::PhantomData,
        }
    }
}

/// Groups keys by their list arguments: one statement per distinct list.
fn by_list<L: ChildList>(keys: &[(i32, L)]) -> HashMap<&L, Vec<i32>> {
    let mut groups: HashMap<&L, Vec<i32>> = HashMap::new();
    for (parent, list) in keys {
        groups.entry(list).or_default().push(*parent);
    }
    groups
}

type Model<L> = <<L as ChildList>::Entity as EntityTrait>::Model;

/// The column each row of a page carries its parent's id in.
pub(super) const PARENT: &str = "blogql_parent_id";

/// A row of a page, with the parent it was read for.
pub(super) struct WithParent<M> {
    pub parent: i32,
    pub row: M,
}

impl<M: FromQueryResult> FromQueryResult for WithParent<M> {
    fn from_query_result(res: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        Ok(WithParent {
            parent: res.try_get(pre, PARENT)?,
            row: M::from_query_result(res, pre)?,
        })
    }
}

impl<L: ChildList> Loader<(i32, L)> for ChildPages<L> {
    type Value = Vec<Model<L>>;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[(i32, L)]) -> Result<HashMap<(i32, L), Self::Value>, Self::Error> {
        read_pages(&self.db, &self.viewer, keys, &Alone, |row| {
            let WithParent { parent, row } = WithParent::<Model<L>>::from_query_result(row, "")?;
            Ok((parent, row))
        })
        .await
    }
}

/// What a pages statement reads beside each page row (`loaders::with_authors`).
pub(super) trait Beside {
    /// Adds the columns read beside the page's (`page.*`), and the joins they need.
    fn add(&self, query: &mut SelectStatement, page: &Alias);
}

/// Nothing beside the page's rows.
struct Alone;

impl Beside for Alone {
    fn add(&self, _: &mut SelectStatement, _: &Alias) {}
}

/// The pages of `keys` (one statement per distinct list: chunks on SQLite), each row with
/// what `beside` adds, decoded by `decode` into its parent and value, in fetch order.
pub(super) async fn read_pages<L: ChildList, R>(
    db: &Db,
    viewer: &Viewer,
    keys: &[(i32, L)],
    beside: &impl Beside,
    decode: impl Fn(&QueryResult) -> Result<(i32, R), DbErr>,
) -> Result<HashMap<(i32, L), Vec<R>>, Arc<ApiError>> {
    let mut pages = HashMap::new();
    for (list, parents) in by_list(keys) {
        let window = list.window()?;
        if parents.is_empty() {
            continue; // `by_list` never makes an empty group; `VALUES ()` would not build.
        }
        let backend = db.get_database_backend();
        let queries = match backend {
            DbBackend::Postgres => vec![lateral_pages(list, viewer, &window, &parents, beside)?],
            _ => parents
                .chunks(MAX_UNION_PARTS)
                .map(|chunk| limited_pages(list, viewer, &window, chunk, beside))
                .collect::<Result<_, _>>()?,
        };
        let mut rows_of: HashMap<i32, Vec<R>> = HashMap::new();
        for query in queries {
            let rows = db
                .query_all_raw(backend.build(&query))
                .await
                .map_err(|e| Arc::new(e.into()))?;
            for row in &rows {
                let (parent, value) = decode(row).map_err(|e| Arc::new(e.into()))?;
                rows_of.entry(parent).or_default().push(value);
            }
        }
        for parent in parents {
            pages.insert(
                (parent, list.clone()),
                rows_of.remove(&parent).unwrap_or_default(),
            );
        }
    }
    Ok(pages)
}

/// Parents per SQLite statement: each is one part of a `UNION ALL`, and SQLite allows
/// at most 500 (`SQLITE_MAX_COMPOUND_SELECT`).
pub(super) const MAX_UNION_PARTS: usize = 400;

/// The pages of `parents` in one statement, for databases without `LATERAL` (SQLite): a
/// `UNION ALL` of one `… WHERE parent = ? ORDER BY key, id LIMIT n` per parent, so each
/// reads its page down the index and stops (a window over every child of every parent
/// numbered them all before cutting). The outer `ORDER BY` gives each parent's rows in
/// fetch order.
fn limited_pages<L: ChildList>(
    list: &L,
    viewer: &Viewer,
    window: &Window,
    parents: &[i32],
    beside: &impl Beside,
) -> Result<SelectStatement, ApiError> {
    let (sort, _) = list.sort();
    let order = window.order(&sort);
    let union = limited_union(list, viewer, window, parents)?;
    let page = Alias::new("page");
    let mut query = Query::select();
    query
        .column((page.clone(), Asterisk))
        .from_subquery(union, page.clone());
    beside.add(&mut query, &page);
    query
        .order_by((page.clone(), Alias::new(sort.column.as_str())), order.clone())
        .order_by((page, Alias::new(sort.id_column.as_str())), order);
    Ok(query)
}

/// The `UNION ALL` of `limited_pages` (each parent's page, with its `PARENT` column), in
/// no particular order.
pub(super) fn limited_union<L: ChildList>(
    list: &L,
    viewer: &Viewer,
    window: &Window,
    parents: &[i32],
) -> Result<sea_orm::sea_query::SelectStatement, ApiError> {
    let (sort, _) = list.sort();
    let order = window.order(&sort);
    let mut union: Option<sea_orm::sea_query::SelectStatement> = None;
    for (i, parent) in parents.iter().enumerate() {
        let page = window
            .bound(list.select(viewer)?, &sort)
            .filter(list.parent().eq(*parent))
            .expr_as(list.parent(), PARENT)
            .order_by(sort.column, order.clone())
            .order_by(sort.id_column, order.clone())
            .limit(window.fetch_limit())
            .into_query();
        // Wrapped, so each part keeps its own ORDER BY and LIMIT.
        let part = Query::select()
            .column(Asterisk)
            .from_subquery(page, Alias::new(format!("p{i}")))
            .to_owned();
        match &mut union {
            None => union = Some(part),
            Some(union) => {
                union.union(sea_orm::sea_query::UnionType::All, part);
            }
        }
    }
    union.ok_or_else(|| ApiError::Internal("a page of no parents".into()))
}

/// The pages of `parents` in one statement on PostgreSQL: for each parent, a `LATERAL`
/// subquery reads its first `fetch_limit` rows down the index and stops, so a parent with
/// thousands of children costs what one with six does. The parents are one array
/// parameter (`unnest`), so the statement is prepared once for every batch size; the
/// `LIMIT` bounds each page, and the outer `ORDER BY` (the pages' own order, over at most
/// parents × limit rows) gives each parent's rows in fetch order.
fn lateral_pages<L: ChildList>(
    list: &L,
    viewer: &Viewer,
    window: &Window,
    parents: &[i32],
    beside: &impl Beside,
) -> Result<SelectStatement, ApiError> {
    let (sort, _) = list.sort();
    let order = window.order(&sort);
    let parent = Alias::new("blogql_parent");
    let inner = window
        .bound(list.select(viewer)?, &sort)
        .filter(list.parent().eq(Expr::col((parent.clone(), parent.clone()))))
        .expr_as(list.parent(), PARENT)
        .order_by(sort.column, order.clone())
        .order_by(sort.id_column, order.clone())
        .limit(window.fetch_limit())
        .into_query();
    let page = Alias::new("page");
    let unnest = Func::cust("unnest").arg(Expr::cust_with_expr(
        "CAST($1 AS int4[])",
        Expr::val(array_param(DbBackend::Postgres, parents)),
    ));
    let mut query = Query::select();
    query
        .column((page.clone(), Asterisk))
        .from_function(unnest, parent)
        .join_lateral(
            JoinType::InnerJoin,
            inner,
            page.clone(),
            Condition::all().add(Expr::cust("TRUE")),
        );
    beside.add(&mut query, &page);
    query
        .order_by((page.clone(), Alias::new(sort.column.as_str())), order.clone())
        .order_by((page, Alias::new(sort.id_column.as_str())), order);
    Ok(query)
}

/// `totalCount` of a nested list for many parents: one `GROUP BY parent` per list.
pub struct ChildCounts<L> {
    db: Db,
    viewer: Viewer,
    _list: std::marker::PhantomData<L>,
}

impl<L> ChildCounts<L> {
    pub fn new(db: &Db, viewer: &Viewer) -> Self {
        ChildCounts {
            db: db.clone(),
            viewer: viewer.clone(),
            _list: std::marker::PhantomData,
        }
    }
}

impl<L: ChildList> Loader<(i32, L)> for ChildCounts<L> {
    type Value = i64;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[(i32, L)]) -> Result<HashMap<(i32, L), i64>, Self::Error> {
        let mut counts = HashMap::new();
        for (list, parents) in by_list(keys) {
            let parent = list.parent();
            let rows: Vec<(i32, i64)> = list
                .select(&self.viewer)?
                .select_only()
                .expr_as(parent.clone(), "p")
                .column_as(Expr::cust("COUNT(*)"), "n")
                .filter(any_of(self.db.get_database_backend(), parent.clone(), &parents))
                .group_by(parent)
                .into_tuple()
                .all(&self.db)
                .await
                .map_err(|e| Arc::new(e.into()))?;
            let found: HashMap<i32, i64> = rows.into_iter().collect();
            for p in parents {
                counts.insert((p, list.clone()), found.get(&p).copied().unwrap_or(0));
            }
        }
        Ok(counts)
    }
}

/// One parent's page of a nested list, loaded with its siblings' pages in one batch and
/// with a `totalCount` batched the same way. Refuses what a top-level list refuses (page
/// arguments, `includeDeleted`) before loading.
pub async fn load_page<L: ChildList>(
    viewer: &Viewer,
    pages: &async_graphql::dataloader::DataLoader<ChildPages<L>>,
    counts: &Arc<async_graphql::dataloader::DataLoader<ChildCounts<L>>>,
    parent: i32,
    list: L,
    rows_wanted: bool,
) -> Result<Page<Model<L>>, ApiError> {
    let window = list.window()?;
    list.select(viewer)?;
    let rows = if rows_wanted {
        pages
            .load_one((parent, list.clone()))
            .await
            .map_err(ApiError::from)?
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    Ok(page_of(window, counts, parent, list, rows))
}

/// One parent's page from rows read with another level (`loaders::nested`), in fetch
/// order. The caller has made `load_page`'s checks (`list.select(viewer)` builds the whole
/// query: once per list, not once per parent).
pub fn primed_page<L: ChildList>(
    counts: &Arc<async_graphql::dataloader::DataLoader<ChildCounts<L>>>,
    parent: i32,
    list: L,
    rows: Vec<Model<L>>,
) -> Result<Page<Model<L>>, ApiError> {
    let window = list.window()?;
    Ok(page_of(window, counts, parent, list, rows))
}

fn page_of<L: ChildList>(
    window: Window,
    counts: &Arc<async_graphql::dataloader::DataLoader<ChildCounts<L>>>,
    parent: i32,
    list: L,
    rows: Vec<Model<L>>,
) -> Page<Model<L>> {
    let (sort, key_of) = list.sort();
    let counts = counts.clone();
    let key = (parent, list.unpaged());
    let count = Count::new(move || {
        let (counts, key) = (counts.clone(), key.clone());
        Box::pin(async move { Ok(counts.load_one(key).await?.unwrap_or(0)) })
    });
    window.page(rows, sort.field, key_of, count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        db::plan::sqlite_plan,
        entity::post_columns::Columns,
        query::PageArgs,
        service::post::{PostChildren, PostConditions, PostList, PostSort},
    };

    /// SQLite reads each parent's page down an index and stops at its `LIMIT`: the plan has
    /// one index search per parent and no window over every child (the statement that
    /// numbered all children of all parents before cutting to `first`).
    #[tokio::test]
    async fn sqlite_pages_are_bounded_per_parent() {
        let list = PostChildren {
            by_author: true,
            list: PostList {
                filter: PostConditions::default(),
                sort: PostSort::default(),
                descending: true,
                page: PageArgs {
                    first: Some(5),
                    ..PageArgs::default()
                },
                include_deleted: false,
                columns: Columns::REQUIRED,
                engine: Default::default(),
            },
        };
        let viewer = Viewer::PlatformAdmin {
            subject: "test".into(),
        };
        let window = list.window().unwrap();
        let statement =
            DbBackend::Sqlite.build(&limited_pages(&list, &viewer, &window, &[1, 2, 3], &Alone).unwrap());
        assert!(!statement.sql.contains("ROW_NUMBER"), "{}", statement.sql);
        assert_eq!(statement.sql.matches("LIMIT").count(), 3, "{}", statement.sql);
        let plan = sqlite_plan(&statement).await;
        let searches = plan
            .iter()
            .filter(|p| p.starts_with("SEARCH posts USING INDEX"))
            .count();
        assert_eq!(searches, 3, "{plan:#?}");
        assert!(!plan.iter().any(|p| p.starts_with("SCAN posts")), "{plan:#?}");
    }
}
