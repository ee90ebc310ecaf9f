//! The root mutation, merged from one part per domain (each beside its object type).
use async_graphql::MergedObject;

use super::{organization::OrganizationMutation, post::PostMutation, tag::TagMutation, user::UserMutation};

/// Every change goes through a mutation: each takes one `input`, runs as one transaction
/// with its audit entries, and returns the changed object. Errors carry
/// `extensions.code` (`BAD_USER_INPUT`, `NOT_FOUND`, `CONFLICT`, `UNAUTHENTICATED`,
/// `FORBIDDEN`, …).
#[derive(MergedObject, Default)]
pub struct Mutation(OrganizationMutation, UserMutation, PostMutation, TagMutation);
