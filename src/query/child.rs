//! Nested lists (`Organization.users`, `User.posts`, …) as DataLoader keys: the list's
//! arguments, and what a loader needs to read the pages of many parents at once.
use std::hash::Hash;

use sea_orm::{EntityTrait, FromQueryResult, Select, sea_query::Expr};

use super::{KeyOf, Sort, Window};
use crate::{auth::Viewer, error::ApiError};

/// A list's order and how to read a row's cursor key.
pub type SortOf<E> = (Sort<<E as EntityTrait>::Column>, KeyOf<<E as EntityTrait>::Model>);

/// A nested list's arguments, as a loader key. Implemented beside each list's spec in
/// `service/`.
pub trait ChildList: Clone + Eq + Hash + Send + Sync + 'static {
    type Entity: EntityTrait<Model: FromQueryResult + Clone + Send + Sync>;

    /// The list for all parents: scoped and filtered, without parent or page bounds.
    fn select(&self, viewer: &Viewer) -> Result<Select<Self::Entity>, ApiError>;
    /// The expression naming a row's parent: a column of the entity (`posts.user_id`), or
    /// of a table `select` joins (`post_tags.tag_id` for a tag's posts).
    fn parent(&self) -> Expr;
    fn sort(&self) -> SortOf<Self::Entity>;
    fn window(&self) -> Result<Window, ApiError> {
        Window::new(self.page_args(), self.sort().0.field)
    }
    fn page_args(&self) -> &super::PageArgs;
    /// The same list without page arguments (the key of its count).
    fn unpaged(&self) -> Self;
}
