//! The Kubernetes schema validator (PyPI `kubernetes-validate`, installed
//! by the README's test command), at the API version both crates pin.

use std::path::PathBuf;
use std::process::Command;

/// The Kubernetes version the manifests are validated against: the oldest
/// k8s-openapi 0.29 supports, as the workspace's `v1_33` feature.
pub const KUBERNETES_VERSION: &str = "1.33.0";

/// Validate `manifests` strictly; panics with the validator's output when
/// it fails, reports an error or a warning, or cannot be run.
pub fn kubernetes_validate(manifests: &[PathBuf]) {
    let out = Command::new("python3")
        .args(["-m", "kubernetes_validate", "--strict"])
        .args(["--kubernetes-version", KUBERNETES_VERSION])
        .args(manifests)
        .output()
        .expect("python3 -m kubernetes_validate (the README's test command installs it)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && !text.contains("ERROR") && !text.contains("WARN"),
        "kubernetes-validate:\n{text}"
    );
}
