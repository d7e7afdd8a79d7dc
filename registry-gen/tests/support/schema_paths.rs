//! Every property path of the config's JSON Schema.

/// Every property path of `schema`: `ports.node`, `auth.users[].name`,
/// following `$ref`s, `anyOf`/`oneOf` and array items; sorted, once each.
pub fn schema_paths(schema: &serde_json::Value) -> Vec<String> {
    fn walk(
        root: &serde_json::Value,
        node: &serde_json::Value,
        prefix: &str,
        out: &mut Vec<String>,
    ) {
        if let Some(r) = node.get("$ref").and_then(|r| r.as_str()) {
            let name = r.trim_start_matches("#/$defs/");
            walk(root, &root["$defs"][name], prefix, out);
        }
        for key in ["anyOf", "oneOf"] {
            for alt in node
                .get(key)
                .and_then(|a| a.as_array())
                .into_iter()
                .flatten()
            {
                walk(root, alt, prefix, out);
            }
        }
        if let Some(items) = node.get("items") {
            walk(root, items, &format!("{prefix}[]"), out);
        }
        for (name, sub) in node
            .get("properties")
            .and_then(|p| p.as_object())
            .into_iter()
            .flatten()
        {
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            out.push(path.clone());
            walk(root, sub, &path, out);
        }
    }
    let mut out = Vec::new();
    walk(schema, schema, "", &mut out);
    out.sort();
    out.dedup();
    out
}
