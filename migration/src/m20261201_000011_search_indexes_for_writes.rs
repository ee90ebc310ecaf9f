//! SQLite's FTS5 tables, tuned for what every `createPost` costs the single writer
//! (bench/sqlite_writes.sh, concurrency 16). PostgreSQL: nothing changes.
//!
//! - `posts_search` (the trigram table behind `search`) is rebuilt with `detail=none`: it
//!   keeps which posts hold a trigram, not where. The server asks for all of a term's
//!   trigrams (an `AND`, not a phrase) and the `LIKE` on `posts` stays the final filter,
//!   so the candidates only grow by posts that hold the trigrams apart, which the `LIKE`
//!   drops. Positions were most of what each insert wrote: 460 → 602 req/s (100,000
//!   posts).
//! - Both tables merge their segments 8 at a time instead of 4 (`automerge`): each
//!   indexed word is rewritten by half as many merges, and a search reads at most about
//!   twice as many segments per level. 1M posts (30 s runs): 470 → 658 req/s.
use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, DbBackend},
};

use crate::m20261201_000010_post_search::SQLITE_SEARCH_TRIGGERS;

#[derive(DeriveMigrationName)]
pub struct Migration;

const DROP: [&str; 4] = [
    "DROP TRIGGER IF EXISTS posts_search_insert",
    "DROP TRIGGER IF EXISTS posts_search_update",
    "DROP TRIGGER IF EXISTS posts_search_delete",
    "DROP TABLE IF EXISTS posts_search",
];

const CREATE_WITHOUT_POSITIONS: &str = "CREATE VIRTUAL TABLE posts_search USING fts5(title, content, \
    content='posts', content_rowid='id', tokenize='trigram case_sensitive 0', detail=none)";

/// As `m20261201_000010` made it.
const CREATE_WITH_POSITIONS: &str = "CREATE VIRTUAL TABLE posts_search USING fts5(title, content, \
    content='posts', content_rowid='id', tokenize='trigram case_sensitive 0')";

const REBUILD: &str = "INSERT INTO posts_search (posts_search) VALUES ('rebuild')";

const MERGE_8: [&str; 2] = [
    "INSERT INTO posts_search (posts_search, rank) VALUES ('automerge', 8)",
    "INSERT INTO posts_fulltext (posts_fulltext, rank) VALUES ('automerge', 8)",
];

/// FTS5's default.
const MERGE_4: [&str; 1] = ["INSERT INTO posts_fulltext (posts_fulltext, rank) VALUES ('automerge', 4)"];

async fn recreate(manager: &SchemaManager<'_>, create: &str, merge: &[&str]) -> Result<(), DbErr> {
    let db = manager.get_connection();
    if db.get_database_backend() == DbBackend::Postgres {
        return Ok(());
    }
    // One call, so one connection of the pool runs them all: a second connection whose
    // schema predates the `DROP`s would refuse to re-create the triggers ("already
    // exists").
    let statements: Vec<&str> = DROP
        .iter()
        .chain([&create])
        .chain(&SQLITE_SEARCH_TRIGGERS)
        .chain([&REBUILD])
        .chain(merge)
        .copied()
        .collect();
    db.execute_unprepared(&statements.join(";\n")).await.map(drop)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        recreate(manager, CREATE_WITHOUT_POSITIONS, &MERGE_8).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        recreate(manager, CREATE_WITH_POSITIONS, &MERGE_4).await
    }
}
