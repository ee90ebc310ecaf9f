//! One test binary (one link) for the whole API, run against SQLite or PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod helpers;

mod audit;
mod cascade;
mod permissions;
mod schema_file;
mod statements;
mod validation;
mod walkthrough;
