//! Relay connections over the keyset pages of `query/`: the connection type, `totalCount`,
//! cursors as `CursorType`, and the cost of a connection field.
use std::borrow::Cow;

use async_graphql::{
    Object, OutputType, TypeName,
    connection::{CursorType, Edge, EmptyFields, PageInfo},
};

use crate::{
    error::ApiError,
    query::{Count, Cursor, MAX_PAGE, Page, PageArgs, page::DEFAULT_PAGE},
};

/// The complexity of a connection field: its children count once per requested row, so
/// `first: 100` nested three deep costs a million, not three hundred.
pub fn cost(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let rows = first.or(last).unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE) as usize;
    rows.saturating_mul(child_complexity).saturating_add(1)
}

/// A connection of `N` nodes (`PostConnection`, …): async-graphql's own connection
/// type has no description, and GraphiQL's documentation explorer is this API's manual.
pub struct Conn<N: OutputType> {
    edges: Vec<Edge<Cursor, N, EmptyFields>>,
    has_previous_page: bool,
    has_next_page: bool,
    count: Count,
}

impl<N: OutputType> TypeName for Conn<N> {
    fn type_name() -> Cow<'static, str> {
        format!("{}Connection", N::type_name()).into()
    }
}

/// One page of a list (a Relay connection): its items as `edges` (each with a cursor)
/// or as `nodes`, `pageInfo` to fetch the next or previous page with `after`/`before`,
/// and the size of the whole list as `totalCount`.
#[Object(name_type)]
impl<N: OutputType> Conn<N> {
    /// Information to aid in pagination.
    async fn page_info(&self) -> PageInfo {
        PageInfo {
            has_previous_page: self.has_previous_page,
            has_next_page: self.has_next_page,
            start_cursor: self.edges.first().map(|edge| edge.cursor.encode()),
            end_cursor: self.edges.last().map(|edge| edge.cursor.encode()),
        }
    }

    /// A list of edges.
    async fn edges(&self) -> &[Edge<Cursor, N, EmptyFields>] {
        &self.edges
    }

    /// A list of nodes.
    async fn nodes(&self) -> Vec<&N> {
        self.edges.iter().map(|e| &e.node).collect()
    }

    /// The number of items in the whole list (all pages), with the same filter.
    async fn total_count(&self) -> Result<i32, ApiError> {
        let n = Box::pin(self.count.get()).await?;
        Ok(i32::try_from(n).unwrap_or(i32::MAX))
    }
}

/// A string that is not a cursor of ours.
#[derive(Debug, thiserror::Error)]
#[error("not a valid cursor")]
pub struct InvalidCursor;

impl CursorType for Cursor {
    type Error = InvalidCursor;

    /// Not used by the resolvers, which decode with the `orderBy` field in hand
    /// (`Window::new`); kept true to the encoding for async-graphql's helpers.
    fn decode_cursor(s: &str) -> Result<Self, InvalidCursor> {
        Cursor::decode_any(s).ok_or(InvalidCursor)
    }

    fn encode_cursor(&self) -> String {
        self.encode()
    }
}

/// Wraps a page's rows into a connection.
pub fn connection<M, N: OutputType>(page: Page<M>, node: impl Fn(M) -> N) -> Conn<N> {
    Conn {
        edges: page
            .rows
            .into_iter()
            .map(|(cursor, row)| Edge::new(cursor, node(row)))
            .collect(),
        has_previous_page: page.has_previous_page,
        has_next_page: page.has_next_page,
        count: page.count,
    }
}

/// The page arguments of a connection field.
pub fn page_args(
    ctx: &async_graphql::Context<'_>,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> PageArgs {
    PageArgs {
        first,
        after,
        last,
        before,
        ends_unread: !reads_page_ends(ctx.field()),
    }
}

/// Whether `connection`'s selection reads `pageInfo.hasNextPage` or `hasPreviousPage`
/// (fragments included, `@skip`/`@include` not applied: a skipped field counts as read).
/// Resolvers and the look-ahead planner both decide from the connection's field, so a
/// list's loader key is the same from either.
fn reads_page_ends(connection: async_graphql::SelectionField<'_>) -> bool {
    connection
        .selection_set()
        .filter(|field| field.name() == "pageInfo")
        .any(|info| {
            info.selection_set()
                .any(|field| matches!(field.name(), "hasNextPage" | "hasPreviousPage"))
        })
}

/// Whether a connection's selection reads its rows (`edges`, `nodes`, `pageInfo`): a
/// `{ totalCount }` alone runs only its count.
pub fn selects_rows(ctx: &async_graphql::Context<'_>) -> bool {
    let look = ctx.look_ahead();
    look.field("edges").exists() || look.field("nodes").exists() || look.field("pageInfo").exists()
}

/// Calls `visit` with the name of each field the connection's nodes select (through
/// `edges.node` and `nodes`, fragments included, `@skip`/`@include` not applied: a skipped
/// field counts as selected).
pub fn visit_node_fields(ctx: &async_graphql::Context<'_>, mut visit: impl FnMut(&str)) {
    visit_nodes(ctx.field(), |field| visit(field.name()));
}

/// Calls `visit` with each field the nodes of `connection` select, as `visit_node_fields`.
pub fn visit_nodes<'a>(
    connection: async_graphql::SelectionField<'a>,
    mut visit: impl FnMut(async_graphql::SelectionField<'a>),
) {
    for field in connection.selection_set() {
        match field.name() {
            "nodes" => field.selection_set().for_each(&mut visit),
            "edges" => {
                for edge in field.selection_set().filter(|edge| edge.name() == "node") {
                    edge.selection_set().for_each(&mut visit);
                }
            }
            _ => {}
        }
    }
}

/// A connection field's arguments as its resolver receives them (`first`, `after`,
/// `last`, `before`, `filter`, `orderBy`, `includeDeleted`), read from a selection seen
/// from above (a look-ahead); `None` if one does not parse or is not one of these.
pub fn list_arguments<F: async_graphql::InputType, O: async_graphql::InputType>(
    field: async_graphql::SelectionField<'_>,
) -> Option<(PageArgs, Option<F>, Option<O>, bool)> {
    use async_graphql::InputType;
    let (mut first, mut after, mut last, mut before) = (None, None, None, None);
    let (mut filter, mut order_by, mut include_deleted) = (None, None, false);
    for (name, value) in field.arguments().ok()? {
        let value = Some(value);
        match name.as_str() {
            "first" => first = InputType::parse(value).ok()?,
            "after" => after = InputType::parse(value).ok()?,
            "last" => last = InputType::parse(value).ok()?,
            "before" => before = InputType::parse(value).ok()?,
            "filter" => filter = <Option<F>>::parse(value).ok()?,
            "orderBy" => order_by = <Option<O>>::parse(value).ok()?,
            "includeDeleted" => include_deleted = bool::parse(value).ok()?,
            _ => return None,
        }
    }
    Some((
        PageArgs {
            first,
            after,
            last,
            before,
            ends_unread: !reads_page_ends(field),
        },
        filter,
        order_by,
        include_deleted,
    ))
}

/// Whether a connection field's selection reads its rows (`selects_rows` of a field seen
/// from its parent).
pub fn field_selects_rows(connection: async_graphql::SelectionField<'_>) -> bool {
    connection
        .selection_set()
        .any(|field| matches!(field.name(), "edges" | "nodes" | "pageInfo"))
}

/// Whether the connection's nodes select `field` (through `edges.node` or `nodes`,
/// fragments included).
pub fn nodes_select(ctx: &async_graphql::Context<'_>, field: &str) -> bool {
    let look = ctx.look_ahead();
    look.field("edges").field("node").field(field).exists() || look.field("nodes").field(field).exists()
}
