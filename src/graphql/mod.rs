//! The GraphQL schema: object types wrapping entity rows, inputs, connections, ids.
pub mod audit;
pub mod context;
pub mod enums;
pub mod guard;
pub mod ids;
pub mod mutation;
pub mod node;
pub mod organization;
pub mod pagination;
pub mod post;
pub mod user;

use async_graphql::{EmptySubscription, MergedObject, Schema};
use sea_orm::DatabaseConnection;

/// The root query, merged from one object per domain.
#[derive(MergedObject, Default)]
pub struct Query(
    node::NodeQuery,
    organization::OrganizationQuery,
    user::UserQuery,
    post::PostQuery,
    audit::AuditQuery,
);

pub type BlogSchema = Schema<Query, mutation::Mutation, EmptySubscription>;

/// Builds the schema. `db` is `None` only for printing the SDL.
pub fn build(db: Option<DatabaseConnection>) -> BlogSchema {
    let builder = Schema::build(Query::default(), mutation::Mutation, EmptySubscription);
    match db {
        Some(db) => builder.data(db),
        None => builder,
    }
    .finish()
}

/// The SDL of the served schema, as checked in at `schema.graphql`.
pub fn sdl() -> String {
    build(None).sdl()
}
