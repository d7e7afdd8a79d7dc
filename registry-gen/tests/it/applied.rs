//! An unchanged bundle applies as unchanged (issue 21, item 5): no rendered
//! object holds a value the API server normalises away, so the state
//! `kubectl apply` records matches what the server keeps, start.sh on an
//! unchanged bundle reports `unchanged`, and GitOps tools (Argo CD, Flux)
//! see no drift. The API server drops empty strings, empty lists and empty
//! maps of optional fields; an empty map that is a struct of its own
//! (`emptyDir: {}`) is kept and is allowed.

use std::path::Path;

use serde_yaml::Value;

use crate::common;

/// Keys whose empty map is a struct the API server keeps as `{}`.
const KEPT_EMPTY: &[&str] = &["emptyDir"];

fn walk(v: &Value, at: &str, found: &mut Vec<String>) {
    match v {
        Value::String(s) if s.is_empty() => found.push(format!("{at}: ''")),
        Value::Sequence(items) if items.is_empty() => found.push(format!("{at}: []")),
        Value::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{at}[{i}]"), found);
            }
        }
        Value::Mapping(m) => {
            let key = at.rsplit('.').next().unwrap_or("");
            if m.is_empty() && !KEPT_EMPTY.contains(&key) {
                found.push(format!("{at}: {{}}"));
            }
            for (k, v) in m {
                let k = k.as_str().unwrap_or("?");
                walk(v, &format!("{at}.{k}"), found);
            }
        }
        _ => {}
    }
}

#[test]
fn no_rendered_object_holds_a_value_the_api_server_drops() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut found = Vec::new();
    let mut objects = 0;
    for entry in std::fs::read_dir(examples).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let bundle = common::render(&common::load(&path));
        for (file, f) in bundle.files() {
            if !file.starts_with("manifests/") || !file.ends_with(".yaml") {
                continue;
            }
            let text = std::str::from_utf8(&f.contents).unwrap();
            for doc in serde_yaml::Deserializer::from_str(text) {
                let v = Value::deserialize(doc).unwrap();
                if v.get("kind").is_none() {
                    continue;
                }
                objects += 1;
                let at = format!("{}:{file}", path.file_stem().unwrap().to_string_lossy());
                walk(&v, &at, &mut found);
            }
        }
    }
    assert!(objects > 50, "only {objects} objects rendered");
    assert!(
        found.is_empty(),
        "values the API server drops:\n{}",
        found.join("\n")
    );
}

use serde::Deserialize;
