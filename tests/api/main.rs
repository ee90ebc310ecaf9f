//! One test binary (one link) for the whole API, run against SQLite or PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod helpers;

mod actor_ip;
mod audit;
mod backup;
mod cascade;
mod concurrency;
mod faults;
mod hardening;
mod hostile_input;
mod integrity;
mod pagination;
mod permissions;
mod persisted;
mod scheduling;
mod schema_file;
mod slugs;
mod statements;
mod tags;
mod tenancy;
mod tokens;
mod transport;
mod trusted;
mod validation;
mod walkthrough;
