//! An organization's columns in a fixed order, read by position: the first columns of
//! `organization(id:)`'s one statement with its users and their posts (`loaders::nested`).
use sea_orm::{DbErr, QueryResult};

use super::{
    organization,
    row::{get, get_enum},
};

/// Every column of `organizations`, in the order the statement selects them.
pub const COLUMNS: [organization::Column; 8] = [
    organization::Column::Id,
    organization::Column::Name,
    organization::Column::Slug,
    organization::Column::Plan,
    organization::Column::IsActive,
    organization::Column::CreatedAt,
    organization::Column::UpdatedAt,
    organization::Column::DeletedAt,
];

/// The organization whose `COLUMNS` start at position `start` of `row`.
pub fn decode(row: &QueryResult, start: usize) -> Result<organization::Model, DbErr> {
    let o = start;
    Ok(organization::Model {
        id: get(row, o)?,
        name: get(row, o + 1)?,
        slug: get(row, o + 2)?,
        plan: get_enum(row, o + 3)?,
        is_active: get(row, o + 4)?,
        created_at: get(row, o + 5)?,
        updated_at: get(row, o + 6)?,
        deleted_at: get(row, o + 7)?,
    })
}
