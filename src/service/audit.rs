//! Audit entries, written in the caller's transaction so the change and its entry commit
//! or roll back together.
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, NotSet, QueryFilter};
use serde::Serialize;
use serde_json::{Map, Value};

use super::{Actor, guard, now, validate};
use crate::{
    auth::Viewer,
    db::Db,
    entity::{
        audit_log::{self, Action},
        scope,
    },
    error::ApiResult,
    query::{Page, PageArgs, Sort, SortKey, paginate},
};

/// One audit entry about one row.
pub struct Entry {
    pub organization_id: Option<i32>,
    pub action: Action,
    pub table: &'static str,
    pub record_id: i32,
    pub old_values: Option<Value>,
    pub new_values: Option<Value>,
}

/// The `(ipAddress, actorSubject)` of an entry as `viewer` may see them. A platform
/// operator's address and token subject are the platform's, not the organization's: org
/// admins see `platform_admin` as the subject and no address (GitHub's enterprise audit
/// log and Auth0 do the same for staff actions). Platform admins see everything.
pub fn visible_actor<'a>(viewer: &Viewer, entry: &'a audit_log::Model) -> (Option<&'a str>, Option<&'a str>) {
    let subject = entry.actor_subject.as_deref();
    match subject {
        Some(s) if s.starts_with("platform_admin:") && !viewer.is_platform_admin() => {
            (None, Some("platform_admin"))
        }
        _ => (entry.ip_address.as_deref(), subject),
    }
}

/// The stored row as a JSON object keyed by column name.
pub fn snapshot<T: Serialize>(row: &T) -> Value {
    serde_json::to_value(row).unwrap_or(Value::Null)
}

/// The columns whose value changed, as `(old, new)` objects; `None` when nothing did.
/// `updated_at` is bookkeeping, not a change, and is left out.
pub fn diff(old: &Value, new: &Value) -> Option<(Value, Value)> {
    let (Value::Object(old), Value::Object(new)) = (old, new) else {
        return None;
    };
    let mut before = Map::new();
    let mut after = Map::new();
    for (key, value) in new {
        if key == "updated_at" {
            continue;
        }
        let previous = old.get(key).cloned().unwrap_or(Value::Null);
        if previous != *value {
            before.insert(key.clone(), previous);
            after.insert(key.clone(), value.clone());
        }
    }
    (!after.is_empty()).then_some((Value::Object(before), Value::Object(after)))
}

/// `{"deleted_at": value}`, the change a soft delete or restore makes to each row.
pub fn deleted_at(value: Option<chrono::DateTime<chrono::Utc>>) -> Value {
    serde_json::json!({ "deleted_at": value })
}

/// Writes `entries` in the caller's transaction, in one `INSERT` (a create's or an
/// update's single entry; cascades use `record_same_change`).
pub async fn record(db: &impl ConnectionTrait, actor: &Actor, entries: Vec<Entry>) -> Result<(), DbErr> {
    if entries.is_empty() {
        return Ok(());
    }
    let created_at = now();
    let rows = entries.into_iter().map(|e| audit_log::ActiveModel {
        id: NotSet,
        organization_id: Set(e.organization_id),
        user_id: Set(actor.viewer.actor_user_id()),
        actor_subject: Set(actor.subject()),
        action: Set(e.action),
        table_name: Set(e.table.to_owned()),
        record_id: Set(e.record_id),
        old_values: Set(e.old_values),
        new_values: Set(e.new_values),
        ip_address: Set(actor.ip.clone()),
        created_at: Set(created_at),
    });
    audit_log::Entity::insert_many(rows).exec(db).await?;
    Ok(())
}

/// What every entry of a cascade records.
pub struct SameChange {
    pub organization_id: i32,
    pub action: Action,
    pub old_values: Value,
    pub new_values: Value,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// One entry per id of `table`, each recording the same change: a cascade's entries. One `INSERT … SELECT` whatever the number of rows,
/// the ids travelling as one JSON array parameter, so the statement neither outgrows the
/// bind-parameter limits nor changes its text with the count.
pub async fn record_same_change(
    db: &impl ConnectionTrait,
    actor: &Actor,
    change: &SameChange,
    table: &'static str,
    ids: &[i32],
) -> Result<(), DbErr> {
    use sea_orm::{ActiveEnum, DbBackend, Statement};
    if ids.is_empty() {
        return Ok(());
    }
    let ids = serde_json::to_string(ids).map_err(|e| DbErr::Custom(e.to_string()))?;
    let (ids_source, p) = match db.get_database_backend() {
        DbBackend::Postgres => (
            "json_array_elements_text(CAST($10 AS json)) AS ids(value)",
            ["$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9"],
        ),
        _ => ("json_each(?) AS ids", ["?"; 9]),
    };
    let sql = format!(
        "INSERT INTO audit_logs (organization_id, user_id, actor_subject, action, table_name, record_id, \
         old_values, new_values, ip_address, created_at) \
         SELECT {}, {}, {}, {}, {}, CAST(ids.value AS integer), {}, {}, {}, {} FROM {ids_source}",
        p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8]
    );
    let values: [sea_orm::Value; 10] = [
        change.organization_id.into(),
        actor.viewer.actor_user_id().into(),
        actor.subject().into(),
        change.action.to_value().into(),
        table.into(),
        change.old_values.clone().into(),
        change.new_values.clone().into(),
        actor.ip.clone().into(),
        change.created_at.into(),
        ids.into(),
    ];
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        sql,
        values,
    ))
    .await?;
    Ok(())
}

/// Conditions a listed audit entry must meet; all given ones hold.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub table_name: Option<String>,
    pub record_id: Option<i32>,
    pub action: Option<Action>,
    pub actor_id: Option<i32>,
    pub created_after: Option<chrono::DateTime<chrono::Utc>>,
    pub created_before: Option<chrono::DateTime<chrono::Utc>>,
}

/// The audit log, by time then id (newest first unless `descending` is false).
#[derive(Clone, Debug, Default)]
pub struct AuditList {
    pub filter: AuditFilter,
    pub descending: bool,
    pub page: PageArgs,
    pub include_deleted: bool,
}

/// One page of the audit entries a viewer may list: org admins their organization's,
/// platform admins all. Members are refused; `includeDeleted` is checked like on other
/// lists.
pub async fn page(
    db: &Db,
    viewer: &Viewer,
    list: &AuditList,
    rows_wanted: bool,
) -> ApiResult<Page<audit_log::Model>> {
    guard::admin(viewer, "read the audit log")?;
    guard::deleted(viewer, list.include_deleted)?;
    let mut select = scope::audit_logs(viewer);
    let f = &list.filter;
    if let Some(table) = &f.table_name {
        let table = validate::text("tableName", table)?;
        select = select.filter(audit_log::Column::TableName.eq(table));
    }
    if let Some(record) = f.record_id {
        select = select.filter(audit_log::Column::RecordId.eq(record));
    }
    if let Some(action) = f.action {
        select = select.filter(audit_log::Column::Action.eq(action));
    }
    if let Some(actor) = f.actor_id {
        select = select.filter(audit_log::Column::UserId.eq(actor));
    }
    if let Some(t) = f.created_after {
        select = select.filter(audit_log::Column::CreatedAt.gte(t));
    }
    if let Some(t) = f.created_before {
        select = select.filter(audit_log::Column::CreatedAt.lt(t));
    }
    let sort = Sort {
        column: audit_log::Column::CreatedAt,
        id_column: audit_log::Column::Id,
        field: "CREATED_AT",
        descending: list.descending,
    };
    let key = |a: &audit_log::Model| (SortKey::Time(a.created_at), a.id);
    paginate(db, select, &sort, &list.page, key, rows_wanted).await
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::diff;

    #[test]
    fn diff_keeps_only_changed_columns() {
        let old = json!({"title": "a", "status": "draft", "updated_at": "1"});
        let new = json!({"title": "b", "status": "draft", "updated_at": "2"});
        assert_eq!(
            diff(&old, &new),
            Some((json!({"title": "a"}), json!({"title": "b"})))
        );
        assert_eq!(diff(&old, &old), None);
    }
}
