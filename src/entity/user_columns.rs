//! A user's columns in a fixed order, read by position (after a joined row's other
//! columns): `post_with_author` and the nested pages read users this way.
use sea_orm::{DbErr, QueryResult};

use super::{
    column_set::{Ordered, Set},
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

/// A set of `users` columns, for a read that selects only what a selection needs; the
/// id and the organization are always in it (`id`, `posts`, `organization` read them). A
/// model read with a set holds defaults for the other columns: it goes only to the
/// selection it was read for.
pub type Columns = Set<user::Column>;

impl Ordered for user::Column {
    const ORDER: &'static [user::Column] = &COLUMNS;

    fn position(self) -> usize {
        use user::Column::*;
        match self {
            Id => 0,
            Username => 1,
            Email => 2,
            FullName => 3,
            IsActive => 4,
            OrganizationId => 5,
            Role => 6,
            CreatedAt => 7,
            UpdatedAt => 8,
            DeletedAt => 9,
        }
    }
}

impl Set<user::Column> {
    /// The columns every read selects: the id and the organization.
    pub const REQUIRED: Columns = Columns::from_bits(0b10_0001);

    /// The column the `User` field `name` reads, if it reads one of its own.
    pub fn of_field(name: &str) -> Option<user::Column> {
        Some(match name {
            "username" => user::Column::Username,
            "email" => user::Column::Email,
            "fullName" => user::Column::FullName,
            "isActive" => user::Column::IsActive,
            "role" => user::Column::Role,
            "createdAt" => user::Column::CreatedAt,
            "updatedAt" => user::Column::UpdatedAt,
            "deletedAt" => user::Column::DeletedAt,
            _ => return None,
        })
    }
}

/// The user whose `columns` start at position `start` of `row` (in `COLUMNS` order, as
/// `Columns::iter` lists them), with defaults for the others; `None` when the id there is
/// NULL (a left join that found no user).
pub fn decode_set(row: &QueryResult, start: usize, columns: Columns) -> Result<Option<user::Model>, DbErr> {
    let Some(id) = get::<Option<i32>>(row, start)? else {
        return Ok(None);
    };
    // The id is always the first column (read above, never asked of `take`).
    let mut positions = columns.positions(start + 1);
    let mut take = |column: user::Column| positions.take(column);
    macro_rules! get {
        ($column:ident) => {
            match take(user::Column::$column) {
                Some(at) => get(row, at)?,
                None => Default::default(),
            }
        };
    }
    // Fields are evaluated in the order written: `COLUMNS`'.
    Ok(Some(user::Model {
        id,
        username: get!(Username),
        email: get!(Email),
        full_name: get!(FullName),
        is_active: get!(IsActive),
        organization_id: get!(OrganizationId),
        role: match take(user::Column::Role) {
            Some(at) => get_enum(row, at)?,
            None => user::Role::Member,
        },
        created_at: get!(CreatedAt),
        updated_at: get!(UpdatedAt),
        deleted_at: get!(DeletedAt),
    }))
}

/// The user whose `COLUMNS` start at position `start` of `row`; `None` when the id there
/// is NULL (a left join that found no user).
pub fn decode_optional(row: &QueryResult, start: usize) -> Result<Option<user::Model>, DbErr> {
    decode_set(row, start, Columns::ALL)
}
