//! Organizations: reads, and create / update / soft delete / restore with cascades.
use sea_orm::{ActiveValue::Set, ColumnTrait, NotSet, QueryFilter};

use super::{Actor, Lock, Record, begin_write, guard, now, rows, validate};
use crate::{
    auth::Viewer,
    db::{Db, accounts::AccountChange},
    entity::{
        organization::{self, Plan},
        post,
        scope::{self, Deleted},
        tag, user,
    },
    error::{ApiError, ApiResult},
    query::{KeyOf, Page, PageArgs, Sort, SortKey, paginate},
};

/// Conditions a listed organization must meet.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrganizationConditions {
    pub plan: Option<Plan>,
    pub is_active: Option<bool>,
}

/// The columns an organization list can be ordered by; ties are broken by id.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OrganizationSort {
    #[default]
    CreatedAt,
    Name,
}

#[derive(Clone, Debug, Default)]
pub struct OrganizationList {
    pub filter: OrganizationConditions,
    pub sort: OrganizationSort,
    pub descending: bool,
    pub page: PageArgs,
    pub include_deleted: bool,
}

/// One page of the organizations a viewer may list; `rows_wanted` false runs only its
/// count.
pub async fn page(
    db: &Db,
    viewer: &Viewer,
    list: &OrganizationList,
    rows_wanted: bool,
) -> ApiResult<Page<organization::Model>> {
    // Anonymous callers read only `name` and `slug`: filtering or ordering by anything
    // else would tell them what they cannot read (which organizations are ENTERPRISE, in
    // which order they were created; a cursor would carry the time).
    if matches!(viewer, Viewer::Anonymous) {
        let hidden = match (&list.filter, list.sort) {
            (OrganizationConditions { plan: Some(_), .. }, _) => Some("filter by `plan`"),
            (
                OrganizationConditions {
                    is_active: Some(_), ..
                },
                _,
            ) => Some("filter by `isActive`"),
            (_, OrganizationSort::CreatedAt) => Some("order organizations by CREATED_AT"),
            _ => None,
        };
        if let Some(what) = hidden {
            return Err(ApiError::Unauthenticated(format!("Sign in to {what}")));
        }
    }
    let mut select = scope::organizations(viewer, guard::deleted(viewer, list.include_deleted)?);
    if let Some(plan) = list.filter.plan {
        select = select.filter(organization::Column::Plan.eq(plan));
    }
    if let Some(active) = list.filter.is_active {
        select = select.filter(organization::Column::IsActive.eq(active));
    }
    let (column, field, key): (_, _, KeyOf<organization::Model>) = match list.sort {
        OrganizationSort::CreatedAt => (organization::Column::CreatedAt, "CREATED_AT", |o| {
            (SortKey::Time(o.created_at), o.id)
        }),
        OrganizationSort::Name => (organization::Column::Name, "NAME", |o| {
            (SortKey::Text(o.name.clone()), o.id)
        }),
    };
    let sort = Sort {
        column,
        id_column: organization::Column::Id,
        field,
        descending: list.descending,
    };
    paginate(db, select, &sort, &list.page, key, rows_wanted).await
}

pub async fn by_id(db: &Db, viewer: &Viewer, id: i32) -> ApiResult<Option<organization::Model>> {
    rows::find::<organization::Entity>(db, viewer, id, Deleted::Exclude, Lock::None).await
}

pub async fn by_slug(db: &Db, viewer: &Viewer, slug: &str) -> ApiResult<Option<organization::Model>> {
    // PostgreSQL cannot take NUL in a text parameter; it is refused like in any input.
    if slug.contains('\0') {
        return Err(ApiError::bad_input(
            "slug",
            "`slug` must not contain NUL characters",
        ));
    }
    Ok(scope::organizations(viewer, Deleted::Exclude)
        .filter(organization::Column::Slug.eq(slug.trim()))
        .one(db)
        .await?)
}

pub struct NewOrganization {
    pub name: String,
    pub slug: String,
    pub plan: Option<Plan>,
    pub is_active: Option<bool>,
}

pub async fn create(db: &Db, actor: &Actor, input: NewOrganization) -> ApiResult<organization::Model> {
    guard::platform_admin(&actor.viewer, "create organizations")?;
    let name = validate::name(&input.name)?;
    let slug = validate::slug(&input.slug)?;
    let t = now();
    let txn = begin_write(db).await?;
    let row = organization::ActiveModel {
        id: NotSet,
        name: Set(name),
        slug: Set(slug),
        plan: Set(input.plan.unwrap_or(Plan::Free)),
        is_active: Set(input.is_active.unwrap_or(true)),
        created_at: Set(t),
        updated_at: Set(t),
        deleted_at: Set(None),
    };
    let org = rows::insert_audited(&txn, actor, row).await?;
    txn.commit().await?;
    Ok(org)
}

#[derive(Default)]
pub struct OrganizationChanges {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub plan: Option<Plan>,
    pub is_active: Option<bool>,
}

pub async fn update(
    db: &Db,
    actor: &Actor,
    id: i32,
    changes: OrganizationChanges,
) -> ApiResult<organization::Model> {
    guard::admin(&actor.viewer, "update organizations")?;
    if !actor.viewer.is_platform_admin() && (changes.plan.is_some() || changes.is_active.is_some()) {
        return Err(ApiError::forbidden(
            "Only platform admins can change `plan` or `isActive`",
        ));
    }
    let name = changes.name.as_deref().map(validate::name).transpose()?;
    let slug = changes.slug.as_deref().map(validate::slug).transpose()?;
    let txn = begin_write(db).await?;
    let old = rows::require::<organization::Entity>(&txn, &actor.viewer, id, Deleted::Exclude, Lock::Update)
        .await?;
    let mut new = old.clone();
    if let Some(name) = name {
        new.name = name;
    }
    if let Some(slug) = slug {
        new.slug = slug;
    }
    if let Some(plan) = changes.plan {
        new.plan = plan;
    }
    if let Some(is_active) = changes.is_active {
        new.is_active = is_active;
    }
    if old.is_active != new.is_active {
        txn.forget_account(AccountChange::Organization(id)).await?;
    }
    let org = rows::update_audited(&txn, actor, old, new).await?;
    txn.commit().await?;
    Ok(org)
}

/// Soft-deletes the organization and, with the same timestamp, its live users, posts and
/// tags.
pub async fn soft_delete(db: &Db, actor: &Actor, id: i32) -> ApiResult<organization::Model> {
    guard::platform_admin(&actor.viewer, "delete organizations")?;
    set_deleted(db, actor, id, true).await
}

/// Restores the organization and exactly the users, posts and tags its deletion cascaded
/// to.
pub async fn restore(db: &Db, actor: &Actor, id: i32) -> ApiResult<organization::Model> {
    guard::platform_admin(&actor.viewer, "restore organizations")?;
    set_deleted(db, actor, id, false).await
}

async fn set_deleted(db: &Db, actor: &Actor, id: i32, delete: bool) -> ApiResult<organization::Model> {
    let txn = begin_write(db).await?;
    let deleted = if delete {
        Deleted::Exclude
    } else {
        Deleted::Include
    };
    let org = rows::require::<organization::Entity>(&txn, &actor.viewer, id, deleted, Lock::Update).await?;
    let (from, to) = match (delete, org.deleted_at) {
        (true, _) => (None, Some(now())),
        (false, Some(t)) => (Some(t), None),
        (false, None) => return Err(ApiError::bad_input("id", "Organization is not deleted")),
    };
    txn.forget_account(AccountChange::Organization(id)).await?;
    let org = rows::set_deleted_at(&txn, org, to).await?;
    let users = rows::cascade::<user::Entity>(&txn, user::Column::OrganizationId, id, from, to).await?;
    let posts = super::post::cascade(&txn, actor, post::Column::OrganizationId, id, from, to).await?;
    // Tags last (the lock order). No live tag can take a deleted organization's slug or
    // name meanwhile (tags are created in live organizations only), so a restore renames
    // none.
    let tags = rows::cascade::<tag::Entity>(&txn, tag::Column::OrganizationId, id, from, to).await?;
    let cascaded = [
        (user::Entity::TABLE, &users[..]),
        (post::Entity::TABLE, &posts.plain[..]),
        (tag::Entity::TABLE, &tags[..]),
    ];
    rows::record_deletion(&txn, actor, &org, &cascaded, from, to).await?;
    posts.emit_events(&txn).await?;
    txn.commit().await?;
    Ok(org)
}
