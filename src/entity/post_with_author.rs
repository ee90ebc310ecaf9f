//! A post list joined with the posts' authors, decoded by column position.
//!
//! `find_also_related` decodes each joined column by a prefixed name (`"A_" + column`),
//! formatted and hashed anew for every column of every row: a fifth of the server's CPU
//! on a page of 20 posts with their authors. Here the select lists the columns in a fixed
//! order and the rows are read by index: the posts' as `post_columns` places them, then
//! the author's as `user_columns` does.
use sea_orm::{
    ConnectionTrait, DbErr, JoinType, QueryResult, QuerySelect, QueryTrait, RelationTrait, Select, Statement,
    sea_query::{Expr, SelectStatement},
};

use super::{
    post,
    post_columns::{self, Columns},
    user, user_columns,
};

/// A post and its author (`None` if the author row is missing).
pub struct PostWithAuthor {
    pub post: post::Model,
    pub author: Option<user::Model>,
}

/// `select` (its conditions, order and limit) with the posts' `columns`, then their
/// authors' columns, through a left join.
pub fn query(select: Select<post::Entity>, columns: Columns) -> SelectStatement {
    let mut select =
        post_columns::select(select, columns).join(JoinType::LeftJoin, post::Relation::Author.def());
    for column in user_columns::COLUMNS {
        select = select.expr(Expr::col((user::Entity, column)));
    }
    select.into_query()
}

/// The rows of a `query` statement, reading the posts' `columns`: one statement.
pub async fn all(
    db: &impl ConnectionTrait,
    statement: Statement,
    columns: Columns,
) -> Result<Vec<PostWithAuthor>, DbErr> {
    db.query_all_raw(statement)
        .await?
        .iter()
        .map(|row| decode(row, columns))
        .collect()
}

fn decode(row: &QueryResult, columns: Columns) -> Result<PostWithAuthor, DbErr> {
    let post = post_columns::decode(row, columns, 0)?;
    let author = user_columns::decode_optional(row, columns.len())?;
    Ok(PostWithAuthor { post, author })
}

/// Whether the user loader would return `author` to whoever may see `post`, so a joined
/// read can hand it over: a visible post means its organization is visible (anonymous:
/// public; member: their own; platform admin: all), and the user loader includes deleted
/// users. Posts always belong to their author's organization; should one not, its author
/// is left to the loader.
pub fn author_in_scope(post: &post::Model, author: &user::Model) -> bool {
    author.organization_id == post.organization_id
}
