//! Two nested levels in one statement: `Organization.users → User.posts`.
//!
//! When the nodes of an organization's user list select `posts`, the users loader reads
//! each organization's users and each user's posts page together: on PostgreSQL a
//! `LATERAL` page of users per organization with a `LEFT JOIN LATERAL` page of posts per
//! user; on SQLite the `UNION ALL` of per-organization user pages (`children`) joined with
//! each user's posts through a correlated `id IN (… LIMIT n)`. Both levels go through the
//! same scopes, filters, keyset bounds and limits as their own loaders. The posts pages
//! are handed to the request's loaders (`Loaders::prime_posts`), where `User.posts` finds
//! them; any shape this does not cover goes through the two loaders as before. Only the
//! post columns the selection reads are read (`post_columns`): the pages go to that one
//! `posts` field and nowhere else.
use std::{
    collections::HashMap,
    num::NonZeroUsize,
    sync::{Arc, LazyLock},
};

use async_graphql::dataloader::Loader;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, IdenStatic, JoinType, QueryFilter, QueryOrder,
    QueryResult, QuerySelect, QueryTrait, Statement,
    sea_query::{Alias, Expr, ExprTrait, Func, NullOrdering, Order, Query, SelectStatement, UnionType},
};

use super::children::{MAX_UNION_PARTS, PARENT, limited_union};
use crate::{
    auth::Viewer,
    db::{Db, template::Templates},
    entity::{
        organization, organization_columns, post,
        post_columns::{self, Columns},
        row,
        scope::{self, Deleted},
        user, user_columns,
    },
    error::ApiError,
    query::{ChildList, ids::array_param},
    service::{post::PostChildren, user::UserChildren},
};

/// A user of a page with the rows of their posts page (both in fetch order).
pub type UserWithPosts = (user::Model, Vec<post::Model>);

/// A page of users with their posts as the users page and each user's posts page, by
/// user id (what `Loaders::prime_posts` takes).
pub fn split(rows: Vec<UserWithPosts>) -> (Vec<user::Model>, HashMap<i32, Vec<post::Model>>) {
    let mut users = Vec::with_capacity(rows.len());
    let mut pages = HashMap::with_capacity(rows.len());
    for (user, posts) in rows {
        pages.insert(user.id, posts);
        users.push(user);
    }
    (users, pages)
}

/// Key: (organization id, its users list, the posts list of each of those users, the post
/// columns the posts' selection reads).
pub type Key = (i32, UserChildren, PostChildren, Columns);

pub struct UsersWithPosts {
    db: Db,
    viewer: Viewer,
}

impl UsersWithPosts {
    pub fn new(db: &Db, viewer: &Viewer) -> Self {
        UsersWithPosts {
            db: db.clone(),
            viewer: viewer.clone(),
        }
    }
}

impl Loader<Key> for UsersWithPosts {
    type Value = Vec<UserWithPosts>;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[Key]) -> Result<HashMap<Key, Self::Value>, Self::Error> {
        let mut groups: HashMap<(&UserChildren, &PostChildren, Columns), Vec<i32>> = HashMap::new();
        for (parent, users, posts, columns) in keys {
            groups.entry((users, posts, *columns)).or_default().push(*parent);
        }
        let mut pages = HashMap::new();
        for ((users, posts, columns), parents) in groups {
            let backend = self.db.get_database_backend();
            let chunk = match backend {
                DbBackend::Postgres => parents.len().max(1),
                _ => MAX_UNION_PARTS,
            };
            let mut rows = Vec::new();
            for part in parents.chunks(chunk) {
                let statement = statement(
                    backend,
                    &self.viewer,
                    Source::Parents(part),
                    users,
                    posts,
                    (user_columns::Columns::ALL, columns),
                )?;
                rows.extend(
                    self.db
                        .query_all_raw(statement)
                        .await
                        .map_err(|e| Arc::new(e.into()))?,
                );
            }
            let mut of_parent: HashMap<i32, Vec<UserWithPosts>> = HashMap::new();
            let mut last = None;
            for row in &rows {
                add_row(
                    &mut of_parent,
                    &mut last,
                    row,
                    0,
                    (user_columns::Columns::ALL, columns),
                )
                .map_err(|e| Arc::new(e.into()))?;
            }
            for parent in parents {
                let value = of_parent.remove(&parent).unwrap_or_default();
                pages.insert((parent, users.clone(), posts.clone(), columns), value);
            }
        }
        Ok(pages)
    }
}

/// Adds a row (a user, and one of their posts or none) to its organization's users; the
/// row's parent, user and post columns start at `at`. A user's rows are consecutive (the
/// order is the users' first), so the user's columns and their parent are decoded once,
/// from their first row (`last`: the previous row's user and parent). A row without a
/// user (the organization's own row, read by `organization_with_users`) adds nothing.
fn add_row(
    of_parent: &mut HashMap<i32, Vec<UserWithPosts>>,
    last: &mut Option<(i32, i32)>,
    row: &QueryResult,
    at: usize,
    (user_set, columns): (user_columns::Columns, Columns),
) -> Result<(), sea_orm::DbErr> {
    let Some(user_id) = row::get::<Option<i32>>(row, at + 1)? else {
        return Ok(());
    };
    let start = at + 1 + user_set.len();
    let post = match row::get::<Option<i32>>(row, start)? {
        None => None,
        Some(id) => Some(post_columns::decode_with_id(row, columns, start, id)?),
    };
    match *last {
        Some((user, parent)) if user == user_id => {
            if let Some((_, posts)) = of_parent.get_mut(&parent).and_then(|users| users.last_mut()) {
                posts.extend(post);
            }
        }
        _ => {
            let parent = row::get(row, at)?;
            let user = user_columns::decode_set(row, at + 1, user_set)?
                .ok_or_else(|| sea_orm::DbErr::Custom("a nested page row without its user".into()))?;
            of_parent
                .entry(parent)
                .or_default()
                .push((user, post.into_iter().collect()));
            *last = Some((user_id, parent));
        }
    }
    Ok(())
}

/// The one statement for organization `id` if `viewer` may see it, with its page of users
/// `users` and each user's page of posts `posts` (reading `columns`: the users' and the
/// posts'; each user's columns come again on each of their post rows, so only those the
/// selection reads are selected); an error when a
/// list is one its loader would refuse (the caller then leaves both to their loaders,
/// whose resolvers report it). Built once per shape (`db::template`): requests of the
/// same caller and lists differ only in the organization's id.
pub fn organization_statement(
    backend: DbBackend,
    viewer: &Viewer,
    id: i32,
    users: &UserChildren,
    posts: &PostChildren,
    columns: (user_columns::Columns, Columns),
) -> Result<Statement, ApiError> {
    type Shape = (
        bool,
        Viewer,
        UserChildren,
        PostChildren,
        (user_columns::Columns, Columns),
    );
    static TEMPLATES: LazyLock<Templates<Shape>> =
        LazyLock::new(|| Templates::new(NonZeroUsize::new(512).unwrap_or(NonZeroUsize::MIN)));
    let shape = (
        backend == DbBackend::Postgres,
        viewer.clone(),
        users.clone(),
        posts.clone(),
        columns,
    );
    TEMPLATES.statement(shape, id, |id| {
        statement(backend, viewer, Source::Organization(id), users, posts, columns)
    })
}

/// Runs `organization_statement`'s statement for organization `id`: `None` when the
/// organization is not visible. Its first row is the organization's (no parent, no user);
/// the users' and their posts' rows follow, in page order.
pub async fn organization_with_users(
    db: &Db,
    statement: Statement,
    id: i32,
    columns: (user_columns::Columns, Columns),
) -> Result<Option<(organization::Model, Vec<UserWithPosts>)>, ApiError> {
    let rows = db.query_all_raw(statement).await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let org = organization_columns::decode(first, 0)?;
    let mut of_parent = HashMap::new();
    let mut last = None;
    for row in &rows {
        add_row(
            &mut of_parent,
            &mut last,
            row,
            organization_columns::COLUMNS.len(),
            columns,
        )?;
    }
    Ok(Some((org, of_parent.remove(&id).unwrap_or_default())))
}

/// What the users pages hang from.
enum Source<'a> {
    /// Organizations by id (a batch of `Organization.users`).
    Parents(&'a [i32]),
    /// One organization, read in the same statement (`organization(id:)`).
    Organization(i32),
}

/// The one statement for the user pages with each user's posts page.
fn statement(
    backend: DbBackend,
    viewer: &Viewer,
    source: Source<'_>,
    users: &UserChildren,
    posts: &PostChildren,
    (user_set, columns): (user_columns::Columns, Columns),
) -> Result<Statement, ApiError> {
    let user_window = users.window()?;
    let post_window = posts.window()?;
    let (user_sort, _) = users.sort();
    let (post_sort, _) = posts.sort();
    let page = Alias::new("page");
    let sub = Alias::new("sub");
    let mut outer = Query::select();
    let on = || Condition::all().add(Expr::cust("TRUE"));
    match source {
        Source::Parents(parents) if backend == DbBackend::Postgres => {
            let parent = Alias::new("blogql_parent");
            let user_page = user_window
                .bound(users.select(viewer)?, &user_sort)
                .filter(users.parent().eq(Expr::col((parent.clone(), parent.clone()))))
                .expr_as(users.parent(), PARENT)
                .order_by(user_sort.column, user_window.order(&user_sort))
                .order_by(user_sort.id_column, user_window.order(&user_sort))
                .limit(user_window.fetch_limit())
                .into_query();
            let unnest = Func::cust("unnest").arg(Expr::cust_with_expr(
                "CAST($1 AS int4[])",
                Expr::val(array_param(DbBackend::Postgres, parents)),
            ));
            outer.from_function(unnest, parent).join_lateral(
                JoinType::InnerJoin,
                user_page,
                page.clone(),
                on(),
            );
        }
        Source::Parents(parents) => {
            outer.from_subquery(limited_union(users, viewer, &user_window, parents)?, page.clone());
        }
        Source::Organization(id) => {
            // The organization's columns come once, on a row of their own (`head` below),
            // not again on each user and post row: PostgreSQL produces and sends every
            // column of the outer select list. Its users only if it is visible.
            for _ in organization_columns::COLUMNS {
                outer.expr(Expr::cust("NULL"));
            }
            let user_page = limited_union(users, viewer, &user_window, &[id])?;
            outer
                .from_subquery(visible_organization(viewer, id), Alias::new("org"))
                .join_subquery(JoinType::InnerJoin, user_page, page.clone(), on());
        }
    }
    outer.expr(Expr::col((page.clone(), Alias::new(PARENT))));
    for column in user_set.iter() {
        outer.expr(Expr::col((page.clone(), Alias::new(column.as_str()))));
    }
    for column in columns.iter() {
        outer.expr(Expr::col((sub.clone(), Alias::new(column.as_str()))));
    }
    // This user's posts page: `posts.user_id = page.id`, bounded and limited like the
    // posts loader's own pages.
    let post_page = post_window
        .bound(posts.select(viewer)?, &post_sort)
        .filter(
            posts
                .parent()
                .eq(Expr::col((page.clone(), Alias::new(user::Column::Id.as_str())))),
        )
        .order_by(post_sort.column, post_window.order(&post_sort))
        .order_by(post_sort.id_column, post_window.order(&post_sort))
        .limit(post_window.fetch_limit());
    match backend {
        DbBackend::Postgres => {
            // Only the columns read: a shorter statement to build and send (the planner
            // would put NULLs in place of the unused ones itself, `EXPLAIN VERBOSE`).
            let post_page = post_columns::select(post_page, columns).into_query();
            outer.join_lateral(JoinType::LeftJoin, post_page, sub.clone(), on());
        }
        _ => {
            let ids: SelectStatement = post_page.select_only().column(post::Column::Id).into_query();
            outer.join_as(
                JoinType::LeftJoin,
                post::Entity,
                sub.clone(),
                Expr::col((sub.clone(), Alias::new(post::Column::Id.as_str()))).in_subquery(ids),
            );
        }
    }
    let user_order = user_window.order(&user_sort);
    let post_order = post_window.order(&post_sort);
    if let Source::Organization(id) = source {
        // The organization's row, then its users' rows, in page order. A `UNION ALL` is
        // ordered by the positions of its output columns (1-based): the organization's row
        // is the one without a parent.
        let parent_at = organization_columns::COLUMNS.len() + 1;
        let users_at = parent_at + 1;
        let posts_at = users_at + user_set.len();
        let (Some(user_sort_at), Some(user_id_at), Some(post_sort_at), Some(post_id_at)) = (
            position(user_set.iter(), user_sort.column),
            position(user_set.iter(), user_sort.id_column),
            position(columns.iter(), post_sort.column),
            position(columns.iter(), post_sort.id_column),
        ) else {
            return Err(ApiError::Internal(
                "a nested page's sort column is not selected".into(),
            ));
        };
        let mut head = Query::select();
        let org = Alias::new("org");
        for column in organization_columns::COLUMNS {
            head.expr(Expr::col((org.clone(), Alias::new(column.as_str()))));
        }
        for _ in parent_at..posts_at + columns.len() {
            head.expr(Expr::cust("NULL"));
        }
        let at = |position: usize| Expr::cust(position.to_string());
        head.from_subquery(visible_organization(viewer, id), org)
            .union(UnionType::All, outer)
            .order_by_expr_with_nulls(at(parent_at), Order::Asc, NullOrdering::First)
            .order_by_expr(at(users_at + user_sort_at), user_order.clone())
            .order_by_expr(at(users_at + user_id_at), user_order)
            .order_by_expr(at(posts_at + post_sort_at), post_order.clone())
            .order_by_expr(at(posts_at + post_id_at), post_order);
        return Ok(backend.build(&head));
    }
    outer
        .order_by(
            (page.clone(), Alias::new(user_sort.column.as_str())),
            user_order.clone(),
        )
        .order_by((page, Alias::new(user_sort.id_column.as_str())), user_order)
        .order_by(
            (sub.clone(), Alias::new(post_sort.column.as_str())),
            post_order.clone(),
        )
        .order_by((sub, Alias::new(post_sort.id_column.as_str())), post_order);
    Ok(backend.build(&outer))
}

/// Organization `id` if `viewer` may see it (every column).
fn visible_organization(viewer: &Viewer, id: i32) -> SelectStatement {
    scope::organizations(viewer, Deleted::Exclude)
        .filter(organization::Column::Id.eq(id))
        .into_query()
}

/// The 0-based position of `column` among `columns`.
fn position<C: IdenStatic>(columns: impl Iterator<Item = C>, column: C) -> Option<usize> {
    columns
        .map(|c| c.as_str())
        .position(|name| name == column.as_str())
}
