//! What every audited, soft-deletable table shares (organizations, users, posts, tags): the
//! scoped lookup by id, insert / update / soft delete / restore with their audit entries,
//! and the `deleted_at` cascade to a parent's rows.
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    Iterable, ModelTrait, QueryFilter, QueryTrait, Select, sea_query::Expr,
};
use serde::Serialize;

use super::{Actor, Lock, audit, now};
use crate::{
    auth::Viewer,
    db::Txn,
    entity::{
        audit_log::Action,
        organization, post,
        scope::{self, Deleted},
        tag, user,
    },
    error::{ApiError, ApiResult},
};

/// A table of records with an id, an organization, `updated_at` and `deleted_at`.
pub trait Record: EntityTrait<Model: Timestamped + Serialize> {
    /// The table name audit entries carry.
    const TABLE: &'static str;
    /// The rows `viewer` may see (the tenant scopes of `entity::scope`).
    fn visible(viewer: &Viewer, deleted: Deleted) -> Select<Self>;
    fn id_column() -> Self::Column;
    fn deleted_at_column() -> Self::Column;
}

/// A row of a `Record` table.
pub trait Timestamped {
    /// The type's name in messages ("Post not found").
    const NAME: &'static str;
    fn record_id(&self) -> i32;
    /// The organization the row belongs to (an organization's own id).
    fn organization_id(&self) -> i32;
    fn touch(&mut self, at: DateTime<Utc>);
    fn deleted_at(&self) -> Option<DateTime<Utc>>;
}

macro_rules! record {
    ($($module:ident => $table:literal, $name:literal, $scope:path, |$row:ident| $organization:expr);* $(;)?) => {$(
        impl Record for $module::Entity {
            const TABLE: &'static str = $table;
            fn visible(viewer: &Viewer, deleted: Deleted) -> Select<Self> {
                $scope(viewer, deleted)
            }
            fn id_column() -> Self::Column {
                $module::Column::Id
            }
            fn deleted_at_column() -> Self::Column {
                $module::Column::DeletedAt
            }
        }

        impl Timestamped for $module::Model {
            const NAME: &'static str = $name;
            fn record_id(&self) -> i32 {
                self.id
            }
            fn organization_id(&self) -> i32 {
                let $row = self;
                $organization
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

record! {
    organization => "organizations", "Organization", scope::organizations, |row| row.id;
    user => "users", "User", scope::users, |row| row.organization_id;
    post => "posts", "Post", scope::posts, |row| row.organization_id;
    tag => "tags", "Tag", scope::tags, |row| row.organization_id;
}

/// The row `id` of `E` if `viewer` may see it, read with `lock`.
pub async fn find<E: Record>(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: i32,
    deleted: Deleted,
    lock: Lock,
) -> ApiResult<Option<E::Model>> {
    Ok(lock
        .apply(E::visible(viewer, deleted))
        .filter(E::id_column().eq(id))
        .one(db)
        .await?)
}

/// Like `find`, with `NOT_FOUND` for a row the viewer cannot see (or that does not exist).
pub async fn require<E: Record>(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: i32,
    deleted: Deleted,
    lock: Lock,
) -> ApiResult<E::Model> {
    find::<E>(db, viewer, id, deleted, lock)
        .await?
        .ok_or_else(|| ApiError::not_found(<E::Model as Timestamped>::NAME))
}

/// Inserts `row` with its `CREATE` audit entry (the stored row as the new values).
pub async fn insert_audited<A>(
    txn: &Txn,
    actor: &Actor,
    row: A,
) -> ApiResult<<A::Entity as EntityTrait>::Model>
where
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    A::Entity: Record,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
{
    let row = row.insert(txn).await?;
    let entry = audit::Entry {
        organization_id: Some(row.organization_id()),
        action: Action::Create,
        table: <A::Entity as Record>::TABLE,
        record_id: row.record_id(),
        old_values: None,
        new_values: Some(audit::snapshot(&row)),
    };
    audit::record(txn, actor, vec![entry]).await?;
    Ok(row)
}

/// Writes `new` over `old` if any column changed (bumping `updated_at`), with one audit
/// entry holding only the changed columns. Returns the stored row.
pub async fn update_audited<M, A>(txn: &Txn, actor: &Actor, old: M, new: M) -> ApiResult<M>
where
    M: ModelTrait + IntoActiveModel<A> + Serialize + Timestamped,
    A: ActiveModelTrait<Entity = M::Entity> + ActiveModelBehavior + Send,
    M::Entity: Record + EntityTrait<Model = M>,
{
    let Some((old_values, new_values)) = audit::diff(&audit::snapshot(&old), &audit::snapshot(&new)) else {
        return Ok(old);
    };
    let mut new = new;
    new.touch(now());
    let entry = audit::Entry {
        organization_id: Some(old.organization_id()),
        action: Action::Update,
        table: <M::Entity as Record>::TABLE,
        record_id: new.record_id(),
        old_values: Some(old_values),
        new_values: Some(new_values),
    };
    // Only the changed columns are written: a full-row write would overwrite what a
    // concurrent request changed since `old` was read (a counted view, another field, a
    // soft delete).
    let changed: Vec<_> = <M::Entity as EntityTrait>::Column::iter()
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
    audit::record(txn, actor, vec![entry]).await?;
    Ok(row)
}

/// Sets `deleted_at` (a soft delete with `Some`, a restore with `None`) on a row that is
/// still as it was read: if a concurrent request changed it first, the loser gets
/// `NOT_FOUND` (deleting a deleted row) or `BAD_USER_INPUT` (restoring a live one), as
/// if it had come second, so its cascade and audit entries never run twice.
pub async fn set_deleted_at<M, A>(txn: &Txn, row: M, deleted_at: Option<DateTime<Utc>>) -> ApiResult<M>
where
    M: ModelTrait + IntoActiveModel<A> + Timestamped,
    A: ActiveModelTrait<Entity = M::Entity> + ActiveModelBehavior + Send,
    M::Entity: Record + EntityTrait<Model = M>,
{
    let column = <M::Entity as Record>::deleted_at_column();
    let was = match row.deleted_at() {
        None => column.is_null(),
        Some(t) => column.eq(t),
    };
    let mut active = row.into_active_model();
    active.set(column, deleted_at.into());
    match M::Entity::update(active).validate()?.filter(was).exec(txn).await {
        Ok(row) => Ok(row),
        Err(DbErr::RecordNotUpdated) if deleted_at.is_some() => Err(ApiError::not_found(M::NAME)),
        Err(DbErr::RecordNotUpdated) => Err(ApiError::bad_input("id", format!("{} is not deleted", M::NAME))),
        Err(e) => Err(e.into()),
    }
}

/// Moves `deleted_at` from `from` to `to` on the rows of `E` whose `parent` column is
/// `parent_id`: the cascade of a soft delete (`None` → the parent's time) or of its exact
/// restore (that time → `None`). One statement whatever the number of rows; returns
/// their ids.
pub async fn cascade<E: Record>(
    txn: &Txn,
    parent: E::Column,
    parent_id: i32,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<Vec<i32>, DbErr> {
    let deleted_at = E::deleted_at_column();
    let was = match from {
        None => deleted_at.is_null(),
        Some(t) => deleted_at.eq(t),
    };
    let mut update = E::update_many()
        .col_expr(deleted_at, Expr::value(to))
        .filter(parent.eq(parent_id))
        .filter(was)
        .into_query();
    update.returning_col(E::id_column());
    txn.query_all(&update)
        .await?
        .iter()
        .map(|row| row.try_get_by_index::<i32>(0))
        .collect()
}

/// The audit entries of a soft delete (`to` is `Some`) or a restore of `row` and of the
/// rows it cascaded to (`(table, ids)`), one per row, each recording its `deleted_at`
/// change: one statement for the row and one per cascaded table, whatever the count.
pub async fn record_deletion<M>(
    txn: &Txn,
    actor: &Actor,
    row: &M,
    cascaded: &[(&'static str, &[i32])],
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<(), DbErr>
where
    M: ModelTrait + Timestamped,
    M::Entity: Record,
{
    let change = audit::SameChange {
        organization_id: row.organization_id(),
        action: if to.is_some() {
            Action::Delete
        } else {
            Action::Restore
        },
        old_values: audit::deleted_at(from),
        new_values: audit::deleted_at(to),
        // One time for the whole change, as one transaction.
        created_at: now(),
    };
    let own = (<M::Entity as Record>::TABLE, &[row.record_id()][..]);
    for (table, ids) in std::iter::once(&own).chain(cascaded) {
        audit::record_same_change(txn, actor, &change, table, ids).await?;
    }
    Ok(())
}
