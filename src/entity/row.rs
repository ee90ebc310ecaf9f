//! Values of a row read by position, for the selects whose column order is ours
//! (`post_columns`, `user_columns`, `organization_columns`, the nested pages).
//!
//! On PostgreSQL a value is decoded straight from sqlx's row without the type check
//! SeaORM's getter goes through (`try_get`: the column's type compared with the Rust
//! type's, for every value: ~300 of the ~500 instructions a value cost on a page of 50
//! posts with their users, callgrind). The check is redundant here: these statements
//! select table columns whose types the migrations fix, and a mismatch still fails
//! (the binary decoders check the value's length and encoding) as a `DbErr`, never a
//! panic. SQLite keeps SeaORM's getter.
use sea_orm::{
    ActiveEnum, DbErr, QueryResult, TryGetable,
    sqlx::{self, Row},
};

/// The value at position `at` of `row`.
pub fn get<T>(row: &QueryResult, at: usize) -> Result<T, DbErr>
where
    T: TryGetable + for<'r> sqlx::Decode<'r, sqlx::Postgres>,
{
    match row.try_as_pg_row() {
        Some(pg) => pg
            .try_get_unchecked::<T, usize>(at)
            .map_err(|e| DbErr::Type(format!("column {at}: {e}"))),
        None => row.try_get_by_index(at),
    }
}

/// The string enum (`status`, `role`, `plan`) at position `at` of `row`.
pub fn get_enum<E>(row: &QueryResult, at: usize) -> Result<E, DbErr>
where
    E: ActiveEnum<Value = String> + TryGetable,
{
    match row.try_as_pg_row() {
        Some(pg) => {
            let value = pg
                .try_get_unchecked::<&str, usize>(at)
                .map_err(|e| DbErr::Type(format!("column {at}: {e}")))?;
            E::try_from_value(&value.to_owned())
        }
        None => row.try_get_by_index(at),
    }
}
