//! Keyset pages: the validated page arguments of a list (`Window`), its bound on the
//! query, and the page of rows it yields.
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select,
    Value,
    sea_query::{Expr, ExprTrait},
};

use super::{Count, Cursor, SortKey};
use crate::{
    db::Db,
    error::{ApiError, ApiResult},
};

/// Largest page a client may ask for, and the page size when it asks for none.
pub const MAX_PAGE: i32 = 100;
pub const DEFAULT_PAGE: i32 = 20;

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
    /// The selection reads neither `pageInfo.hasNextPage` nor `hasPreviousPage`: the page
    /// is read without the one row more that tells whether another page follows (on
    /// `organization → 10 users → 5 posts`, 50 rows and 10 posts reads instead of 66 and 11).
    pub ends_unread: bool,
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

/// Rows strictly after (`after = true`) or before the cursor, in the list's order, as one
/// row-value comparison `(key, id) > (k, i)`: both databases bound an index range scan
/// with it, where the equivalent `key > k OR (key = k AND id > i)` makes PostgreSQL read
/// and discard every row before the cursor (2 s half-way down a million posts).
fn beyond(columns: [Expr; 2], descending: bool, key: SortKey, id: i32, after: bool) -> Condition {
    let greater = after != descending;
    let columns = Expr::tuple(columns);
    let cursor = Expr::tuple([Expr::val(Value::from(key)), Expr::val(id)]);
    Condition::all().add(if greater {
        columns.gt(cursor)
    } else {
        columns.lt(cursor)
    })
}

/// One page of rows, in the list's order, with the cursor of each.
pub struct Page<M> {
    pub rows: Vec<(Cursor, M)>,
    pub has_previous_page: bool,
    pub has_next_page: bool,
    pub count: Count,
}

/// The validated page arguments of one list: cursor bounds, size and direction.
#[derive(Clone, Debug)]
pub struct Window {
    after: Option<(SortKey, i32)>,
    before: Option<(SortKey, i32)>,
    limit: u64,
    backward: bool,
    /// Whether one row more than the page is read (`PageArgs::ends_unread`).
    peek: bool,
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
            |raw: &Option<String>, arg| raw.as_deref().map(|c| Cursor::decode(c, field, arg)).transpose();
        Ok(Window {
            after: cursor(&args.after, "after")?,
            before: cursor(&args.before, "before")?,
            limit: last.or(first).unwrap_or(DEFAULT_PAGE as u64),
            backward: last.is_some(),
            peek: !args.ends_unread,
        })
    }

    /// Rows to fetch: the page, and one more to learn whether another page follows when
    /// the selection reads that.
    pub fn fetch_limit(&self) -> u64 {
        self.limit + u64::from(self.peek)
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
    pub fn bound<E: EntityTrait>(&self, select: Select<E>, sort: &Sort<E::Column>) -> Select<E> {
        let columns = [
            Expr::col(sort.column.as_column_ref()),
            Expr::col(sort.id_column.as_column_ref()),
        ];
        self.bound_by(select, columns, sort.descending)
    }

    /// Adds the cursor bounds on `[key, id]` expressions: a sort key computed by the
    /// query (a tag's post count) rather than read from a column.
    pub fn bound_by<E: EntityTrait>(
        &self,
        mut select: Select<E>,
        columns: [Expr; 2],
        descending: bool,
    ) -> Select<E> {
        if let Some((key, id)) = self.after.clone() {
            select = select.filter(beyond(columns.clone(), descending, key, id, true));
        }
        if let Some((key, id)) = self.before.clone() {
            select = select.filter(beyond(columns, descending, key, id, false));
        }
        select
    }

    /// `select` bounded by the cursors, in fetch order, limited to `fetch_limit` rows.
    /// Even `first: 0` fetches one row when `hasNextPage` is read: it says whether rows
    /// exist.
    pub fn paged<E: EntityTrait>(&self, select: Select<E>, sort: &Sort<E::Column>) -> Select<E> {
        let order = self.order(sort);
        self.bound(select, sort)
            .order_by(sort.column, order.clone())
            .order_by(sort.id_column, order)
            .limit(self.fetch_limit())
    }

    /// Whether the page is after or before a cursor.
    pub fn has_cursor(&self) -> bool {
        self.after.is_some() || self.before.is_some()
    }

    /// Whether rows are fetched in descending order for a list sorted `descending`.
    pub fn fetches_descending(&self, descending: bool) -> bool {
        descending != self.backward
    }

    /// Turns the fetched rows (in fetch order, at most `fetch_limit`) into a page.
    pub fn page<M>(
        &self,
        mut rows: Vec<M>,
        sort_field: &'static str,
        key_of: KeyOf<M>,
        count: Count,
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
                let cursor = Cursor {
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

/// Runs one page of `select` (already scoped and filtered) in the order `sort`; with
/// `rows_wanted` false (a `{ totalCount }` alone) the page is left empty and unread.
pub async fn paginate<E: EntityTrait>(
    db: &Db,
    select: Select<E>,
    sort: &Sort<E::Column>,
    args: &PageArgs,
    key_of: KeyOf<E::Model>,
    rows_wanted: bool,
) -> ApiResult<Page<E::Model>> {
    let query = PageQuery::new(db, select, sort, args)?;
    let rows = if rows_wanted {
        query.select.all(db).await?
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
    pub count: Count,
}

impl<E: EntityTrait> PageQuery<E> {
    pub fn new(db: &Db, select: Select<E>, sort: &Sort<E::Column>, args: &PageArgs) -> ApiResult<Self> {
        let window = Window::new(args, sort.field)?;
        let count = Count::of_query(db, select.clone().into_query());
        let select = window.paged(select, sort);
        Ok(PageQuery {
            window,
            select,
            count,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One row more than the page only when the selection reads the page's ends.
    #[test]
    fn the_extra_row_is_read_only_for_the_page_ends() {
        let args = |first, last, ends_unread| PageArgs {
            first,
            last,
            ends_unread,
            ..PageArgs::default()
        };
        let limit = |a: PageArgs| Window::new(&a, "createdAt").map(|w| w.fetch_limit()).ok();
        assert_eq!(limit(args(Some(5), None, false)), Some(6));
        assert_eq!(limit(args(Some(5), None, true)), Some(5));
        assert_eq!(limit(args(None, Some(3), true)), Some(3));
        assert_eq!(limit(args(None, None, true)), Some(DEFAULT_PAGE as u64));
        assert_eq!(limit(args(Some(0), None, false)), Some(1));
    }
}
