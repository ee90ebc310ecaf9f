//! An organization's columns in a fixed order, read by position: the first columns of
//! `organization(id:)`'s one statement with its users and their posts (`loaders::nested`).
use sea_orm::{DbErr, QueryResult};

use super::organization;

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
        id: row.try_get_by_index(o)?,
        name: row.try_get_by_index(o + 1)?,
        slug: row.try_get_by_index(o + 2)?,
        plan: row.try_get_by_index(o + 3)?,
        is_active: row.try_get_by_index(o + 4)?,
        created_at: row.try_get_by_index(o + 5)?,
        updated_at: row.try_get_by_index(o + 6)?,
        deleted_at: row.try_get_by_index(o + 7)?,
    })
}
