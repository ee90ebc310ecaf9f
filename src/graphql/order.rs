//! Puts response keys in selection-set order, as the GraphQL spec asks ("Serialized Map
//! Ordering"). async-graphql 7 resolves an object's fields concurrently and collects them
//! in the order they finish, so without this the key order changes between requests.
use std::collections::HashMap;

use async_graphql::{
    Name, Positioned, Value,
    indexmap::IndexMap,
    parser::types::{DocumentOperations, ExecutableDocument, FragmentDefinition, Selection, SelectionSet},
};

type Fragments = HashMap<Name, Positioned<FragmentDefinition>>;

/// Reorders `data` for the operation `operation_name` of `doc`.
pub fn reorder(data: &mut Value, doc: &ExecutableDocument, operation_name: Option<&str>) {
    if matches!(data, Value::Null) {
        return;
    }
    let operation = match (&doc.operations, operation_name) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
        _ => None,
    };
    if let Some(operation) = operation {
        let plan = Plan::of(&[&operation.node.selection_set.node], &doc.fragments, 0);
        plan.apply(data);
    }
}

/// The response keys of some selection sets in order, each with its sub-selections.
type Fields<'a> = Vec<(Name, Vec<&'a SelectionSet>)>;

/// The order of an object's keys, and of each key's value: worked out once per request
/// from the selection sets, then applied to every item of every list.
#[derive(Default)]
struct Plan {
    keys: Vec<(Name, Plan)>,
}

impl Plan {
    fn of(sets: &[&SelectionSet], fragments: &Fragments, depth: usize) -> Plan {
        if depth > MAX_DEPTH {
            return Plan::default();
        }
        let mut fields = Fields::new();
        for set in sets {
            collect(set, fragments, &mut fields, 0);
        }
        let keys = fields
            .into_iter()
            .map(|(key, subs)| {
                let sub = if subs.iter().all(|s| s.items.is_empty()) {
                    Plan::default()
                } else {
                    Plan::of(&subs, fragments, depth + 1)
                };
                (key, sub)
            })
            .collect();
        Plan { keys }
    }

    fn apply(&self, value: &mut Value) {
        if self.keys.is_empty() {
            return;
        }
        match value {
            Value::List(items) => items.iter_mut().for_each(|item| self.apply(item)),
            Value::Object(map) => {
                if !self.in_order(map) {
                    let mut old = std::mem::take(map);
                    let mut ordered = IndexMap::with_capacity(old.len());
                    for (key, _) in &self.keys {
                        if let Some(child) = old.shift_remove(key) {
                            ordered.insert(key.clone(), child);
                        }
                    }
                    ordered.extend(old);
                    *map = ordered;
                }
                for (key, sub) in &self.keys {
                    if let Some(child) = map.get_mut(key) {
                        sub.apply(child);
                    }
                }
            }
            _ => {}
        }
    }

    /// Whether the keys of `map` already follow the plan (the common case: nothing to move).
    fn in_order(&self, map: &IndexMap<Name, Value>) -> bool {
        let mut next = 0;
        for (key, _) in &self.keys {
            match map.get_index_of(key) {
                Some(i) if i == next => next += 1,
                Some(_) => return false,
                None => {}
            }
        }
        next == map.len()
    }
}

/// Nesting beyond the query depth limit is not planned (its values, if any, keep the
/// executor's order).
const MAX_DEPTH: usize = 64;

/// The response keys of a selection set in order, with the sub-selections of each (a key
/// selected twice merges its sub-selections, as the executor does).
fn collect<'a>(
    set: &'a SelectionSet,
    fragments: &'a Fragments,
    out: &mut Vec<(Name, Vec<&'a SelectionSet>)>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                let key = field.node.response_key().node.clone();
                let sub = &field.node.selection_set.node;
                match out.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, subs)) => subs.push(sub),
                    None => out.push((key, vec![sub])),
                }
            }
            Selection::InlineFragment(fragment) => {
                collect(&fragment.node.selection_set.node, fragments, out, depth + 1)
            }
            Selection::FragmentSpread(spread) => {
                if let Some(fragment) = fragments.get(&spread.node.fragment_name.node) {
                    collect(&fragment.node.selection_set.node, fragments, out, depth + 1);
                }
            }
        }
    }
}
