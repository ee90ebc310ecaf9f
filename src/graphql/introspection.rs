//! Documents that only introspect (`__schema`, `__type`, `__typename`) are what GraphiQL,
//! relay-compiler, GraphQL Code Generator, Rover, Postman and Insomnia send first. The
//! standard one of graphql-js nests about 15 deep (`ofType` chains), past the depth limit
//! meant for data queries, so such documents run on a schema without the depth and cost
//! limits and are bounded instead by the limits here, which the standard query (every
//! option of graphql-js 16 and 17) fits in with room to spare. Aliases and root fields
//! are still counted by `limits.rs`.
use std::collections::HashMap;

use async_graphql::{
    Name, Positioned,
    parser::types::{ExecutableDocument, FragmentDefinition, OperationDefinition, Selection, SelectionSet},
};

use crate::error::ApiError;

/// Deepest nesting of an introspection document, fragments expanded. graphql-js 17's
/// standard query reaches 15.
pub const MAX_DEPTH: usize = 30;
/// Most fields of an introspection document, fragments expanded (the standard query
/// has about 220).
pub const MAX_FIELDS: usize = 2_000;

type Fragments = HashMap<Name, Positioned<FragmentDefinition>>;

const META_FIELDS: [&str; 3] = ["__schema", "__type", "__typename"];

/// Whether the operation selects nothing but introspection at its root.
pub fn is_introspection(operation: &OperationDefinition, fragments: &Fragments) -> bool {
    fn only_meta(set: &SelectionSet, fragments: &Fragments, depth: usize) -> bool {
        depth < 8
            && set.items.iter().all(|item| match &item.node {
                Selection::Field(f) => META_FIELDS.contains(&f.node.name.node.as_str()),
                Selection::InlineFragment(f) => only_meta(&f.node.selection_set.node, fragments, depth + 1),
                Selection::FragmentSpread(s) => fragments
                    .get(&s.node.fragment_name.node)
                    .is_some_and(|f| only_meta(&f.node.selection_set.node, fragments, depth + 1)),
            })
    }
    !operation.selection_set.node.items.is_empty() && only_meta(&operation.selection_set.node, fragments, 0)
}

/// Refuses an introspection operation nested deeper than `MAX_DEPTH` or with more than
/// `MAX_FIELDS` fields once its fragments are expanded. Counting stops at the limit, so a
/// fragment spread a thousand times costs no more than the limit to check.
pub fn check(operation: &OperationDefinition, doc: &ExecutableDocument) -> Result<(), ApiError> {
    let mut walk = Walk {
        fragments: &doc.fragments,
        fields: 0,
        depth: 0,
    };
    walk.set(&operation.selection_set.node, 0, 0);
    if walk.depth > MAX_DEPTH {
        return Err(ApiError::TooComplex(format!(
            "The introspection query is nested deeper than {MAX_DEPTH}"
        )));
    }
    if walk.fields > MAX_FIELDS {
        return Err(ApiError::TooComplex(format!(
            "The introspection query selects more than {MAX_FIELDS} fields"
        )));
    }
    Ok(())
}

struct Walk<'a> {
    fragments: &'a Fragments,
    fields: usize,
    depth: usize,
}

impl Walk<'_> {
    /// `spreads` counts the named spreads being expanded: a cycle (refused later by
    /// validation) stops here instead of recursing for ever.
    fn set(&mut self, set: &SelectionSet, depth: usize, spreads: usize) {
        if depth > MAX_DEPTH || spreads > MAX_DEPTH || self.fields > MAX_FIELDS {
            self.depth = self.depth.max(depth);
            return;
        }
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    self.fields += 1;
                    let sub = &field.node.selection_set.node;
                    if sub.items.is_empty() {
                        self.depth = self.depth.max(depth + 1);
                    } else {
                        self.set(sub, depth + 1, spreads);
                    }
                }
                Selection::InlineFragment(fragment) => {
                    self.set(&fragment.node.selection_set.node, depth, spreads)
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = self.fragments.get(&spread.node.fragment_name.node) {
                        self.set(&fragment.node.selection_set.node, depth, spreads + 1);
                    }
                }
            }
            if self.fields > MAX_FIELDS {
                return;
            }
        }
    }
}
