//! The post list spec: filters and orders of every post list (top-level and nested), and
//! the one entry point that runs a page of it.
use std::{num::NonZeroUsize, sync::LazyLock};

use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, Iterable, QueryFilter, QuerySelect,
    QueryTrait, Select, Statement, sea_query::Expr,
};

use crate::{
    auth::Viewer,
    db::{Db, template::Templates},
    entity::{
        organization,
        post::{self, Status},
        post_columns::{self, Columns},
        post_tag,
        post_with_author::{self, PostWithAuthor, author_in_scope},
        scope::{self, Deleted, PostAudience},
        tag, user,
    },
    error::ApiError,
    error::ApiResult,
    query::{ChildList, Count, KeyOf, Page, PageArgs, PageQuery, Rank, Sort, SortKey, Window, child::SortOf},
    service::guard,
};

use super::{
    fulltext,
    search::{self, Engine},
};

/// Conditions a listed post must meet; all given ones hold.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PostConditions {
    pub status: Option<Status>,
    pub author_id: Option<i32>,
    /// Only posts linked to this live tag.
    pub tag_id: Option<i32>,
    /// A case-insensitive substring of the title or content.
    pub search: Option<String>,
    /// Words in web-search syntax (`service::post::fulltext`).
    pub full_text: Option<String>,
    pub featured: Option<bool>,
    pub created_after: Option<chrono::DateTime<chrono::Utc>>,
    pub created_before: Option<chrono::DateTime<chrono::Utc>>,
}

/// The columns a post list can be ordered by; ties are broken by id.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PostSort {
    #[default]
    CreatedAt,
    UpdatedAt,
    ViewCount,
    Title,
    /// Only posts that have been published (the others have no time to order by).
    PublishedAt,
    /// The `fullText` rank, computed by the query (top-level lists only).
    Relevance,
}

/// Which posts a list is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Parent {
    Any,
    Organization(i32),
    Author(i32),
}

/// What a post list's selection reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Read {
    /// `{ totalCount }` alone: the count, no page.
    CountOnly,
    /// The page's rows.
    Rows,
    /// The rows joined with their authors (one statement for both).
    RowsWithAuthors,
}

/// A post list: filter, order, page and the columns its selection reads (lists of titles
/// leave the bodies out instead of dragging them through the pool).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PostList {
    pub filter: PostConditions,
    pub sort: PostSort,
    pub descending: bool,
    pub page: PageArgs,
    pub include_deleted: bool,
    /// The columns the selection reads. Lists read through the name-decoding paths (nested
    /// lists, RELEVANCE) read every column but an unselected `content`.
    pub columns: Columns,
    /// The database the list is read from: `search` and `fullText` use its indexes.
    pub engine: Engine,
}

impl PostList {
    /// The posts a viewer may list under `parent`, filtered, every column but an
    /// unselected `content`.
    pub fn select(&self, viewer: &Viewer, parent: Parent) -> ApiResult<Select<post::Entity>> {
        let select = self.filtered(viewer, parent)?;
        if self.columns.contains(post::Column::Content) {
            return Ok(select);
        }
        Ok(select
            .select_only()
            .columns(post::Column::iter().filter(|c| !matches!(c, post::Column::Content)))
            .expr_as(Expr::cust("NULL"), "content"))
    }

    /// The list as a key of the nested (name-decoding) paths, which read every column but
    /// an unselected `content`: selections that differ in other columns share a batch.
    #[must_use]
    pub fn nested(mut self) -> Self {
        self.columns = if self.columns.contains(post::Column::Content) {
            Columns::ALL
        } else {
            Columns::ALL.without(post::Column::Content)
        };
        self
    }

    /// The columns a page of this list reads: the selection's and the sort's.
    pub fn read_columns(&self) -> Columns {
        let columns = self.columns.with(self.sort().0.column);
        match self.sort {
            // The key falls back to the creation time (see `sort`).
            PostSort::PublishedAt => columns.with(post::Column::CreatedAt),
            _ => columns,
        }
    }

    /// The posts a viewer may list under `parent`, filtered.
    fn filtered(&self, viewer: &Viewer, parent: Parent) -> ApiResult<Select<post::Entity>> {
        let mut select = scope::posts(viewer, guard::deleted(viewer, self.include_deleted)?);
        select = match parent {
            Parent::Any => select,
            Parent::Organization(id) => {
                let select = select.filter(post::Column::OrganizationId.eq(id));
                match viewer {
                    Viewer::PlatformAdmin { .. } => select,
                    // Implied by the posts scope, which limits the organizations an anonymous
                    // caller or a member sees: said of this one organization too, it lets
                    // PostgreSQL answer for an organization the caller cannot see with one
                    // primary-key read (an initplan) instead of reading all of its posts
                    // (an inactive organization's published posts: 9.5 ms → 0.1 ms).
                    _ => select.filter(Expr::exists(
                        scope::organizations(viewer, Deleted::Include)
                            .select_only()
                            .column(organization::Column::Id)
                            .filter(organization::Column::Id.eq(id))
                            .into_query(),
                    )),
                }
            }
            Parent::Author(id) => select.filter(post::Column::UserId.eq(id)),
        };
        let filter = &self.filter;
        let mut cond = Condition::all();
        if let Some(status) = filter.status {
            cond = cond.add(post::Column::Status.eq(status));
        }
        if let Some(author) = filter.author_id {
            cond = cond.add(post::Column::UserId.eq(author));
        }
        if let Some(tag) = filter.tag_id {
            cond = cond.add(post::Column::Id.in_subquery(tagged(tag)));
        }
        if let Some(featured) = filter.featured {
            cond = cond.add(post::Column::Featured.eq(featured));
        }
        if self.sort == PostSort::PublishedAt {
            cond = cond.add(post::Column::PublishedAt.is_not_null());
        }
        if let Some(after) = filter.created_after {
            cond = cond.add(post::Column::CreatedAt.gte(after));
        }
        if let Some(before) = filter.created_before {
            cond = cond.add(post::Column::CreatedAt.lt(before));
        }
        if let Some(search) = &filter.search {
            cond = cond.add(search::search_condition(self.engine, search)?);
        }
        let mut select = select.filter(cond);
        match &filter.full_text {
            Some(text) => {
                select = search::add_full_text(select, self.engine, &fulltext::parse(text)?, self.sort);
            }
            None if self.sort == PostSort::Relevance => {
                return Err(ApiError::bad_input(
                    "orderBy",
                    "`RELEVANCE` orders the results of `filter.fullText`; without it, order by another field",
                ));
            }
            None => {}
        }
        Ok(select)
    }

    pub fn sort(&self) -> SortOf<post::Entity> {
        let (column, field, key): (_, _, KeyOf<post::Model>) = match self.sort {
            PostSort::CreatedAt => (post::Column::CreatedAt, "CREATED_AT", |p| {
                (SortKey::Time(p.created_at), p.id)
            }),
            PostSort::UpdatedAt => (post::Column::UpdatedAt, "UPDATED_AT", |p| {
                (SortKey::Time(p.updated_at), p.id)
            }),
            PostSort::ViewCount => (post::Column::ViewCount, "VIEW_COUNT", |p| {
                (SortKey::Int(p.view_count), p.id)
            }),
            PostSort::Title => (post::Column::Title, "TITLE", |p| {
                (SortKey::Text(p.title.clone()), p.id)
            }),
            // Listed only with `published_at` set (see `select`).
            PostSort::PublishedAt => (post::Column::PublishedAt, "PUBLISHED_AT", |p| {
                (SortKey::Time(p.published_at.unwrap_or(p.created_at)), p.id)
            }),
            // The rank is computed by the query and read by `search::relevance_page`; the
            // lists that come here (nested ones) refuse `fullText`, so never order by it.
            PostSort::Relevance => (post::Column::Id, "RELEVANCE", |p| {
                (SortKey::Rank(Rank(0.0)), p.id)
            }),
        };
        let sort = Sort {
            column,
            id_column: post::Column::Id,
            field,
            descending: self.descending,
        };
        (sort, key)
    }
}

/// The ids of the posts linked to the live tag `tag`. The posts' scope keeps another
/// organization's out: a foreign tag has no visible posts, like a missing one.
fn tagged(tag: i32) -> sea_orm::sea_query::SelectStatement {
    let live = tag::Entity::find()
        .select_only()
        .column(tag::Column::Id)
        .filter(tag::Column::Id.eq(tag))
        .filter(tag::Column::DeletedAt.is_null())
        .into_query();
    post_tag::Entity::find()
        .select_only()
        .column(post_tag::Column::PostId)
        .filter(post_tag::Column::TagId.in_subquery(live))
        .into_query()
}

/// A page of posts, with the authors read alongside (for the request's user loader).
pub struct PostPage {
    pub page: Page<post::Model>,
    pub authors: Vec<user::Model>,
}

/// One page of a top-level post list: the count-only path, the plain page, or the page
/// joined with its authors.
pub async fn page(
    db: &Db,
    viewer: &Viewer,
    parent: Parent,
    list: &PostList,
    read: Read,
) -> ApiResult<PostPage> {
    search::check_top(list, parent)?;
    if list.sort == PostSort::Relevance {
        return search::relevance_page(db, viewer, parent, list, read).await;
    }
    let (sort, key) = list.sort();
    if read == Read::CountOnly {
        let query = PageQuery::new(db, list.filtered(viewer, parent)?, &sort, &list.page)?;
        return Ok(PostPage {
            page: query.window.page(Vec::new(), sort.field, key, query.count),
            authors: Vec::new(),
        });
    }
    let window = Window::new(&list.page, sort.field)?;
    let columns = list.read_columns();
    let statement = rows_statement(db.get_database_backend(), viewer, parent, list, &window, read)?;
    let (rows, authors) = match read {
        Read::RowsWithAuthors => with_authors(db, statement, columns).await?,
        _ => (post_columns::all(db, statement, columns).await?, Vec::new()),
    };
    // Built only when `totalCount` is read (the rows' statement may come from a template).
    let count = {
        let (db, viewer, list) = (db.clone(), viewer.clone(), list.clone());
        Count::new(move || {
            let (db, viewer, list) = (db.clone(), viewer.clone(), list.clone());
            Box::pin(async move {
                Count::of_query(&db, list.filtered(&viewer, parent)?.into_query())
                    .get()
                    .await
            })
        })
    };
    Ok(PostPage {
        page: window.page(rows, sort.field, key, count),
        authors,
    })
}

/// The statement of a page's rows (with their authors for `RowsWithAuthors`). A list of
/// one organization's posts, without cursors or text search, is built once per shape
/// (audience, list, what it reads) and reused with the next organization's id
/// (`db::template`): building it with sea-query cost ~8% of a page of 20 posts with their
/// authors. Cursors and search text would make nearly every request a shape of its own.
fn rows_statement(
    backend: DbBackend,
    viewer: &Viewer,
    parent: Parent,
    list: &PostList,
    window: &Window,
    read: Read,
) -> ApiResult<Statement> {
    let build = |parent: Parent| -> ApiResult<Statement> {
        let (sort, _) = list.sort();
        let select = window.paged(list.filtered(viewer, parent)?, &sort);
        let query = match read {
            Read::RowsWithAuthors => post_with_author::query(select, list.read_columns()),
            _ => post_columns::select(select, list.read_columns()).into_query(),
        };
        Ok(backend.build(&query))
    };
    let Parent::Organization(id) = parent else {
        return build(parent);
    };
    if window.has_cursor() || list.filter.search.is_some() || list.filter.full_text.is_some() {
        return build(parent);
    }
    type Shape = (bool, PostAudience, Deleted, PostList, bool);
    static TEMPLATES: LazyLock<Templates<Shape>> =
        LazyLock::new(|| Templates::new(NonZeroUsize::new(512).unwrap_or(NonZeroUsize::MIN)));
    let shape = (
        backend == DbBackend::Postgres,
        scope::post_audience(viewer),
        guard::deleted(viewer, list.include_deleted)?,
        list.clone(),
        read == Read::RowsWithAuthors,
    );
    TEMPLATES.statement(shape, id, |id| build(Parent::Organization(id)))
}

/// Runs a page's query joined with the posts' authors (one statement instead of a second
/// one for the authors); the authors the user loader would return (`author_in_scope`).
async fn with_authors(
    db: &Db,
    statement: Statement,
    columns: Columns,
) -> ApiResult<(Vec<post::Model>, Vec<user::Model>)> {
    let rows = post_with_author::all(db, statement, columns).await?;
    let mut posts = Vec::with_capacity(rows.len());
    let mut authors = Vec::with_capacity(rows.len());
    for PostWithAuthor { post, author } in rows {
        if let Some(author) = author.filter(|a| author_in_scope(&post, a)) {
            authors.push(author);
        }
        posts.push(post);
    }
    Ok((posts, authors))
}

/// A nested post list (`Organization.posts`, `User.posts`) as a loader key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PostChildren {
    pub by_author: bool,
    pub list: PostList,
}

impl ChildList for PostChildren {
    type Entity = post::Entity;

    fn select(&self, viewer: &Viewer) -> ApiResult<Select<post::Entity>> {
        search::check_nested(&self.list)?;
        self.list.select(viewer, Parent::Any)
    }
    fn parent(&self) -> Expr {
        if self.by_author {
            Expr::col((post::Entity, post::Column::UserId))
        } else {
            Expr::col((post::Entity, post::Column::OrganizationId))
        }
    }
    fn sort(&self) -> SortOf<post::Entity> {
        self.list.sort()
    }
    fn page_args(&self) -> &PageArgs {
        &self.list.page
    }
    fn unpaged(&self) -> Self {
        let mut list = self.clone();
        list.list.page = PageArgs::default();
        list
    }
}
