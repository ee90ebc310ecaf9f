//! `Post`: the object, its lists and its queries (mutations in `mutation.rs`).
mod mutation;
mod nested;

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};

pub use self::{
    mutation::PostMutation,
    nested::{posts_of_user_nodes, posts_of_user_nodes_in},
};
use super::{
    context::{db, loaders, viewer},
    enums::{OrderDirection, PostStatus},
    ids::{self, Kind},
    organization::Organization,
    pagination::{Conn, connection, nodes_select, page_args, selects_rows, visit_node_fields},
    tag::Tag,
    user::User,
};
use crate::{
    entity::{post, post_columns::Columns},
    error::ApiError,
    loaders::{children::primed_page, load_page},
    query::ChildList,
    query::PageArgs,
    service::{
        self,
        post::{Parent, PostChildren, PostList, PostSort, Read},
        tag::TagPosts,
    },
};

/// A blog post. Anonymous callers see only published posts of active organizations.
pub struct Post(pub post::Model);

/// A blog post. Anonymous callers see only published posts of active organizations.
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
    /// The post's address within its organization: lowercase letters, digits and single
    /// hyphens, unique among the organization's live posts (`Organization.post(slug:)`).
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    /// A short summary for lists and previews, at most 500 characters.
    async fn excerpt(&self) -> Option<&str> {
        self.0.excerpt.as_deref()
    }
    /// Whether the post is featured (`PostFilter.featured`).
    async fn featured(&self) -> bool {
        self.0.featured
    }
    /// When the post first became PUBLISHED (UTC); kept if it goes back to draft.
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.0.published_at
    }
    /// When the server will publish this SCHEDULED post (UTC); null otherwise.
    async fn publish_at(&self) -> Option<DateTime<Utc>> {
        self.0.publish_at
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
        // The loads below are boxed: async-graphql boxes one future per field of each
        // object, sized for the object's largest field resolver, so an inline load made
        // every `id` and `title` allocate and copy its state too.
        let loaders = loaders(ctx)?;
        let users = loaders.user();
        let user = match users.loader().ready(self.0.user_id) {
            Some(user) => Some(user),
            None => Box::pin(users.load_one(self.0.user_id))
                .await
                .map_err(ApiError::from)?,
        };
        Ok(User(user.ok_or_else(|| {
            ApiError::Internal("post author not visible".into())
        })?))
    }
    /// The organization the post belongs to.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Organization> {
        let org = Box::pin(loaders(ctx)?.organization().load_one(self.0.organization_id))
            .await
            .map_err(ApiError::from)?;
        Ok(Organization(org.ok_or_else(|| {
            ApiError::Internal("post organization not visible".into())
        })?))
    }
    /// The post's tags in the order set with `tagIds` (at most 20); soft-deleted tags are
    /// left out. The tags of a whole page of posts are read in one batch.
    async fn tags(&self, ctx: &Context<'_>) -> Result<Vec<Tag>> {
        let tags = Box::pin(loaders(ctx)?.post_tags().load_one(self.0.id))
            .await
            .map_err(ApiError::from)?
            .unwrap_or_default();
        Ok(tags.into_iter().map(Tag).collect())
    }
}

/// Filters of a post list; all given conditions must hold.
#[derive(InputObject, Default)]
pub struct PostFilter {
    /// Only posts in this state.
    status: Option<PostStatus>,
    /// Only posts by this user (global or database id).
    author_id: Option<ID>,
    /// Only posts with this tag (global or database id). A soft-deleted tag, or one the
    /// caller cannot see, has no posts here.
    tag_id: Option<ID>,
    /// Case-insensitive substring of the title or content (at most 200 characters); `%`,
    /// `_` and `\` match literally. Under 3 characters only within one organization
    /// (`Query.posts(organizationId:)` or a nested list), otherwise `BAD_USER_INPUT`.
    search: Option<String>,
    /// Ranked word search in web-search syntax (at most 200 characters): `word`,
    /// `"a phrase"`, `-excluded` (a word or phrase) and `or` between alternatives; words
    /// match whole and ignoring case, a title weighs more than the excerpt, the excerpt more
    /// than the content. Orders by `RELEVANCE` unless `orderBy` says otherwise. Nothing
    /// left to find (only exclusions or punctuation) is `BAD_USER_INPUT`. `Query.posts`
    /// only: nested post lists refuse it.
    full_text: Option<String>,
    /// Only featured (true) or only other (false) posts.
    featured: Option<bool>,
    /// Only posts created at or after this time.
    created_after: Option<DateTime<Utc>>,
    /// Only posts created before this time.
    created_before: Option<DateTime<Utc>>,
}

impl PostFilter {
    fn into_service(self) -> Result<service::post::PostConditions, ApiError> {
        Ok(service::post::PostConditions {
            status: self.status.map(Into::into),
            author_id: ids::decode_opt(self.author_id.as_ref(), Kind::User, "authorId")?,
            tag_id: ids::decode_opt(self.tag_id.as_ref(), Kind::Tag, "tagId")?,
            search: self.search,
            full_text: self.full_text,
            featured: self.featured,
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
    /// Publication time; lists only posts that have been published.
    PublishedAt,
    /// How well a post matches `filter.fullText` (DESC: best first); only with
    /// `fullText`, where it is the default order.
    Relevance,
}

/// The order of a post list (default: newest first; most relevant first with `fullText`).
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

/// The post columns the selection of a field of type `Post` reads: the `Post` objects
/// built from such a read resolve only those fields.
pub fn columns_of(ctx: &Context<'_>) -> Columns {
    ctx.field()
        .selection_set()
        .fold(Columns::REQUIRED, |columns, field| {
            with_column(columns, field.name())
        })
}

/// `columns` and the column `Post.{field}` reads.
fn with_column(columns: Columns, field: &str) -> Columns {
    let column = match field {
        "title" => post::Column::Title,
        "content" => post::Column::Content,
        "slug" => post::Column::Slug,
        "excerpt" => post::Column::Excerpt,
        "featured" => post::Column::Featured,
        "publishedAt" => post::Column::PublishedAt,
        "publishAt" => post::Column::PublishAt,
        "status" => post::Column::Status,
        "viewCount" => post::Column::ViewCount,
        "createdAt" => post::Column::CreatedAt,
        "updatedAt" => post::Column::UpdatedAt,
        "deletedAt" => post::Column::DeletedAt,
        // `id`, `databaseId`, `author`, `organization`, `tags`: the required columns.
        _ => return columns,
    };
    columns.with(column)
}

/// The arguments every post connection takes.
pub struct PostListArgs {
    pub page: PageArgs,
    pub filter: Option<PostFilter>,
    pub order_by: Option<PostOrder>,
    pub include_deleted: bool,
}

impl PostListArgs {
    /// The service's list spec for a connection being resolved in `ctx`.
    fn into_list(self, ctx: &Context<'_>) -> Result<PostList, ApiError> {
        let mut columns = Columns::REQUIRED;
        visit_node_fields(ctx, |field| columns = with_column(columns, field));
        self.into_list_with(columns, service::post::Engine::of(db(ctx)?))
    }

    /// The service's list spec for a connection whose nodes select `columns`.
    fn into_list_with(self, columns: Columns, engine: service::post::Engine) -> Result<PostList, ApiError> {
        let filter = self.filter.unwrap_or_default().into_service()?;
        let order = match self.order_by {
            Some(order) => order,
            None if filter.full_text.is_some() => PostOrder {
                field: PostOrderField::Relevance,
                direction: OrderDirection::Desc,
            },
            None => PostOrder::default(),
        };
        Ok(PostList {
            filter,
            sort: match order.field {
                PostOrderField::CreatedAt => PostSort::CreatedAt,
                PostOrderField::UpdatedAt => PostSort::UpdatedAt,
                PostOrderField::ViewCount => PostSort::ViewCount,
                PostOrderField::Title => PostSort::Title,
                PostOrderField::PublishedAt => PostSort::PublishedAt,
                PostOrderField::Relevance => PostSort::Relevance,
            },
            descending: order.direction.is_desc(),
            page: self.page,
            include_deleted: self.include_deleted,
            columns,
            engine,
        })
    }
}

/// A nested post list: one batched statement for the pages of all parents at this level.
pub async fn nested_connection(ctx: &Context<'_>, parent: Parent, args: PostListArgs) -> Result<Conn<Post>> {
    let (by_author, parent_id) = match parent {
        Parent::Author(id) => (true, id),
        Parent::Organization(id) => (false, id),
        Parent::Any => return top_connection(ctx, parent, args).await,
    };
    let list = PostChildren {
        by_author,
        list: args.into_list(ctx)?.nested(),
    };
    let loaders = loaders(ctx)?;
    if let Some(rows) = loaders.take_posts(&list, parent_id) {
        let page = primed_page(loaders.post_counts(), parent_id, list, rows)?;
        return Ok(connection(page, Post));
    }
    if !by_author && selects_rows(ctx) && nodes_select(ctx, "author") {
        // The authors in the pages' statement (`loaders::with_authors`), for `Post.author`
        // to find in the user loader. `User.posts`' author is the user above it.
        list.select(viewer(ctx)?)?;
        let rows = Box::pin(
            loaders
                .post_pages_with_authors()
                .load_one((parent_id, list.clone())),
        )
        .await
        .map_err(ApiError::from)?
        .unwrap_or_default();
        let (posts, authors): (Vec<_>, Vec<_>) = rows.into_iter().unzip();
        loaders.user().loader().prime(authors.into_iter().flatten());
        let page = primed_page(loaders.post_counts(), parent_id, list, posts)?;
        return Ok(connection(page, Post));
    }
    let page = load_page(
        viewer(ctx)?,
        loaders.post_pages(),
        loaders.post_counts(),
        parent_id,
        list,
        selects_rows(ctx),
    )
    .await?;
    Ok(connection(page, Post))
}

/// `Tag.posts`: batched like the other nested lists, through the tag's links.
pub async fn tag_connection(ctx: &Context<'_>, tag_id: i32, args: PostListArgs) -> Result<Conn<Post>> {
    let list = TagPosts(args.into_list(ctx)?.nested());
    let loaders = loaders(ctx)?;
    let page = load_page(
        viewer(ctx)?,
        loaders.tag_post_pages(),
        loaders.tag_post_counts(),
        tag_id,
        list,
        selects_rows(ctx),
    )
    .await?;
    Ok(connection(page, Post))
}

/// A top-level post list; authors read with the page are handed to the user loader.
async fn top_connection(ctx: &Context<'_>, parent: Parent, args: PostListArgs) -> Result<Conn<Post>> {
    let list = args.into_list(ctx)?;
    let read = if !selects_rows(ctx) {
        Read::CountOnly
    } else if nodes_select(ctx, "author") {
        Read::RowsWithAuthors
    } else {
        Read::Rows
    };
    let page = service::post::page(db(ctx)?, viewer(ctx)?, parent, &list, read).await?;
    if !page.authors.is_empty() {
        loaders(ctx)?.user().loader().prime(page.authors);
    }
    Ok(connection(page.page, Post))
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
        #[graphql(desc = "Sort order (default CREATED_AT DESC; RELEVANCE DESC with `filter.fullText`).")]
        order_by: Option<PostOrder>,
        #[graphql(desc = "Include soft-deleted posts (admins only).", default = false)] include_deleted: bool,
    ) -> Result<Conn<Post>> {
        let parent = match ids::decode_opt(organization_id.as_ref(), Kind::Organization, "organizationId")? {
            Some(id) => Parent::Organization(id),
            None => Parent::Any,
        };
        let args = PostListArgs {
            page: page_args(ctx, first, after, last, before),
            filter,
            order_by,
            include_deleted,
        };
        top_connection(ctx, parent, args).await
    }

    /// A post by id (global or database id); null when it does not exist or is not visible.
    async fn post(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The post's id.")] id: ID,
    ) -> Result<Option<Post>> {
        let id = ids::decode(&id, Kind::Post, "id")?;
        let columns = columns_of(ctx);
        Ok(service::post::by_id(db(ctx)?, viewer(ctx)?, id, columns)
            .await?
            .map(Post))
    }
}
