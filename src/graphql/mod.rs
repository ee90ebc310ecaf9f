//! The GraphQL schema: object types wrapping entity rows, inputs, connections, ids.
pub mod audit;
pub mod context;
pub mod documents;
pub mod enums;
pub mod execute;
pub mod guard;
pub mod ids;
pub mod inputs;
pub mod introspection;
pub mod limits;
pub mod mutation;
pub mod node;
pub mod order;
pub mod organization;
mod organization_read;
pub mod pagination;
pub mod persisted;
pub mod post;
pub mod subscription;
pub mod tag;
pub mod trusted;
pub mod user;
pub mod variables;

use async_graphql::{MergedObject, Schema, ValidationMode};

use self::subscription::SubscriptionRoot;

/// The root query, merged from one object per domain.
#[derive(MergedObject, Default)]
pub struct Query(
    node::NodeQuery,
    organization::OrganizationQuery,
    user::UserQuery,
    post::PostQuery,
    tag::TagQuery,
    audit::AuditQuery,
);

pub type BlogSchema = Schema<Query, mutation::Mutation, SubscriptionRoot>;

/// Limits and switches of the served schema (see `Config`).
#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub max_depth: usize,
    pub max_complexity: usize,
    pub max_directives: usize,
    pub limits: limits::Limits,
    pub introspection: bool,
    /// "Did you mean …?" hints in validation errors.
    pub suggestions: bool,
}

impl Options {
    pub fn from_config(config: &crate::config::Config) -> Self {
        Options {
            max_depth: config.max_depth,
            max_complexity: config.max_complexity,
            max_directives: config.max_directives,
            limits: limits::Limits {
                max_aliases: config.max_aliases,
                max_root_fields: config.max_root_fields,
                max_depth: config.max_depth,
                max_complexity: config.max_complexity,
            },
            introspection: config.introspection_enabled(),
            suggestions: !config.is_production(),
        }
    }
}

/// Builds the served schema.
pub fn build(db: crate::db::Db, options: &Options) -> BlogSchema {
    build_with(db, options, true, ValidationMode::Strict)
}

/// The served schema with async-graphql's `Fast` validation (its cost, depth and fragment
/// cycle checks only), for documents that passed full validation with variables it has
/// checked again (`variables`).
pub fn build_validated(db: crate::db::Db, options: &Options) -> BlogSchema {
    build_with(db, options, true, ValidationMode::Fast)
}

/// The served schema without the depth and cost limits, for documents that only
/// introspect (see `introspection`); `None` where introspection is off.
pub fn build_for_introspection(db: crate::db::Db, options: &Options) -> Option<BlogSchema> {
    options
        .introspection
        .then(|| build_with(db, options, false, ValidationMode::Strict))
}

fn build_with(db: crate::db::Db, options: &Options, data_limits: bool, mode: ValidationMode) -> BlogSchema {
    let mut builder = Schema::build(Query::default(), mutation::Mutation::default(), SubscriptionRoot)
        .data(db)
        .validation_mode(mode)
        .limit_directives(options.max_directives);
    if data_limits {
        builder = builder
            .limit_depth(options.max_depth)
            .limit_complexity(options.max_complexity);
    }
    if !options.introspection {
        builder = builder.disable_introspection();
    }
    if !options.suggestions {
        builder = builder.disable_suggestions();
    }
    builder.finish()
}

/// The SDL of the served schema, as checked in at `schema.graphql`.
pub fn sdl() -> String {
    Schema::build(Query::default(), mutation::Mutation::default(), SubscriptionRoot)
        .finish()
        .sdl()
}
