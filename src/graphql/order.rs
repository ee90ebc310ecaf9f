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
    let operation = match (&doc.operations, operation_name) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
        _ => None,
    };
    if let Some(operation) = operation {
        reorder_value(data, &[&operation.node.selection_set.node], &doc.fragments);
    }
}

/// The response keys of some selection sets in order, each with its sub-selections.
type Fields<'a> = Vec<(Name, Vec<&'a SelectionSet>)>;

fn reorder_value(value: &mut Value, sets: &[&SelectionSet], fragments: &Fragments) {
    if matches!(value, Value::List(_) | Value::Object(_)) {
        // Computed once for all items of a list: they share the selection.
        let mut fields = Fields::new();
        for set in sets {
            collect(set, fragments, &mut fields, 0);
        }
        reorder_with(value, &fields, fragments);
    }
}

fn reorder_with(value: &mut Value, fields: &Fields, fragments: &Fragments) {
    match value {
        Value::List(items) => items
            .iter_mut()
            .for_each(|item| reorder_with(item, fields, fragments)),
        Value::Object(map) => {
            if !in_order(map, fields) {
                let mut old = std::mem::take(map);
                let mut ordered = IndexMap::with_capacity(old.len());
                for (key, _) in fields {
                    if let Some(child) = old.shift_remove(key) {
                        ordered.insert(key.clone(), child);
                    }
                }
                ordered.extend(old);
                *map = ordered;
            }
            for (key, sub_sets) in fields {
                if let Some(child) = map.get_mut(key) {
                    reorder_value(child, sub_sets, fragments);
                }
            }
        }
        _ => {}
    }
}

/// Whether the keys of `map` already follow `fields` (the common case: nothing to move).
fn in_order(map: &IndexMap<Name, Value>, fields: &Fields) -> bool {
    let mut next = 0;
    for (key, _) in fields {
        match map.get_index_of(key) {
            Some(i) if i == next => next += 1,
            Some(_) => return false,
            None => {}
        }
    }
    next == map.len()
}

/// The response keys of a selection set in order, with the sub-selections of each (a key
/// selected twice merges its sub-selections, as the executor does).
fn collect<'a>(
    set: &'a SelectionSet,
    fragments: &'a Fragments,
    out: &mut Vec<(Name, Vec<&'a SelectionSet>)>,
    depth: usize,
) {
    if depth > 64 {
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
