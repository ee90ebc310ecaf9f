//! Puts response keys in selection-set order, as the GraphQL spec asks ("Serialized Map
//! Ordering"). async-graphql 7.2 resolves an object's fields through a `FuturesUnordered`
//! and collects them in the order they finish, so without this the key order changes
//! between requests.
//!
//! Under an abstract field (`node`, `nodes`) the order depends on the object's type:
//! `... on User { a b } ... on Post { b a }`. The executed document therefore asks for
//! the type of every object whose selection has type conditions (`mark_types`, a hidden
//! `__typename` alias), and the reordering reads it, applies only the fragments that type
//! matches, and removes it.
use std::collections::{HashMap, HashSet};

use async_graphql::{
    Name, Pos, Positioned, Value,
    indexmap::IndexMap,
    parser::types::{
        DocumentOperations, ExecutableDocument, Field, FragmentDefinition, OperationDefinition, Selection,
        SelectionSet, TypeCondition, TypeSystemDefinition,
    },
};

type Fragments = HashMap<Name, Positioned<FragmentDefinition>>;

/// The response key that carries an object's type name where the order needs it.
const TYPE_KEY: &str = "__blogqlType";

/// Which type conditions each object type satisfies: itself, its interfaces, its unions.
#[derive(Default)]
pub struct Types(HashMap<String, HashSet<String>>);

impl Types {
    /// From the served schema's SDL.
    pub fn of_sdl(sdl: &str) -> Self {
        let mut types: HashMap<String, HashSet<String>> = HashMap::new();
        let Ok(doc) = async_graphql::parser::parse_schema(sdl) else {
            return Types(types);
        };
        for definition in doc.definitions {
            let TypeSystemDefinition::Type(ty) = definition else {
                continue;
            };
            let ty = ty.node;
            let name = ty.name.node.to_string();
            match ty.kind {
                async_graphql::parser::types::TypeKind::Object(object) => {
                    let entry = types.entry(name.clone()).or_default();
                    entry.insert(name);
                    entry.extend(object.implements.iter().map(|i| i.node.to_string()));
                }
                async_graphql::parser::types::TypeKind::Union(union) => {
                    for member in union.members {
                        types
                            .entry(member.node.to_string())
                            .or_default()
                            .insert(name.clone());
                    }
                }
                _ => {}
            }
        }
        Types(types)
    }

    fn matches(&self, type_name: &str, condition: &str) -> bool {
        type_name == condition || self.0.get(type_name).is_some_and(|all| all.contains(condition))
    }
}

/// Adds the hidden `__typename` to every selection set that has type conditions (a named
/// spread or an inline fragment `on T`), so `reorder` knows which of them apply.
pub fn mark_types(doc: &mut ExecutableDocument) {
    match &mut doc.operations {
        DocumentOperations::Single(op) => mark(&mut op.node.selection_set.node),
        DocumentOperations::Multiple(ops) => ops
            .values_mut()
            .for_each(|op| mark(&mut op.node.selection_set.node)),
    }
    for fragment in doc.fragments.values_mut() {
        mark(&mut fragment.node.selection_set.node);
    }
}

fn at<T>(node: T) -> Positioned<T> {
    Positioned::new(node, Pos::default())
}

fn mark(set: &mut SelectionSet) {
    let mut typed = false;
    for item in &mut set.items {
        match &mut item.node {
            Selection::Field(field) => mark(&mut field.node.selection_set.node),
            Selection::InlineFragment(fragment) => {
                typed |= fragment.node.type_condition.is_some();
                mark(&mut fragment.node.selection_set.node);
            }
            Selection::FragmentSpread(_) => typed = true,
        }
    }
    if typed {
        let field = Field {
            alias: Some(at(Name::new(TYPE_KEY))),
            name: at(Name::new("__typename")),
            arguments: Vec::new(),
            directives: Vec::new(),
            selection_set: at(SelectionSet::default()),
        };
        set.items.push(at(Selection::Field(at(field))));
    }
}

/// Reorders `data` for `operation` of `doc` (the document as the client sent it,
/// without the marks).
pub fn reorder(data: &mut Value, doc: &ExecutableDocument, operation: &OperationDefinition, types: &Types) {
    if matches!(data, Value::Null) {
        return;
    }
    let context = Context {
        fragments: &doc.fragments,
        types,
    };
    let plan = Plan::of(&[&operation.selection_set.node], &context, None, 0);
    plan.apply(data, &context);
}

struct Context<'a> {
    fragments: &'a Fragments,
    types: &'a Types,
}

/// The order of an object's keys, and of each key's value: worked out once per request
/// from the selection sets, then applied to every item of every list. Where the sets
/// have type conditions, objects carry their type and get a plan of their own.
#[derive(Default)]
struct Plan<'a> {
    keys: Vec<(Name, Plan<'a>)>,
    /// The selection sets, kept when their keys depend on the object's type.
    typed: Option<Vec<&'a SelectionSet>>,
    depth: usize,
}

impl<'a> Plan<'a> {
    fn of(
        sets: &[&'a SelectionSet],
        context: &Context<'a>,
        type_name: Option<&str>,
        depth: usize,
    ) -> Plan<'a> {
        if depth > MAX_DEPTH {
            return Plan::default();
        }
        let mut fields = Fields::new();
        let mut typed = false;
        for set in sets {
            typed |= collect(set, context, type_name, &mut fields, 0);
        }
        let keys = fields
            .into_iter()
            .map(|(key, subs)| {
                let sub = if subs.iter().all(|s| s.items.is_empty()) {
                    Plan::default()
                } else {
                    Plan::of(&subs, context, None, depth + 1)
                };
                (key, sub)
            })
            .collect();
        Plan {
            keys,
            typed: (typed && type_name.is_none()).then(|| sets.to_vec()),
            depth,
        }
    }

    fn apply(&self, value: &mut Value, context: &Context<'a>) {
        match value {
            Value::List(items) => items.iter_mut().for_each(|item| self.apply(item, context)),
            // Only the objects of a selection with type conditions carry their type (`mark`
            // adds it exactly where `collect` finds them): the others are not searched for
            // it (a hash of the key per object).
            Value::Object(map) => match &self.typed {
                Some(sets) => match map.shift_remove(TYPE_KEY) {
                    Some(Value::String(name)) => {
                        Plan::of(sets, context, Some(&name), self.depth).order(map, context)
                    }
                    _ => self.order(map, context),
                },
                None => self.order(map, context),
            },
            _ => {}
        }
    }

    /// Orders `map`'s keys by the plan and recurses into each value. Nothing is hashed:
    /// keys are compared with the plan's (a handful per object) while walking both in
    /// order, and an out-of-order map is sorted in place, which keeps each entry's stored
    /// hash (rebuilding the map re-hashed every key twice: ~4% of a 20-post page's
    /// instructions, callgrind).
    fn order(&self, map: &mut IndexMap<Name, Value>, context: &Context<'a>) {
        if self.keys.is_empty() {
            return;
        }
        if !self.in_order(map) {
            // Keys the plan does not know keep their order, after the planned ones.
            map.sort_by_cached_key(|key, _| {
                self.keys.iter().position(|(k, _)| k == key).unwrap_or(usize::MAX)
            });
        }
        let mut plan = self.keys.iter();
        for (key, child) in map.iter_mut() {
            match plan.by_ref().find(|(k, _)| k == key) {
                Some((_, sub)) => sub.apply(child, context),
                None => break, // the keys the plan does not know, at the end
            }
        }
    }

    /// Whether the keys of `map` already follow the plan (the common case: nothing to
    /// move): each key is found further along the plan than the one before it.
    fn in_order(&self, map: &IndexMap<Name, Value>) -> bool {
        let mut plan = self.keys.iter();
        map.keys().all(|key| plan.by_ref().any(|(k, _)| k == key))
    }
}

/// The response keys of some selection sets in order, each with its sub-selections.
type Fields<'a> = Vec<(Name, Vec<&'a SelectionSet>)>;

/// Nesting beyond the query depth limit is not planned (its values, if any, keep the
/// executor's order).
const MAX_DEPTH: usize = 64;

/// Collects the response keys of a selection set in order, with the sub-selections of
/// each (a key selected twice merges its sub-selections, as the executor does). With a
/// `type_name`, fragments whose type condition it does not satisfy are skipped; without,
/// all are merged. Returns whether the set has type conditions.
fn collect<'a>(
    set: &'a SelectionSet,
    context: &Context<'a>,
    type_name: Option<&str>,
    out: &mut Fields<'a>,
    depth: usize,
) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    let applies = |condition: Option<&Positioned<TypeCondition>>| match (condition, type_name) {
        (Some(condition), Some(name)) => context.types.matches(name, &condition.node.on.node),
        _ => true,
    };
    let mut typed = false;
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
                let condition = fragment.node.type_condition.as_ref();
                typed |= condition.is_some();
                if applies(condition) {
                    typed |= collect(
                        &fragment.node.selection_set.node,
                        context,
                        type_name,
                        out,
                        depth + 1,
                    );
                }
            }
            Selection::FragmentSpread(spread) => {
                typed = true;
                if let Some(fragment) = context.fragments.get(&spread.node.fragment_name.node)
                    && applies(Some(&fragment.node.type_condition))
                {
                    collect(
                        &fragment.node.selection_set.node,
                        context,
                        type_name,
                        out,
                        depth + 1,
                    );
                }
            }
        }
    }
    typed
}
