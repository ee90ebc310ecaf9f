use sea_orm_migration::{prelude::*, schema::*};

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum Organizations {
    Table,
    Id,
    Name,
    Slug,
    Plan,
    IsActive,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Organizations::*;
        manager
            .create_table(
                sea_query::Table::create()
                    .table(Table)
                    .col(pk_auto(Id))
                    .col(string_len(Name, 100))
                    .col(string_len(Slug, 50))
                    .col(string_len(Plan, 20).default("free"))
                    .col(boolean(IsActive).default(true))
                    .col(timestamp_with_time_zone(CreatedAt))
                    .col(timestamp_with_time_zone(UpdatedAt))
                    .col(timestamp_with_time_zone_null(DeletedAt))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index(Table, &[Name], true)).await?;
        manager.create_index(index(Table, &[Slug], true)).await?;
        manager
            .create_index(index(Table, &[IsActive, Plan], false))
            .await?;
        // Keyset pagination of Query.organizations in its default order.
        manager.create_index(index(Table, &[CreatedAt, Id], false)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Organizations::Table).to_owned())
            .await
    }
}
