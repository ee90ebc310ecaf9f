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
