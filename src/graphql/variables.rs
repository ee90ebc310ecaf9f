//! Whether a request's variables are valid for their declared types, by async-graphql's own
//! rules: what lets a document that passed full validation once skip it the next time
//! (`execute::Engine::execute`).
//!
//! Of async-graphql's validation rules, only `ArgumentsOfCorrectType` reads the variables:
//! it checks each variable's value against the type of the argument it stands for. The
//! other rules depend on the document alone, and so does `VariableInAllowedPosition`, which
//! makes a variable's named type its argument's (non-null where the argument is). A
//! document that passed once therefore needs only its variables checked again. This checks
//! the built-in scalars, and lists of them, exactly as their `ScalarType::is_valid` does,
//! and vouches for nothing else: a null, an enum, an input object or a custom scalar sends
//! the request through full validation, which reports it as it always has.
use async_graphql::{
    Positioned, Value, Variables,
    parser::types::{BaseType, Type, VariableDefinition},
};

/// Whether every variable of `definitions` that the request gives is vouched for. An
/// absent variable is: the rule checks only the values it is given.
pub fn vouched(definitions: &[Positioned<VariableDefinition>], variables: &Variables) -> bool {
    definitions.iter().all(|definition| {
        let definition = &definition.node;
        variables
            .get(&definition.name.node)
            .is_none_or(|value| valid(&definition.var_type.node, value))
    })
}

fn valid(ty: &Type, value: &Value) -> bool {
    match (&ty.base, value) {
        // Whether a null fits depends on the argument's nullability and default.
        (_, Value::Null) => false,
        (BaseType::List(item), Value::List(items)) => items.iter().all(|value| valid(item, value)),
        // A single value stands for a list of one (input coercion).
        (BaseType::List(item), value) => valid(item, value),
        (BaseType::Named(name), value) => built_in_scalar(name.as_str(), value),
    }
}

/// async-graphql's `is_valid` of the built-in scalars; `false` for any other type.
fn built_in_scalar(type_name: &str, value: &Value) -> bool {
    match (type_name, value) {
        ("ID" | "Int", Value::Number(n)) => n.is_i64(),
        ("ID" | "String", Value::String(_))
        | ("Float", Value::Number(_))
        | ("Boolean", Value::Boolean(_)) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;
    use serde_json::json;

    use super::*;

    fn vouches(declarations: &str, variables: serde_json::Value) -> bool {
        let doc = parse_query(format!("query Q({declarations}) {{ __typename }}")).unwrap();
        let op = crate::graphql::execute::definition(&doc, None).unwrap();
        vouched(&op.variable_definitions, &Variables::from_json(variables))
    }

    #[test]
    fn built_in_scalars_as_async_graphql_checks_them() {
        assert!(vouches("$id: ID!", json!({"id": "UG9zdDox"})));
        assert!(vouches("$id: ID!", json!({"id": 12})));
        assert!(!vouches("$id: ID!", json!({"id": 1.5})));
        assert!(!vouches("$id: ID!", json!({"id": true})));
        assert!(vouches("$n: Int", json!({"n": -3})));
        assert!(!vouches("$n: Int", json!({"n": "3"})));
        assert!(vouches("$x: Float", json!({"x": 2.5})));
        assert!(vouches("$s: String!", json!({"s": "a"})));
        assert!(!vouches("$s: String!", json!({"s": 1})));
        assert!(vouches("$b: Boolean!", json!({"b": false})));
        assert!(!vouches("$b: Boolean!", json!({"b": "false"})));
    }

    #[test]
    fn lists_nulls_and_other_types() {
        assert!(vouches("$ids: [ID!]!", json!({"ids": ["a", 2]})));
        assert!(
            vouches("$ids: [ID!]!", json!({"ids": "a"})),
            "a single value coerces"
        );
        assert!(!vouches("$ids: [ID!]!", json!({"ids": ["a", 2.5]})));
        assert!(!vouches("$ids: [ID]", json!({"ids": ["a", null]})));
        assert!(!vouches("$n: Int", json!({"n": null})));
        assert!(!vouches("$s: PostStatus", json!({"s": "DRAFT"})));
        assert!(!vouches("$f: PostFilter", json!({"f": {}})));
        assert!(!vouches("$t: DateTime", json!({"t": "2026-01-01T00:00:00Z"})));
        assert!(vouches("$n: Int, $s: String", json!({})), "absent variables");
        assert!(!vouches("$n: Int, $s: String", json!({"n": 1, "s": 2})));
    }
}
