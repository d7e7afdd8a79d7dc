//! The plan in words, shared by `registry-gen check` (`summary.rs`) and the
//! bundle's README (`render/docs.rs`), so the two cannot say different
//! things about the same bundle. Plain text, no Markdown.

use crate::plan::{paths, CaPlan, DataPlan, DataSource, Endpoint, MirrorPlan, Plan, Via};

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
    data(&plan.data)
}

/// Where a registry's data lives (the main one's or a mirror's).
fn data(d: &DataPlan) -> String {
    match &d.source {
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

/// A mirror in words: the upstream, where nodes reach it, what fallback
/// means for each runtime, its cache and upstream login.
pub(crate) fn mirror(m: &MirrorPlan) -> Vec<String> {
    let mut v = vec![format!(
        "{} (proxies {}), as {}:",
        m.upstream, m.remote_url, m.name
    )];
    for e in &m.endpoints {
        let how = match e.via {
            Via::HostPort => format!("hostPort {} on the node running its pod", e.port),
            Via::NodePort => format!("NodePort {} on every node", e.port),
            Via::PortlessAlias | Via::Service => {
                format!(
                    "Service {} port {} (inside the cluster only)",
                    m.name, e.port
                )
            }
        };
        v.push(format!("  endpoint {}  {how}", e.authority()));
    }
    v.push(if m.fallback {
        format!("  fallback: true: when the mirror does not answer, nodes pull from {} themselves", m.upstream)
    } else {
        format!("  fallback: false: nodes never reach {} themselves (containerd's server and CRI-O's location are the mirror; k3s needs --disable-default-registry-endpoint; Docker always falls back to Docker Hub)", m.upstream)
    });
    let mut cache = format!("  cache: {}", data(&m.data));
    if let Some(ttl) = &m.ttl {
        cache.push_str(&format!("; kept {ttl} (REGISTRY_PROXY_TTL, registry 3.x)"));
    }
    v.push(cache);
    if let Some(c) = &m.credentials {
        v.push(format!(
            "  upstream login: Secret {} (from username_file and password_file)",
            c.secret
        ));
    }
    if let Some(ca) = &m.upstream_ca {
        v.push(format!(
            "  upstream TLS: trusts only the CA in ConfigMap {} (ca_file), not the system CAs",
            ca.config_map
        ));
    }
    v
}
