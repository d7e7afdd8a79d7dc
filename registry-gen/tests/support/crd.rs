//! Custom resources (Gateway API, Prometheus Operator) validated against
//! their CRDs' JSON schemas, as the `@kubernetes-models` npm packages ship
//! them (installed by the README's test command into `tests/crd/`).

use std::io::Write;
use std::process::{Command, Stdio};

/// The API groups of the custom resources a bundle renders (validate.mjs
/// maps each to its npm package).
const GROUPS: [&str; 2] = ["gateway.networking.k8s.io/", "monitoring.coreos.com/"];

/// Whether an object of `api_version` is a custom resource: the Kubernetes
/// schema validator has no schema for it; [`validate`] checks it.
pub fn is_custom_resource(api_version: &str) -> bool {
    GROUPS.iter().any(|g| api_version.starts_with(g))
}

/// Validate `objects` (parsed YAML documents); `Err` with the validator's
/// report when one fails.
pub fn validate(objects: &[serde_yaml::Value]) -> Result<String, String> {
    let json: Vec<serde_json::Value> = (objects.iter())
        .map(|o| serde_json::to_value(o).unwrap())
        .collect();
    validate_json(&json)
}

/// [`validate`] of objects as JSON values.
pub fn validate_json(objects: &[serde_json::Value]) -> Result<String, String> {
    let dir = super::workspace().join("registry-gen/tests/crd");
    let json = serde_json::to_string(objects).unwrap();
    let mut child = Command::new("node")
        .arg(dir.join("validate.mjs"))
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect(
            "node (Node.js 20; the README's test command runs npm ci in registry-gen/tests/crd)",
        );
    child
        .stdin
        .take()
        .unwrap()
        .write_all(json.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    if o.status.success() {
        Ok(report)
    } else {
        Err(report)
    }
}
