//! `organization(id:)` with its users and their posts in one statement, when its
//! look-ahead shows exactly that shape (`loaders::nested::organization_with_users`); the
//! users and posts pages are handed to the request's loaders, where `Organization.users`
//! and `User.posts` take them.
use async_graphql::{Context, SelectionField};
use sea_orm::ConnectionTrait;

use super::{
    context::{db, loaders, viewer},
    pagination::{field_selects_rows, list_arguments, visit_nodes},
    post::posts_of_user_nodes_in,
    user::{UserFilter, UserListArgs, UserOrder},
};
use crate::{
    entity::{organization, post_columns, user_columns},
    error::ApiError,
    loaders::nested,
    query::ChildList,
    service::{post::PostChildren, user::UserChildren},
};

/// Organization `id` read with its users and their posts, if the selection being resolved
/// in `ctx` is that shape and both lists are ones their loaders would run; `Ok(None)` when
/// it is not (the caller reads the organization alone, and each level reads its own).
/// `Ok(Some(None))`: the organization is not visible.
pub async fn with_users_and_posts(
    ctx: &Context<'_>,
    id: i32,
) -> Result<Option<Option<organization::Model>>, ApiError> {
    let Some((users, posts, columns)) = plan(ctx) else {
        return Ok(None);
    };
    let (db, viewer, loaders) = (db(ctx)?, viewer(ctx)?, loaders(ctx)?);
    let backend = db.get_database_backend();
    let Ok(statement) = nested::organization_statement(backend, viewer, id, &users, &posts, columns) else {
        return Ok(None);
    };
    let Some((org, rows)) = nested::organization_with_users(db, statement, id, columns).await? else {
        return Ok(Some(None));
    };
    let (page, pages) = nested::split(rows);
    loaders.prime_posts(posts, pages);
    loaders.prime_users(users, org.id, page);
    Ok(Some(Some(org)))
}

/// The users list and the posts list, with the columns each reads (the users' nodes'
/// fields and the list's sort column; the posts' as `posts_of_user_nodes` finds them),
/// when the selection has exactly one `users` that reads rows and whose nodes have one
/// `posts` of the kind `posts_of_user_nodes` takes. Whether the loaders would accept both lists is checked by
/// building the statement (once, not once to check and once to run).
fn plan(
    ctx: &Context<'_>,
) -> Option<(
    UserChildren,
    PostChildren,
    (user_columns::Columns, post_columns::Columns),
)> {
    let this = ctx.field();
    let mut users = this.selection_set().filter(|field| field.name() == "users");
    let (Some(field), None) = (users.next(), users.next()) else {
        return None;
    };
    if !field_selects_rows(field) {
        return None;
    }
    let list = UserChildren(arguments(field)?.into_list());
    let (posts, columns) = posts_of_user_nodes_in(ctx, field)?;
    let mut user_set = user_columns::Columns::REQUIRED.with(list.sort().0.column);
    visit_nodes(field, |node| {
        if let Some(column) = user_columns::Columns::of_field(node.name()) {
            user_set = user_set.with(column);
        }
    });
    Some((list, posts, (user_set, columns)))
}

/// `Organization.users`'s arguments as its resolver receives them.
fn arguments(field: SelectionField<'_>) -> Option<UserListArgs> {
    let (page, filter, order_by, include_deleted) = list_arguments::<UserFilter, UserOrder>(field)?;
    Some(UserListArgs {
        page,
        filter,
        order_by,
        include_deleted,
    })
}
