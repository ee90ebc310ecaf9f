//! The query limits, measured on the parsed document before validation and before any
//! SQL runs (`execute::Engine::prepare`): cost, depth, aliases and root fields.
//!
//! Every fragment spread is measured under its own type condition, and counted once per
//! spread: async-graphql 7.2's own cost visitor keeps the parent's type when it follows
//! a named spread (so under `node`/`nodes` a connection's multiplier was never applied),
//! and counting a fragment's aliases or root fields once let one spread many times
//! multiply them. Each fragment is measured once (memoized), so a document of nested
//! spreads costs linear time to measure, however large its expansion.
use std::collections::HashMap;

use async_graphql::{
    Name, Variables,
    parser::types::{
        BaseType, ExecutableDocument, Field, OperationDefinition, Selection, SelectionSet, TypeKind,
        TypeSystemDefinition,
    },
};

use super::pagination;
use crate::error::ApiError;

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_aliases: usize,
    pub max_root_fields: usize,
    pub max_depth: usize,
    pub max_complexity: usize,
}

/// What a `totalCount` costs: a `COUNT(*)` over the whole filtered list, not one row
/// (batched per level like every nested list, hence not more).
const TOTAL_COUNT_COST: usize = 10;
/// What a list filtered by `search` or `fullText` adds: a match over titles and contents
/// (index-backed, but its matches are read and sorted).
const SEARCH_COST: usize = 1_000;

/// How a field's children count towards its cost (the `complexity` of its resolver).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Multiplier {
    /// `1 + children`, async-graphql's default.
    One,
    /// A connection: children once per requested row (`pagination::cost`).
    Page,
    /// `nodes(ids:)`: children once per id.
    Ids,
}

/// The schema's fields: the named type each returns and how it multiplies its children,
/// by owner type, then field name (looked up with `&str`s: no key is built per field).
#[derive(Default)]
pub struct Shape {
    fields: HashMap<String, HashMap<String, (String, Multiplier)>>,
}

impl Shape {
    pub fn of_sdl(sdl: &str) -> Shape {
        let mut fields: HashMap<String, HashMap<String, (String, Multiplier)>> = HashMap::new();
        let Ok(doc) = async_graphql::parser::parse_schema(sdl) else {
            return Shape { fields };
        };
        for definition in doc.definitions {
            let TypeSystemDefinition::Type(ty) = definition else {
                continue;
            };
            let owner = ty.node.name.node.to_string();
            let defined = match ty.node.kind {
                TypeKind::Object(object) => object.fields,
                TypeKind::Interface(interface) => interface.fields,
                _ => continue,
            };
            for field in defined {
                let field = field.node;
                let mut ty = &field.ty.node.base;
                while let BaseType::List(inner) = ty {
                    ty = &inner.base;
                }
                let BaseType::Named(returns) = ty else { continue };
                let has = |arg: &str| field.arguments.iter().any(|a| a.node.name.node == arg);
                let multiplier = if returns.ends_with("Connection") && has("first") {
                    Multiplier::Page
                } else if field.name.node == "nodes" && has("ids") {
                    Multiplier::Ids
                } else {
                    Multiplier::One
                };
                fields
                    .entry(owner.clone())
                    .or_default()
                    .insert(field.name.node.to_string(), (returns.to_string(), multiplier));
            }
        }
        Shape { fields }
    }
}

/// What a selection set adds up to.
#[derive(Clone, Copy, Debug, Default)]
struct Measure {
    cost: usize,
    depth: usize,
    aliases: usize,
    /// Fields at this level once fragments are expanded (root fields, at the root).
    fields: usize,
}

impl Measure {
    fn add(&mut self, other: Measure) {
        self.cost = self.cost.saturating_add(other.cost);
        self.depth = self.depth.max(other.depth);
        self.aliases = self.aliases.saturating_add(other.aliases);
        self.fields = self.fields.saturating_add(other.fields);
    }
}

struct Measurer<'a> {
    shape: &'a Shape,
    doc: &'a ExecutableDocument,
    variables: &'a Variables,
    /// Whether a measured argument took a variable's value.
    variables_read: std::cell::Cell<bool>,
    /// The rows of the connection whose fields are being measured: its `edges` or
    /// `nodes` count once per row, its `totalCount` and `pageInfo` once.
    rows: usize,
    /// Fragments measured so far, by name and `rows`; `None` while one is being measured
    /// (a cycle, which validation refuses afterwards, counts as nothing here).
    fragments: HashMap<(&'a str, usize), Option<Measure>>,
}

impl<'a> Measurer<'a> {
    fn set(&mut self, set: &'a SelectionSet, ty: &str) -> Measure {
        let mut total = Measure::default();
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => total.add(self.field(&field.node, ty)),
                Selection::InlineFragment(fragment) => {
                    let fragment = &fragment.node;
                    let inner = fragment
                        .type_condition
                        .as_ref()
                        .map_or(ty, |c| c.node.on.node.as_str());
                    total.add(self.set(&fragment.selection_set.node, inner));
                }
                Selection::FragmentSpread(spread) => {
                    total.add(self.fragment(&spread.node.fragment_name.node))
                }
            }
        }
        total
    }

    fn fragment(&mut self, name: &'a Name) -> Measure {
        let key = (name.as_str(), self.rows);
        if let Some(known) = self.fragments.get(&key) {
            return known.unwrap_or_default();
        }
        let Some(fragment) = self.doc.fragments.get(name) else {
            return Measure::default();
        };
        self.fragments.insert(key, None);
        let fragment = &fragment.node;
        let measured = self.set(
            &fragment.selection_set.node,
            &fragment.type_condition.node.on.node,
        );
        self.fragments.insert(key, Some(measured));
        measured
    }

    fn field(&mut self, field: &'a Field, ty: &str) -> Measure {
        let (returns, multiplier) = self
            .shape
            .fields
            .get(ty)
            .and_then(|fields| fields.get(field.name.node.as_str()))
            .map_or(("", Multiplier::One), |(r, m)| (r.as_str(), *m));
        let name = field.name.node.as_str();
        let of_connection = ty.ends_with("Connection");
        let (children, cost) = match multiplier {
            Multiplier::Page => {
                let rows = pagination::cost(self.int(field, "first"), self.int(field, "last"), 1) - 1;
                let outer = std::mem::replace(&mut self.rows, rows);
                let children = self.set(&field.selection_set.node, returns);
                self.rows = outer;
                let search = if self.searches(field) { SEARCH_COST } else { 0 };
                (children, children.cost.saturating_add(1).saturating_add(search))
            }
            Multiplier::Ids => {
                let children = self.set(&field.selection_set.node, returns);
                let ids = self.list_len(field, "ids").max(1);
                (children, ids.saturating_mul(children.cost))
            }
            Multiplier::One => {
                let children = self.set(&field.selection_set.node, returns);
                let cost = match name {
                    "totalCount" if of_connection => TOTAL_COUNT_COST,
                    "edges" | "nodes" if of_connection => {
                        self.rows.saturating_mul(children.cost.saturating_add(1))
                    }
                    _ => children.cost.saturating_add(1),
                };
                (children, cost)
            }
        };
        Measure {
            cost,
            depth: children.depth.saturating_add(1),
            aliases: children
                .aliases
                .saturating_add(usize::from(field.alias.is_some())),
            fields: 1,
        }
    }

    fn argument(&self, field: &Field, name: &str) -> Option<async_graphql::Value> {
        let (_, value) = field.arguments.iter().find(|(n, _)| n.node == name)?;
        value
            .node
            .clone()
            .into_const_with(|var| {
                self.variables_read.set(true);
                self.variables.get(&var).cloned().ok_or(())
            })
            .ok()
    }

    fn int(&self, field: &Field, name: &str) -> Option<i32> {
        match self.argument(field, name)? {
            async_graphql::Value::Number(n) => n
                .as_i64()
                .map(|n| n.clamp(i32::MIN.into(), i32::MAX.into()) as i32),
            _ => None,
        }
    }

    /// Whether a list is filtered by a (non-null) `search` or `fullText`.
    fn searches(&self, field: &Field) -> bool {
        match self.argument(field, "filter") {
            Some(async_graphql::Value::Object(filter)) => ["search", "fullText"].iter().any(|name| {
                filter
                    .get(*name)
                    .is_some_and(|s| *s != async_graphql::Value::Null)
            }),
            _ => false,
        }
    }

    fn list_len(&self, field: &Field, name: &str) -> usize {
        match self.argument(field, name) {
            Some(async_graphql::Value::List(items)) => items.len(),
            Some(_) => 1,
            None => 0,
        }
    }
}

impl Limits {
    /// Checks the operation `op` of `doc` (its cost and depth unless `introspection`:
    /// introspection has limits of its own) and every operation's aliases and root fields.
    /// Whether the document's operation `op` is within the limits with `variables`; `Ok`
    /// says whether that holds for any variables (no measured argument read one).
    pub fn check(
        &self,
        shape: &Shape,
        doc: &ExecutableDocument,
        op: Option<&OperationDefinition>,
        variables: &Variables,
        introspection: bool,
    ) -> Result<Outcome, ApiError> {
        // The values the run operation's arguments will take: the request's variables,
        // else the defaults of its variable definitions.
        let mut variables = variables.clone();
        for definition in op.iter().flat_map(|op| &op.variable_definitions) {
            let definition = &definition.node;
            if let (false, Some(default)) = (
                variables.contains_key(&definition.name.node),
                &definition.default_value,
            ) {
                variables.insert(definition.name.node.clone(), default.node.clone());
            }
        }
        let mut measurer = Measurer {
            shape,
            doc,
            variables: &variables,
            variables_read: std::cell::Cell::new(false),
            rows: 1,
            fragments: HashMap::new(),
        };
        let root_type = |op: &OperationDefinition| match op.ty {
            async_graphql::parser::types::OperationType::Query => "Query",
            async_graphql::parser::types::OperationType::Mutation => "Mutation",
            async_graphql::parser::types::OperationType::Subscription => "Subscription",
        };
        let mut aliases = 0usize;
        for (_, each) in doc.operations.iter() {
            let measured = measurer.set(&each.node.selection_set.node, root_type(&each.node));
            aliases = aliases.saturating_add(measured.aliases);
            if measured.fields > self.max_root_fields {
                return Err(ApiError::TooComplex(format!(
                    "An operation selects {} root fields; the limit is {}",
                    measured.fields, self.max_root_fields
                )));
            }
            let is_run = op.is_some_and(|op| std::ptr::eq(op, &each.node));
            if !is_run || introspection {
                continue;
            }
            if measured.depth > self.max_depth {
                return Err(ApiError::TooComplex(format!(
                    "The query is nested {} levels deep; the limit is {}",
                    measured.depth, self.max_depth
                )));
            }
            if measured.cost > self.max_complexity {
                return Err(ApiError::TooComplex(format!(
                    "The query costs {}; the limit is {} (a connection's fields count once per \
                     requested row: ask for fewer rows or fewer nested lists)",
                    measured.cost, self.max_complexity
                )));
            }
        }
        if aliases > self.max_aliases {
            return Err(ApiError::TooComplex(format!(
                "The query uses {aliases} aliases; the limit is {}",
                self.max_aliases
            )));
        }
        Ok(match measurer.variables_read.get() {
            false => Outcome::AnyVariables,
            true => Outcome::TheseVariables,
        })
    }
}

/// For which variables a document passed `Limits::check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Any: no measured argument took a variable's value.
    AnyVariables,
    /// The request's only.
    TheseVariables,
}
