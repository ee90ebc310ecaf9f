//! Scoped query builders: the only way the rest of the server starts a read.
//!
//! Each function applies the viewer's tenant and, unless asked otherwise, the
//! `deleted_at IS NULL` predicate, so a resolver, loader or service cannot forget them.
//! A record outside the scope reads exactly like one that does not exist.
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QuerySelect, QueryTrait,
    RelationTrait, Select,
    sea_query::{Expr, ExprTrait},
};

use std::sync::LazyLock;

use super::{audit_log, organization, post, tag, user};
use crate::{auth::Viewer, db::accounts::AccountRow};

/// Whether soft-deleted rows are part of a read. Only admins may ask for `Include`
/// (checked by the caller, see `service::guard::deleted`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Deleted {
    #[default]
    Exclude,
    Include,
}

/// Ids of organizations whose public content anonymous callers may read.
fn public_organization_ids() -> sea_orm::sea_query::SelectStatement {
    static IDS: LazyLock<sea_orm::sea_query::SelectStatement> = LazyLock::new(|| {
        organization::Entity::find()
            .select_only()
            .column(organization::Column::Id)
            .filter(organization::Column::IsActive.eq(true))
            .filter(organization::Column::DeletedAt.is_null())
            .into_query()
    });
    IDS.clone()
}

/// `Entity::find()` builds a select expression per column, each looking up its column's
/// definition for an enum cast (~1,000 instructions a column): the unscoped select of
/// each entity is built once and cloned for every read.
macro_rules! base {
    ($entity:ty) => {{
        static BASE: LazyLock<Select<$entity>> = LazyLock::new(<$entity>::find);
        BASE.clone()
    }};
}

fn never() -> Condition {
    Condition::all().add(Expr::val(1).eq(0))
}

pub fn organizations(viewer: &Viewer, deleted: Deleted) -> Select<organization::Entity> {
    let scope = match viewer {
        Viewer::Anonymous => Condition::all()
            .add(organization::Column::IsActive.eq(true))
            .add(organization::Column::DeletedAt.is_null()),
        Viewer::Member(m) => Condition::all().add(organization::Column::Id.eq(m.organization_id)),
        Viewer::PlatformAdmin { .. } => Condition::all(),
    };
    let select = base!(organization::Entity).filter(scope);
    match deleted {
        Deleted::Exclude => select.filter(organization::Column::DeletedAt.is_null()),
        Deleted::Include => select,
    }
}

pub fn users(viewer: &Viewer, deleted: Deleted) -> Select<user::Entity> {
    let scope = match viewer {
        // Anonymous callers reach users only as authors of public posts.
        Viewer::Anonymous => {
            Condition::all().add(user::Column::OrganizationId.in_subquery(public_organization_ids()))
        }
        Viewer::Member(m) => Condition::all().add(user::Column::OrganizationId.eq(m.organization_id)),
        Viewer::PlatformAdmin { .. } => Condition::all(),
    };
    let select = base!(user::Entity).filter(scope);
    match deleted {
        Deleted::Exclude => select.filter(user::Column::DeletedAt.is_null()),
        Deleted::Include => select,
    }
}

/// What `posts` depends on: viewers with the same audience read the same posts, so one
/// read answers for all of them (subscriptions resolve an event's post once per audience).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PostAudience {
    /// Published posts of public organizations.
    Public,
    /// Everything of one organization.
    Organization(i32),
    /// Everything.
    Everyone,
}

pub fn post_audience(viewer: &Viewer) -> PostAudience {
    match viewer {
        Viewer::Anonymous => PostAudience::Public,
        Viewer::Member(m) => PostAudience::Organization(m.organization_id),
        Viewer::PlatformAdmin { .. } => PostAudience::Everyone,
    }
}

pub fn posts(viewer: &Viewer, deleted: Deleted) -> Select<post::Entity> {
    /// The anonymous scope has no parameter of the caller's: built once (15 select
    /// expressions, an enum cast and a subquery), cloned for each read.
    static ANONYMOUS: LazyLock<Select<post::Entity>> =
        LazyLock::new(|| build_posts(&Viewer::Anonymous, Deleted::Exclude));
    match viewer {
        Viewer::Anonymous => ANONYMOUS.clone(),
        _ => build_posts(viewer, deleted),
    }
}

fn build_posts(viewer: &Viewer, deleted: Deleted) -> Select<post::Entity> {
    let scope = match viewer {
        Viewer::Anonymous => Condition::all()
            .add(post::Column::Status.eq(post::Status::Published))
            .add(post::Column::OrganizationId.in_subquery(public_organization_ids())),
        Viewer::Member(m) => Condition::all().add(post::Column::OrganizationId.eq(m.organization_id)),
        Viewer::PlatformAdmin { .. } => Condition::all(),
    };
    let select = base!(post::Entity).filter(scope);
    match (viewer, deleted) {
        // Anonymous callers never see deleted posts.
        (Viewer::Anonymous, _) | (_, Deleted::Exclude) => select.filter(post::Column::DeletedAt.is_null()),
        (_, Deleted::Include) => select,
    }
}

/// Tags: anonymous callers see those of public organizations (the tags of the posts they
/// can read), members their organization's, platform admins all.
pub fn tags(viewer: &Viewer, deleted: Deleted) -> Select<tag::Entity> {
    let scope = match viewer {
        Viewer::Anonymous => {
            Condition::all().add(tag::Column::OrganizationId.in_subquery(public_organization_ids()))
        }
        Viewer::Member(m) => Condition::all().add(tag::Column::OrganizationId.eq(m.organization_id)),
        Viewer::PlatformAdmin { .. } => Condition::all(),
    };
    let select = base!(tag::Entity).filter(scope);
    match (viewer, deleted) {
        // Anonymous callers never see deleted tags.
        (Viewer::Anonymous, _) | (_, Deleted::Exclude) => select.filter(tag::Column::DeletedAt.is_null()),
        (_, Deleted::Include) => select,
    }
}

/// Audit entries: an organization's own trail, or everything for platform admins.
pub fn audit_logs(viewer: &Viewer) -> Select<audit_log::Entity> {
    let scope = match viewer {
        Viewer::Anonymous => never(),
        Viewer::Member(m) => Condition::all().add(audit_log::Column::OrganizationId.eq(m.organization_id)),
        Viewer::PlatformAdmin { .. } => Condition::all(),
    };
    base!(audit_log::Entity).filter(scope)
}

/// What authentication needs of the user a token names, with their organization's state,
/// in one statement of four values (decoded by position). Used once per request to build
/// the `Viewer`, before any scope exists.
pub async fn token_account(db: &crate::db::Db, id: i32) -> Result<Option<AccountRow>, sea_orm::DbErr> {
    let usable = Expr::col((user::Entity, user::Column::DeletedAt))
        .is_null()
        .and(Expr::col((user::Entity, user::Column::IsActive)).eq(true))
        .and(Expr::col((organization::Entity, organization::Column::DeletedAt)).is_null())
        .and(Expr::col((organization::Entity, organization::Column::IsActive)).eq(true));
    let query = user::Entity::find_by_id(id)
        .select_only()
        .column(user::Column::Id)
        .column(user::Column::OrganizationId)
        .column(user::Column::Role)
        .expr(usable)
        .join(JoinType::InnerJoin, user::Relation::Organization.def())
        .into_query();
    let Some(row) = db.query_one(&query).await? else {
        return Ok(None);
    };
    Ok(Some(AccountRow {
        id: row.try_get_by_index(0)?,
        organization_id: row.try_get_by_index(1)?,
        admin: row.try_get_by_index::<user::Role>(2)? == user::Role::Admin,
        usable: row.try_get_by_index(3)?,
    }))
}
