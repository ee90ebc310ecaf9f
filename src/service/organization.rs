//! Organizations: reads, and create / update / soft delete / restore with cascades.
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, NotSet, QueryFilter,
    sea_query::Expr,
};

use super::{Actor, Lock, audit, audit::Entry, begin_write, guard, now, validate};
use crate::{
    auth::Viewer,
    db::Db,
    entity::{
        audit_log::Action,
        organization::{self, Plan},
        post,
        scope::{self, Deleted},
        user,
    },
    error::{ApiError, ApiResult},
    query::{KeyOf, Page, PageArgs, Sort, SortKey, paginate},
};

pub const TABLE: &str = "organizations";

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
    Ok(scope::organizations(viewer, Deleted::Exclude)
        .filter(organization::Column::Id.eq(id))
        .one(db)
        .await?)
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

/// A visible, live organization or `NOT_FOUND`.
pub async fn require(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: i32,
    deleted: Deleted,
    lock: Lock,
) -> ApiResult<organization::Model> {
    lock.apply(scope::organizations(viewer, deleted))
        .filter(organization::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found("Organization"))
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
    let org = organization::ActiveModel {
        id: NotSet,
        name: Set(name),
        slug: Set(slug),
        plan: Set(input.plan.unwrap_or(Plan::Free)),
        is_active: Set(input.is_active.unwrap_or(true)),
        created_at: Set(t),
        updated_at: Set(t),
        deleted_at: Set(None),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor,
        vec![Entry {
            organization_id: Some(org.id),
            action: Action::Create,
            table: TABLE,
            record_id: org.id,
            old_values: None,
            new_values: Some(audit::snapshot(&org)),
        }],
    )
    .await?;
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
    let old = require(&txn, &actor.viewer, id, Deleted::Exclude, Lock::Update).await?;
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
    let org = super::update_audited(&txn, actor, TABLE, Some(old.id), old, new).await?;
    txn.commit().await?;
    Ok(org)
}

/// Soft-deletes the organization and, with the same timestamp, its live users and posts.
pub async fn soft_delete(db: &Db, actor: &Actor, id: i32) -> ApiResult<organization::Model> {
    guard::platform_admin(&actor.viewer, "delete organizations")?;
    let txn = begin_write(db).await?;
    let org = require(&txn, &actor.viewer, id, Deleted::Exclude, Lock::Update).await?;
    let t = now();
    let org = super::set_deleted_at(&txn, org, Some(t)).await?;
    let users = user::Entity::update_many()
        .col_expr(user::Column::DeletedAt, Expr::value(t))
        .filter(user::Column::OrganizationId.eq(id))
        .filter(user::Column::DeletedAt.is_null())
        .exec_with_returning(&txn)
        .await?;
    let posts = post::Entity::update_many()
        .col_expr(post::Column::DeletedAt, Expr::value(t))
        .filter(post::Column::OrganizationId.eq(id))
        .filter(post::Column::DeletedAt.is_null())
        .exec_with_returning(&txn)
        .await?;
    let ids = Cascade {
        org: org.id,
        users: users.iter().map(|u| u.id).collect(),
        posts: posts.iter().map(|p| p.id).collect(),
    };
    audit::record(&txn, actor, ids.entries(Action::Delete, None, Some(t))).await?;
    txn.commit().await?;
    Ok(org)
}

/// Restores the organization and exactly the users and posts its deletion cascaded to.
pub async fn restore(db: &Db, actor: &Actor, id: i32) -> ApiResult<organization::Model> {
    guard::platform_admin(&actor.viewer, "restore organizations")?;
    let txn = begin_write(db).await?;
    let org = require(&txn, &actor.viewer, id, Deleted::Include, Lock::Update).await?;
    let Some(t) = org.deleted_at else {
        return Err(ApiError::bad_input("id", "Organization is not deleted"));
    };
    let org = super::set_deleted_at(&txn, org, None).await?;
    let users = user::Entity::update_many()
        .col_expr(
            user::Column::DeletedAt,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .filter(user::Column::OrganizationId.eq(id))
        .filter(user::Column::DeletedAt.eq(t))
        .exec_with_returning(&txn)
        .await?;
    let posts = post::Entity::update_many()
        .col_expr(
            post::Column::DeletedAt,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .filter(post::Column::OrganizationId.eq(id))
        .filter(post::Column::DeletedAt.eq(t))
        .exec_with_returning(&txn)
        .await?;
    let ids = Cascade {
        org: org.id,
        users: users.iter().map(|u| u.id).collect(),
        posts: posts.iter().map(|p| p.id).collect(),
    };
    audit::record(&txn, actor, ids.entries(Action::Restore, Some(t), None)).await?;
    txn.commit().await?;
    Ok(org)
}

/// Sets `deleted_at` if the row is still as it was read: when a concurrent delete or
/// restore of the same row committed first, this one matches nothing and fails (`NOT_FOUND`
/// to delete, `BAD_USER_INPUT` to restore), so its cascade and audit entries never run twice.
/// The rows one organization-level delete or restore touched.
struct Cascade {
    org: i32,
    users: Vec<i32>,
    posts: Vec<i32>,
}

impl Cascade {
    fn entries(
        &self,
        action: Action,
        old: Option<chrono::DateTime<chrono::Utc>>,
        new: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Vec<Entry> {
        let rows = std::iter::once((TABLE, self.org))
            .chain(self.users.iter().map(|id| (super::user::TABLE, *id)))
            .chain(self.posts.iter().map(|id| (super::post::TABLE, *id)));
        audit::deletion_entries(self.org, rows, action, old, new)
    }
}
