//! Posts gain `slug` (unique per organization among live posts), `excerpt`, `featured`,
//! `published_at` and `publish_at` (the scheduled time). Existing posts get a slug derived
//! from their title (the same rule as the server's, frozen here) and, when published, a
//! `published_at` equal to their creation time: the best the data can tell.
use std::collections::{HashMap, HashSet};

use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Posts {
    Table,
    Slug,
    Excerpt,
    Featured,
    PublishedAt,
    PublishAt,
}

const UNIQUE_SLUG: &str = "uq_posts_organization_id_slug_live";
const PUBLISHED_AT: &str = "idx_posts_organization_id_published_at";
/// `orderBy: PUBLISHED_AT` across organizations (the public feed) and per author.
const PUBLISHED_AT_GLOBAL: &str = "idx_posts_published_at_id";
const PUBLISHED_AT_AUTHOR: &str = "idx_posts_user_id_published_at";
/// The scheduler's claim: due SCHEDULED posts, a handful among millions.
const SCHEDULED: &str = "idx_posts_publish_at_scheduled";

/// The longest a derived slug's base may be, leaving room for a `-N` suffix.
const BASE_MAX: usize = 190;

/// The title as a slug: accents folded to ASCII, lowercase letters and digits, words
/// (split at spaces, `-` and `_`) joined by single hyphens, every other character
/// dropped; `post` when nothing is left.
fn slugify(title: &str) -> String {
    let folded = deunicode::deunicode(title).to_ascii_lowercase();
    let mut slug = String::with_capacity(folded.len());
    for c in folded.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if (c.is_whitespace() || c == '-' || c == '_') && !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= BASE_MAX {
            break;
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        "post".to_owned()
    } else {
        slug.to_owned()
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = db.get_database_backend();
        // Slugs compare byte by byte on both databases (SQLite's default is BINARY): the
        // free-slug lookup reads `[base, base.)` as one index range, which a locale's
        // collation (ignoring punctuation) would not keep together.
        if backend == DbBackend::Postgres {
            db.execute_unprepared(
                "ALTER TABLE posts ADD COLUMN slug varchar(200) COLLATE \"C\" NOT NULL DEFAULT ''",
            )
            .await?;
        } else {
            let slug = ColumnDef::new(Posts::Slug)
                .string_len(200)
                .not_null()
                .default("")
                .to_owned();
            manager
                .alter_table(Table::alter().table(Posts::Table).add_column(slug).to_owned())
                .await?;
        }
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        let columns = [
            ColumnDef::new(Posts::Excerpt).string_len(500).null().to_owned(),
            ColumnDef::new(Posts::Featured)
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
            ColumnDef::new(Posts::PublishedAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(Posts::PublishAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
        ];
        for column in columns {
            manager
                .alter_table(Table::alter().table(Posts::Table).add_column(column).to_owned())
                .await?;
        }
        let txn = db.begin().await?;
        // Live posts keep the plain slug first (by id), then deleted ones; a deleted post
        // needs no unique slug, but its restore looks for a free one.
        let rows = txn
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT id, organization_id, title FROM posts ORDER BY deleted_at IS NOT NULL, id",
            ))
            .await?;
        let mut taken: HashMap<i32, HashSet<String>> = HashMap::new();
        let mut slugs = Vec::with_capacity(rows.len());
        for row in rows {
            let (id, organization, title): (i32, i32, String) = (
                row.try_get_by_index(0)?,
                row.try_get_by_index(1)?,
                row.try_get_by_index(2)?,
            );
            let base = slugify(&title);
            let used = taken.entry(organization).or_default();
            let mut slug = base.clone();
            let mut n = 2;
            while used.contains(&slug) {
                slug = format!("{base}-{n}");
                n += 1;
            }
            used.insert(slug.clone());
            slugs.push((id, slug));
        }
        // The slugs go into a temporary table (1,000 rows an INSERT), then one UPDATE
        // rewrites every post once, slug and `published_at` together: a join per chunk and
        // a second pass took 4 minutes for a million posts on PostgreSQL.
        txn.execute_unprepared(
            "CREATE TEMPORARY TABLE blogql_post_slugs (id integer PRIMARY KEY, slug varchar(200) NOT NULL)",
        )
        .await?;
        for chunk in slugs.chunks(1000) {
            let mut values: Vec<sea_orm_migration::sea_orm::Value> = Vec::with_capacity(chunk.len() * 2);
            let mut rows = Vec::with_capacity(chunk.len());
            for (id, slug) in chunk {
                values.push((*id).into());
                values.push(slug.clone().into());
                rows.push(match backend {
                    DbBackend::Postgres => format!("(${}, ${})", values.len() - 1, values.len()),
                    _ => "(?, ?)".to_owned(),
                });
            }
            let sql = format!(
                "INSERT INTO blogql_post_slugs (id, slug) VALUES {}",
                rows.join(", ")
            );
            txn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
                .await?;
        }
        txn.execute_unprepared(
            "UPDATE posts SET slug = s.slug, \
             published_at = CASE WHEN posts.status = 'published' THEN posts.created_at END \
             FROM blogql_post_slugs s WHERE posts.id = s.id",
        )
        .await?;
        txn.execute_unprepared("DROP TABLE blogql_post_slugs").await?;
        txn.commit().await?;
        // Partial indexes have the same syntax on both databases.
        db.execute_unprepared(&format!(
            "CREATE UNIQUE INDEX {UNIQUE_SLUG} ON posts (organization_id, slug) WHERE deleted_at IS NULL"
        ))
        .await?;
        db.execute_unprepared(&format!(
            "CREATE INDEX {PUBLISHED_AT} ON posts (organization_id, published_at, id)"
        ))
        .await?;
        db.execute_unprepared(&format!(
            "CREATE INDEX {PUBLISHED_AT_GLOBAL} ON posts (published_at, id) WHERE published_at IS NOT NULL"
        ))
        .await?;
        db.execute_unprepared(&format!(
            "CREATE INDEX {PUBLISHED_AT_AUTHOR} ON posts (user_id, published_at, id)"
        ))
        .await?;
        db.execute_unprepared(&format!(
            "CREATE INDEX {SCHEDULED} ON posts (publish_at, id) WHERE status = 'scheduled' AND deleted_at IS NULL"
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for index in [
            UNIQUE_SLUG,
            PUBLISHED_AT,
            PUBLISHED_AT_GLOBAL,
            PUBLISHED_AT_AUTHOR,
            SCHEDULED,
        ] {
            manager
                .drop_index(Index::drop().name(index).table(Posts::Table).to_owned())
                .await?;
        }
        for column in [
            Posts::PublishAt,
            Posts::PublishedAt,
            Posts::Featured,
            Posts::Excerpt,
            Posts::Slug,
        ] {
            manager
                .alter_table(Table::alter().table(Posts::Table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn slugs_fold_accents_and_keep_single_hyphens() {
        assert_eq!(super::slugify("Hello, World!"), "hello-world");
        assert_eq!(
            super::slugify("  Crème brûlée — à la carte "),
            "creme-brulee-a-la-carte"
        );
        assert_eq!(super::slugify("!!!"), "post");
        assert_eq!(super::slugify("Don't stop: a/b_c"), "dont-stop-ab-c");
        assert_eq!(super::slugify(&"a".repeat(300)).len(), 190);
    }
}
