//! `post_events`: the outbox of post changes behind `Subscription.postEvents`.
use sea_orm::entity::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(20))")]
pub enum Kind {
    #[sea_orm(string_value = "created")]
    Created,
    #[sea_orm(string_value = "updated")]
    Updated,
    #[sea_orm(string_value = "published")]
    Published,
    #[sea_orm(string_value = "unpublished")]
    Unpublished,
    #[sea_orm(string_value = "deleted")]
    Deleted,
    #[sea_orm(string_value = "restored")]
    Restored,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "post_events")]
pub struct Model {
    /// Monotonic; within an organization, in commit order.
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i32,
    pub post_id: i32,
    pub kind: Kind,
    /// The post was public before or after the change: anonymous subscribers receive it.
    pub public: bool,
    pub occurred_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
