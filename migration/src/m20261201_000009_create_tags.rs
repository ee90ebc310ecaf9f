//! Tags: `tags` (unique per organization among live rows, by lowercased name and by
//! slug) and `post_tags`, the ordered links between posts and tags.
use sea_orm_migration::{
    prelude::*,
    schema::*,
    sea_orm::{ConnectionTrait, DbBackend},
};

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
enum Tags {
    Table,
    Id,
    OrganizationId,
    Name,
    Slug,
    Description,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PostTags {
    Table,
    PostId,
    TagId,
    Position,
    CreatedAt,
}

const UNIQUE_NAME: &str = "uq_tags_organization_id_lower_name_live";
const UNIQUE_SLUG: &str = "uq_tags_organization_id_slug_live";
/// An organization's soft delete and its exact restore (`organization_id = ? AND
/// deleted_at …`).
const CASCADE: &str = "idx_tags_organization_id_deleted_at";
/// An organization's tags by name (the default order), keyset on `(name, id)`.
const BY_NAME: &str = "idx_tags_organization_id_name_id";
/// `Tag.posts` and `postCount`: the posts of a tag.
const BY_TAG: &str = "idx_post_tags_tag_id_post_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        // Slugs compare byte by byte on both databases, as post slugs do (migration 7): the
        // free-slug lookup reads `[base, base.)` as one index range.
        let mut slug = string_len(Tags::Slug, 60);
        if db.get_database_backend() == DbBackend::Postgres {
            slug.extra("COLLATE \"C\"");
        }
        manager
            .create_table(
                Table::create()
                    .table(Tags::Table)
                    .col(pk_auto(Tags::Id))
                    .col(integer(Tags::OrganizationId))
                    .col(string_len(Tags::Name, 50))
                    .col(slug)
                    .col(string_len_null(Tags::Description, 500))
                    .col(timestamp_with_time_zone(Tags::CreatedAt))
                    .col(timestamp_with_time_zone(Tags::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Tags::DeletedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_tags_organization_id")
                            .from(Tags::Table, Tags::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PostTags::Table)
                    .col(integer(PostTags::PostId))
                    .col(integer(PostTags::TagId))
                    .col(integer(PostTags::Position))
                    .col(timestamp_with_time_zone(PostTags::CreatedAt))
                    .primary_key(Index::create().col(PostTags::PostId).col(PostTags::TagId))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_post_tags_post_id")
                            .from(PostTags::Table, PostTags::PostId)
                            .to(Posts::Table, Posts::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_post_tags_tag_id")
                            .from(PostTags::Table, PostTags::TagId)
                            .to(Tags::Table, Tags::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        // Partial and expression indexes have the same syntax on both databases.
        for sql in [
            format!(
                "CREATE UNIQUE INDEX {UNIQUE_NAME} ON tags (organization_id, lower(name)) WHERE deleted_at IS NULL"
            ),
            format!(
                "CREATE UNIQUE INDEX {UNIQUE_SLUG} ON tags (organization_id, slug) WHERE deleted_at IS NULL"
            ),
            format!("CREATE INDEX {CASCADE} ON tags (organization_id, deleted_at)"),
            format!("CREATE INDEX {BY_NAME} ON tags (organization_id, name, id)"),
            format!("CREATE INDEX {BY_TAG} ON post_tags (tag_id, post_id)"),
        ] {
            db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PostTags::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Tags::Table).to_owned())
            .await
    }
}
