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
pub enum Users {
    Table,
    Id,
    Username,
    Email,
    FullName,
    IsActive,
    OrganizationId,
    Role,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Users::*;
        manager
            .create_table(
                sea_query::Table::create()
                    .table(Table)
                    .col(pk_auto(Id))
                    .col(string_len(Username, 80))
                    .col(string_len(Email, 120))
                    .col(string_len_null(FullName, 100))
                    .col(boolean(IsActive).default(true))
                    .col(integer(OrganizationId))
                    .col(string_len(Role, 20).default("member"))
                    .col(timestamp_with_time_zone(CreatedAt))
                    .col(timestamp_with_time_zone(UpdatedAt))
                    .col(timestamp_with_time_zone_null(DeletedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_users_organization_id")
                            .from(Table, OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager.create_index(index(Table, &[Username], true)).await?;
        manager.create_index(index(Table, &[Email], true)).await?;
        manager
            .create_index(index(Table, &[OrganizationId], false))
            .await?;
        manager
            .create_index(index(Table, &[OrganizationId, IsActive], false))
            .await?;
        // Keyset pagination of an organization's users, and the cascade on deleted_at.
        manager
            .create_index(index(Table, &[OrganizationId, CreatedAt, Id], false))
            .await?;
        manager.create_index(index(Table, &[CreatedAt, Id], false)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Users::Table).to_owned())
            .await
    }
}
