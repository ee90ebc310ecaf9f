//! The schema's enums, mirrored from the stored values (`remote` derives the conversions).
use async_graphql::Enum;

use crate::entity;

/// An organization's subscription plan.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "entity::organization::Plan")]
pub enum Plan {
    /// The free plan (the default).
    Free,
    /// The professional plan.
    Pro,
    /// The enterprise plan.
    Enterprise,
}

/// The publication state of a post. Anonymous readers see only `PUBLISHED` posts.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "entity::post::Status")]
pub enum PostStatus {
    /// Not yet published (the default).
    Draft,
    /// To be published by the server at `publishAt`; until then only the organization sees it.
    Scheduled,
    /// Public.
    Published,
    /// No longer current; hidden from anonymous readers.
    Archived,
}

/// A user's role in their organization.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "entity::user::Role")]
pub enum Role {
    /// Reads the organization, writes their own posts and profile (the default).
    Member,
    /// Also manages the organization's users and posts and reads its audit log.
    Admin,
}

/// What an audit entry records.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "entity::audit_log::Action")]
pub enum AuditAction {
    /// A row was created.
    Create,
    /// Columns of a row changed (`oldValues`/`newValues` hold only those).
    Update,
    /// A row was soft-deleted (directly or by cascade).
    Delete,
    /// A soft-deleted row was restored.
    Restore,
}

/// Sort direction.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum OrderDirection {
    /// Ascending.
    Asc,
    /// Descending.
    Desc,
}

impl OrderDirection {
    pub fn is_desc(self) -> bool {
        self == OrderDirection::Desc
    }
}
