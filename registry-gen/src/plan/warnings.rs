//! What the user should know before relying on a bundle: a choice that
//! loses data (emptyDir), leaves the registry unreachable from nodes,
//! throttles it, opens it to anyone, or writes into every node. Printed by
//! `render` and `check`, and listed in the bundle's README.

use super::{backends, DataSource, Plan};
use crate::config::Config;

/// What a CPU limit was measured to cost, for the warning.
const THROTTLE_COST: &str = "measured on 2 cores with distribution 2.8.2: under 100m a 256 MiB push took 4.9x and a pull 8.3x as long as with no limit and each authenticated request 27 ms more; under 500m pulls still took 1.4x-1.7x";

/// Below this CPU limit (in millicores) the registry was measured to move
/// images markedly slower than without a limit (docs/performance.md, "The
/// registry under its own limits").
const THROTTLING_CPU_LIMIT_MILLIS: f64 = 1000.0;

/// A CPU quantity in millicores (`100m` → 100, `0.5` → 500, `2` → 2000);
/// `None` for what validation refuses.
fn cpu_millis(q: &str) -> Option<f64> {
    let (num, scale) = match q.strip_suffix('m') {
        Some(n) => (n, 1.0),
        None => match q.strip_suffix('k') {
            Some(n) => (n, 1e6),
            None => (q, 1e3),
        },
    };
    num.parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .map(|n| n * scale)
}

/// The warnings of `plan`, in a fixed order: the private registry's, the
/// trust installer's, then each mirror's, the shared backends', monitoring's.
pub(super) fn warnings(config: &Config, plan: &Plan) -> Vec<String> {
    let mut warnings = registry_warnings(config, plan);
    for (i, m) in plan.mirrors.iter().enumerate() {
        if m.credentials.is_some() {
            warnings.push(format!(
                "mirrors[{i}] pulls from {} with the upstream login of its username_file and serves anyone who reaches it, without a login: keep its ports inside the cluster's network",
                m.upstream
            ));
        }
        if matches!(m.data.source, DataSource::EmptyDir) {
            warnings.push(format!(
                "mirrors[{i}].storage is empty_dir: the cache of {} is lost when its pod is deleted or moved, and refilled from the upstream",
                m.upstream
            ));
        }
    }
    if plan.private {
        warnings.extend(backends::warnings(config, &plan.data.source));
    }
    warnings.extend(super::monitoring::warnings(config));
    warnings
}

/// The private registry's own warnings (and the trust installer's).
fn registry_warnings(config: &Config, plan: &Plan) -> Vec<String> {
    let private = plan.private;
    let mut warnings = Vec::new();
    if !private {
        warnings.push(
            "registry.enabled is false: a mirror-only bundle, without the private registry; `auth` is not used (the mirrors serve pulls without a login)".to_owned(),
        );
    }
    if private && matches!(plan.data.source, DataSource::EmptyDir) {
        warnings.push(
            "storage is empty_dir: every pushed image is lost when the registry pod is deleted or moved; use nfs, host_path or pvc storage to keep them".to_owned(),
        );
    }
    if private && plan.ports.host.is_none() && plan.ports.node.is_none() {
        warnings.push(
            "neither ports.host nor ports.node is set: the registry is reachable only inside the cluster, and nodes (kubelet, containerd) cannot pull from it by a node address".to_owned(),
        );
    }
    if let Some(cpu) = &plan.resources.limits.cpu {
        if cpu_millis(cpu).is_some_and(|m| m < THROTTLING_CPU_LIMIT_MILLIS) {
            warnings.push(format!(
                "resources.limits.cpu is {cpu}: the registry is throttled to it while it moves images ({THROTTLE_COST}); remove the CPU limit (the default) and keep the request, see docs/performance.md"
            ));
        }
    }
    if plan.trust_installer.is_some() {
        warnings.push(
            "trust.daemonset is on: a DaemonSet writes the CA and hosts.toml files into /etc/containerd/certs.d and /etc/docker/certs.d on every node through hostPath volumes; containerd's config_path must still point there".to_owned(),
        );
    }
    if private && config.auth.is_none() {
        warnings.push("auth is off: anyone who reaches the registry can push and pull".to_owned());
    }
    warnings
}
