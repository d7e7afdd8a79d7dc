//! The `mirrors` section: pull-through caches of other registries.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{default_true, Storage};

/// A pull-through cache of one upstream registry.
///
/// ```
/// use registry_gen::{Config, Storage};
///
/// let config = Config::from_yaml("
/// addresses: {dns_names: [registry.example.com]}
/// mirrors:
///   - upstream: docker.io
///     ports: {node: 30500}
///     ttl: 168h
/// ")?;
/// let mirror = &config.mirrors[0];
/// assert!(mirror.fallback); // nodes may still reach docker.io themselves
/// assert_eq!(mirror.storage, Storage::EmptyDir {}); // the default
/// let summary = registry_gen::summarize(&config)?.to_string();
/// assert!(summary.contains("docker.io (proxies https://registry-1.docker.io), as kube-registry-mirror-docker-io:"));
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Mirror {
    /// The registry host image names use, e.g. `docker.io` (which means
    /// `registry-1.docker.io`), `registry.k8s.io`, `quay.io`, `ghcr.io`, or
    /// `host:port`; no scheme, no path.
    pub upstream: String,
    /// Whether nodes may still reach the upstream themselves when the
    /// mirror does not answer. `false`: the mirror is the only way
    /// (containerd's `server` and CRI-O's `location` are the mirror itself).
    #[serde(default = "default_true")]
    pub fallback: bool,
    /// How nodes reach the mirror: hostPort and/or NodePort, like the main
    /// registry's `ports.host` and `ports.node`; at least one.
    #[serde(default)]
    pub ports: MirrorPorts,
    /// Where the cache lives: any storage kind (`empty_dir: {}` is fine for a
    /// cache that may be refilled).
    #[serde(default)]
    pub storage: Storage,
    /// How long cached content is kept (`REGISTRY_PROXY_TTL`, a Go duration
    /// such as `168h`); absent: the registry's default, 7 days. Registry 3.x
    /// only: 2.8 ignores it and always keeps 7 days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
    /// File holding the upstream user name (first line), e.g. a Docker Hub
    /// account against its rate limits. Needs `password_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username_file: Option<PathBuf>,
    /// File holding the upstream password or access token (first line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
    /// PEM file of the CA(s) the mirror trusts for the upstream, instead of
    /// the image's system CAs (an upstream with a private CA). Absent: the
    /// system CAs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
}

impl Default for Mirror {
    /// As YAML reads `{upstream: ""}`: set `upstream` and `ports`.
    fn default() -> Self {
        Mirror {
            upstream: String::new(),
            fallback: default_true(),
            ports: MirrorPorts::default(),
            storage: Storage::default(),
            ttl: None,
            username_file: None,
            password_file: None,
            ca_file: None,
        }
    }
}

/// How nodes reach a mirror.
///
/// ```
/// use registry_gen::{validate, Config, Error, MirrorPorts};
///
/// let mut config = Config::from_yaml("
/// addresses: {dns_names: [registry.example.com]}
/// mirrors: [{upstream: quay.io}]
/// ")?;
/// assert_eq!(config.mirrors[0].ports, MirrorPorts::default()); // parses, but...
/// let Err(Error::Invalid(problems)) = validate(&config) else { panic!() };
/// assert_eq!(problems[0].path, "mirrors[0].ports"); // ...a mirror needs a host or a node port
///
/// config.mirrors[0].ports.node = Some(30501);
/// validate(&config)?;
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct MirrorPorts {
    /// Port opened on the node running the mirror's pod (hostPort).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<u16>,
    /// NodePort of the mirror's Service (every node).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<u16>,
}
