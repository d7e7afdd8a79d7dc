//! The typed configuration: what a user writes in `registry-gen.yaml`.
//!
//! Every field has a default (see `default.yaml`, embedded and documented in
//! `docs/config.md`), unknown keys are rejected, and nothing here is derived:
//! names, labels, paths and endpoints are invented only by `plan/`.
//! Parsing checks syntax and types (an IP address is an [`IpAddr`]); the
//! semantic rules (ranges, RFC 1123 names, clashes) live in `validate/`.

use std::net::IpAddr;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

mod auth;
mod exposure;
mod mirrors;
mod monitoring;
mod registry;
mod resources;
mod storage;
mod tls;
pub use auth::{Auth, User};
pub use exposure::{Exposure, GatewayRef, IngressMode, IngressOptions, TlsRouteVersion};
pub use mirrors::{Mirror, MirrorPorts};
pub use monitoring::{Blackbox, Monitoring};
pub use registry::{DebugListener, LogLevel, RegistryOptions};
pub use resources::{CpuMemory, Limits, Resources};
pub use storage::{AccessMode, HostPathStorage, NfsStorage, PvcStorage, S3Storage, Storage};
pub use tls::{CaFiles, KeyAlgorithm, Tls};

/// The embedded default configuration, as YAML text.
pub(crate) const DEFAULT_YAML: &str = include_str!("../default.yaml");

/// A whole registry-gen configuration.
///
/// Read one with [`Config::from_yaml`], start from [`Config::embedded_default`],
/// or build one in Rust: every section implements [`Default`] (as YAML reads
/// it with its required fields empty, which [`crate::validate`] then names).
/// The config types are `#[non_exhaustive]`: set fields on a default rather
/// than writing struct literals, so a field a later release adds does not
/// break the build.
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
#[non_exhaustive]
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
#[non_exhaustive]
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
/// let mut redis = RedisCache::default();
/// redis.address = "redis.registry.svc:6379".into();
/// redis.db = 1;
/// config.cache.redis = Some(redis);
/// let summary = registry_gen::summarize(&config)?;
/// assert!(summary.to_string().contains("cached in Redis redis.registry.svc:6379 (db 1), shared by every pod"));
/// assert!(summary.warnings().iter().any(|w| w.starts_with("cache.redis with replicas: 1")));
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
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
/// assert_eq!(config.trust, TrustOptions::default()); // no DaemonSet
/// config.trust.daemonset = true;
/// let summary = registry_gen::summarize(&config)?;
/// assert!(summary.to_string().contains("the trust DaemonSet installs the CA and hosts.toml files"));
/// assert!(summary.warnings().iter().any(|w| w.starts_with("trust.daemonset is on")));
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct TrustOptions {
    /// Also render a DaemonSet that writes the CA and containerd's and
    /// Docker's certs.d files onto every node through hostPath volumes, so
    /// no one has to ssh into nodes. Off by default: it writes into the
    /// nodes' /etc. containerd's config_path must still point at certs.d.
    pub daemonset: bool,
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
#[non_exhaustive]
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
/// config.ports = Ports::default(); // no hostPort any more
/// config.ports.node = Some(30443);
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
#[non_exhaustive]
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

/// `host[:port]` as the config writes an address (`cache.redis.address`,
/// `monitoring.blackbox.address`, an S3 endpoint's authority), split: an
/// IPv6 host comes in brackets and is returned without them. `None` when
/// a bracket does not close or something other than `:port` follows it.
/// Syntax only; `validate/` checks the host and the port.
pub(crate) fn split_host_port(s: &str) -> Option<(&str, Option<&str>)> {
    match s.strip_prefix('[') {
        Some(rest) => {
            let (v6, after) = rest.split_once(']')?;
            match after {
                "" => Some((v6, None)),
                _ => after.strip_prefix(':').map(|port| (v6, Some(port))),
            }
        }
        None => Some(match s.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (s, None),
        }),
    }
}

pub(super) fn is_true(b: &bool) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_split_into_host_and_port() {
        let cases = [
            (
                "redis.registry.svc:6379",
                Some(("redis.registry.svc", Some("6379"))),
            ),
            ("10.0.0.5", Some(("10.0.0.5", None))),
            ("[fd00::5]:6379", Some(("fd00::5", Some("6379")))),
            ("[fd00::5]", Some(("fd00::5", None))),
            ("[fd00::5", None),
            ("[fd00::5]6379", None),
        ];
        for (text, split) in cases {
            assert_eq!(split_host_port(text), split, "{text}");
        }
    }

    /// `Default` and serde agree: each type's default is what YAML reads
    /// from a map that gives only its required fields, empty. (A type with
    /// `#[serde(default)]` on the whole struct, `Config`, `Auth`, `Tls` and
    /// the like, fills missing fields from its `Default` by construction,
    /// so only types with field-level defaults are compared.)
    #[test]
    fn a_default_is_what_yaml_reads_with_the_required_fields_empty() {
        fn reads<T: serde::de::DeserializeOwned>(yaml: &str) -> T {
            serde_yaml::from_str(yaml).unwrap()
        }
        assert_eq!(Mirror::default(), reads("{upstream: ''}"));
        assert_eq!(DebugListener::default(), reads("{port: 0}"));
        assert_eq!(Monitoring::default(), reads("{}"));
        assert_eq!(Blackbox::default(), reads("{address: ''}"));
        assert_eq!(NfsStorage::default(), reads("{server: '', path: ''}"));
        assert_eq!(PvcStorage::default(), reads("{}"));
        assert_eq!(S3Storage::default(), reads("{bucket: '', region: ''}"));
        assert_eq!(HostPathStorage::default(), reads("{path: '', node: ''}"));
        assert_eq!(Exposure::default(), reads("{hostname: ''}"));
        assert_eq!(GatewayRef::default(), reads("{name: ''}"));
        assert_eq!(IngressOptions::default(), reads("{class_name: ''}"));
        assert_eq!(RedisCache::default(), reads("{address: ''}"));
        assert_eq!(User::default(), reads("{name: ''}"));
        assert_eq!(CaFiles::default(), reads("{cert_file: '', key_file: ''}"));
        assert_eq!(Limits::default(), reads("{memory: ''}"));
        assert_eq!(CpuMemory::default(), reads("{cpu: '', memory: ''}"));
        assert_eq!(MirrorPorts::default(), reads("{}"));
    }
}
