//! The typed configuration: what a user writes in `registry-gen.yaml`.
//!
//! Every field has a default (see `default.yaml`, embedded and documented in
//! `docs/config.md`), unknown keys are rejected, and nothing here is derived:
//! names, labels, paths and endpoints are invented only by `plan.rs`.
//! Parsing checks syntax and types (an IP address is an [`IpAddr`]); the
//! semantic rules (ranges, RFC 1123 names, clashes) live in `validate.rs`.

use std::net::IpAddr;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

mod exposure;
mod mirrors;
mod monitoring;
mod storage;
pub use exposure::{Exposure, GatewayRef, IngressMode, IngressOptions, TlsRouteVersion};
pub use mirrors::{Mirror, MirrorPorts};
pub use monitoring::{Blackbox, Monitoring};
pub use storage::{AccessMode, HostPathStorage, NfsStorage, PvcStorage, S3Storage, Storage};

/// The embedded default configuration, as YAML text.
pub(crate) const DEFAULT_YAML: &str = include_str!("../default.yaml");

/// A whole registry-gen configuration.
///
/// Read one with [`Config::from_yaml`], start from [`Config::embedded_default`],
/// or build one in Rust: every section implements [`Default`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
#[schemars(
    title = "registry-gen.yaml",
    description = "The config of registry-gen: one TLS Docker registry on Kubernetes. Every field has a default; see docs/config.md."
)]
pub struct Config {
    /// Base name of every object (Deployment, Service, Secrets...). RFC 1123 label.
    pub name: String,
    /// Namespace the registry runs in. Created by the bundle unless it is built in.
    pub namespace: String,
    /// Container image of the CNCF distribution registry (v2.8+ or v3), by tag and/or digest.
    pub image: String,
    /// Number of registry pods. More than one needs s3 storage, or nfs or pvc
    /// storage with ReadWriteMany.
    pub replicas: i32,
    /// CPU and memory requests and limits of the registry container.
    pub resources: Resources,
    /// The addresses clients use to reach the registry: they become certificate SANs.
    pub addresses: Addresses,
    /// Ports: inside the pod, on the Service, and how the registry is exposed on the nodes.
    pub ports: Ports,
    /// Where the registry keeps its images.
    pub storage: Storage,
    /// htpasswd authentication; `null` turns authentication off.
    pub auth: Option<Auth>,
    /// Certificates: key algorithm, validity, and which CA signs.
    pub tls: Tls,
    /// Registry behaviour that is not about networking or storage.
    pub registry: RegistryOptions,
    /// How nodes get the trust files.
    pub trust: TrustOptions,
    /// How several replicas spread across nodes (with `replicas` >= 2).
    pub spread: Spread,
    /// Caches shared by the replicas.
    pub cache: Cache,
    /// Pull-through caches of other registries (Docker Hub, registry.k8s.io,
    /// ...), each its own proxy-mode registry signed by the same CA, and the
    /// trust files that route each node runtime's pulls of the upstream
    /// through it. Empty by default. See docs/howto-mirrors.md.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mirrors: Vec<Mirror>,
    /// The registry on port 443 by a DNS name, through a Gateway (TLSRoute)
    /// or an Ingress. `null` (the default): node ports only. See
    /// docs/howto-gateway.md.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposure: Option<Exposure>,
    /// Monitoring objects: a PodMonitor, alerts, a Grafana dashboard, a TLS
    /// probe (needs `registry.debug.metrics`). Absent (the default): none.
    /// See docs/howto-monitoring.md.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitoring: Option<Monitoring>,
}

/// How the pods of several replicas are spread across nodes
/// (a topologySpreadConstraint on `kubernetes.io/hostname`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Spread {
    /// Prefer other nodes, but schedule a pod anyway when only one node has
    /// room (`whenUnsatisfiable: ScheduleAnyway`, the default).
    #[default]
    Preferred,
    /// Never put two pods on one node while another can take them
    /// (`whenUnsatisfiable: DoNotSchedule`): with fewer nodes than
    /// replicas the rest stay Pending.
    Strict,
}

/// Caches shared by the replicas.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Cache {
    /// A Redis server as the registry's blob-descriptor cache
    /// (`storage.cache.blobdescriptor: redis`); `null`: each pod keeps its
    /// own in-memory cache.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis: Option<RedisCache>,
}

/// A Redis server the replicas share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RedisCache {
    /// `host:port` of the Redis server, e.g. `redis.registry.svc:6379`.
    pub address: String,
    /// File holding the Redis password (first line), relative to the config
    /// file; absent: no password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
    /// Redis database number.
    #[serde(default)]
    pub db: u32,
}

/// How nodes get the trust files.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TrustOptions {
    /// Also render a DaemonSet that writes the CA and containerd's and
    /// Docker's certs.d files onto every node through hostPath volumes, so
    /// no one has to ssh into nodes. Off by default: it writes into the
    /// nodes' /etc. containerd's config_path must still point at certs.d.
    pub daemonset: bool,
}

/// Resource requests and limits, as Kubernetes quantities (`100m`, `100Mi`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Resources {
    /// Guaranteed CPU and memory.
    pub requests: CpuMemory,
    /// Maximum memory, and CPU if given (no CPU limit by default: a limit
    /// throttles pushes and pulls, see docs/performance.md).
    pub limits: Limits,
}

/// The limits: memory always, CPU only when given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// CPU limit, e.g. `1`; absent (the default): none, the container may
    /// use idle CPU. A limit below what a transfer needs throttles it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
    /// Memory limit, e.g. `256Mi`: the container is OOM-killed above it.
    pub memory: String,
}

/// A CPU and a memory quantity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CpuMemory {
    /// CPU, e.g. `100m`.
    pub cpu: String,
    /// Memory, e.g. `100Mi`.
    pub memory: String,
}

/// The addresses clients use: every one is a SAN of the server certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Addresses {
    /// IP addresses of the nodes (IPv4 or IPv6).
    pub node_ips: Vec<IpAddr>,
    /// DNS names that resolve to the nodes. The first one is the certificate's CN.
    pub dns_names: Vec<String>,
    /// The cluster's DNS domain, for the in-cluster Service names.
    pub cluster_domain: String,
}

/// Ports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Ports {
    /// Port the registry listens on inside the pod.
    pub container: u16,
    /// Port of the Service inside the cluster; defaults to the container port.
    pub service: Option<u16>,
    /// Port opened on the node running the pod (hostPort), like the first write-up's 5000.
    pub host: Option<u16>,
    /// NodePort of the Service (every node), like the second write-up's 30443.
    pub node: Option<u16>,
    /// Let images be named `<node address>/<image>`, without the NodePort:
    /// the trust files (containerd hosts.toml, CRI-O registries.conf.d, k3s
    /// registries.yaml) redirect such names to the NodePort. Default: on
    /// when `node` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portless_alias: Option<bool>,
}

/// htpasswd authentication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Auth {
    /// The Basic-auth realm the registry announces.
    pub realm: String,
    /// Registry users; each password is bcrypt-hashed into `auth/htpasswd`.
    /// Default: one user, `admin`, with a generated password.
    pub users: Vec<User>,
    /// bcrypt cost (4-31). The registry verifies at this cost on every
    /// authenticated request (each blob of a pull), within its CPU limit.
    /// Default 5, as `htpasswd -B` writes; see docs/performance.md.
    pub bcrypt_cost: u32,
}

/// One registry user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// User name (no `:`).
    pub name: String,
    /// File holding the password (first line). Absent: one is generated and
    /// written to `auth/<name>.password`, or taken from there on re-render.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
}

/// TLS settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Tls {
    /// Key algorithm of generated keys.
    pub key_algorithm: KeyAlgorithm,
    /// Validity of a generated CA, in days.
    pub ca_validity_days: i64,
    /// Validity of the server certificate, in days.
    pub server_validity_days: i64,
    /// Sign with an existing CA (e.g. the cluster's `/etc/kubernetes/pki/ca.crt`)
    /// instead of generating one. Its key is never copied into the bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<CaFiles>,
}

/// PEM files of an existing CA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CaFiles {
    /// CA certificate, PEM.
    pub cert_file: PathBuf,
    /// CA private key, PEM (PKCS#8, PKCS#1 RSA or SEC1 EC).
    pub key_file: PathBuf,
}

/// Key algorithm of generated keys.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum KeyAlgorithm {
    /// ECDSA on P-256 with SHA-256 (default: small, fast, accepted everywhere).
    #[default]
    EcdsaP256,
    /// ECDSA on P-384 with SHA-384.
    EcdsaP384,
    /// RSA 2048 with SHA-256.
    #[serde(rename = "rsa-2048")]
    Rsa2048,
    /// RSA 3072 with SHA-256.
    #[serde(rename = "rsa-3072")]
    Rsa3072,
    /// RSA 4096 with SHA-256.
    #[serde(rename = "rsa-4096")]
    Rsa4096,
}

impl KeyAlgorithm {
    /// The config and CLI spelling, e.g. `ecdsa-p256`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyAlgorithm::EcdsaP256 => "ecdsa-p256",
            KeyAlgorithm::EcdsaP384 => "ecdsa-p384",
            KeyAlgorithm::Rsa2048 => "rsa-2048",
            KeyAlgorithm::Rsa3072 => "rsa-3072",
            KeyAlgorithm::Rsa4096 => "rsa-4096",
        }
    }

    /// RSA keys also need keyEncipherment in a server certificate.
    pub(crate) fn is_rsa(self) -> bool {
        matches!(
            self,
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 | KeyAlgorithm::Rsa4096
        )
    }

    /// Every algorithm, in the order the docs list them.
    pub const ALL: [KeyAlgorithm; 5] = [
        KeyAlgorithm::EcdsaP256,
        KeyAlgorithm::EcdsaP384,
        KeyAlgorithm::Rsa2048,
        KeyAlgorithm::Rsa3072,
        KeyAlgorithm::Rsa4096,
    ];
}

impl std::str::FromStr for KeyAlgorithm {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        KeyAlgorithm::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| {
                let all: Vec<_> = KeyAlgorithm::ALL.iter().map(|a| a.as_str()).collect();
                format!("expected one of {}", all.join(", "))
            })
    }
}

/// Registry behaviour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RegistryOptions {
    /// Render the private registry. `false` renders a mirror-only bundle:
    /// only `mirrors` (at least one), their shared TLS and HTTP secret, and
    /// their trust; the private registry's own settings (`auth`, `storage`,
    /// `cache`, `replicas`, `spread`, `registry.delete_enabled`) are then
    /// refused or unused (docs/config.md says which).
    #[serde(default = "default_true", skip_serializing_if = "is_true")]
    pub enabled: bool,
    /// Where the registry stores data inside the pod; the data volume is mounted here.
    pub data_path: String,
    /// Enable the delete API (`REGISTRY_STORAGE_DELETE_ENABLED`). Since
    /// registry 3.1.1 tags, too, can be deleted only when this is on.
    pub delete_enabled: bool,
    /// The registry's debug listener (`REGISTRY_HTTP_DEBUG_ADDR`): expvar at
    /// `/debug/vars` and, with `metrics`, Prometheus `/metrics`, over plain
    /// HTTP without authentication, on the private registry and on every
    /// mirror (each its own pod). `null` (the default) switches it off,
    /// including the one on `:5001` that the official 3.x image's own config
    /// file starts.
    pub debug: Option<DebugListener>,
    /// How much the registry logs (`REGISTRY_LOG_LEVEL`); the official 3.x
    /// image's own config file says `debug`.
    pub log_level: LogLevel,
}

/// The registry's debug listener, on every address of the pod.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DebugListener {
    /// The container port it listens on (a named container port `debug`,
    /// never on the Service); must differ from `ports.container`.
    pub port: u16,
    /// Serve Prometheus metrics at `/metrics`
    /// (`REGISTRY_HTTP_DEBUG_PROMETHEUS_ENABLED`).
    #[serde(default = "default_true")]
    pub metrics: bool,
}

/// A log level of the distribution registry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Only errors.
    Error,
    /// Errors and warnings.
    Warn,
    /// Also one line per start-up step and per request (the default).
    #[default]
    Info,
    /// Everything, including each request's internals.
    Debug,
}

impl LogLevel {
    /// The value `REGISTRY_LOG_LEVEL` takes.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
        }
    }
}

fn is_true(b: &bool) -> bool {
    *b
}

pub(crate) fn default_true() -> bool {
    true
}

impl Default for Config {
    fn default() -> Self {
        Config {
            name: "kube-registry".to_owned(),
            namespace: "kube-system".to_owned(),
            image: "registry:3.1.1".to_owned(),
            replicas: 1,
            resources: Resources::default(),
            addresses: Addresses::default(),
            ports: Ports::default(),
            storage: Storage::default(),
            auth: Some(Auth::default()),
            tls: Tls::default(),
            registry: RegistryOptions::default(),
            trust: TrustOptions::default(),
            mirrors: Vec::new(),
            exposure: None,
            monitoring: None,
            spread: Spread::default(),
            cache: Cache::default(),
        }
    }
}

/// The default resources, chosen from measurements (docs/performance.md,
/// "The registry under its own limits").
/// A CPU request and no CPU limit: a limit throttles every transfer.
const DEFAULT_CPU_REQUEST: &str = "100m";
const DEFAULT_MEMORY_REQUEST: &str = "64Mi";
const DEFAULT_CPU_LIMIT: Option<&str> = None;
/// Several times the measured peak of four concurrent 256 MB pushes.
const DEFAULT_MEMORY_LIMIT: &str = "256Mi";

impl Default for Resources {
    fn default() -> Self {
        Resources {
            requests: CpuMemory {
                cpu: DEFAULT_CPU_REQUEST.to_owned(),
                memory: DEFAULT_MEMORY_REQUEST.to_owned(),
            },
            limits: Limits {
                cpu: DEFAULT_CPU_LIMIT.map(str::to_owned),
                memory: DEFAULT_MEMORY_LIMIT.to_owned(),
            },
        }
    }
}

impl Default for Ports {
    fn default() -> Self {
        Ports {
            container: 5000,
            service: None,
            host: None,
            node: None,
            portless_alias: None,
        }
    }
}

impl Default for Auth {
    fn default() -> Self {
        Auth {
            realm: "Registry Realm".to_owned(),
            users: vec![User {
                name: "admin".to_owned(),
                password_file: None,
            }],
            bcrypt_cost: 5,
        }
    }
}

impl Default for Tls {
    fn default() -> Self {
        Tls {
            key_algorithm: KeyAlgorithm::EcdsaP256,
            ca_validity_days: 3650,
            server_validity_days: 825,
            ca: None,
        }
    }
}

impl Default for RegistryOptions {
    fn default() -> Self {
        RegistryOptions {
            enabled: true,
            data_path: "/var/lib/registry".to_owned(),
            delete_enabled: false,
            debug: None,
            log_level: LogLevel::Info,
        }
    }
}

impl Default for Addresses {
    fn default() -> Self {
        Addresses {
            node_ips: Vec::new(),
            dns_names: Vec::new(),
            cluster_domain: "cluster.local".to_owned(),
        }
    }
}

impl Config {
    /// The embedded default: renders a working bundle with no input at all
    /// (a registry on `127.0.0.1`/`localhost` with one generated user).
    ///
    /// ```
    /// let config = registry_gen::Config::embedded_default();
    /// assert_eq!(config.addresses.dns_names, ["localhost"]);
    /// registry_gen::validate(&config)?;
    /// # Ok::<(), registry_gen::Error>(())
    /// ```
    pub fn embedded_default() -> Config {
        // The embedded text is tested to parse; a failure here is a build defect.
        Config::from_yaml(DEFAULT_YAML).expect("embedded default.yaml parses")
    }

    /// Parse a config from YAML text. Missing fields take their defaults;
    /// unknown keys, wrong types and YAML syntax errors are errors that name
    /// the field and, where known, the line and column.
    ///
    /// ```
    /// use registry_gen::Config;
    ///
    /// let config = Config::from_yaml("name: hub\naddresses: {node_ips: [10.0.0.5]}\n")?;
    /// assert_eq!(config.name, "hub");
    ///
    /// let err = Config::from_yaml("nmae: hub\n").unwrap_err();
    /// assert!(err.to_string().contains("unknown field `nmae`"));
    /// # Ok::<(), registry_gen::Error>(())
    /// ```
    pub fn from_yaml(text: &str) -> Result<Config> {
        if text.trim().is_empty() {
            return Err(Error::Parse {
                message: "the config is empty; start from one in examples/, or give no --config to use the embedded default".into(),
            });
        }
        crate::yaml::from_str(text)
    }

    /// The JSON Schema (draft 2020-12) of a config file, as pretty-printed
    /// JSON, with every field's description and default: editors use it to
    /// validate and complete `registry-gen.yaml`. It checks structure and
    /// types; the semantic rules are [`crate::validate`]'s.
    ///
    /// ```
    /// let schema = registry_gen::Config::json_schema();
    /// assert!(schema.contains("\"title\": \"registry-gen.yaml\""));
    /// ```
    pub fn json_schema() -> String {
        use schemars::transform::RecursiveTransform;
        let schema = schemars::generate::SchemaSettings::draft2020_12()
            .with_transform(RecursiveTransform(drop_doc_examples))
            .into_generator()
            .into_root_schema_for::<Config>();
        // A schema of plain data always serialises.
        serde_json::to_string_pretty(&schema).expect("a JSON Schema serialises") + "\n"
    }

    /// The config as YAML, as written to `registry-gen.yaml` in the bundle.
    ///
    /// ```
    /// use registry_gen::Config;
    ///
    /// let config = Config::embedded_default();
    /// assert_eq!(Config::from_yaml(&config.to_yaml()?)?, config);
    /// # Ok::<(), registry_gen::Error>(())
    /// ```
    pub fn to_yaml(&self) -> Result<String> {
        crate::yaml::to_string(self)
    }
}

/// A schema's description is the type's doc comment: keep its prose for an
/// editor's hover and drop the Rust examples written for rustdoc.
fn drop_doc_examples(schema: &mut schemars::Schema) {
    let Some(serde_json::Value::String(text)) = schema.get_mut("description") else {
        return;
    };
    let mut kept = Vec::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        } else if !in_code {
            kept.push(line);
        }
    }
    let prose = kept.join("\n").trim().to_owned();
    if prose.is_empty() {
        schema.remove("description");
    } else {
        *text = prose;
    }
}
