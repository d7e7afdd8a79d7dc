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
///
/// ```
/// use registry_gen::Config;
///
/// let mut config = Config::embedded_default();
/// config.name = "hub".into();
/// config.namespace = "registry".into();
/// config.addresses.dns_names = vec!["registry.example.com".into()];
/// let summary = registry_gen::summarize(&config)?.to_string();
/// assert!(summary.starts_with("registry registry/hub: image registry:3.1.1, 1 replica"));
///
/// // `Config::default()` holds the field defaults: no address yet, so it does
/// // not validate on its own (the embedded default does).
/// assert!(registry_gen::validate(&Config::default()).is_err());
/// # Ok::<(), registry_gen::Error>(())
/// ```
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
///
/// ```
/// use registry_gen::{Config, Spread};
///
/// let config = Config::from_yaml("
/// addresses: {dns_names: [registry.example.com]}
/// replicas: 2
/// storage: {pvc: {access_modes: [ReadWriteMany]}}
/// spread: strict
/// ")?;
/// assert_eq!(config.spread, Spread::Strict);
/// assert_eq!(Spread::default(), Spread::Preferred);
/// let summary = registry_gen::summarize(&config)?.to_string();
/// assert!(summary.contains("2 pods on different nodes (strict: a pod waits rather than share a node)"));
/// # Ok::<(), registry_gen::Error>(())
/// ```
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
///
/// ```
/// use registry_gen::{Cache, Config, RedisCache};
///
/// let mut config = Config::embedded_default();
/// assert_eq!(config.cache, Cache::default()); // no Redis: each pod caches in its own memory
/// let redis = RedisCache { address: "redis.registry.svc:6379".into(), password_file: None, db: 1 };
/// config.cache = Cache { redis: Some(redis) };
/// let summary = registry_gen::summarize(&config)?;
/// assert!(summary.to_string().contains("cached in Redis redis.registry.svc:6379 (db 1), shared by every pod"));
/// assert!(summary.warnings().iter().any(|w| w.starts_with("cache.redis with replicas: 1")));
/// # Ok::<(), registry_gen::Error>(())
/// ```
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
///
/// ```
/// use registry_gen::{validate, Config, Error};
///
/// let config = Config::from_yaml("
/// addresses: {dns_names: [registry.example.com]}
/// cache:
///   redis: {address: redis.registry.svc, password_file: redis.password}
/// ")?;
/// let redis = config.cache.redis.as_ref().unwrap();
/// assert_eq!(redis.db, 0); // the default database
/// let Err(Error::Invalid(problems)) = validate(&config) else { panic!() };
/// assert_eq!(problems[0].path, "cache.redis.address"); // `host:port`: the port is required
/// # Ok::<(), registry_gen::Error>(())
/// ```
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
///
/// ```
/// use registry_gen::{Config, TrustOptions};
///
/// let mut config = Config::embedded_default();
/// assert_eq!(config.trust, TrustOptions { daemonset: false }); // the default
/// config.trust = TrustOptions { daemonset: true };
/// let summary = registry_gen::summarize(&config)?;
/// assert!(summary.to_string().contains("the trust DaemonSet installs the CA and hosts.toml files"));
/// assert!(summary.warnings().iter().any(|w| w.starts_with("trust.daemonset is on")));
/// # Ok::<(), registry_gen::Error>(())
/// ```
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
///
/// ```
/// use registry_gen::{Config, Resources};
///
/// let config = Config::from_yaml("resources: {requests: {cpu: 250m, memory: 128Mi}}\n")?;
/// assert_eq!(config.resources.requests.memory, "128Mi");
/// // `limits` left out: the default, 256Mi of memory and no CPU limit.
/// assert_eq!(config.resources.limits, Resources::default().limits);
/// assert_eq!(config.resources.limits.cpu, None);
/// # Ok::<(), registry_gen::Error>(())
/// ```
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
///
/// ```
/// use registry_gen::{Config, Limits};
///
/// let mut config = Config::embedded_default();
/// config.resources.limits = Limits { cpu: Some("500m".into()), memory: "512Mi".into() };
/// let summary = registry_gen::summarize(&config)?;
/// assert!(summary.warnings().iter().any(|w| w.starts_with("resources.limits.cpu is 500m: the registry is throttled")));
///
/// // A `limits` map in YAML must give its memory.
/// let err = Config::from_yaml("resources: {limits: {cpu: '1'}}\n").unwrap_err();
/// assert!(err.to_string().contains("missing field `memory`"));
/// # Ok::<(), registry_gen::Error>(())
/// ```
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
///
/// ```
/// use registry_gen::{validate, Config, CpuMemory, Error};
///
/// let mut config = Config::embedded_default();
/// assert_eq!(config.resources.requests, CpuMemory { cpu: "100m".into(), memory: "64Mi".into() });
/// config.resources.requests.cpu = "0".into();
/// let Err(Error::Invalid(problems)) = validate(&config) else { panic!() };
/// assert_eq!(problems[0].path, "resources.requests.cpu"); // a positive quantity
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CpuMemory {
    /// CPU, e.g. `100m`.
    pub cpu: String,
    /// Memory, e.g. `100Mi`.
    pub memory: String,
}

/// The addresses clients use: every one is a SAN of the server certificate.
///
/// ```
/// let config = registry_gen::Config::from_yaml("
/// addresses:
///   node_ips: [10.0.0.5, 'fd00::5']
///   dns_names: [registry.example.com]
/// ")?;
/// assert!(config.addresses.node_ips[1].is_ipv6());
/// assert_eq!(config.addresses.cluster_domain, "cluster.local"); // the default
/// let summary = registry_gen::summarize(&config)?.to_string();
/// assert!(summary.contains("CN registry.example.com, SANs: 10.0.0.5, fd00::5, registry.example.com, kube-registry,"));
/// # Ok::<(), registry_gen::Error>(())
/// ```
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
///
/// ```
/// use registry_gen::{validate, Config, Error, Ports};
///
/// let mut config = Config::embedded_default();
/// config.ports = Ports { node: Some(30443), ..Ports::default() }; // no hostPort any more
/// let summary = registry_gen::summarize(&config)?.to_string();
/// assert!(summary.contains("ports: container 5000, Service 5000, NodePort 30443\n"));
///
/// config.ports.node = Some(443);
/// let Err(Error::Invalid(problems)) = validate(&config) else { panic!() };
/// assert_eq!(problems[0].path, "ports.node"); // 30000-32767; a low port is a `host` port
/// # Ok::<(), registry_gen::Error>(())
/// ```
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
///
/// ```
/// use registry_gen::{Auth, Config};
///
/// let auth = Auth { bcrypt_cost: 10, ..Auth::default() };
/// assert_eq!(auth.users[0].name, "admin"); // one user by default, password generated
///
/// let config = Config::from_yaml("addresses: {dns_names: [registry.example.com]}\nauth: null\n")?;
/// assert_eq!(config.auth, None);
/// let summary = registry_gen::summarize(&config)?;
/// assert!(summary.warnings().iter().any(|w| w.starts_with("auth is off")));
/// # Ok::<(), registry_gen::Error>(())
/// ```
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
///
/// ```
/// use registry_gen::{Config, User};
///
/// let config = Config::from_yaml("
/// addresses: {dns_names: [registry.example.com]}
/// auth:
///   users:
///     - {name: ci, password_file: secrets/ci.password}
///     - {name: alice}
/// ")?;
/// assert_eq!(config.auth.as_ref().unwrap().users[1], User { name: "alice".into(), password_file: None });
/// let summary = registry_gen::summarize(&config)?.to_string();
/// assert!(summary.contains("users: ci (password from secrets/ci.password), alice (password generated into auth/alice.password)"));
/// # Ok::<(), registry_gen::Error>(())
/// ```
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
///
/// ```
/// use registry_gen::{validate, Config, Error, KeyAlgorithm, Tls};
///
/// let mut config = Config::embedded_default();
/// config.tls = Tls { key_algorithm: KeyAlgorithm::EcdsaP384, server_validity_days: 365, ..Tls::default() };
/// assert_eq!(config.tls.ca_validity_days, 3650);
/// assert!(registry_gen::summarize(&config)?.to_string().contains("server certificate valid 365 days"));
///
/// config.tls.server_validity_days = 4000;
/// let Err(Error::Invalid(problems)) = validate(&config) else { panic!() };
/// assert_eq!(problems[0].path, "tls.server_validity_days"); // it can't outlive its CA
/// # Ok::<(), registry_gen::Error>(())
/// ```
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
///
/// ```
/// let config = registry_gen::Config::from_yaml("
/// addresses: {dns_names: [registry.example.com]}
/// tls:
///   ca: {cert_file: /etc/kubernetes/pki/ca.crt, key_file: /etc/kubernetes/pki/ca.key}
/// ")?;
/// let ca = config.tls.ca.as_ref().unwrap();
/// assert_eq!(ca.key_file, std::path::Path::new("/etc/kubernetes/pki/ca.key"));
/// let summary = registry_gen::summarize(&config)?.to_string();
/// assert!(summary.contains("signed by the given CA /etc/kubernetes/pki/ca.crt"));
/// // The library reads no file: put their contents in `Inputs::ca` as
/// // `CaInput::External` before rendering.
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CaFiles {
    /// CA certificate, PEM.
    pub cert_file: PathBuf,
    /// CA private key, PEM (PKCS#8, PKCS#1 RSA or SEC1 EC).
    pub key_file: PathBuf,
}

/// Key algorithm of generated keys.
///
/// ```
/// use registry_gen::{Config, KeyAlgorithm};
///
/// let config = Config::from_yaml("tls: {key_algorithm: rsa-2048}\n")?;
/// assert_eq!(config.tls.key_algorithm, KeyAlgorithm::Rsa2048);
/// assert_eq!(KeyAlgorithm::default(), KeyAlgorithm::EcdsaP256);
/// // The `--key-algorithm` flag's spelling is the same.
/// assert_eq!("ecdsa-p384".parse::<KeyAlgorithm>(), Ok(KeyAlgorithm::EcdsaP384));
/// # Ok::<(), registry_gen::Error>(())
/// ```
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
    ///
    /// ```
    /// use registry_gen::KeyAlgorithm;
    ///
    /// assert_eq!(KeyAlgorithm::Rsa4096.as_str(), "rsa-4096");
    /// let all: Vec<_> = KeyAlgorithm::ALL.iter().map(|a| a.as_str()).collect();
    /// assert_eq!(all, ["ecdsa-p256", "ecdsa-p384", "rsa-2048", "rsa-3072", "rsa-4096"]);
    /// // Each parses back, as the config file and `--key-algorithm` spell it.
    /// assert!(KeyAlgorithm::ALL.iter().all(|a| a.as_str().parse() == Ok(*a)));
    /// ```
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
///
/// ```
/// use registry_gen::{validate, Config, Error, RegistryOptions};
///
/// let mut config = Config::embedded_default();
/// config.registry = RegistryOptions { delete_enabled: true, ..RegistryOptions::default() };
/// assert_eq!(config.registry.data_path, "/var/lib/registry");
/// validate(&config)?;
///
/// // `enabled: false` is a mirror-only bundle, which needs a mirror.
/// config.registry = RegistryOptions { enabled: false, ..RegistryOptions::default() };
/// let Err(Error::Invalid(problems)) = validate(&config) else { panic!() };
/// assert_eq!(problems[0].path, "registry.enabled");
/// # Ok::<(), registry_gen::Error>(())
/// ```
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
///
/// ```
/// use registry_gen::{validate, Config, DebugListener, Error};
///
/// let mut config = Config::from_yaml("
/// addresses: {dns_names: [registry.example.com]}
/// registry: {debug: {port: 5001}}
/// ")?;
/// assert_eq!(config.registry.debug, Some(DebugListener { port: 5001, metrics: true }));
///
/// config.registry.debug = Some(DebugListener { port: 5000, metrics: false });
/// let Err(Error::Invalid(problems)) = validate(&config) else { panic!() };
/// assert_eq!(problems[0].path, "registry.debug.port"); // 5000 is `ports.container`
/// # Ok::<(), registry_gen::Error>(())
/// ```
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
///
/// ```
/// use registry_gen::{Config, LogLevel};
///
/// let parsed = Config::from_yaml("registry: {log_level: warn}\n")?;
/// assert_eq!(parsed.registry.log_level, LogLevel::Warn);
/// assert_eq!(LogLevel::default(), LogLevel::Info);
/// assert!(Config::from_yaml("registry: {log_level: warning}\n").is_err());
///
/// let mut config = Config::embedded_default();
/// config.registry.log_level = LogLevel::Warn;
/// # let mut inputs = registry_gen::Inputs::new(time::OffsetDateTime::now_utc());
/// # inputs.fill_missing(&config)?;
/// let bundle = registry_gen::render(&config, &inputs)?;
/// let deployment = String::from_utf8_lossy(&bundle.get("manifests/deployment.yaml").unwrap().contents).into_owned();
/// assert!(deployment.contains("- name: REGISTRY_LOG_LEVEL\n          value: warn\n"));
/// # Ok::<(), registry_gen::Error>(())
/// ```
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
