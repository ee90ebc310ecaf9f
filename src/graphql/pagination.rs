//! Relay connections over keyset cursors.
//!
//! A cursor holds the sort key and the id of its row, so pages stay stable when rows are
//! inserted before them. `totalCount` is a separate `COUNT(*)` run only when selected.
use async_graphql::{
    Context, Object,
    connection::{Connection, Edge, EmptyFields},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Select, Value,
    sea_query::{Alias, Expr, Query, SelectStatement},
};
use serde::{Deserialize, Serialize};

use super::context::db;
use crate::error::{ApiError, ApiResult};

/// Largest page a client may ask for, and the page size when it asks for none.
pub const MAX_PAGE: i32 = 100;
pub const DEFAULT_PAGE: i32 = 20;

/// A connection of `N` nodes with `totalCount`.
pub type Conn<N> = Connection<String, N, TotalCount, EmptyFields>;

/// The value of the sort column in a cursor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SortKey {
    Int(i32),
    Time(DateTime<Utc>),
    Text(String),
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
    Ok((cursor.k, cursor.i))
}

/// Rows strictly after (`after = true`) or before the cursor, in the list's order.
fn beyond<C: ColumnTrait>(sort: &Sort<C>, key: SortKey, id: i32, after: bool) -> Condition {
    let greater = after != sort.descending;
    let key: Value = key.into();
    let (col_beyond, id_beyond) = if greater {
        (sort.column.gt(key.clone()), sort.id_column.gt(id))
    } else {
        (sort.column.lt(key.clone()), sort.id_column.lt(id))
    };
    Condition::any()
        .add(col_beyond)
        .add(Condition::all().add(sort.column.eq(key)).add(id_beyond))
}

/// One page of rows, in the list's order, with the cursor of each.
pub struct Page<M> {
    pub rows: Vec<(String, M)>,
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

/// Runs one page of `select` (already scoped and filtered) in the order `sort`.
pub async fn paginate<E, F>(
    conn: &impl ConnectionTrait,
    select: Select<E>,
    sort: &Sort<E::Column>,
    args: &PageArgs,
    key_of: F,
) -> ApiResult<Page<E::Model>>
where
    E: EntityTrait,
    F: Fn(&E::Model) -> (SortKey, i32),
{
    let first = page_size(args.first, "first")?;
    let last = page_size(args.last, "last")?;
    if first.is_some() && last.is_some() {
        return Err(ApiError::bad_input(
            "last",
            "Pass either `first` or `last`, not both",
        ));
    }
    let after = args
        .after
        .as_deref()
        .map(|c| decode_cursor(c, sort.field, "after"))
        .transpose()?;
    let before = args
        .before
        .as_deref()
        .map(|c| decode_cursor(c, sort.field, "before"))
        .transpose()?;

    let count = TotalCount(select.clone().into_query());
    let mut select = select;
    if let Some((key, id)) = after.clone() {
        select = select.filter(beyond(sort, key, id, true));
    }
    if let Some((key, id)) = before.clone() {
        select = select.filter(beyond(sort, key, id, false));
    }
    let backward = last.is_some();
    let limit = last.or(first).unwrap_or(DEFAULT_PAGE as u64);
    // Backward pages read the order reversed from `before`, then flip the rows back.
    let order = if sort.descending != backward {
        Order::Desc
    } else {
        Order::Asc
    };
    let mut rows = if limit == 0 {
        Vec::new()
    } else {
        select
            .order_by(sort.column, order.clone())
            .order_by(sort.id_column, order)
            .limit(limit + 1)
            .all(conn)
            .await?
    };
    let has_more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    if backward {
        rows.reverse();
    }
    let rows = rows
        .into_iter()
        .map(|row| {
            let (key, id) = key_of(&row);
            (encode_cursor(sort.field, key, id), row)
        })
        .collect();
    let (has_previous_page, has_next_page) = if backward {
        (has_more, before.is_some())
    } else {
        (after.is_some(), has_more)
    };
    Ok(Page {
        rows,
        has_previous_page,
        has_next_page,
        count,
    })
}

/// The list's query without its page bounds, counted only when `totalCount` is selected.
pub struct TotalCount(SelectStatement);

#[Object]
impl TotalCount {
    /// The number of items in the whole list (all pages), with the same filter.
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        let db = db(ctx)?;
        let mut inner = self.0.clone();
        inner.clear_order_by();
        let query = Query::select()
            .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
            .from_subquery(inner, Alias::new("sub"))
            .to_owned();
        let row = db
            .query_one(&query)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::Internal("COUNT returned no row".into()))?;
        let n: i64 = row.try_get("", "n").map_err(ApiError::from)?;
        Ok(i32::try_from(n).unwrap_or(i32::MAX))
    }
}
