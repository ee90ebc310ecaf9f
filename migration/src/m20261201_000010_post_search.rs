//! Index-backed post search (`search`, a case-insensitive substring of title and content)
//! and ranked full-text search (`fullText`), on both databases, existing rows included.
//!
//! PostgreSQL: `pg_trgm` GIN indexes on `lower(title)` and `lower(content)` (the server's
//! `lower(col) LIKE pattern ESCAPE '\'` is served by them), and a generated, weighted
//! `search_vector` (title A, excerpt B, content C; the `simple` configuration: words, no
//! stemming, no stop words) with a GIN index. Adding the generated column fills it for
//! every existing row.
//!
//! SQLite: two external-content FTS5 tables over `posts`, kept in step by triggers:
//! `posts_search` (title, content; `trigram` tokenizer, case-insensitive) finds the
//! candidates of a `search`, and `posts_fulltext` (title, excerpt, content; `unicode61`
//! without diacritics folding, the same words PostgreSQL's `simple` parser finds) answers
//! `fullText` and ranks with `bm25`. Both are rebuilt from the existing rows.
use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, DbBackend},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The first characters of `content` PostgreSQL's `search_vector` holds: a `tsvector` is
/// at most 1 MB, and a 1 MB body of short distinct words would exceed it (the insert
/// would fail). 100,000 characters stay below that whatever the text.
const PG_UP: [&str; 5] = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX idx_posts_lower_title_trgm ON posts USING gin (lower(title) gin_trgm_ops)",
    "CREATE INDEX idx_posts_lower_content_trgm ON posts USING gin (lower(content) gin_trgm_ops)",
    "ALTER TABLE posts ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (\
       setweight(to_tsvector('simple'::regconfig, coalesce(title, '')), 'A') || \
       setweight(to_tsvector('simple'::regconfig, coalesce(excerpt, '')), 'B') || \
       setweight(to_tsvector('simple'::regconfig, left(coalesce(content, ''), 100000)), 'C')\
     ) STORED",
    "CREATE INDEX idx_posts_search_vector ON posts USING gin (search_vector)",
];

const PG_DOWN: [&str; 4] = [
    "DROP INDEX IF EXISTS idx_posts_search_vector",
    "ALTER TABLE posts DROP COLUMN IF EXISTS search_vector",
    "DROP INDEX IF EXISTS idx_posts_lower_content_trgm",
    "DROP INDEX IF EXISTS idx_posts_lower_title_trgm",
];

const SQLITE_TABLES: [&str; 2] = [
    "CREATE VIRTUAL TABLE posts_search USING fts5(title, content, \
       content='posts', content_rowid='id', tokenize='trigram case_sensitive 0')",
    "CREATE VIRTUAL TABLE posts_fulltext USING fts5(title, excerpt, content, \
       content='posts', content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
];

/// The triggers that keep `posts_search` in step with `posts` (also re-created by
/// `m20261201_000011`, which rebuilds the table).
pub(crate) const SQLITE_SEARCH_TRIGGERS: [&str; 3] = [
    "CREATE TRIGGER posts_search_insert AFTER INSERT ON posts BEGIN \
       INSERT INTO posts_search (rowid, title, content) VALUES (new.id, new.title, new.content); \
     END",
    "CREATE TRIGGER posts_search_update AFTER UPDATE OF title, content ON posts \
       WHEN old.title IS NOT new.title OR old.content IS NOT new.content BEGIN \
       INSERT INTO posts_search (posts_search, rowid, title, content) \
         VALUES ('delete', old.id, old.title, old.content); \
       INSERT INTO posts_search (rowid, title, content) VALUES (new.id, new.title, new.content); \
     END",
    "CREATE TRIGGER posts_search_delete AFTER DELETE ON posts BEGIN \
       INSERT INTO posts_search (posts_search, rowid, title, content) \
         VALUES ('delete', old.id, old.title, old.content); \
     END",
];

const SQLITE_FULLTEXT_TRIGGERS: [&str; 3] = [
    "CREATE TRIGGER posts_fulltext_insert AFTER INSERT ON posts BEGIN \
       INSERT INTO posts_fulltext (rowid, title, excerpt, content) \
         VALUES (new.id, new.title, new.excerpt, new.content); \
     END",
    "CREATE TRIGGER posts_fulltext_update AFTER UPDATE OF title, excerpt, content ON posts \
       WHEN old.title IS NOT new.title OR old.excerpt IS NOT new.excerpt \
         OR old.content IS NOT new.content BEGIN \
       INSERT INTO posts_fulltext (posts_fulltext, rowid, title, excerpt, content) \
         VALUES ('delete', old.id, old.title, old.excerpt, old.content); \
       INSERT INTO posts_fulltext (rowid, title, excerpt, content) \
         VALUES (new.id, new.title, new.excerpt, new.content); \
     END",
    "CREATE TRIGGER posts_fulltext_delete AFTER DELETE ON posts BEGIN \
       INSERT INTO posts_fulltext (posts_fulltext, rowid, title, excerpt, content) \
         VALUES ('delete', old.id, old.title, old.excerpt, old.content); \
     END",
];

/// The existing rows.
const SQLITE_REBUILD: [&str; 2] = [
    "INSERT INTO posts_search (posts_search) VALUES ('rebuild')",
    "INSERT INTO posts_fulltext (posts_fulltext) VALUES ('rebuild')",
];

const SQLITE_UP: [&[&str]; 4] = [
    &SQLITE_TABLES,
    &SQLITE_SEARCH_TRIGGERS,
    &SQLITE_FULLTEXT_TRIGGERS,
    &SQLITE_REBUILD,
];

const SQLITE_DOWN: [&str; 8] = [
    "DROP TRIGGER IF EXISTS posts_search_insert",
    "DROP TRIGGER IF EXISTS posts_search_update",
    "DROP TRIGGER IF EXISTS posts_search_delete",
    "DROP TRIGGER IF EXISTS posts_fulltext_insert",
    "DROP TRIGGER IF EXISTS posts_fulltext_update",
    "DROP TRIGGER IF EXISTS posts_fulltext_delete",
    "DROP TABLE IF EXISTS posts_search",
    "DROP TABLE IF EXISTS posts_fulltext",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let statements: Vec<&str> = match db.get_database_backend() {
            DbBackend::Postgres => PG_UP.to_vec(),
            _ => SQLITE_UP.concat(),
        };
        for sql in statements {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let statements: &[&str] = match db.get_database_backend() {
            DbBackend::Postgres => &PG_DOWN,
            _ => &SQLITE_DOWN,
        };
        for sql in statements {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}
