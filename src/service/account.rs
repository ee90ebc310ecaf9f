//! The account behind a user's token, for `auth::session`.
use crate::{
    auth::session::Account,
    db::Db,
    entity::{scope, user::Role},
    error::ApiResult,
};

/// The user `id` with their organization's state, in one query.
pub async fn for_token(db: &Db, id: i32) -> ApiResult<Option<Account>> {
    let Some((user, org)) = scope::token_user(db, id).await? else {
        return Ok(None);
    };
    Ok(Some(Account {
        id: user.id,
        organization_id: user.organization_id,
        admin: user.role == Role::Admin,
        usable: user.deleted_at.is_none() && user.is_active && org.deleted_at.is_none() && org.is_active,
    }))
}
