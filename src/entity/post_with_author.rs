//! A post list joined with the posts' authors, decoded by column position.
//!
//! `find_also_related` decodes each joined column by a prefixed name (`"A_" + column`),
//! formatted and hashed anew for every column of every row: a fifth of the server's CPU
//! on a page of 20 posts with their authors. Here the select lists the columns in a fixed
//! order and the rows are read by index: the posts' as `post_columns` places them, then
//! `USER_COLUMNS`.
use sea_orm::{
    ConnectionTrait, DbErr, JoinType, QueryResult, QuerySelect, QueryTrait, RelationTrait, Select,
    sea_query::Expr,
};

use super::{
    post,
    post_columns::{self, Columns},
    user,
};

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

/// The rows of `select` (its conditions, order and limit) with the posts' `columns`, then
/// their authors' columns, through a left join: one statement.
pub async fn all(
    db: &impl ConnectionTrait,
    select: Select<post::Entity>,
    columns: Columns,
) -> Result<Vec<PostWithAuthor>, DbErr> {
    let mut select =
        post_columns::select(select, columns).join(JoinType::LeftJoin, post::Relation::Author.def());
    for column in USER_COLUMNS {
        // Plain columns, as in `post_columns::select` (`role` is a string, not an enum).
        select = select.expr(Expr::col((user::Entity, column)));
    }
    db.query_all(&select.into_query())
        .await?
        .iter()
        .map(|row| decode(row, columns))
        .collect()
}

fn decode(row: &QueryResult, columns: Columns) -> Result<PostWithAuthor, DbErr> {
    let post = post_columns::decode(row, columns, 0)?;
    let u = columns.len();
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
