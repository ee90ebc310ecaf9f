//! `Organization.posts { author }`: the organizations' posts pages read with each post's
//! author, in the pages' one statement (a `LEFT JOIN users` on each page row), so the
//! authors need no statement of their own. The caller hands them to the user loader.
//!
//! The join is not scoped: `post_with_author::author_in_scope` keeps the authors the
//! user loader would return, as for a top-level list.
use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::Loader;
use sea_orm::{
    DbErr, FromQueryResult, IdenStatic, JoinType, QueryResult,
    sea_query::{Alias, Expr, ExprTrait, SelectStatement},
};

use super::children::{Beside, WithParent, read_pages};
use crate::{
    auth::Viewer,
    db::Db,
    entity::{post, post_with_author::author_in_scope, user, user_columns},
    error::ApiError,
    service::post::PostChildren,
};

/// A post of a page and its author, when the author is in the viewer's scope.
pub type PostAndAuthor = (post::Model, Option<user::Model>);

/// The author's columns come as `blogql_author_<column>`, beside the post's own.
const PREFIX: &str = "blogql_author_";

/// Posts pages of many parents with their authors. Values are rows in fetch order.
pub struct PostPagesWithAuthors {
    db: Db,
    viewer: Viewer,
}

impl PostPagesWithAuthors {
    pub fn new(db: &Db, viewer: &Viewer) -> Self {
        PostPagesWithAuthors {
            db: db.clone(),
            viewer: viewer.clone(),
        }
    }
}

impl Loader<(i32, PostChildren)> for PostPagesWithAuthors {
    type Value = Vec<PostAndAuthor>;
    type Error = Arc<ApiError>;

    async fn load(
        &self,
        keys: &[(i32, PostChildren)],
    ) -> Result<HashMap<(i32, PostChildren), Self::Value>, Self::Error> {
        read_pages(&self.db, &self.viewer, keys, &Author, |row| {
            let WithParent { parent, row: post } = WithParent::<post::Model>::from_query_result(row, "")?;
            let author = decode_author(row)?.filter(|a| author_in_scope(&post, a));
            Ok((parent, (post, author)))
        })
        .await
    }
}

/// Each page row's author, joined by the post's `user_id`.
struct Author;

impl Beside for Author {
    fn add(&self, query: &mut SelectStatement, page: &Alias) {
        let author = Alias::new("blogql_author");
        for column in user_columns::COLUMNS {
            query.expr_as(
                Expr::col((author.clone(), column)),
                Alias::new(format!("{PREFIX}{}", column.as_str())),
            );
        }
        query.join_as(
            JoinType::LeftJoin,
            user::Entity,
            author.clone(),
            Expr::col((author, user::Column::Id)).equals((page.clone(), post::Column::UserId)),
        );
    }
}

/// The author read beside a post, `None` when the join found none.
fn decode_author(row: &QueryResult) -> Result<Option<user::Model>, DbErr> {
    let id: Option<i32> = row.try_get(PREFIX, user::Column::Id.as_str())?;
    match id {
        None => Ok(None),
        Some(_) => user::Model::from_query_result(row, PREFIX).map(Some),
    }
}
