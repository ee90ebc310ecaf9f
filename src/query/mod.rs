//! What every list shares and GraphQL does not need: sort keys, page arguments, the
//! keyset window, pages, lazy counts and the cursor codec. Below `service/` and
//! `loaders/`, beside `entity/`; it names neither GraphQL nor HTTP.
pub mod child;
pub mod count;
pub mod cursor;
pub mod ids;
pub mod page;

pub use self::{
    child::ChildList,
    count::Count,
    cursor::{Cursor, Rank, SortKey},
    ids::any_of,
    page::{KeyOf, MAX_PAGE, Page, PageArgs, PageQuery, Sort, Window, paginate},
};
