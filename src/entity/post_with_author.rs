//! A post list joined with the posts' authors, decoded by column position.
//!
//! `find_also_related` decodes each joined column by a prefixed name (`"A_" + column`),
//! formatted and hashed anew for every column of every row: a fifth of the server's CPU
//! on a page of 20 posts with their authors. Here the select lists the columns in a fixed
//! order and the rows are read by index; `COLUMNS` below is the one place that order lives.
use sea_orm::{
    DbErr, FromQueryResult, JoinType, QueryResult, QuerySelect, RelationTrait, Select, SelectModel, Selector,
    sea_query::Expr,
};

use super::{post, user};

const POST_COLUMNS: [post::Column; 15] = [
    post::Column::Id,
    post::Column::UserId,
    post::Column::OrganizationId,
    post::Column::Title,
    post::Column::Content,
    post::Column::Status,
    post::Column::ViewCount,
    post::Column::Slug,
    post::Column::Excerpt,
    post::Column::Featured,
    post::Column::PublishedAt,
    post::Column::PublishAt,
    post::Column::CreatedAt,
    post::Column::UpdatedAt,
    post::Column::DeletedAt,
];

const USER_COLUMNS: [user::Column; 10] = [
    user::Column::Id,
    user::Column::Username,
    user::Column::Email,
    user::Column::FullName,
    user::Column::IsActive,
    user::Column::OrganizationId,
    user::Column::Role,
    user::Column::CreatedAt,
    user::Column::UpdatedAt,
    user::Column::DeletedAt,
];

/// A post and its author (`None` if the author row is missing).
pub struct PostWithAuthor {
    pub post: post::Model,
    pub author: Option<user::Model>,
}

/// `select` (its conditions, order and limit) with the posts' columns, `content` read as
/// NULL unless `with_content`, then the author's columns, through a left join.
pub fn select(select: Select<post::Entity>, with_content: bool) -> Selector<SelectModel<PostWithAuthor>> {
    let mut select = select.select_only();
    for column in POST_COLUMNS {
        select = match column {
            post::Column::Content if !with_content => select.expr(Expr::cust("NULL")),
            column => select.column(column),
        };
    }
    let mut select = select.join(JoinType::LeftJoin, post::Relation::Author.def());
    for column in USER_COLUMNS {
        select = select.column(column);
    }
    select.into_model::<PostWithAuthor>()
}

impl FromQueryResult for PostWithAuthor {
    fn from_query_result(row: &QueryResult, _prefix: &str) -> Result<Self, DbErr> {
        let post = post::Model {
            id: row.try_get_by_index(0)?,
            user_id: row.try_get_by_index(1)?,
            organization_id: row.try_get_by_index(2)?,
            title: row.try_get_by_index(3)?,
            content: row.try_get_by_index(4)?,
            status: row.try_get_by_index(5)?,
            view_count: row.try_get_by_index(6)?,
            slug: row.try_get_by_index(7)?,
            excerpt: row.try_get_by_index(8)?,
            featured: row.try_get_by_index(9)?,
            published_at: row.try_get_by_index(10)?,
            publish_at: row.try_get_by_index(11)?,
            created_at: row.try_get_by_index(12)?,
            updated_at: row.try_get_by_index(13)?,
            deleted_at: row.try_get_by_index(14)?,
        };
        let u = POST_COLUMNS.len();
        let author = match row.try_get_by_index::<Option<i32>>(u)? {
            None => None,
            Some(id) => Some(user::Model {
                id,
                username: row.try_get_by_index(u + 1)?,
                email: row.try_get_by_index(u + 2)?,
                full_name: row.try_get_by_index(u + 3)?,
                is_active: row.try_get_by_index(u + 4)?,
                organization_id: row.try_get_by_index(u + 5)?,
                role: row.try_get_by_index(u + 6)?,
                created_at: row.try_get_by_index(u + 7)?,
                updated_at: row.try_get_by_index(u + 8)?,
                deleted_at: row.try_get_by_index(u + 9)?,
            }),
        };
        Ok(PostWithAuthor { post, author })
    }
}
