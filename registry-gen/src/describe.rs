//! The plan in words, shared by `registry-gen check` (`summary.rs`) and the
//! bundle's README (`render/docs.rs`), so the two cannot say different
//! things about the same bundle. Plain text, no Markdown.

use crate::plan::{
    paths, CaPlan, DataPlan, DataSource, DrainPlan, Endpoint, IngressMode, MirrorPlan, Plan, Via,
    DRAIN_TIMEOUT_SECONDS,
};

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
        Via::Exposed => exposed_via(plan),
    }
}

/// How the name on port 443 reaches the registry, for every client
/// (Docker included: no port to type).
fn exposed_via(plan: &Plan) -> String {
    let Some(x) = &plan.exposure else {
        return String::new();
    };
    let mut ways = Vec::new();
    if let Some(r) = &x.route {
        let ns = r.gateway_namespace.as_deref().unwrap_or(plan.namespace);
        let listener = r
            .section_name
            .as_deref()
            .map_or(String::new(), |s| format!(" listener {s}"));
        ways.push(format!(
            "Gateway {ns}/{}{listener} (TLSRoute {}, TLS passed through by SNI)",
            r.gateway, r.api_version
        ));
    }
    if let Some(i) = &x.ingress {
        let how = match i.mode {
            IngressMode::Reencrypt => {
                "TLS re-encrypted to the registry, verified against the bundle CA"
            }
            IngressMode::Passthrough => "TLS passed through by SNI",
        };
        ways.push(format!("Ingress class {} ({how})", i.class_name));
    }
    format!(
        "port 443 through {}, for every client, Docker included (no port to type)",
        ways.join(" and ")
    )
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
        DataSource::S3(s3) => {
            let endpoint = s3.endpoint.as_deref().unwrap_or("AWS S3");
            let style = if s3.path_style {
                "path-style"
            } else {
                "virtual-hosted-style"
            };
            let prefix = s3
                .root_directory
                .as_deref()
                .map_or(String::new(), |r| format!(" under {r}"));
            let ca = s3.ca.as_ref().map_or(String::new(), |c| {
                format!(", its CA {} trusted by the registry", c.source.display())
            });
            let keys = match &s3.credentials {
                Some(c) => format!("keys from Secret {}", c.secret),
                None => "the AWS default credential chain".to_owned(),
            };
            let redirect = if s3.redirect {
                "clients download blobs from the bucket (redirect on)"
            } else {
                "clients download blobs through the registry (redirect off)"
            };
            format!(
                "S3 bucket {}{prefix} in region {} at {endpoint} ({style}{ca}), {keys}; {redirect}",
                s3.bucket, s3.region
            )
        }
    }
}

/// How many pods run, where, and what survives the loss of a node.
pub(crate) fn topology(plan: &Plan) -> String {
    let n = plan.replicas;
    let survives = match &plan.data.source {
        DataSource::S3(_) => "the images survive in the bucket, off the nodes",
        DataSource::Claim(c) if c.pv.is_some() => "the images survive on the NFS export",
        DataSource::Claim(_) => {
            "the images survive on the claim's volume, where its StorageClass keeps them"
        }
        DataSource::HostPath { .. } => {
            "the images stay on that node's disk, and the pod, pinned there, waits for the node"
        }
        DataSource::EmptyDir => "the images are lost with the pod",
    };
    let each = if n < 2 {
        "the pod caches"
    } else {
        "each pod caches"
    };
    let cache = match &plan.cache {
        Some(r) => format!(
            "; blob descriptors are cached in Redis {} (db {}), shared by every pod",
            r.address, r.db
        ),
        None => format!("; {each} blob descriptors in its own memory"),
    };
    let update = updates(plan);
    if n < 2 {
        return format!(
            "1 pod; {update}; while its node is down the registry is down, until the pod runs again; {survives}{cache}"
        );
    }
    let spread = match &plan.scale.spread {
        Some(s) if s.when_unsatisfiable == "DoNotSchedule" => {
            "on different nodes (strict: a pod waits rather than share a node)"
        }
        _ => "preferably on different nodes (two share a node only when no other has room)",
    };
    let budget = plan
        .scale
        .disruption_budget
        .as_ref()
        .map_or(String::new(), |b| {
            format!(
                "; PodDisruptionBudget {} lets a drain evict {} pod at a time",
                b.name, b.max_unavailable
            )
        });
    format!(
        "{n} pods {spread} behind Service {}, sharing the HTTP secret{budget}; {update}; when a node goes down the Service sends every request to the other pods, and {survives}{cache}",
        plan.name
    )
}

/// What an update (a renewed certificate, a CA-rotation step, a new image)
/// does to pulls: the gap, if any, an operator should expect.
pub(crate) fn updates(plan: &Plan) -> String {
    roll(plan.strategy, plan.ports.host)
}

/// [`updates`] of a Deployment with this strategy and hostPort.
fn roll(strategy: &str, host_port: Option<u16>) -> String {
    let drain = format!("finishes the requests it serves (up to {DRAIN_TIMEOUT_SECONDS} s)");
    match DrainPlan::new(strategy).pre_stop_seconds {
        Some(delay) => format!(
            "an update (a renewed certificate, a CA-rotation step, a new image) rolls a new pod in before an old one goes, and a stopping pod leaves the Service, keeps serving {delay} s more, then {drain}: pulls keep working"
        ),
        None => {
            let why = match host_port {
                Some(port) => format!("hostPort {port} is one node's port"),
                None => "the claim is ReadWriteOnce: one node mounts it".to_owned(),
            };
            format!(
                "an update (a renewed certificate, a CA-rotation step, a new image) replaces the pod (Recreate: {why}): the old pod {drain}, but new pulls fail from the moment it stops until the new one is ready, about one pod start"
            )
        }
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
            Via::PortlessAlias | Via::Service | Via::Exposed => {
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
    v.push(format!("  updates: {}", roll(m.strategy, m.ports.host)));
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

/// What the bundle shares with other bundles on the cluster or a node
/// (`plan/owner.rs`): a heading, then one line per name, aligned.
pub(crate) fn shared(plan: &Plan) -> (String, Vec<String>) {
    let names = plan.shared_names();
    let width = names.iter().map(|n| n.name.len()).max().unwrap_or(0);
    (
        format!(
            "shared with other bundles (marked {}: {}; another owner's copy is left alone unless --take-over):",
            crate::plan::OWNER_KEY,
            plan.owner
        ),
        names
            .iter()
            .map(|n| format!("{:width$}  {}", n.name, n.why, width = width))
            .collect(),
    )
}
