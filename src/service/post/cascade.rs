//! The cascade of a user's or an organization's soft delete or restore to their posts.
use super::{Actor, ApiResult, audit, outbox, post, rows, slug};

/// The posts a cascade moved.
pub struct Moved {
    /// Those whose audit entry is the plain `deleted_at` change (the caller writes it).
    pub plain: Vec<i32>,
    /// All of them, for their events (`emit_events`, the transaction's last statement).
    pub all: Vec<i32>,
    deleted: bool,
}

impl Moved {
    pub async fn emit_events(&self, txn: &crate::db::Txn) -> ApiResult<()> {
        Ok(outbox::emit_cascade(txn, self.deleted, &self.all).await?)
    }
}

/// The posts a user's or an organization's soft delete (`to` is `Some`) or restore
/// cascades to, moved in one statement, after making room for restored slugs (see
/// `slug::make_room_for_restore`). The renamed posts' audit entries are written here.
pub async fn cascade(
    txn: &crate::db::Txn,
    actor: &Actor,
    parent: post::Column,
    parent_id: i32,
    from: Option<chrono::DateTime<chrono::Utc>>,
    to: Option<chrono::DateTime<chrono::Utc>>,
) -> ApiResult<Moved> {
    let renamed = match (from, to) {
        (Some(t), None) => slug::make_room_for_restore::<post::Entity>(txn, parent, parent_id, t).await?,
        _ => Vec::new(),
    };
    let all = rows::cascade::<post::Entity>(txn, parent, parent_id, from, to).await?;
    let mut plain = all.clone();
    if let (Some(t), false) = (from, renamed.is_empty()) {
        plain.retain(|id| !renamed.iter().any(|r| r.id == *id));
        let entries = renamed.iter().map(|r| slug::restore_entry(r, t)).collect();
        audit::record(txn, actor, entries).await?;
    }
    Ok(Moved {
        plain,
        all,
        deleted: to.is_some(),
    })
}
