//! The rules: permissions, validation, cascades, transactions and audit entries.
//! Everything a mutation does is one call into this module.
pub mod account;
pub mod audit;
pub mod guard;
pub mod organization;
pub mod post;
pub mod user;
pub mod validate;

use crate::db::{Db, Txn};
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use sea_orm::{DbErr, Iterable, SqliteTransactionMode, TransactionOptions};

pub use crate::auth::Actor;

/// How a write transaction locks the rows it reads. Every write path takes row locks in
/// the order an organization's soft delete does — organization, user, post — so
/// concurrent writers wait for each other instead of deadlocking.
///
/// How a write transaction locks the rows it reads (PostgreSQL; SQLite's `BEGIN
/// IMMEDIATE` already serializes writers and ignores these clauses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lock {
    /// A plain read.
    None,
    /// `FOR SHARE`: a parent that must stay live while a child is written.
    Share,
    /// `FOR UPDATE`: the row being changed. A concurrent writer waits, then re-reads the
    /// row, so two soft deletes of one record cannot both succeed.
    Update,
}

impl Lock {
    pub fn apply<E: sea_orm::EntityTrait>(self, select: sea_orm::Select<E>) -> sea_orm::Select<E> {
        use sea_orm::QuerySelect;
        match self {
            Lock::None => select,
            Lock::Share => select.lock_shared(),
            Lock::Update => select.lock_exclusive(),
        }
    }
}

/// The current time at the microsecond precision both databases store, so a value
/// written and read back compares equal (cascade restore matches on it).
pub fn now() -> DateTime<Utc> {
    let t = Utc::now();
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)
}

/// Starts a write transaction. On SQLite it takes the write lock up front (`BEGIN
/// IMMEDIATE`), so it waits on the busy timeout instead of failing with "database is
/// locked" when it would upgrade from reading to writing; PostgreSQL ignores the mode.
pub async fn begin_write(db: &Db) -> Result<Txn, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// Writes `new` over `old` if any column changed (bumping `updated_at`), with one audit
/// entry holding only the changed columns. Returns the stored row.
pub async fn update_audited<M, A>(
    txn: &Txn,
    actor: &Actor,
    table: &'static str,
    organization_id: Option<i32>,
    old: M,
    new: M,
) -> Result<M, crate::error::ApiError>
where
    M: sea_orm::ModelTrait + sea_orm::IntoActiveModel<A> + serde::Serialize + Timestamped,
    A: sea_orm::ActiveModelTrait<Entity = M::Entity> + sea_orm::ActiveModelBehavior + Send,
    M::Entity: sea_orm::EntityTrait<Model = M>,
{
    let Some((old_values, new_values)) = audit::diff(&audit::snapshot(&old), &audit::snapshot(&new)) else {
        return Ok(old);
    };
    let mut new = new;
    new.touch(now());
    let record_id = new.record_id();
    // Only the changed columns are written: a full-row write would overwrite what a
    // concurrent request changed since `old` was read (a counted view, another field, a
    // soft delete).
    let changed: Vec<_> = <M::Entity as sea_orm::EntityTrait>::Column::iter()
        .filter_map(|column| {
            let value = new.get(column);
            (old.get(column) != value).then_some((column, value))
        })
        .collect();
    let mut row = old.into_active_model();
    for (column, value) in changed {
        row.set(column, value);
    }
    let row = row.update(txn).await?;
    audit::record(
        txn,
        actor,
        vec![audit::Entry {
            organization_id,
            action: crate::entity::audit_log::Action::Update,
            table,
            record_id,
            old_values: Some(old_values),
            new_values: Some(new_values),
        }],
    )
    .await?;
    Ok(row)
}

/// Rows with an id, `updated_at` and `deleted_at`: organizations, users, posts.
pub trait Timestamped {
    /// The type's name in messages ("Post not found").
    const NAME: &'static str;
    fn record_id(&self) -> i32;
    fn touch(&mut self, at: DateTime<Utc>);
    fn deleted_at(&self) -> Option<DateTime<Utc>>;
}

macro_rules! timestamped {
    ($($model:path => $name:literal),*) => {$(
        impl Timestamped for $model {
            const NAME: &'static str = $name;
            fn record_id(&self) -> i32 {
                self.id
            }
            fn touch(&mut self, at: DateTime<Utc>) {
                self.updated_at = at;
            }
            fn deleted_at(&self) -> Option<DateTime<Utc>> {
                self.deleted_at
            }
        }
    )*};
}

timestamped!(
    crate::entity::organization::Model => "Organization",
    crate::entity::user::Model => "User",
    crate::entity::post::Model => "Post"
);

/// Sets `deleted_at` (a soft delete with `Some`, a restore with `None`) on a row that is
/// still as it was read: if a concurrent request changed it first, the loser gets
/// `NOT_FOUND` (deleting a deleted row) or `BAD_USER_INPUT` (restoring a live one), as
/// if it had come second.
pub async fn set_deleted_at<M, A>(
    db: &impl sea_orm::ConnectionTrait,
    row: M,
    deleted_at: Option<DateTime<Utc>>,
) -> Result<M, crate::error::ApiError>
where
    M: sea_orm::ModelTrait + sea_orm::IntoActiveModel<A> + Timestamped,
    A: sea_orm::ActiveModelTrait<Entity = M::Entity> + sea_orm::ActiveModelBehavior + Send,
    M::Entity: sea_orm::EntityTrait<Model = M>,
{
    use std::str::FromStr;

    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    use crate::error::ApiError;

    let column = <M::Entity as EntityTrait>::Column::from_str("deleted_at")
        .map_err(|_| ApiError::Internal(format!("{} has no deleted_at column", M::NAME)))?;
    let was = match row.deleted_at() {
        None => column.is_null(),
        Some(t) => column.eq(t),
    };
    let mut active = row.into_active_model();
    active.set(column, deleted_at.into());
    match M::Entity::update(active).validate()?.filter(was).exec(db).await {
        Ok(row) => Ok(row),
        Err(DbErr::RecordNotUpdated) if deleted_at.is_some() => Err(ApiError::not_found(M::NAME)),
        Err(DbErr::RecordNotUpdated) => Err(ApiError::bad_input("id", format!("{} is not deleted", M::NAME))),
        Err(e) => Err(e.into()),
    }
}
