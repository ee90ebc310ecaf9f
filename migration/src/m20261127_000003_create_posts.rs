use sea_orm_migration::{prelude::*, schema::*};

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Organizations {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum Posts {
    Table,
    Id,
    UserId,
    OrganizationId,
    Title,
    Content,
    Status,
    ViewCount,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Posts::*;
        manager
            .create_table(
                sea_query::Table::create()
                    .table(Table)
                    .col(pk_auto(Id))
                    .col(integer(UserId))
                    .col(integer(OrganizationId))
                    .col(string_len(Title, 200))
                    .col(text_null(Content))
                    .col(string_len(Status, 20).default("draft"))
                    .col(integer(ViewCount).default(0))
                    .col(timestamp_with_time_zone(CreatedAt))
                    .col(timestamp_with_time_zone(UpdatedAt))
                    .col(timestamp_with_time_zone_null(DeletedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_posts_user_id")
                            .from(Table, UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_posts_organization_id")
                            .from(Table, OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager.create_index(index(Table, &[UserId], false)).await?;
        manager
            .create_index(index(Table, &[OrganizationId], false))
            .await?;
        manager.create_index(index(Table, &[Status], false)).await?;
        manager
            .create_index(index(Table, &[OrganizationId, Status], false))
            .await?;
        manager
            .create_index(index(Table, &[OrganizationId, CreatedAt], false))
            .await?;
        // Keyset pagination: an organization's and an author's posts by (created_at, id).
        manager
            .create_index(index(Table, &[OrganizationId, CreatedAt, Id], false))
            .await?;
        manager
            .create_index(index(Table, &[UserId, CreatedAt, Id], false))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Posts::Table).to_owned())
            .await
    }
}
