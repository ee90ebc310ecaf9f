//! Indexes for lists that span organizations (a platform admin's `posts`, the anonymous
//! public feed, `auditLogs(filter: {actorId})`), found by `bench/explain_check.sh`: at a
//! million posts these shapes scanned `posts` / `audit_logs` sequentially without them.
use sea_orm_migration::prelude::*;

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Posts {
    Table,
    Id,
    CreatedAt,
    UpdatedAt,
    ViewCount,
    Title,
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditLogs {
    Table,
    Id,
    UserId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for cols in [
            [Posts::CreatedAt, Posts::Id],
            [Posts::UpdatedAt, Posts::Id],
            [Posts::ViewCount, Posts::Id],
            [Posts::Title, Posts::Id],
        ] {
            manager
                .create_index(index(Posts::Table, &cols, false).if_not_exists().to_owned())
                .await?;
        }
        manager
            .create_index(
                index(
                    AuditLogs::Table,
                    &[AuditLogs::UserId, AuditLogs::CreatedAt, AuditLogs::Id],
                    false,
                )
                .if_not_exists()
                .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in [
            "idx_posts_created_at_id",
            "idx_posts_updated_at_id",
            "idx_posts_view_count_id",
            "idx_posts_title_id",
        ] {
            manager
                .drop_index(Index::drop().name(name).table(Posts::Table).to_owned())
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("idx_audit_logs_user_id_created_at_id")
                    .table(AuditLogs::Table)
                    .to_owned(),
            )
            .await
    }
}
