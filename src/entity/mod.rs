//! SeaORM entities, and the scoped query builders every read starts from.
pub mod audit_log;
pub mod column_set;
pub mod organization;
pub mod organization_columns;
pub mod post;
pub mod post_columns;
pub mod post_event;
pub mod post_tag;
pub mod post_with_author;
pub mod row;
pub mod scope;
pub mod tag;
pub mod user;
pub mod user_columns;
