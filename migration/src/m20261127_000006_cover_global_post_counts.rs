//! The platform-wide and public `Query.posts` `totalCount` (a `COUNT(*)` over every live,
//! or published and public, post) as an index-only scan: 000005's `(created_at, id)` index
//! again, with the columns those counts filter on INCLUDEd. Found by
//! `bench/explain_check.sh` at a million posts (a parallel Seq Scan of `posts` before).
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Posts {
    Table,
    Id,
    CreatedAt,
    DeletedAt,
    Status,
    OrganizationId,
}

const PLAIN: &str = "idx_posts_created_at_id";
const COVERING: &str = "idx_posts_created_at_id_covering";

fn created_at_id(name: &str) -> IndexCreateStatement {
    Index::create()
        .name(name)
        .table(Posts::Table)
        .col(Posts::CreatedAt)
        .col(Posts::Id)
        .if_not_exists()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // INCLUDE is PostgreSQL's; SQLite builds the plain two-column index.
        manager
            .create_index(
                created_at_id(COVERING)
                    .include(Posts::DeletedAt)
                    .include(Posts::Status)
                    .include(Posts::OrganizationId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name(PLAIN)
                    .table(Posts::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_index(created_at_id(PLAIN)).await?;
        manager
            .drop_index(
                Index::drop()
                    .name(COVERING)
                    .table(Posts::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
