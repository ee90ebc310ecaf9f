//! What mutation inputs share: `{id}` inputs and nullable fields that can be cleared.
use async_graphql::MaybeUndefined;

/// Declares `{id}` inputs (`softDelete*`, `restore*`).
macro_rules! id_inputs {
    ($($name:ident: $doc:literal),*) => {$(
        #[doc = $doc]
        #[derive(async_graphql::InputObject)]
        pub struct $name {
            /// The record's id (global or database id).
            id: async_graphql::ID,
        }
    )*};
}
pub(crate) use id_inputs;

/// A nullable input field: absent leaves the value, `null` clears it.
pub fn maybe<T>(value: MaybeUndefined<T>) -> Option<Option<T>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v)),
    }
}
