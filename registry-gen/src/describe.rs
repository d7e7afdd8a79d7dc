//! The plan in words, shared by `registry-gen check` (`summary.rs`) and the
//! bundle's README (`render/docs.rs`), so the two cannot say different
//! things about the same bundle. Plain text, no Markdown.

use crate::plan::{paths, CaPlan, DataSource, Endpoint, Plan, Via};

/// How an endpoint reaches the registry.
pub(crate) fn via(plan: &Plan, e: &Endpoint) -> String {
    match e.via {
        Via::HostPort => format!("hostPort {} on the node running the pod", e.port),
        Via::NodePort => format!("NodePort {} on every node", e.port),
        Via::PortlessAlias => format!(
            "NodePort {} on every node, for containerd, CRI-O and k3s with this bundle's trust files (not Docker)",
            e.port
        ),
        Via::Service => format!(
            "Service {} port {} (inside the cluster only)",
            plan.name, e.port
        ),
    }
}

/// Where the images live (without the mount path).
pub(crate) fn storage(plan: &Plan) -> String {
    match &plan.data.source {
        DataSource::Claim(c) => {
            let modes: Vec<&str> = c.access_modes.iter().map(|m| m.as_str()).collect();
            let class = match c.storage_class.as_deref() {
                Some("") => "no StorageClass (static binding)".to_owned(),
                Some(class) => format!("StorageClass {class}"),
                None => "the cluster's default StorageClass".to_owned(),
            };
            let volume = match &c.pv {
                Some(v) => format!(
                    ", bound to PersistentVolume {} (reclaim policy Retain) on NFS {}:{}",
                    v.name, v.server, v.path
                ),
                None => String::new(),
            };
            format!(
                "PersistentVolumeClaim {} ({}, {}, {class}){volume}",
                c.pvc,
                c.size,
                modes.join("+")
            )
        }
        DataSource::HostPath { path, node } => {
            format!("hostPath {path} on node {node} (the pod is pinned there)")
        }
        DataSource::EmptyDir => "emptyDir: images are lost when the pod goes away".to_owned(),
    }
}

/// Which CA signs the server certificate.
pub(crate) fn ca(plan: &Plan) -> String {
    match &plan.ca {
        // One text for both, so a re-render that keeps the CA does not
        // change the README.
        CaPlan::Generated | CaPlan::Kept => format!(
            "the bundle's own CA, {} and {} (made by the first render, kept by every re-render)",
            paths::CA_CERT,
            paths::CA_KEY
        ),
        CaPlan::Given { cert_file } => format!(
            "the given CA {} (copied to {}; its key stays out of the bundle)",
            cert_file.display(),
            paths::CA_CERT
        ),
    }
}
