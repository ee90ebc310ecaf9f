//! `schema.graphql` at the repository root is the served schema.

#[test]
fn schema_graphql_matches_the_served_schema() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let served = blogql::graphql::sdl();
    if std::env::var("UPDATE_SCHEMA").is_ok_and(|v| v == "1") {
        std::fs::write(path, &served).unwrap();
    }
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        checked_in == served,
        "schema.graphql is out of date: run `UPDATE_SCHEMA=1 cargo test schema` or `cargo run -- print-schema > schema.graphql`"
    );
}

/// GraphiQL's documentation explorer is the API's manual: every type, field, argument,
/// input field and enum value of the served schema has a description (introspection
/// types and built-in scalars are graphql's own).
#[tokio::test]
async fn every_schema_element_has_a_description() {
    let app = crate::helpers::TestApp::spawn().await;
    let query = "{ __schema { types { name description \
                 fields { name description args { name description } } \
                 inputFields { name description } enumValues { name description } } } }";
    let data = app.ok(query, serde_json::json!({}), None).await;
    let builtin = ["String", "Int", "Float", "Boolean", "ID"];
    let described = |v: &serde_json::Value| v["description"].as_str().is_some_and(|d| !d.trim().is_empty());
    let mut missing = Vec::new();
    for ty in data["__schema"]["types"].as_array().unwrap() {
        let name = ty["name"].as_str().unwrap();
        if name.starts_with("__") || builtin.contains(&name) {
            continue;
        }
        if !described(ty) {
            missing.push(name.to_owned());
        }
        let members = |key: &str| ty[key].as_array().cloned().unwrap_or_default();
        for field in members("fields") {
            let field_name = field["name"].as_str().unwrap();
            if !described(&field) {
                missing.push(format!("{name}.{field_name}"));
            }
            for arg in field["args"].as_array().unwrap() {
                if !described(arg) {
                    missing.push(format!("{name}.{field_name}({})", arg["name"].as_str().unwrap()));
                }
            }
        }
        for key in ["inputFields", "enumValues"] {
            for member in members(key) {
                if !described(&member) {
                    missing.push(format!("{name}.{}", member["name"].as_str().unwrap()));
                }
            }
        }
    }
    assert!(missing.is_empty(), "without a description: {missing:?}");
}
