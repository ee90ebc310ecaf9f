//! The account behind a user's token, for `auth::session`: from the instance's cache
//! (`db::accounts`) or one statement.
use crate::{
    auth::session::Account,
    db::{Db, accounts::AccountRow},
    entity::scope,
    error::ApiResult,
};

/// The user `id` with their organization's state.
pub async fn for_token(db: &Db, id: i32) -> ApiResult<Option<Account>> {
    let miss = match db.accounts().get(id) {
        Ok(row) => return Ok(Some(account(row))),
        Err(miss) => miss,
    };
    let Some(row) = scope::token_account(db, id).await? else {
        return Ok(None);
    };
    db.accounts().insert(row, miss);
    Ok(Some(account(row)))
}

fn account(row: AccountRow) -> Account {
    Account {
        id: row.id,
        organization_id: row.organization_id,
        admin: row.admin,
        usable: row.usable,
    }
}
