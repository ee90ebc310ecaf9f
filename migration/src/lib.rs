//! Database migrations. Frozen in time: each migration declares its own identifiers and
//! never imports the server's entities.
pub use sea_orm_migration::prelude::*;

mod m20261127_000001_create_organizations;
mod m20261127_000002_create_users;
mod m20261127_000003_create_posts;
mod m20261127_000004_create_audit_logs;
mod m20261127_000005_add_global_list_indexes;
mod m20261127_000006_cover_global_post_counts;
mod m20261201_000007_post_slugs_and_publishing;
mod m20261201_000008_create_post_events;
mod m20261201_000009_create_tags;
mod m20261201_000010_post_search;
mod m20261201_000011_search_indexes_for_writes;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_create_organizations::Migration),
            Box::new(m20261127_000002_create_users::Migration),
            Box::new(m20261127_000003_create_posts::Migration),
            Box::new(m20261127_000004_create_audit_logs::Migration),
            Box::new(m20261127_000005_add_global_list_indexes::Migration),
            Box::new(m20261127_000006_cover_global_post_counts::Migration),
            Box::new(m20261201_000007_post_slugs_and_publishing::Migration),
            Box::new(m20261201_000008_create_post_events::Migration),
            Box::new(m20261201_000009_create_tags::Migration),
            Box::new(m20261201_000010_post_search::Migration),
            Box::new(m20261201_000011_search_indexes_for_writes::Migration),
        ]
    }
}

/// Creates a (possibly unique) index on `table`, named `idx_<table>_<cols>` or `uq_…`.
pub(crate) fn index<T: IntoIden + Copy + 'static, C: IntoIden + Copy + 'static>(
    table: T,
    cols: &[C],
    unique: bool,
) -> IndexCreateStatement {
    let table_name = table.into_iden().to_string();
    let col_names: Vec<String> = cols.iter().map(|c| c.into_iden().to_string()).collect();
    let prefix = if unique { "uq" } else { "idx" };
    let mut stmt = Index::create();
    stmt.name(format!("{prefix}_{table_name}_{}", col_names.join("_")))
        .table(table);
    for c in cols {
        stmt.col(*c);
    }
    if unique {
        stmt.unique();
    }
    stmt
}
