//! blogql: a multi-tenant blog GraphQL API server.

/// Identity: tokens, the request's `Viewer`, the client address.
pub mod auth;
/// The command line: subcommands and error reporting.
pub mod cli;
/// Configuration from flags, environment and `.env`.
pub mod config;
/// Database connection, pool settings, statement counting.
pub mod db;
/// SeaORM entities and scoped query builders.
pub mod entity;
/// The API's error type and its codes.
pub mod error;
/// Live post events: the outbox's readers and the subscribers they feed.
pub mod events;
/// The GraphQL schema.
pub mod graphql;
/// Routes and handlers.
pub mod http;
/// Request-scoped DataLoaders.
pub mod loaders;
/// What lists share: sort keys, page arguments, keyset windows, cursors, counts.
pub mod query;
/// Business rules: permissions, validation, cascades, audit.
pub mod service;
/// Building and running the application.
pub mod startup;
