//! `Post`: the object, its lists and its queries.
use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};

use super::{
    context::{db, loaders, viewer},
    enums::{OrderDirection, PostStatus},
    ids::{self, Kind},
    organization::Organization,
    pagination::{Conn, KeyOf, PageArgs, PageQuery, Sort, SortKey, Window, selects_rows},
    user::User,
};
use crate::{
    entity::{
        post,
        post_with_author::{self, PostWithAuthor},
    },
    error::ApiError,
    loaders::children::{ChildList, load_page},
    service::{self, post::Parent},
};

/// A blog post. Anonymous callers see only published posts of active organizations.
pub struct Post(pub post::Model);

#[Object]
impl Post {
    /// Opaque global id (Relay).
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Post, self.0.id)
    }
    /// The numeric primary key.
    async fn database_id(&self) -> i32 {
        self.0.id
    }
    /// Title, 1–200 characters.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// Body text.
    async fn content(&self) -> Option<&str> {
        self.0.content.as_deref()
    }
    /// Publication state.
    async fn status(&self) -> PostStatus {
        self.0.status.into()
    }
    /// How many times `recordPostView` counted this post.
    async fn view_count(&self) -> i32 {
        self.0.view_count
    }
    /// Creation time (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Last change (UTC).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// When the post was soft-deleted; null while it is live.
    async fn deleted_at(&self) -> Option<DateTime<Utc>> {
        self.0.deleted_at
    }
    /// The post's author.
    async fn author(&self, ctx: &Context<'_>) -> Result<User> {
        let users = loaders(ctx)?.user();
        let user = match users.loader().ready(self.0.user_id) {
            Some(user) => Some(user),
            None => users.load_one(self.0.user_id).await.map_err(db_error)?,
        };
        Ok(User(user.ok_or_else(|| {
            ApiError::Internal("post author not visible".into())
        })?))
    }
    /// The organization the post belongs to.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Organization> {
        let org = loaders(ctx)?
            .organization()
            .load_one(self.0.organization_id)
            .await
            .map_err(db_error)?;
        Ok(Organization(org.ok_or_else(|| {
            ApiError::Internal("post organization not visible".into())
        })?))
    }
}

pub fn db_error(err: std::sync::Arc<sea_orm::DbErr>) -> ApiError {
    ApiError::from(sea_orm::DbErr::Custom(err.to_string()))
}

/// Filters of a post list; all given conditions must hold.
#[derive(InputObject, Default)]
pub struct PostFilter {
    /// Only posts in this state.
    status: Option<PostStatus>,
    /// Only posts by this user (global or database id).
    author_id: Option<ID>,
    /// Case-insensitive substring of the title or content; `%`, `_` and `\` match literally.
    search: Option<String>,
    /// Only posts created at or after this time.
    created_after: Option<DateTime<Utc>>,
    /// Only posts created before this time.
    created_before: Option<DateTime<Utc>>,
}

impl PostFilter {
    fn into_service(self) -> Result<service::post::PostFilter, ApiError> {
        Ok(service::post::PostFilter {
            status: self.status.map(Into::into),
            author_id: ids::decode_opt(self.author_id.as_ref(), Kind::User, "authorId")?,
            search: self.search,
            created_after: self.created_after,
            created_before: self.created_before,
        })
    }
}

/// Fields a post list can be sorted by; ties are broken by id.
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum PostOrderField {
    /// Creation time.
    CreatedAt,
    /// Last change.
    UpdatedAt,
    /// View count.
    ViewCount,
    /// Title.
    Title,
}

/// The order of a post list (default: newest first).
#[derive(InputObject)]
pub struct PostOrder {
    /// The field to sort by.
    pub field: PostOrderField,
    /// The direction.
    pub direction: OrderDirection,
}

impl Default for PostOrder {
    fn default() -> Self {
        PostOrder {
            field: PostOrderField::CreatedAt,
            direction: OrderDirection::Desc,
        }
    }
}

impl PostOrder {
    fn sort(&self) -> (Sort<post::Column>, KeyOf<post::Model>) {
        let (column, field, key): (_, _, KeyOf<post::Model>) = match self.field {
            PostOrderField::CreatedAt => (post::Column::CreatedAt, "CREATED_AT", |p| {
                (SortKey::Time(p.created_at), p.id)
            }),
            PostOrderField::UpdatedAt => (post::Column::UpdatedAt, "UPDATED_AT", |p| {
                (SortKey::Time(p.updated_at), p.id)
            }),
            PostOrderField::ViewCount => (post::Column::ViewCount, "VIEW_COUNT", |p| {
                (SortKey::Int(p.view_count), p.id)
            }),
            PostOrderField::Title => (post::Column::Title, "TITLE", |p| {
                (SortKey::Text(p.title.clone()), p.id)
            }),
        };
        let sort = Sort {
            column,
            id_column: post::Column::Id,
            field,
            descending: self.direction.is_desc(),
        };
        (sort, key)
    }
}

/// The arguments every post connection takes.
pub struct PostListArgs {
    pub page: PageArgs,
    pub filter: Option<PostFilter>,
    pub order_by: Option<PostOrder>,
    pub include_deleted: bool,
}

/// A nested post list (`Organization.posts`, `User.posts`) as a loader key.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PostChildren {
    by_author: bool,
    filter: service::post::PostFilter,
    field: PostOrderField,
    direction: OrderDirection,
    page: PageArgs,
    include_deleted: bool,
    with_content: bool,
}

impl ChildList for PostChildren {
    type Entity = post::Entity;

    fn select(&self, viewer: &crate::auth::Viewer) -> Result<sea_orm::Select<post::Entity>, ApiError> {
        let select = service::post::list(viewer, Parent::Any, &self.filter, self.include_deleted)?;
        Ok(trim_columns(select, self.with_content))
    }
    fn parent_column(&self) -> post::Column {
        if self.by_author {
            post::Column::UserId
        } else {
            post::Column::OrganizationId
        }
    }
    fn parent_of(&self, row: &post::Model) -> i32 {
        if self.by_author {
            row.user_id
        } else {
            row.organization_id
        }
    }
    fn sort(&self) -> (Sort<post::Column>, KeyOf<post::Model>) {
        PostOrder {
            field: self.field,
            direction: self.direction,
        }
        .sort()
    }
    fn window(&self) -> Result<Window, ApiError> {
        Window::new(&self.page, self.sort().0.field)
    }
    fn unpaged(&self) -> Self {
        PostChildren {
            page: PageArgs::default(),
            ..self.clone()
        }
    }
}

/// A nested post list: one batched statement for the pages of all parents at this level.
pub async fn nested_connection(ctx: &Context<'_>, parent: Parent, args: PostListArgs) -> Result<Conn<Post>> {
    let (by_author, parent_id) = match parent {
        Parent::Author(id) => (true, id),
        Parent::Organization(id) => (false, id),
        Parent::Any => return connection(ctx, parent, args).await,
    };
    let order = args.order_by.unwrap_or_default();
    let list = PostChildren {
        by_author,
        filter: args.filter.unwrap_or_default().into_service()?,
        field: order.field,
        direction: order.direction,
        page: args.page,
        include_deleted: args.include_deleted,
        with_content: selects_content(ctx),
    };
    let loaders = loaders(ctx)?;
    let page = load_page(
        viewer(ctx)?,
        loaders.post_pages(),
        loaders.post_counts(),
        parent_id,
        list,
        selects_rows(ctx),
    )
    .await?;
    Ok(page.into_connection(Post))
}

/// Whether the connection being resolved selects `content` (through `edges.node` or
/// `nodes`, fragments included). Lists that do not — most lists of titles — leave the
/// column out of the query instead of dragging every body through the pool.
fn selects_content(ctx: &Context<'_>) -> bool {
    let look = ctx.look_ahead();
    look.field("edges").field("node").field("content").exists()
        || look.field("nodes").field("content").exists()
}

/// The list's query without `content` (read as NULL) when it is not selected.
fn trim_columns(select: sea_orm::Select<post::Entity>, with_content: bool) -> sea_orm::Select<post::Entity> {
    use sea_orm::{Iterable, QuerySelect, sea_query::Expr};
    if with_content {
        return select;
    }
    select
        .select_only()
        .columns(post::Column::iter().filter(|c| !matches!(c, post::Column::Content)))
        .expr_as(Expr::cust("NULL"), "content")
}

pub async fn connection(ctx: &Context<'_>, parent: Parent, args: PostListArgs) -> Result<Conn<Post>> {
    let viewer = viewer(ctx)?;
    let db = db(ctx)?;
    let filter = args.filter.unwrap_or_default().into_service()?;
    let select = service::post::list(viewer, parent, &filter, args.include_deleted)?;
    let with_content = selects_content(ctx);
    let select = trim_columns(select, with_content);
    let (sort, key) = args.order_by.unwrap_or_default().sort();
    let query = PageQuery::new(db, select, &sort, &args.page)?;
    let rows = if !selects_rows(ctx) {
        Vec::new()
    } else if selects_author(ctx) {
        with_authors(ctx, query.select, with_content).await?
    } else {
        query.select.all(db).await.map_err(ApiError::from)?
    };
    Ok(query
        .window
        .page(rows, sort.field, key, query.count)
        .into_connection(Post))
}

/// Whether the list's nodes select `author`.
fn selects_author(ctx: &Context<'_>) -> bool {
    let look = ctx.look_ahead();
    look.field("edges").field("node").field("author").exists() || look.field("nodes").field("author").exists()
}

/// Runs a page's query joined with the posts' authors (one statement instead of a second
/// one for the authors), and hands the authors to the request's user loader.
///
/// An author is in the viewer's user scope when it belongs to the post's organization: a
/// visible post means its organization is visible (anonymous: public; member: their own;
/// platform admin: all), and the user loader includes deleted users. Posts always belong
/// to their author's organization; should one not, its author is left to the loader.
async fn with_authors(
    ctx: &Context<'_>,
    select: sea_orm::Select<post::Entity>,
    with_content: bool,
) -> Result<Vec<post::Model>> {
    let rows = post_with_author::select(select, with_content)
        .all(db(ctx)?)
        .await
        .map_err(ApiError::from)?;
    let mut posts = Vec::with_capacity(rows.len());
    let mut authors = Vec::with_capacity(rows.len());
    for PostWithAuthor { post, author } in rows {
        if let Some(author) = author.filter(|a| a.organization_id == post.organization_id) {
            authors.push(author);
        }
        posts.push(post);
    }
    loaders(ctx)?.user().loader().prime(authors);
    Ok(posts)
}

#[derive(Default)]
pub struct PostQuery;

#[Object]
impl PostQuery {
    /// Posts, newest first by default: those of one organization, or every post the
    /// caller can see. Anonymous callers get published posts of active organizations.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    async fn posts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only posts of this organization (global or database id).")] organization_id: Option<
            ID,
        >,
        #[graphql(desc = "Page size from the start (0–100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (0–100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
        #[graphql(desc = "Conditions the posts must meet.")] filter: Option<PostFilter>,
        #[graphql(desc = "Sort order (default CREATED_AT DESC).")] order_by: Option<PostOrder>,
        #[graphql(desc = "Include soft-deleted posts (admins only).", default = false)] include_deleted: bool,
    ) -> Result<Conn<Post>> {
        let parent = match ids::decode_opt(organization_id.as_ref(), Kind::Organization, "organizationId")? {
            Some(id) => Parent::Organization(id),
            None => Parent::Any,
        };
        let page = PageArgs {
            first,
            after,
            last,
            before,
        };
        connection(
            ctx,
            parent,
            PostListArgs {
                page,
                filter,
                order_by,
                include_deleted,
            },
        )
        .await
    }

    /// A post by id (global or database id); null when it does not exist or is not visible.
    async fn post(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The post's id.")] id: ID,
    ) -> Result<Option<Post>> {
        let id = ids::decode(&id, Kind::Post, "id")?;
        Ok(service::post::by_id(db(ctx)?, viewer(ctx)?, id).await?.map(Post))
    }
}
