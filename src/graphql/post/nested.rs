//! The posts list `User.posts` will read, known from the user list above it (its
//! look-ahead), so the users loader can read both levels in one statement
//! (`loaders::nested`).
use async_graphql::{Context, SelectionField};

use super::{PostFilter, PostListArgs, PostOrder, with_column};
use crate::{
    entity::post_columns::Columns,
    graphql::{
        context::db,
        pagination::{field_selects_rows, list_arguments, visit_nodes},
    },
    service::{self, post::PostChildren},
};

/// The posts list of each user of the user connection being resolved in `ctx` (with the
/// post columns its selection reads), when its
/// nodes select exactly one `posts` field that reads rows and whose arguments parse as
/// `User.posts` parses them; `None` otherwise (two `posts` with different arguments, a
/// `{ totalCount }` alone, an argument the resolver would refuse), and `User.posts`
/// then reads its own pages.
pub fn posts_of_user_nodes(ctx: &Context<'_>) -> Option<(PostChildren, Columns)> {
    posts_of_user_nodes_in(ctx, ctx.field())
}

/// `posts_of_user_nodes` for the user connection `users` (a field below the one `ctx`
/// resolves, say).
pub fn posts_of_user_nodes_in(
    ctx: &Context<'_>,
    users: SelectionField<'_>,
) -> Option<(PostChildren, Columns)> {
    let mut posts = Vec::new();
    visit_nodes(users, |field| {
        if field.name() == "posts" {
            posts.push(field);
        }
    });
    let [field] = posts.as_slice() else {
        return None;
    };
    if !field_selects_rows(*field) {
        return None;
    }
    let args = arguments(*field)?;
    let mut columns = Columns::REQUIRED;
    visit_nodes(*field, |node| columns = with_column(columns, node.name()));
    let engine = service::post::Engine::of(db(ctx).ok()?);
    let list = args.into_list_with(columns, engine).ok()?;
    let read = list.read_columns();
    let list = PostChildren {
        by_author: true,
        list: list.nested(),
    };
    Some((list, read))
}

/// `User.posts`'s arguments as its resolver receives them.
fn arguments(field: SelectionField<'_>) -> Option<PostListArgs> {
    let (page, filter, order_by, include_deleted) = list_arguments::<PostFilter, PostOrder>(field)?;
    Some(PostListArgs {
        page,
        filter,
        order_by,
        include_deleted,
    })
}
