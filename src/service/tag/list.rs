//! The tag list spec (filter, orders, page), and a tag's posts as a nested list.
use sea_orm::{
    ColumnTrait, DbErr, FromQueryResult, JoinType, Order, QueryFilter, QueryOrder, QueryResult, QuerySelect,
    QueryTrait, RelationTrait, Select,
    sea_query::{Expr, ExprTrait, Func, LikeExpr, Query},
};

use crate::{
    auth::Viewer,
    db::Db,
    entity::{
        post,
        post_columns::Columns,
        post_tag,
        scope::{self, Deleted},
        tag,
    },
    error::ApiResult,
    query::{ChildList, Count, KeyOf, Page, PageArgs, Sort, SortKey, Window, child::SortOf, paginate},
    service::{
        guard,
        post::{Engine, Parent, PostList, check_nested},
        validate,
    },
};

/// Conditions a listed tag must meet.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct TagConditions {
    /// A case-insensitive substring of the name.
    pub search: Option<String>,
}

/// The orders of a tag list; ties are broken by id.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TagSort {
    #[default]
    Name,
    CreatedAt,
    /// The number of live posts the caller can read (`postCount`).
    PostCount,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct TagList {
    pub filter: TagConditions,
    pub sort: TagSort,
    pub descending: bool,
    pub page: PageArgs,
    pub include_deleted: bool,
}

impl TagList {
    /// The tags a viewer may list, optionally of one organization, filtered.
    fn select(&self, viewer: &Viewer, organization_id: Option<i32>) -> ApiResult<Select<tag::Entity>> {
        let mut select = scope::tags(viewer, guard::deleted(viewer, self.include_deleted)?);
        if let Some(org) = organization_id {
            select = select.filter(tag::Column::OrganizationId.eq(org));
        }
        if let Some(search) = &self.filter.search {
            let pattern = validate::search_pattern(search)?;
            select = select.filter(
                Expr::expr(Func::lower(Expr::col((tag::Entity, tag::Column::Name))))
                    .like(LikeExpr::new(pattern).escape('\\')),
            );
        }
        Ok(select)
    }
}

/// The number of live posts `viewer` can read that link to the row's tag, as a scalar
/// subquery of a tag list (the value of `postCount`).
fn post_count(viewer: &Viewer) -> Expr {
    let readable = scope::posts(viewer, Deleted::Exclude)
        .select_only()
        .column(post::Column::Id)
        .into_query();
    Expr::from(
        Query::select()
            .expr(Expr::cust("COUNT(*)"))
            .from(post_tag::Entity)
            .and_where(
                Expr::col((post_tag::Entity, post_tag::Column::TagId)).equals((tag::Entity, tag::Column::Id)),
            )
            .and_where(Expr::col((post_tag::Entity, post_tag::Column::PostId)).in_subquery(readable))
            .to_owned(),
    )
}

/// A tag with its post count, read by a list ordered by POST_COUNT.
struct CountedTag {
    tag: tag::Model,
    post_count: i64,
}

impl FromQueryResult for CountedTag {
    fn from_query_result(res: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        Ok(CountedTag {
            post_count: res.try_get(pre, "blogql_post_count")?,
            tag: tag::Model::from_query_result(res, pre)?,
        })
    }
}

/// One page of the tags a viewer may list (of one organization, or all they can see);
/// `rows_wanted` false runs only its count.
pub async fn page(
    db: &Db,
    viewer: &Viewer,
    organization_id: Option<i32>,
    list: &TagList,
    rows_wanted: bool,
) -> ApiResult<Page<tag::Model>> {
    let select = list.select(viewer, organization_id)?;
    let (column, field, key): (_, _, KeyOf<tag::Model>) = match list.sort {
        TagSort::Name => (tag::Column::Name, "NAME", |t| {
            (SortKey::Text(t.name.clone()), t.id)
        }),
        TagSort::CreatedAt => (tag::Column::CreatedAt, "CREATED_AT", |t| {
            (SortKey::Time(t.created_at), t.id)
        }),
        TagSort::PostCount => return by_post_count(db, viewer, select, list, rows_wanted).await,
    };
    let sort = Sort {
        column,
        id_column: tag::Column::Id,
        field,
        descending: list.descending,
    };
    paginate(db, select, &sort, &list.page, key, rows_wanted).await
}

/// A page ordered by the post count the viewer sees: the count is computed by the query,
/// and the keyset bound compares it with the cursor's.
async fn by_post_count(
    db: &Db,
    viewer: &Viewer,
    select: Select<tag::Entity>,
    list: &TagList,
    rows_wanted: bool,
) -> ApiResult<Page<tag::Model>> {
    const FIELD: &str = "POST_COUNT";
    let window = Window::new(&list.page, FIELD)?;
    let count = Count::of_query(db, select.clone().into_query());
    let key = post_count(viewer);
    let id = Expr::col((tag::Entity, tag::Column::Id));
    let order = if window.fetches_descending(list.descending) {
        Order::Desc
    } else {
        Order::Asc
    };
    let rows = if rows_wanted {
        window
            .bound_by(select, [key.clone(), id.clone()], list.descending)
            .expr_as(key.clone(), "blogql_post_count")
            .order_by(key, order.clone())
            .order_by(id, order)
            .limit(window.fetch_limit())
            .into_model::<CountedTag>()
            .all(db)
            .await?
    } else {
        Vec::new()
    };
    let page = window.page(
        rows,
        FIELD,
        |t| {
            (
                SortKey::Int(i32::try_from(t.post_count).unwrap_or(i32::MAX)),
                t.tag.id,
            )
        },
        count,
    );
    Ok(Page {
        rows: page
            .rows
            .into_iter()
            .map(|(cursor, row)| (cursor, row.tag))
            .collect(),
        has_previous_page: page.has_previous_page,
        has_next_page: page.has_next_page,
        count: page.count,
    })
}

/// `Tag.posts` (and, unpaged, `Tag.postCount`) as a loader key: a post list joined with
/// the links, whose parent is the link's tag.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TagPosts(pub PostList);

impl TagPosts {
    /// The key of `postCount`: every live post the caller can read.
    pub fn count_all(engine: Engine) -> Self {
        TagPosts(PostList {
            filter: Default::default(),
            sort: Default::default(),
            descending: true,
            page: PageArgs::default(),
            include_deleted: false,
            columns: Columns::REQUIRED,
            engine,
        })
    }
}

impl ChildList for TagPosts {
    type Entity = post::Entity;

    fn select(&self, viewer: &Viewer) -> ApiResult<Select<post::Entity>> {
        check_nested(&self.0)?;
        Ok(self
            .0
            .select(viewer, Parent::Any)?
            .join(JoinType::InnerJoin, post_tag::Relation::Post.def().rev()))
    }
    fn parent(&self) -> Expr {
        Expr::col((post_tag::Entity, post_tag::Column::TagId))
    }
    fn sort(&self) -> SortOf<post::Entity> {
        self.0.sort()
    }
    fn page_args(&self) -> &PageArgs {
        &self.0.page
    }
    fn unpaged(&self) -> Self {
        let mut list = self.clone();
        list.0.page = PageArgs::default();
        list
    }
}
