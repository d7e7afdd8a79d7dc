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
