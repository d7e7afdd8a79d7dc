//! The bundle's layout: every path, relative to the bundle's root. The
//! layout is a contract (docs, scripts, tests and the CLI rely on it), so it
//! is spelled out only here.

/// The bundle's own how-to.
pub const README: &str = "README.md";
/// The effective config.
pub const CONFIG: &str = "registry-gen.yaml";
/// The CA certificate.
pub const CA_CERT: &str = "certs/ca.crt";
/// The CA key (absent with an external CA).
pub const CA_KEY: &str = "certs/ca.key";
/// The server certificate.
pub const SERVER_CERT: &str = "certs/server.crt";
/// The server key.
pub const SERVER_KEY: &str = "certs/server.key";
/// The server CSR.
pub const SERVER_CSR: &str = "certs/server.csr";
/// The openssl equivalent of certs/.
pub const OPENSSL_CNF: &str = "certs/openssl.cnf";
/// The htpasswd file.
pub const HTPASSWD: &str = "auth/htpasswd";
/// REGISTRY_HTTP_SECRET.
pub const HTTP_SECRET: &str = "auth/http-secret";
/// The kustomization listing every manifest.
pub const KUSTOMIZATION: &str = "manifests/kustomization.yaml";
/// The CA alone, for system trust stores.
pub const TRUST_CA: &str = "trust/ca.crt";
/// Deploys the registry.
pub const SCRIPT_START: &str = "scripts/start.sh";
/// Removes the registry, keeping its data.
pub const SCRIPT_DELETE: &str = "scripts/delete.sh";
/// Checks TLS and login with curl.
pub const SCRIPT_VERIFY: &str = "scripts/verify.sh";
/// The list of files the last write produced (not part of the bundle).
pub const FILE_LIST: &str = ".registry-gen-files";

/// Where a generated password of `user` is kept.
pub fn password(user: &str) -> String {
    format!("auth/{user}.password")
}

/// Docker's (and skopeo's, podman's) per-endpoint CA file.
pub fn docker_ca(endpoint: &str) -> String {
    format!("trust/docker/certs.d/{endpoint}/ca.crt")
}

/// containerd's per-registry directory (`/etc/containerd/certs.d/<endpoint>`).
pub fn containerd_dir(endpoint: &str) -> String {
    format!("trust/containerd/certs.d/{endpoint}")
}

/// How to point containerd at `certs.d` (config_path for 1.x and 2.x).
pub const CONTAINERD_README: &str = "trust/containerd/README.md";

/// CRI-O's and podman's per-registry CA (`/etc/containers/certs.d/<endpoint>/ca.crt`).
pub fn containers_ca(endpoint: &str) -> String {
    format!("trust/containers/certs.d/{endpoint}/ca.crt")
}

/// CRI-O's and podman's redirect of port-less names (`/etc/containers/registries.conf.d/`).
pub fn containers_conf(name: &str) -> String {
    format!("trust/containers/registries.conf.d/{name}.conf")
}

/// k3s's and rke2's `/etc/rancher/k3s/registries.yaml`.
pub const K3S_REGISTRIES: &str = "trust/k3s/registries.yaml";

/// The KEP-1755 ConfigMap that tells tools where the local registry is.
pub const LOCAL_REGISTRY_HOSTING: &str = "manifests/local-registry-hosting.yaml";

/// A Pod that pulls from the registry, like the second write-up's check (not in the kustomization).
pub const PULL_TEST_POD: &str = "manifests/tests/pull-test-pod.yaml";

/// Installs the trust files on a node or client (run as root there).
pub const SCRIPT_TRUST_NODE: &str = "scripts/trust-node.sh";
