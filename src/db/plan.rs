//! Test support: SQLite's query plan of a statement, on a migrated in-memory database, so
//! a test can assert that a query shape reads its index (and stop a regression to a scan).
use migration::MigratorTrait;
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

/// The `detail` lines of `EXPLAIN QUERY PLAN` for `statement` (SQLite).
pub async fn sqlite_plan(statement: &Statement) -> Vec<String> {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    migration::Migrator::up(&db, None).await.unwrap();
    let explain = Statement::from_sql_and_values(
        DbBackend::Sqlite,
        format!("EXPLAIN QUERY PLAN {}", statement.sql),
        statement.values.clone().map(|v| v.0).unwrap_or_default(),
    );
    db.query_all_raw(explain)
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get_by_index::<String>(3).unwrap())
        .collect()
}
