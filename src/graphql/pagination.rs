//! Relay connections over keyset cursors.
//!
//! A cursor holds the sort key and the id of its row, so pages stay stable when rows are
//! inserted before them. `totalCount` is a separate `COUNT(*)` run only when selected.
use crate::db::Db;
use std::sync::Arc;

use async_graphql::{
    Object,
    connection::{Connection, Edge, EmptyFields},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Select, Value,
    sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement},
};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};

/// Largest page a client may ask for, and the page size when it asks for none.
pub const MAX_PAGE: i32 = 100;
pub const DEFAULT_PAGE: i32 = 20;

/// The complexity of a connection field: its children count once per requested row, so
/// `first: 100` nested three deep costs a million, not three hundred.
pub fn cost(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let rows = first.or(last).unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE) as usize;
    rows.saturating_mul(child_complexity).saturating_add(1)
}

/// A connection of `N` nodes with `totalCount`.
pub type Conn<N> = Connection<PageCursor, N, TotalCount, EmptyFields>;

/// A row's cursor, encoded only when a client selects it (`cursor`, `startCursor`,
/// `endCursor`): most lists are read without, and encoding is a JSON document and base64
/// per row.
pub struct PageCursor {
    field: &'static str,
    key: SortKey,
    id: i32,
}

/// A string that is not a cursor of ours.
#[derive(Debug, thiserror::Error)]
#[error("not a valid cursor")]
pub struct InvalidCursor;

impl async_graphql::connection::CursorType for PageCursor {
    type Error = InvalidCursor;

    /// Not used by the resolvers, which decode with the `orderBy` field in hand
    /// (`Window::new`); kept true to the encoding for async-graphql's helpers.
    fn decode_cursor(s: &str) -> Result<Self, InvalidCursor> {
        let bytes = URL_SAFE_NO_PAD.decode(s).map_err(|_| InvalidCursor)?;
        let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| InvalidCursor)?;
        let field = [
            "CREATED_AT",
            "UPDATED_AT",
            "VIEW_COUNT",
            "TITLE",
            "NAME",
            "USERNAME",
        ]
        .into_iter()
        .find(|f| *f == cursor.f && cursor.k.fits(f))
        .ok_or(InvalidCursor)?;
        Ok(PageCursor {
            field,
            key: cursor.k,
            id: cursor.i,
        })
    }

    fn encode_cursor(&self) -> String {
        encode_cursor(self.field, self.key.clone(), self.id)
    }
}

/// The value of the sort column in a cursor. Tagged (`{"t": …}`), so a title that looks
/// like a timestamp stays text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SortKey {
    #[serde(rename = "i")]
    Int(i32),
    #[serde(rename = "t")]
    Time(DateTime<Utc>),
    #[serde(rename = "s")]
    Text(String),
}

impl SortKey {
    /// Whether this key can be the value of the `orderBy` field `field`.
    fn fits(&self, field: &str) -> bool {
        match self {
            SortKey::Int(_) => field == "VIEW_COUNT",
            SortKey::Time(_) => matches!(field, "CREATED_AT" | "UPDATED_AT"),
            SortKey::Text(_) => matches!(field, "TITLE" | "NAME" | "USERNAME"),
        }
    }
}

impl From<SortKey> for Value {
    fn from(key: SortKey) -> Value {
        match key {
            SortKey::Int(v) => v.into(),
            SortKey::Time(v) => v.into(),
            SortKey::Text(v) => v.into(),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Cursor {
    /// The `orderBy` field the cursor was made for.
    f: String,
    k: SortKey,
    i: i32,
}

/// Reads a row's sort key and id, for its cursor.
pub type KeyOf<M> = fn(&M) -> (SortKey, i32);

/// The order of a list: the sort column, its public name, and the direction.
pub struct Sort<C> {
    pub column: C,
    pub id_column: C,
    pub field: &'static str,
    pub descending: bool,
}

/// `first`/`after`/`last`/`before` as received.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

fn page_size(value: Option<i32>, field: &'static str) -> ApiResult<Option<u64>> {
    match value {
        None => Ok(None),
        Some(n) if (0..=MAX_PAGE).contains(&n) => Ok(Some(n as u64)),
        Some(_) => Err(ApiError::bad_input(
            field,
            format!("`{field}` must be between 0 and {MAX_PAGE}"),
        )),
    }
}

fn encode_cursor(field: &str, key: SortKey, id: i32) -> String {
    let cursor = Cursor {
        f: field.to_owned(),
        k: key,
        i: id,
    };
    // Serializing a struct of strings and numbers cannot fail.
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&cursor).unwrap_or_default())
}

fn decode_cursor(raw: &str, field: &str, arg: &'static str) -> ApiResult<(SortKey, i32)> {
    let invalid = || ApiError::bad_input(arg, format!("`{arg}` is not a valid cursor"));
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
    let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if cursor.f != field {
        return Err(ApiError::bad_input(
            arg,
            format!("`{arg}` was made for another orderBy field"),
        ));
    }
    if !cursor.k.fits(field) {
        return Err(invalid());
    }
    Ok((cursor.k, cursor.i))
}

/// Rows strictly after (`after = true`) or before the cursor, in the list's order, as one
/// row-value comparison `(key, id) > (k, i)`: both databases bound an index range scan
/// with it, where the equivalent `key > k OR (key = k AND id > i)` makes PostgreSQL read
/// and discard every row before the cursor (2 s half-way down a million posts).
fn beyond<C: ColumnTrait>(sort: &Sort<C>, key: SortKey, id: i32, after: bool) -> Condition {
    let greater = after != sort.descending;
    let columns = Expr::tuple([
        Expr::col(sort.column.as_column_ref()),
        Expr::col(sort.id_column.as_column_ref()),
    ]);
    let cursor = Expr::tuple([Expr::val(Value::from(key)), Expr::val(id)]);
    Condition::all().add(if greater {
        columns.gt(cursor)
    } else {
        columns.lt(cursor)
    })
}

/// One page of rows, in the list's order, with the cursor of each.
pub struct Page<M> {
    pub rows: Vec<(PageCursor, M)>,
    pub has_previous_page: bool,
    pub has_next_page: bool,
    pub count: TotalCount,
}

impl<M> Page<M> {
    pub fn into_connection<N>(self, node: impl Fn(M) -> N) -> Conn<N>
    where
        N: async_graphql::OutputType,
    {
        let mut conn =
            Connection::with_additional_fields(self.has_previous_page, self.has_next_page, self.count);
        conn.edges = self
            .rows
            .into_iter()
            .map(|(cursor, row)| Edge::new(cursor, node(row)))
            .collect();
        conn
    }
}

/// The validated page arguments of one list: cursor bounds, size and direction.
#[derive(Clone, Debug)]
pub struct Window {
    after: Option<(SortKey, i32)>,
    before: Option<(SortKey, i32)>,
    limit: u64,
    backward: bool,
}

impl Window {
    pub fn new(args: &PageArgs, field: &str) -> ApiResult<Window> {
        let first = page_size(args.first, "first")?;
        let last = page_size(args.last, "last")?;
        if first.is_some() && last.is_some() {
            return Err(ApiError::bad_input(
                "last",
                "Pass either `first` or `last`, not both",
            ));
        }
        let cursor =
            |raw: &Option<String>, arg| raw.as_deref().map(|c| decode_cursor(c, field, arg)).transpose();
        Ok(Window {
            after: cursor(&args.after, "after")?,
            before: cursor(&args.before, "before")?,
            limit: last.or(first).unwrap_or(DEFAULT_PAGE as u64),
            backward: last.is_some(),
        })
    }

    /// Rows to fetch: one more than the page, to learn whether another page follows.
    pub fn fetch_limit(&self) -> u64 {
        self.limit + 1
    }

    /// The fetch order: backward pages read the order reversed from `before`.
    pub fn order<C>(&self, sort: &Sort<C>) -> Order {
        if sort.descending != self.backward {
            Order::Desc
        } else {
            Order::Asc
        }
    }

    /// Adds the cursor bounds to a list's query.
    pub fn bound<E: EntityTrait>(&self, mut select: Select<E>, sort: &Sort<E::Column>) -> Select<E> {
        if let Some((key, id)) = self.after.clone() {
            select = select.filter(beyond(sort, key, id, true));
        }
        if let Some((key, id)) = self.before.clone() {
            select = select.filter(beyond(sort, key, id, false));
        }
        select
    }

    /// Turns the fetched rows (in fetch order, at most `fetch_limit`) into a page.
    pub fn page<M>(
        &self,
        mut rows: Vec<M>,
        sort_field: &'static str,
        key_of: KeyOf<M>,
        count: TotalCount,
    ) -> Page<M> {
        let has_more = rows.len() as u64 > self.limit;
        rows.truncate(self.limit as usize);
        if self.backward {
            rows.reverse();
        }
        let rows = rows
            .into_iter()
            .map(|row| {
                let (key, id) = key_of(&row);
                let cursor = PageCursor {
                    field: sort_field,
                    key,
                    id,
                };
                (cursor, row)
            })
            .collect();
        let (has_previous_page, has_next_page) = if self.backward {
            (has_more, self.before.is_some())
        } else {
            (self.after.is_some(), has_more)
        };
        Page {
            rows,
            has_previous_page,
            has_next_page,
            count,
        }
    }
}

/// Whether a connection's selection reads its rows (`edges`, `nodes`, `pageInfo`): a
/// `{ totalCount }` alone runs only its count.
pub fn selects_rows(ctx: &async_graphql::Context<'_>) -> bool {
    let look = ctx.look_ahead();
    look.field("edges").exists() || look.field("nodes").exists() || look.field("pageInfo").exists()
}

/// Runs one page of `select` (already scoped and filtered) in the order `sort`; with
/// `rows_wanted` false (see `selects_rows`) the page is left empty and unread.
pub async fn paginate<E: EntityTrait>(
    conn: &Db,
    select: Select<E>,
    sort: &Sort<E::Column>,
    args: &PageArgs,
    key_of: KeyOf<E::Model>,
    rows_wanted: bool,
) -> ApiResult<Page<E::Model>> {
    let query = PageQuery::new(conn, select, sort, args)?;
    let rows = if rows_wanted {
        query.select.all(conn).await?
    } else {
        Vec::new()
    };
    Ok(query.window.page(rows, sort.field, key_of, query.count))
}

/// One page's query, ready to run (alone, or joined with a to-one relation), with the
/// window that turns its rows into a page and the list's lazy count.
pub struct PageQuery<E: EntityTrait> {
    pub window: Window,
    pub select: Select<E>,
    pub count: TotalCount,
}

impl<E: EntityTrait> PageQuery<E> {
    pub fn new(conn: &Db, select: Select<E>, sort: &Sort<E::Column>, args: &PageArgs) -> ApiResult<Self> {
        let window = Window::new(args, sort.field)?;
        let count = TotalCount::of_query(conn, select.clone().into_query());
        // Even `first: 0` fetches one row: `hasNextPage` must say whether rows exist.
        let order = window.order(sort);
        let select = window
            .bound(select, sort)
            .order_by(sort.column, order.clone())
            .order_by(sort.id_column, order)
            .limit(window.fetch_limit());
        Ok(PageQuery {
            window,
            select,
            count,
        })
    }
}

/// `totalCount`, computed only when selected: a `COUNT(*)` of the list's query, or a
/// batched count for nested lists.
#[derive(Clone)]
pub struct TotalCount(Arc<dyn Fn() -> BoxFuture<'static, ApiResult<i64>> + Send + Sync>);

impl TotalCount {
    pub fn new(count: impl Fn() -> BoxFuture<'static, ApiResult<i64>> + Send + Sync + 'static) -> Self {
        TotalCount(Arc::new(count))
    }

    /// A nested list's count, batched with its siblings' through `loader`.
    pub fn from_loader<L>(
        loader: Arc<async_graphql::dataloader::DataLoader<crate::loaders::children::ChildCounts<L>>>,
        key: (i32, L),
    ) -> Self
    where
        L: crate::loaders::children::ChildList,
    {
        TotalCount::new(move || {
            let loader = loader.clone();
            let key = key.clone();
            Box::pin(async move { Ok(loader.load_one(key).await.map_err(|e| (*e).clone())?.unwrap_or(0)) })
        })
    }

    /// Counts the rows of `query` (without its order and page bounds).
    pub fn of_query(db: &Db, mut query: SelectStatement) -> Self {
        query.clear_order_by();
        let db = db.clone();
        TotalCount::new(move || {
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
}

#[Object]
impl TotalCount {
    /// The number of items in the whole list (all pages), with the same filter.
    async fn total_count(&self) -> async_graphql::Result<i32> {
        let n = (self.0)().await?;
        Ok(i32::try_from(n).unwrap_or(i32::MAX))
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::connection::CursorType;

    use super::*;

    #[test]
    fn a_lazy_cursor_encodes_what_the_window_decodes() {
        let cursor = PageCursor {
            field: "TITLE",
            key: SortKey::Text("2024-01-01T00:00:00Z".into()),
            id: 7,
        };
        let encoded = cursor.encode_cursor();
        assert_eq!(
            decode_cursor(&encoded, "TITLE", "after").unwrap(),
            (SortKey::Text("2024-01-01T00:00:00Z".into()), 7)
        );
        let decoded = PageCursor::decode_cursor(&encoded).unwrap();
        assert_eq!((decoded.field, decoded.key, decoded.id), cursor_parts(&cursor));
        assert!(PageCursor::decode_cursor("bm90IGEgY3Vyc29y").is_err());
        assert!(
            PageCursor::decode_cursor(&encode_cursor("VIEW_COUNT", SortKey::Text("x".into()), 1)).is_err()
        );
    }

    fn cursor_parts(c: &PageCursor) -> (&'static str, SortKey, i32) {
        (c.field, c.key.clone(), c.id)
    }
}
