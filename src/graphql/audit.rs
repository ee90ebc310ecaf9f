//! `AuditLog`: the object, its list and its query.
use async_graphql::{Context, ID, InputObject, Json, Object, Result};
use chrono::{DateTime, Utc};

use super::{
    context::{db, loaders, viewer},
    enums::{AuditAction, OrderDirection},
    ids::{self, Kind},
    pagination::{Conn, connection, page_args, selects_rows},
    user::User,
};
use crate::{
    entity::audit_log,
    error::ApiError,
    service::{
        self,
        audit::{AuditFilter, AuditList},
    },
};

/// One recorded change to one row. Visible to org admins (their organization's entries)
/// and platform admins.
pub struct AuditLog(pub audit_log::Model);

/// One recorded change to one row. Visible to org admins (their organization's entries)
/// and platform admins.
#[Object]
impl AuditLog {
    /// Opaque global id (Relay).
    pub async fn id(&self) -> ID {
        ids::encode(Kind::AuditLog, self.0.id)
    }
    /// The numeric primary key.
    async fn database_id(&self) -> i32 {
        self.0.id
    }
    /// What happened.
    async fn action(&self) -> AuditAction {
        self.0.action.into()
    }
    /// The table of the changed row (`organizations`, `users` or `posts`).
    async fn table_name(&self) -> &str {
        &self.0.table_name
    }
    /// The database id of the changed row.
    async fn record_id(&self) -> i32 {
        self.0.record_id
    }
    /// Column values before the change, keyed by column name (only changed columns for
    /// updates); null for creates.
    async fn old_values(&self) -> Option<Json<serde_json::Value>> {
        self.0.old_values.clone().map(Json)
    }
    /// Column values after the change, keyed by column name (only changed columns for
    /// updates).
    async fn new_values(&self) -> Option<Json<serde_json::Value>> {
        self.0.new_values.clone().map(Json)
    }
    /// The client address the change came from (null for org admins when a platform
    /// operator made the change).
    async fn ip_address(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(service::audit::visible_actor(viewer(ctx)?, &self.0).0)
    }
    /// When the change was recorded (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The user who made the change; null for platform admins and system changes.
    async fn actor(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(id) = self.0.user_id else {
            return Ok(None);
        };
        Ok(loaders(ctx)?
            .user()
            .load_one(id)
            .await
            .map_err(ApiError::from)?
            .map(User))
    }
    /// Who acted when there is no user: `platform_admin:<token subject>` (just
    /// `platform_admin` for org admins, who do not see the operator's identity).
    async fn actor_subject(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(service::audit::visible_actor(viewer(ctx)?, &self.0).1)
    }
}

/// Filters of the audit log; all given conditions must hold.
#[derive(InputObject, Default)]
pub struct AuditLogFilter {
    /// Only entries about this table (`organizations`, `users`, `posts`).
    table_name: Option<String>,
    /// Only entries about this row (database id).
    record_id: Option<i32>,
    /// Only this kind of change.
    action: Option<AuditAction>,
    /// Only changes by this user (global or database id).
    actor_id: Option<ID>,
    /// Only entries recorded at or after this time.
    created_after: Option<DateTime<Utc>>,
    /// Only entries recorded before this time.
    created_before: Option<DateTime<Utc>>,
}

/// The order of the audit log: by time, then id.
#[derive(InputObject)]
pub struct AuditLogOrder {
    /// The direction (default DESC, newest first).
    direction: OrderDirection,
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The audit log, newest first: an org admin's organization, or everything for
    /// platform admins. Members get FORBIDDEN.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    async fn audit_logs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start (0–100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (0–100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
        #[graphql(desc = "Conditions the entries must meet.")] filter: Option<AuditLogFilter>,
        #[graphql(desc = "Sort order (default newest first).")] order_by: Option<AuditLogOrder>,
        #[graphql(
            desc = "Accepted for symmetry with other lists; audit entries are never deleted.",
            default = false
        )]
        include_deleted: bool,
    ) -> Result<Conn<AuditLog>> {
        let f = filter.unwrap_or_default();
        let list = AuditList {
            filter: AuditFilter {
                table_name: f.table_name,
                record_id: f.record_id,
                action: f.action.map(Into::into),
                actor_id: ids::decode_opt(f.actor_id.as_ref(), Kind::User, "actorId")?,
                created_after: f.created_after,
                created_before: f.created_before,
            },
            descending: order_by.is_none_or(|o| o.direction.is_desc()),
            page: page_args(ctx, first, after, last, before),
            include_deleted,
        };
        let page = service::audit::page(db(ctx)?, viewer(ctx)?, &list, selects_rows(ctx)).await?;
        Ok(connection(page, AuditLog))
    }
}
