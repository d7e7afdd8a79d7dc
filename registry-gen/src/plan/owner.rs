//! Names a bundle shares with other bundles on the same cluster or node:
//! KEP-1755's ConfigMap (one per cluster), containerd's `certs.d/<host>/`
//! of a port-less alias and of a mirrored upstream (one per node and
//! name), CRI-O's `certs.d/<upstream>/ca.crt` (a fallback's upstream CA), CRI-O's drop-ins (named after the bundle's `name` alone) and
//! k3s's `registries.yaml` (one per node). Each copy the bundle writes
//! carries its owner, `<namespace>/<name>`: the annotation [`OWNER_KEY`] on
//! the ConfigMap, the comment line `# registry-gen/owner: ...` in a file
//! ([`Plan::owner_line`]). start.sh, delete.sh, trust-node.sh and the trust
//! DaemonSet never replace or delete another owner's copy without
//! `--take-over`; a copy without the mark is this bundle's when it is
//! exactly what this bundle writes (but the mark), else refused too.

use super::{paths, Plan, Via};

/// The annotation of a shared cluster object, and the key of the comment
/// line in a shared node file, whose value is the owner.
pub(crate) const OWNER_KEY: &str = "registry-gen/owner";

/// One shared name the bundle claims, for `check` and the README.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SharedName {
    /// The name as an operator finds it (an object, a node path).
    pub name: String,
    /// Why another bundle may claim it too.
    pub why: &'static str,
}

impl Plan<'_> {
    /// The comment line that marks a shared node file as this bundle's.
    pub fn owner_line(&self) -> String {
        format!("# {OWNER_KEY}: {}", self.owner)
    }

    /// Every shared name this bundle claims, in the order the scripts
    /// meet them.
    pub fn shared_names(&self) -> Vec<SharedName> {
        let np = &self.node_paths;
        let mut v = Vec::new();
        if self
            .manifests
            .iter()
            .any(|m| m.kind == super::ManifestKind::Namespace)
        {
            v.push(SharedName {
                name: format!("Namespace {}", self.namespace),
                why: "with every other bundle or app in it (delete.sh --purge-data keeps it while they are there)",
            });
        }
        if self.private {
            let o = &self.local_registry_hosting;
            v.push(SharedName {
                name: format!("ConfigMap {}/{}", o.namespace, o.name),
                why: "KEP-1755: one per cluster (start.sh, delete.sh)",
            });
        }
        for e in self
            .endpoints
            .iter()
            .filter(|e| e.via == Via::PortlessAlias)
        {
            v.push(SharedName {
                name: format!("{}/{}/", np.containerd, e.host),
                why: "the port-less alias: one per node and host (trust-node.sh, the trust DaemonSet)",
            });
        }
        for m in &self.mirrors {
            v.push(SharedName {
                name: format!("{}/{}/", np.containerd, m.upstream),
                why: "the upstream's routing: one per node and upstream (trust-node.sh, the trust DaemonSet)",
            });
        }
        for m in self.mirrors.iter().filter(|m| m.nodes_trust_upstream_ca()) {
            v.push(SharedName {
                name: format!("{}/{}/ca.crt", np.containers, m.upstream),
                why: "the upstream's CA for a node falling back: one per node and upstream (trust-node.sh)",
            });
        }
        for conf in self.containers_confs() {
            v.push(SharedName {
                name: format!(
                    "{}/{}",
                    np.containers_conf,
                    conf.rsplit('/').next().unwrap_or(&conf)
                ),
                why: "named after the bundle's name alone; each prefix it routes is one per node (trust-node.sh)",
            });
        }
        v.push(SharedName {
            name: np.k3s_registries.to_owned(),
            why: "one per node (trust-node.sh)",
        });
        v
    }

    /// CRI-O's and podman's drop-ins of the bundle (bundle paths).
    pub fn containers_confs(&self) -> Vec<String> {
        let mut v = Vec::new();
        if self.endpoints.iter().any(|e| e.via == Via::PortlessAlias) {
            v.push(paths::containers_conf(self.name));
        }
        if !self.mirrors.is_empty() {
            v.push(paths::containers_mirrors_conf(self.name));
        }
        v
    }
}
