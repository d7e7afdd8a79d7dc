//! How nodes and tools come to trust, find and pull from the registry:
//! where trust files go on a node or client (Docker, containerd,
//! CRI-O/podman, k3s), the opt-in DaemonSet that installs them, KEP-1755's
//! discovery ConfigMap, and the Pod that proves the kubelet can pull.

/// Install locations on nodes and clients; the trust files, the scripts
/// and the docs all take them from here.
#[derive(Debug)]
pub(crate) struct NodePaths {
    pub docker: &'static str,
    /// Docker's daemon config, where a Docker Hub mirror is merged in.
    pub docker_daemon_json: &'static str,
    pub containerd: &'static str,
    pub containers: &'static str,
    pub containers_conf: &'static str,
    pub k3s_registries: &'static str,
    /// The CA file k3s's registries.yaml points at.
    pub k3s_ca: String,
}

impl NodePaths {
    /// The locations of the bundle `<namespace>/<name>`.
    pub(super) fn new(name: &str, namespace: &str) -> NodePaths {
        NodePaths {
            docker: "/etc/docker/certs.d",
            docker_daemon_json: "/etc/docker/daemon.json",
            containerd: "/etc/containerd/certs.d",
            containers: "/etc/containers/certs.d",
            containers_conf: "/etc/containers/registries.conf.d",
            k3s_registries: "/etc/rancher/k3s/registries.yaml",
            k3s_ca: format!("/etc/rancher/k3s/{name}-{namespace}-ca.crt"),
        }
    }
}

/// The trust installer: a ConfigMap holding its script and a DaemonSet that
/// runs it on every node, writing into the node's directories through
/// hostPath volumes mounted under `host_root`.
#[derive(Debug, Clone)]
pub(crate) struct TrustInstallerPlan {
    /// Name of both the ConfigMap and the DaemonSet.
    pub name: String,
    pub container: &'static str,
    /// The helper label value it carries.
    pub helper: &'static str,
    /// The ConfigMap's key holding the script, mounted at `script_dir`.
    pub script_key: &'static str,
    pub script_volume: &'static str,
    pub script_dir: &'static str,
    /// Where the node's root directories are mounted in the pod.
    pub host_root: &'static str,
    /// The node directories it writes: (volume name, node path).
    pub host_dirs: Vec<(&'static str, &'static str)>,
}

impl TrustInstallerPlan {
    /// The installer of the registry `name`, writing into `node_paths`.
    pub(super) fn new(name: &str, node_paths: &NodePaths) -> TrustInstallerPlan {
        TrustInstallerPlan {
            name: format!("{name}-trust"),
            container: "install",
            helper: "trust",
            script_key: "install.sh",
            script_volume: "installer",
            script_dir: "/installer",
            host_root: "/host",
            host_dirs: vec![
                ("containerd-certs", node_paths.containerd),
                ("docker-certs", node_paths.docker),
            ],
        }
    }

    /// The script's path inside the installer's container.
    pub fn script_path(&self) -> String {
        format!("{}/{}", self.script_dir, self.script_key)
    }
}

/// The trust installer DaemonSet's pod-template annotation: the SHA-256 of
/// its ConfigMap's data (the script, with the CA in it), which the pod runs
/// only when it starts; a new CA or new addresses roll it.
pub(crate) const CHECKSUM_TRUST_SCRIPT: &str = "registry-gen/checksum-script";

/// A named object, possibly in another namespace than the registry's.
#[derive(Debug, Clone)]
pub(crate) struct ObjectName {
    pub name: &'static str,
    pub namespace: &'static str,
}

/// KEP-1755's ConfigMap that tells tools where the registry is: one per
/// cluster, shared by every bundle (see `owner.rs`).
pub(super) const LOCAL_REGISTRY_HOSTING: ObjectName = ObjectName {
    name: "local-registry-hosting",
    namespace: "kube-public",
};

/// The image the pull-test Pod pulls from the registry (push it first).
pub(crate) const PULL_TEST_IMAGE: &str = "busybox:1.36";

/// The pull-test Pod.
#[derive(Debug, Clone)]
pub(crate) struct PullTestPlan {
    pub pod: String,
    pub container: &'static str,
    /// The helper label value (`registry-<helper>`) it carries.
    pub helper: &'static str,
    /// The image as the kubelet pulls it: through the runtime's endpoint.
    pub image: String,
}

impl PullTestPlan {
    /// The pull test of the registry `name`, pulling through
    /// `runtime_authority` (empty in a mirror-only bundle).
    pub(super) fn new(name: &str, runtime_authority: &str) -> PullTestPlan {
        PullTestPlan {
            pod: format!("{name}-pull-test"),
            container: "pull-test",
            helper: "pull-test",
            image: format!("{runtime_authority}/{PULL_TEST_IMAGE}"),
        }
    }
}
