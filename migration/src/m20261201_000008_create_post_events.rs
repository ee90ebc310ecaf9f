//! `post_events`: the outbox behind subscriptions. Each post change writes its event row
//! in the change's own transaction; instances read new rows after a commit (PostgreSQL
//! `NOTIFY`, an in-process signal on SQLite) and hand them to their subscribers.
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
enum Posts {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum PostEvents {
    Table,
    Id,
    OrganizationId,
    PostId,
    Kind,
    /// The post was or became readable by anonymous callers with this change: they receive
    /// the event (a deleted post's old state cannot be read back at delivery).
    Public,
    OccurredAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use PostEvents::*;
        manager
            .create_table(
                sea_query::Table::create()
                    .table(Table)
                    // Never reused (SQLite `AUTOINCREMENT`, a PostgreSQL sequence): a cursor
                    // of a pruned event never names a newer one.
                    .col(big_pk_auto(Id))
                    .col(integer(OrganizationId))
                    .col(integer(PostId))
                    .col(string_len(Kind, 20))
                    .col(boolean(Public))
                    .col(timestamp_with_time_zone(OccurredAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_post_events_organization_id")
                            .from(Table, OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_post_events_post_id")
                            .from(Table, PostId)
                            .to(Posts::Table, Posts::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        // An organization's events in order: replays, and each instance's reads after a
        // notification.
        manager
            .create_index(index(Table, &[OrganizationId, Id], false))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(sea_query::Table::drop().table(PostEvents::Table).to_owned())
            .await
    }
}
