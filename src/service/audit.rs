//! Audit entries, written in the caller's transaction so the change and its entry commit
//! or roll back together.
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait, NotSet};
use serde::Serialize;
use serde_json::{Map, Value};

use super::{Actor, now};
use crate::entity::audit_log::{self, Action};

/// One audit entry about one row.
pub struct Entry {
    pub organization_id: Option<i32>,
    pub action: Action,
    pub table: &'static str,
    pub record_id: i32,
    pub old_values: Option<Value>,
    pub new_values: Option<Value>,
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

/// One entry per row a soft delete or restore touched (the target and its cascade), each
/// recording the `deleted_at` change.
pub fn deletion_entries(
    organization_id: i32,
    rows: impl IntoIterator<Item = (&'static str, i32)>,
    action: Action,
    old: Option<chrono::DateTime<chrono::Utc>>,
    new: Option<chrono::DateTime<chrono::Utc>>,
) -> Vec<Entry> {
    rows.into_iter()
        .map(|(table, record_id)| Entry {
            organization_id: Some(organization_id),
            action,
            table,
            record_id,
            old_values: Some(deleted_at(old)),
            new_values: Some(deleted_at(new)),
        })
        .collect()
}

pub async fn record(db: &impl ConnectionTrait, actor: &Actor, entries: Vec<Entry>) -> Result<(), DbErr> {
    if entries.is_empty() {
        return Ok(());
    }
    let created_at = now();
    let rows = entries.into_iter().map(|e| audit_log::ActiveModel {
        id: NotSet,
        organization_id: Set(e.organization_id),
        user_id: Set(actor.viewer.actor_user_id()),
        actor_subject: Set(actor.viewer.actor_subject()),
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

/// The audit entries a viewer may list: org admins their organization's, platform admins
/// all. Members are refused; `includeDeleted` is checked like on other lists.
pub fn list(
    viewer: &crate::auth::Viewer,
    include_deleted: bool,
) -> crate::error::ApiResult<sea_orm::Select<audit_log::Entity>> {
    super::guard::admin(viewer, "read the audit log")?;
    super::guard::deleted(viewer, include_deleted)?;
    Ok(crate::entity::scope::audit_logs(viewer))
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
