//! docs/config.md is the config reference: every field of the JSON Schema
//! (`Config::json_schema`, derived from the config types) must be named
//! there, so a field added to `config/` without a line of docs fails here.

use std::path::Path;

/// Every property path of the library's schema.
fn schema_paths() -> Vec<String> {
    let schema: serde_json::Value =
        serde_json::from_str(&registry_gen::Config::json_schema()).unwrap();
    crate::support::schema_paths(&schema)
}

/// `path` is documented when docs/config.md names it in backticks, or names
/// its leaf in a table row (`| \`server\` |`) under a heading that names its
/// parent (`### \`storage.nfs\``), or documents one of its fields.
fn documented(doc: &str, path: &str, all: &[String]) -> bool {
    if doc.contains(&format!("`{path}`")) {
        return true;
    }
    if let Some((parent, leaf)) = path.rsplit_once('.') {
        let row = format!("| `{leaf}` |");
        let mut in_parent = false;
        for line in doc.lines() {
            if line.starts_with('#') {
                in_parent = line.contains(&format!("`{parent}`"));
            } else if in_parent && line.starts_with(&row) {
                return true;
            }
        }
    }
    all.iter()
        .filter(|p| p.starts_with(&format!("{path}.")) || p.starts_with(&format!("{path}[]")))
        .any(|child| documented(doc, child, all))
}

#[test]
fn every_config_field_is_in_the_config_reference() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/config.md"))
            .unwrap();
    let paths = schema_paths();
    assert!(paths.len() > 40, "the schema walk found only {paths:?}");
    let missing: Vec<&String> = paths
        .iter()
        .filter(|p| !documented(&doc, p, &paths))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/config.md does not document {missing:?}"
    );
}

#[test]
fn the_schema_describes_every_field_and_knows_the_defaults() {
    let schema: serde_json::Value =
        serde_json::from_str(&registry_gen::Config::json_schema()).unwrap();
    assert_eq!(schema["title"], "registry-gen.yaml");
    assert_eq!(schema["additionalProperties"], false);
    // A missing description means a field without a doc comment.
    for (name, def) in schema["$defs"].as_object().unwrap() {
        for (field, sub) in def["properties"].as_object().into_iter().flatten() {
            assert!(
                sub.get("description").is_some(),
                "{name}.{field} has no description"
            );
        }
    }
    assert_eq!(
        schema["properties"]["tls"]["default"]["key_algorithm"],
        "ecdsa-p256"
    );
    // The types' rustdoc examples stay out of an editor's hover text.
    let text = registry_gen::Config::json_schema();
    assert!(
        !text.contains("```"),
        "a doc example leaked into the schema"
    );
    assert_eq!(schema["properties"]["auth"]["default"]["bcrypt_cost"], 5);
    assert_eq!(schema["$defs"]["Storage"]["maxProperties"], 1);
}
