use sea_orm_migration::{prelude::*, schema::*};

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum AuditLogs {
    Table,
    Id,
    OrganizationId,
    UserId,
    /// Who acted when there is no user row: `platform_admin:<sub>`.
    ActorSubject,
    Action,
    TableName,
    RecordId,
    OldValues,
    NewValues,
    IpAddress,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use AuditLogs::*;
        manager
            .create_table(
                sea_query::Table::create()
                    .table(Table)
                    .col(pk_auto(Id))
                    .col(integer_null(OrganizationId))
                    .col(integer_null(UserId))
                    .col(string_len_null(ActorSubject, 200))
                    .col(string_len(Action, 50))
                    .col(string_len(TableName, 50))
                    .col(integer(RecordId))
                    .col(json_null(OldValues))
                    .col(json_null(NewValues))
                    .col(string_len_null(IpAddress, 45))
                    .col(timestamp_with_time_zone(CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_audit_logs_user_id")
                            .from(Table, UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager.create_index(index(Table, &[Action], false)).await?;
        manager.create_index(index(Table, &[TableName], false)).await?;
        manager.create_index(index(Table, &[RecordId], false)).await?;
        manager
            .create_index(index(Table, &[TableName, RecordId], false))
            .await?;
        manager
            .create_index(index(Table, &[OrganizationId, CreatedAt], false))
            .await?;
        manager.create_index(index(Table, &[CreatedAt, Id], false)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditLogs::Table).to_owned())
            .await
    }
}
