//! `search` and `fullText` of post lists: the index-backed condition of each on each
//! database (migration 10), the rules of where they apply, and the RELEVANCE page.
//!
//! - `search` stays `lower(col) LIKE '%term%' ESCAPE '\'` on title or content, the exact
//!   semantics. PostgreSQL serves it with the `pg_trgm` GIN indexes on those very
//!   expressions; on SQLite the FTS5 trigram table `posts_search` finds the candidates
//!   (`posts.id IN (SELECT rowid … MATCH '"term"')`) and the `LIKE` is the final filter.
//!   A term under 3 characters has no trigram: it is accepted only where an organization
//!   (or a narrower parent) bounds the read, and is then read down that index.
//! - `fullText` is `search_vector @@ websearch_to_tsquery('simple', …)` on PostgreSQL and
//!   a `MATCH` of `posts_fulltext` on SQLite; RELEVANCE ranks by `ts_rank` (weights A/B/C
//!   of title, excerpt, content) or by `bm25` with the same order of column weights.
use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, FromQueryResult, JoinType, Order, QueryFilter, QueryOrder,
    QueryResult, QuerySelect, QueryTrait, Select,
    sea_query::{Alias, Condition, Expr, ExprTrait, Func, LikeExpr},
};

use super::{
    fulltext::{self, FullText},
    list::{Parent, PostList, PostPage, PostSort, Read},
};
use crate::{
    auth::Viewer,
    db::Db,
    entity::post,
    error::{ApiError, ApiResult},
    query::{Count, Page, Rank, SortKey, Window},
    service::validate,
};

/// The database a list is built for: the two index their searches differently.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Engine {
    #[default]
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn of(db: &impl ConnectionTrait) -> Engine {
        match db.get_database_backend() {
            DbBackend::Postgres => Engine::Postgres,
            _ => Engine::Sqlite,
        }
    }
}

/// The shortest `search` a trigram index can serve.
pub const MIN_INDEXED: usize = 3;

/// `bm25` weights of title, excerpt and content (SQLite), in the order of PostgreSQL's
/// A, B, C weights (1.0, 0.4, 0.2).
const BM25: &str = "bm25(posts_fulltext, 10.0, 4.0, 1.0)";

/// The condition of `search` (the term trimmed and lowercased).
pub fn search_condition(engine: Engine, value: &str) -> ApiResult<Condition> {
    let term = validate::search_term(value)?;
    let pattern = validate::like_pattern(&term);
    let like = |col: post::Column| {
        Expr::expr(Func::lower(Expr::col((post::Entity, col))))
            .like(LikeExpr::new(pattern.clone()).escape('\\'))
    };
    let exact = Condition::any()
        .add(like(post::Column::Title))
        .add(like(post::Column::Content));
    if engine == Engine::Postgres || term.chars().count() < MIN_INDEXED {
        return Ok(exact);
    }
    let candidates = Expr::cust_with_values(
        "\"posts\".\"id\" IN (SELECT rowid FROM posts_search WHERE posts_search MATCH ?)",
        [fulltext::fts5_substring(&term)],
    );
    Ok(Condition::all().add(candidates).add(exact))
}

/// Whether `search` is too short for the trigram index (checked after its other rules).
pub fn is_short(value: &str) -> ApiResult<bool> {
    Ok(validate::search_term(value)?.chars().count() < MIN_INDEXED)
}

/// The rules of where `search` and `fullText` apply, for a top-level list under `parent`.
pub fn check_top(list: &PostList, parent: Parent) -> ApiResult<()> {
    if let Some(search) = &list.filter.search
        && !matches!(parent, Parent::Organization(_))
        && is_short(search)?
    {
        return Err(ApiError::bad_input(
            "search",
            "`search` under 3 characters needs `organizationId`: across organizations only 3 or more characters can be looked up",
        ));
    }
    Ok(())
}

/// Nested post lists take `search` but not `fullText` (nor its RELEVANCE order).
pub fn check_nested(list: &PostList) -> ApiResult<()> {
    if list.filter.full_text.is_some() {
        return Err(ApiError::bad_input(
            "fullText",
            "`fullText` is available on `Query.posts` (with `organizationId` for one organization), not on nested post lists",
        ));
    }
    Ok(())
}

/// The tsquery of a parsed `fullText` (PostgreSQL), as SQL with one placeholder.
const TSQUERY: &str = "websearch_to_tsquery('simple', $1)";

/// Adds `fullText` to a list's query. SQLite's RELEVANCE order joins `posts_fulltext`
/// (its `bm25` reads the matching row of the full-text query); elsewhere the match is a
/// condition.
pub fn add_full_text(
    mut select: Select<post::Entity>,
    engine: Engine,
    query: &FullText,
    sort: PostSort,
) -> Select<post::Entity> {
    match engine {
        Engine::Postgres => select.filter(Expr::cust_with_values(
            format!("\"posts\".\"search_vector\" @@ {TSQUERY}"),
            [query.websearch()],
        )),
        Engine::Sqlite if sort == PostSort::Relevance => {
            QueryTrait::query(&mut select).join(
                JoinType::InnerJoin,
                Alias::new("posts_fulltext"),
                Expr::cust("posts_fulltext.rowid = \"posts\".\"id\""),
            );
            select.filter(Expr::cust_with_values("posts_fulltext MATCH ?", [query.fts5()]))
        }
        Engine::Sqlite => select.filter(Expr::cust_with_values(
            "\"posts\".\"id\" IN (SELECT rowid FROM posts_fulltext WHERE posts_fulltext MATCH ?)",
            [query.fts5()],
        )),
    }
}

/// A post's relevance, higher is better, as a double on both databases.
fn rank(engine: Engine, query: &FullText) -> Expr {
    match engine {
        Engine::Postgres => Expr::cust_with_values(
            format!("ts_rank(\"posts\".\"search_vector\", {TSQUERY})::float8"),
            [query.websearch()],
        ),
        Engine::Sqlite => Expr::cust(format!("(-{BM25})")),
    }
}

/// A post with its relevance, read by a list ordered by RELEVANCE.
struct RankedPost {
    post: post::Model,
    rank: f64,
}

impl FromQueryResult for RankedPost {
    fn from_query_result(res: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        Ok(RankedPost {
            rank: res.try_get(pre, "blogql_rank")?,
            post: post::Model::from_query_result(res, pre)?,
        })
    }
}

/// A page ordered by RELEVANCE: the rank is computed by the query and the keyset bound
/// compares `(rank, id)` with the cursor's. Authors are left to the user loader.
pub async fn relevance_page(
    db: &Db,
    viewer: &Viewer,
    parent: Parent,
    list: &PostList,
    read: Read,
) -> ApiResult<PostPage> {
    const FIELD: &str = "RELEVANCE";
    let window = Window::new(&list.page, FIELD)?;
    let select = list.select(viewer, parent)?;
    let count = Count::of_query(db, select.clone().into_query());
    let query = list
        .filter
        .full_text
        .as_deref()
        .map(fulltext::parse)
        .transpose()?
        .ok_or_else(|| ApiError::bad_input("orderBy", "`RELEVANCE` orders a `fullText` search"))?;
    let key = rank(list.engine, &query);
    let id = Expr::col((post::Entity, post::Column::Id));
    let order = if window.fetches_descending(list.descending) {
        Order::Desc
    } else {
        Order::Asc
    };
    let rows = if read == Read::CountOnly {
        Vec::new()
    } else {
        window
            .bound_by(select, [key.clone(), id.clone()], list.descending)
            .expr_as(key.clone(), "blogql_rank")
            .order_by(key, order.clone())
            .order_by(id, order)
            .limit(window.fetch_limit())
            .into_model::<RankedPost>()
            .all(db)
            .await?
    };
    let page = window.page(rows, FIELD, |r| (SortKey::Rank(Rank(r.rank)), r.post.id), count);
    Ok(PostPage {
        page: Page {
            rows: page
                .rows
                .into_iter()
                .map(|(cursor, row)| (cursor, row.post))
                .collect(),
            has_previous_page: page.has_previous_page,
            has_next_page: page.has_next_page,
            count: page.count,
        },
        authors: Vec::new(),
    })
}
