//! Query limits that async-graphql does not enforce itself: aliases and root fields.
//! Checked by `execute::Engine::prepare` on the parsed document, before validation and before any
//! SQL runs.
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

use crate::error::ApiError;

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_aliases: usize,
    pub max_root_fields: usize,
}

fn count_aliases(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(f) => {
                usize::from(f.node.alias.is_some()) + count_aliases(&f.node.selection_set.node)
            }
            Selection::InlineFragment(f) => count_aliases(&f.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

impl Limits {
    /// Checks a parsed document. The HTTP handler calls it before anything else runs: as
    /// an async-graphql extension it would also wrap the resolution of every field, which
    /// cost ~4% of the server's CPU on nested lists (perf, bench/).
    pub fn check(&self, doc: &ExecutableDocument) -> Result<(), ApiError> {
        let aliases: usize = doc
            .operations
            .iter()
            .map(|(_, op)| count_aliases(&op.node.selection_set.node))
            .chain(
                doc.fragments
                    .values()
                    .map(|f| count_aliases(&f.node.selection_set.node)),
            )
            .sum();
        if aliases > self.max_aliases {
            return Err(ApiError::TooComplex(format!(
                "The query uses {aliases} aliases; the limit is {}",
                self.max_aliases
            )));
        }
        for (_, op) in doc.operations.iter() {
            let roots = op.node.selection_set.node.items.len();
            if roots > self.max_root_fields {
                return Err(ApiError::TooComplex(format!(
                    "An operation selects {roots} root fields; the limit is {}",
                    self.max_root_fields
                )));
            }
        }
        Ok(())
    }
}
