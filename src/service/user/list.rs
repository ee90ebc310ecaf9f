//! The user list spec: filters and orders of every user list, and its page.
use sea_orm::{ColumnTrait, QueryFilter, Select, sea_query::Expr};

use crate::{
    auth::Viewer,
    db::Db,
    entity::{
        scope,
        user::{self, Role},
    },
    error::ApiResult,
    query::{ChildList, KeyOf, Page, PageArgs, Sort, SortKey, child::SortOf, paginate},
    service::guard,
};

/// Conditions a listed user must meet.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct UserConditions {
    pub role: Option<Role>,
    pub is_active: Option<bool>,
}

/// The columns a user list can be ordered by; ties are broken by id.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum UserSort {
    #[default]
    CreatedAt,
    Username,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct UserList {
    pub filter: UserConditions,
    pub sort: UserSort,
    pub descending: bool,
    pub page: PageArgs,
    pub include_deleted: bool,
}

impl UserList {
    /// The users a viewer may list (signed-in callers only), optionally of one
    /// organization, filtered.
    pub fn select(&self, viewer: &Viewer, organization_id: Option<i32>) -> ApiResult<Select<user::Entity>> {
        guard::signed_in(viewer)?;
        let mut select = scope::users(viewer, guard::deleted(viewer, self.include_deleted)?);
        if let Some(org) = organization_id {
            select = select.filter(user::Column::OrganizationId.eq(org));
        }
        if let Some(role) = self.filter.role {
            select = select.filter(user::Column::Role.eq(role));
        }
        if let Some(active) = self.filter.is_active {
            select = select.filter(user::Column::IsActive.eq(active));
        }
        Ok(select)
    }

    pub fn sort(&self) -> SortOf<user::Entity> {
        let (column, field, key): (_, _, KeyOf<user::Model>) = match self.sort {
            UserSort::CreatedAt => (user::Column::CreatedAt, "CREATED_AT", |u| {
                (SortKey::Time(u.created_at), u.id)
            }),
            UserSort::Username => (user::Column::Username, "USERNAME", |u| {
                (SortKey::Text(u.username.clone()), u.id)
            }),
        };
        let sort = Sort {
            column,
            id_column: user::Column::Id,
            field,
            descending: self.descending,
        };
        (sort, key)
    }
}

/// One page of a top-level user list; `rows_wanted` false runs only its count.
pub async fn page(
    db: &Db,
    viewer: &Viewer,
    organization_id: Option<i32>,
    list: &UserList,
    rows_wanted: bool,
) -> ApiResult<Page<user::Model>> {
    let (sort, key) = list.sort();
    let select = list.select(viewer, organization_id)?;
    paginate(db, select, &sort, &list.page, key, rows_wanted).await
}

/// `Organization.users` as a loader key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UserChildren(pub UserList);

impl ChildList for UserChildren {
    type Entity = user::Entity;

    fn select(&self, viewer: &Viewer) -> ApiResult<Select<user::Entity>> {
        self.0.select(viewer, None)
    }
    fn parent(&self) -> Expr {
        Expr::col((user::Entity, user::Column::OrganizationId))
    }
    fn sort(&self) -> SortOf<user::Entity> {
        self.0.sort()
    }
    fn page_args(&self) -> &PageArgs {
        &self.0.page
    }
    fn unpaged(&self) -> Self {
        let mut list = self.clone();
        list.0.page = PageArgs::default();
        list
    }
}
