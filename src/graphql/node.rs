//! The Relay `Node` interface and `node` / `nodes`, batched through the loaders.
use async_graphql::{Context, ID, Interface, Object, Result};

use super::{
    audit::AuditLog,
    context::{loaders, viewer},
    ids::{Kind, decode_global},
    organization::Organization,
    post::Post,
    tag::Tag,
    user::User,
};
use crate::auth::Viewer;

/// An object with a global id.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Opaque global id (Relay)."))]
pub enum Node {
    Organization(Organization),
    User(User),
    Post(Post),
    Tag(Tag),
    AuditLog(AuditLog),
}

/// Resolves global ids, in order; `None` for ids that are invalid, missing, deleted or not
/// visible. One batched query per entity type, whatever the number of ids.
async fn resolve(ctx: &Context<'_>, ids: &[ID]) -> Result<Vec<Option<Node>>> {
    let viewer = viewer(ctx)?;
    let loaders = loaders(ctx)?;
    let decoded: Vec<Option<(Kind, i32)>> = ids.iter().map(|id| decode_global(id.as_str())).collect();
    let wanted = |kind: Kind| {
        decoded
            .iter()
            .flatten()
            .filter(move |(k, _)| *k == kind)
            .map(|(_, id)| *id)
    };
    // Users and audit entries are not readable as such by anonymous callers, nor the
    // audit log by members.
    let users_readable = *viewer != Viewer::Anonymous;
    let audit_readable = viewer.is_admin();
    let (orgs, users, posts, tags, audits) = futures_util::try_join!(
        loaders.organization().load_many(wanted(Kind::Organization)),
        loaders
            .user()
            .load_many(wanted(Kind::User).filter(|_| users_readable)),
        loaders.post().load_many(wanted(Kind::Post)),
        loaders.tag().load_many(wanted(Kind::Tag)),
        loaders
            .audit_log()
            .load_many(wanted(Kind::AuditLog).filter(|_| audit_readable)),
    )
    .map_err(crate::error::ApiError::from)?;
    Ok(decoded
        .into_iter()
        .map(|id| match id? {
            (Kind::Organization, id) => orgs
                .get(&id)
                .filter(|m| m.deleted_at.is_none())
                .cloned()
                .map(|m| Node::Organization(Organization(m))),
            (Kind::User, id) => users
                .get(&id)
                .filter(|m| m.deleted_at.is_none())
                .cloned()
                .map(|m| Node::User(User(m))),
            (Kind::Post, id) => posts
                .get(&id)
                .filter(|m| m.deleted_at.is_none())
                .cloned()
                .map(|m| Node::Post(Post(m))),
            (Kind::Tag, id) => tags
                .get(&id)
                .filter(|m| m.deleted_at.is_none())
                .cloned()
                .map(|m| Node::Tag(Tag(m))),
            (Kind::AuditLog, id) => audits.get(&id).cloned().map(|m| Node::AuditLog(AuditLog(m))),
        })
        .collect())
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object by its global id; null when invalid, missing or not visible.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A global id.")] id: ID,
    ) -> Result<Option<Node>> {
        // An organization with its users and their posts in one statement, as
        // `organization(id:)` reads it (only `Organization` has `users`: the look-ahead's
        // `users` is its).
        if let Some((Kind::Organization, org)) = decode_global(id.as_str())
            && let Some(org) = super::organization_read::with_users_and_posts(ctx, org).await?
        {
            return Ok(org.map(|m| Node::Organization(Organization(m))));
        }
        Ok(resolve(ctx, std::slice::from_ref(&id))
            .await?
            .into_iter()
            .next()
            .flatten())
    }

    #[graphql(complexity = "ids.len().max(1).saturating_mul(child_complexity)")]
    /// Objects by global id, in the order given; null for each invalid, missing or not
    /// visible id. At most 100 ids.
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ids (at most 100).")] ids: Vec<ID>,
    ) -> Result<Vec<Option<Node>>> {
        if ids.len() > 100 {
            return Err(crate::error::ApiError::bad_input("ids", "`ids` takes at most 100 ids").into());
        }
        resolve(ctx, &ids).await
    }
}
