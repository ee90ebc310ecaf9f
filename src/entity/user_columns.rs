//! A user's columns in a fixed order, read by position (after a joined row's other
//! columns): `post_with_author` and the nested pages read users this way.
use sea_orm::{DbErr, QueryResult};

use super::{
    row::{get, get_enum},
    user,
};

/// Every column of `users`, in the order a joined read selects them. Selected as plain
/// columns (`Expr::col`): `role` is a string, not a database enum, so no cast is needed.
pub const COLUMNS: [user::Column; 10] = [
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

/// The user whose `COLUMNS` start at position `start` of `row`; `None` when the id there
/// is NULL (a left join that found no user).
pub fn decode_optional(row: &QueryResult, start: usize) -> Result<Option<user::Model>, DbErr> {
    let Some(id) = get::<Option<i32>>(row, start)? else {
        return Ok(None);
    };
    let u = start;
    Ok(Some(user::Model {
        id,
        username: get(row, u + 1)?,
        email: get(row, u + 2)?,
        full_name: get(row, u + 3)?,
        is_active: get(row, u + 4)?,
        organization_id: get(row, u + 5)?,
        role: get_enum(row, u + 6)?,
        created_at: get(row, u + 7)?,
        updated_at: get(row, u + 8)?,
        deleted_at: get(row, u + 9)?,
    }))
}
