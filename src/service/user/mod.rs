//! Users: reads, and create / update / soft delete / restore with the posts cascade.
mod list;

use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, NotSet, PaginatorTrait, QueryFilter};

use super::{Actor, Lock, Record, begin_write, guard, now, rows, validate};
use crate::{
    auth::Viewer,
    db::{Db, Txn, accounts::AccountChange},
    entity::{
        organization, post,
        scope::Deleted,
        user::{self, Role},
    },
    error::{ApiError, ApiResult},
};

pub use self::list::{UserChildren, UserConditions, UserList, UserSort, page};

pub async fn by_id(db: &Db, viewer: &Viewer, id: i32) -> ApiResult<Option<user::Model>> {
    guard::signed_in(viewer)?;
    rows::find::<user::Entity>(db, viewer, id, Deleted::Exclude, Lock::None).await
}

/// Locks a user for a change, after their organization (see `Lock` for the order).
async fn lock_for_change(txn: &Txn, viewer: &Viewer, id: i32, deleted: Deleted) -> ApiResult<user::Model> {
    let find = |lock| rows::require::<user::Entity>(txn, viewer, id, deleted, lock);
    let user = find(Lock::None).await?;
    Lock::Update
        .apply(organization::Entity::find_by_id(user.organization_id))
        .one(txn)
        .await?;
    find(Lock::Update).await
}

pub struct NewUser {
    pub username: String,
    pub email: String,
    pub full_name: Option<String>,
    pub role: Option<Role>,
    pub is_active: Option<bool>,
    pub organization_id: Option<i32>,
}

pub async fn create(db: &Db, actor: &Actor, input: NewUser) -> ApiResult<user::Model> {
    let admin = guard::admin(&actor.viewer, "create users")?;
    let organization_id = match (input.organization_id, admin) {
        (Some(id), _) => id,
        (None, Some(member)) => member.organization_id,
        (None, None) => {
            return Err(ApiError::bad_input(
                "organizationId",
                "`organizationId` is required for platform admins",
            ));
        }
    };
    let username = validate::username(&input.username)?;
    let email = validate::email(&input.email)?;
    let full_name = input
        .full_name
        .as_deref()
        .map(validate::full_name)
        .transpose()?
        .flatten();
    let txn = begin_write(db).await?;
    rows::require::<organization::Entity>(
        &txn,
        &actor.viewer,
        organization_id,
        Deleted::Exclude,
        Lock::Share,
    )
    .await?;
    let t = now();
    let row = user::ActiveModel {
        id: NotSet,
        username: Set(username),
        email: Set(email),
        full_name: Set(full_name),
        is_active: Set(input.is_active.unwrap_or(true)),
        organization_id: Set(organization_id),
        role: Set(input.role.unwrap_or(Role::Member)),
        created_at: Set(t),
        updated_at: Set(t),
        deleted_at: Set(None),
    };
    let user = rows::insert_audited(&txn, actor, row).await?;
    txn.commit().await?;
    Ok(user)
}

#[derive(Default)]
pub struct UserChanges {
    pub username: Option<String>,
    pub email: Option<String>,
    /// `Some(None)` clears the full name.
    pub full_name: Option<Option<String>>,
    pub role: Option<Role>,
    pub is_active: Option<bool>,
}

pub async fn update(db: &Db, actor: &Actor, id: i32, changes: UserChanges) -> ApiResult<user::Model> {
    guard::signed_in(&actor.viewer)?;
    let username = changes.username.as_deref().map(validate::username).transpose()?;
    let email = changes.email.as_deref().map(validate::email).transpose()?;
    let full_name = match &changes.full_name {
        Some(Some(v)) => Some(validate::full_name(v)?),
        Some(None) => Some(None),
        None => None,
    };
    let txn = begin_write(db).await?;
    let old = lock_for_change(&txn, &actor.viewer, id, Deleted::Exclude).await?;
    let is_self = actor.viewer.actor_user_id() == Some(old.id);
    if !actor.viewer.is_admin() {
        if !is_self {
            return Err(ApiError::forbidden("Members can only update their own profile"));
        }
        if changes.role.is_some() || changes.is_active.is_some() {
            return Err(ApiError::forbidden("Only admins can change `role` or `isActive`"));
        }
    }
    let mut new = old.clone();
    if let Some(v) = username {
        new.username = v;
    }
    if let Some(v) = email {
        new.email = v;
    }
    if let Some(v) = full_name {
        new.full_name = v;
    }
    if let Some(v) = changes.role {
        new.role = v;
    }
    if let Some(v) = changes.is_active {
        new.is_active = v;
    }
    let field = if changes.role.is_some() {
        "role"
    } else {
        "isActive"
    };
    if is_active_admin(&old) && !is_active_admin(&new) {
        keep_an_admin(&txn, &old, field).await?;
    }
    if old.role != new.role || old.is_active != new.is_active {
        txn.forget_account(AccountChange::User(id)).await?;
    }
    let user = rows::update_audited(&txn, actor, old, new).await?;
    txn.commit().await?;
    Ok(user)
}

fn is_active_admin(user: &user::Model) -> bool {
    user.role == Role::Admin && user.is_active && user.deleted_at.is_none()
}

/// Refuses a change that would leave `user`'s organization without an active admin. The
/// caller holds the organization's row lock (`lock_for_change`), so two admins demoting
/// each other at once cannot both succeed.
async fn keep_an_admin(txn: &Txn, user: &user::Model, field: &'static str) -> ApiResult<()> {
    let others = user::Entity::find()
        .filter(user::Column::OrganizationId.eq(user.organization_id))
        .filter(user::Column::Id.ne(user.id))
        .filter(user::Column::Role.eq(Role::Admin))
        .filter(user::Column::IsActive.eq(true))
        .filter(user::Column::DeletedAt.is_null())
        .count(txn)
        .await?;
    if others == 0 {
        return Err(ApiError::bad_input(
            field,
            "An organization must keep at least one active admin",
        ));
    }
    Ok(())
}

/// Soft-deletes the user and, with the same timestamp, their live posts.
pub async fn soft_delete(db: &Db, actor: &Actor, id: i32) -> ApiResult<user::Model> {
    guard::admin(&actor.viewer, "delete users")?;
    let txn = begin_write(db).await?;
    let user = lock_for_change(&txn, &actor.viewer, id, Deleted::Exclude).await?;
    if is_active_admin(&user) {
        keep_an_admin(&txn, &user, "id").await?;
    }
    let t = now();
    txn.forget_account(AccountChange::User(id)).await?;
    let user = rows::set_deleted_at(&txn, user, Some(t)).await?;
    let posts = super::post::cascade(&txn, actor, post::Column::UserId, id, None, Some(t)).await?;
    rows::record_deletion(
        &txn,
        actor,
        &user,
        &[(post::Entity::TABLE, &posts.plain)],
        None,
        Some(t),
    )
    .await?;
    posts.emit_events(&txn).await?;
    txn.commit().await?;
    Ok(user)
}

/// Restores the user and exactly the posts their deletion cascaded to.
pub async fn restore(db: &Db, actor: &Actor, id: i32) -> ApiResult<user::Model> {
    guard::admin(&actor.viewer, "restore users")?;
    let txn = begin_write(db).await?;
    let user = lock_for_change(&txn, &actor.viewer, id, Deleted::Include).await?;
    let Some(t) = user.deleted_at else {
        return Err(ApiError::bad_input("id", "User is not deleted"));
    };
    let org = rows::require::<organization::Entity>(
        &txn,
        &actor.viewer,
        user.organization_id,
        Deleted::Include,
        Lock::None,
    )
    .await?;
    if org.deleted_at.is_some() {
        return Err(ApiError::bad_input(
            "id",
            "The user's organization is deleted; restore it first",
        ));
    }
    txn.forget_account(AccountChange::User(id)).await?;
    let user = rows::set_deleted_at(&txn, user, None).await?;
    let posts = super::post::cascade(&txn, actor, post::Column::UserId, id, Some(t), None).await?;
    rows::record_deletion(
        &txn,
        actor,
        &user,
        &[(post::Entity::TABLE, &posts.plain)],
        Some(t),
        None,
    )
    .await?;
    posts.emit_events(&txn).await?;
    txn.commit().await?;
    Ok(user)
}
