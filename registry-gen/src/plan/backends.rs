//! The plan of what several replicas share and how they are placed: the S3
//! bucket (its Secret, its endpoint's CA), the Redis blob-descriptor cache,
//! the PodDisruptionBudget and the spread across nodes. Like the rest of
//! the plan, every name, key, mount point and environment variable of these
//! is derived here and nowhere else.

use std::path::PathBuf;

use super::{EnvValue, Literal, SecretText};
use crate::config::{Config, RedisCache, S3Storage, Spread};

/// Where the S3 endpoint's CA is mounted: a directory of its own, named by
/// `SSL_CERT_DIR`, so Go's crypto/x509 adds it to the system roots (it
/// still reads the image's CA bundle file) instead of replacing them.
pub(crate) const S3_CA_DIR: &str = "/etc/registry-gen/s3-ca";

/// The label every node carries with its name: pods spread over it.
pub(crate) const HOSTNAME_TOPOLOGY_KEY: &str = "kubernetes.io/hostname";

/// An S3-compatible bucket as the registry's storage.
#[derive(Debug)]
pub(crate) struct S3Plan {
    pub bucket: String,
    pub region: String,
    pub endpoint: Option<String>,
    pub path_style: bool,
    pub secure: bool,
    pub root_directory: Option<String>,
    /// Redirect clients to pre-signed bucket URLs.
    pub redirect: bool,
    /// The Secret holding the access key pair; `None`: the AWS default
    /// credential chain.
    pub credentials: Option<S3SecretPlan>,
    /// The endpoint's private CA, mounted for the registry.
    pub ca: Option<S3CaPlan>,
}

/// The Secret with the S3 access key pair.
#[derive(Debug)]
pub(crate) struct S3SecretPlan {
    pub secret: String,
    pub access_key: SecretText,
    pub secret_key: SecretText,
}

/// The ConfigMap with the endpoint's CA and where it is mounted.
#[derive(Debug)]
pub(crate) struct S3CaPlan {
    pub config_map: String,
    pub key: &'static str,
    pub volume: &'static str,
    pub mount_dir: &'static str,
    /// The user's file (for the README and `check`).
    pub source: PathBuf,
}

/// The Redis blob-descriptor cache.
#[derive(Debug)]
pub(crate) struct RedisPlan {
    pub address: String,
    pub db: u32,
    /// The Secret with the password; `None`: no password. Its raw
    /// `password` key is the one a Redis client outside the registry reads.
    pub password: Option<SecretText>,
}

/// How several replicas are placed and replaced.
#[derive(Debug)]
pub(crate) struct ScalePlan {
    /// A PodDisruptionBudget, with 2 replicas or more.
    pub disruption_budget: Option<DisruptionBudgetPlan>,
    /// A topologySpreadConstraint over the nodes, with 2 replicas or more.
    pub spread: Option<SpreadPlan>,
}

/// The PodDisruptionBudget: `maxUnavailable: 1`, so a drain evicts one
/// registry pod at a time whatever the replica count (`minAvailable: 1`
/// would let a drain take all but one of four at once, and blocks nothing
/// more than this with two).
#[derive(Debug)]
pub(crate) struct DisruptionBudgetPlan {
    pub name: String,
    pub max_unavailable: i32,
}

/// The spread of the pods over the nodes.
#[derive(Debug)]
pub(crate) struct SpreadPlan {
    pub topology_key: &'static str,
    pub max_skew: i32,
    /// `ScheduleAnyway` or `DoNotSchedule`.
    pub when_unsatisfiable: &'static str,
}

impl S3Plan {
    pub(super) fn new(name: &str, s3: &S3Storage) -> S3Plan {
        let https = s3
            .endpoint
            .as_deref()
            .is_none_or(|e| e.starts_with("https://"));
        S3Plan {
            bucket: s3.bucket.clone(),
            region: s3.region.clone(),
            endpoint: s3
                .endpoint
                .as_ref()
                .map(|e| e.trim_end_matches('/').to_owned()),
            path_style: s3.path_style,
            secure: s3.secure.unwrap_or(https),
            root_directory: s3.root_directory.clone(),
            redirect: s3.redirect,
            credentials: s3.access_key_file.as_ref().map(|_| {
                let secret = format!("{name}-s3");
                S3SecretPlan {
                    access_key: SecretText::new(secret.clone(), "access-key"),
                    secret_key: SecretText::new(secret.clone(), "secret-key"),
                    secret,
                }
            }),
            ca: s3.ca_file.as_ref().map(|f| S3CaPlan {
                config_map: format!("{name}-s3-ca"),
                key: "ca.crt",
                volume: "s3-ca",
                mount_dir: S3_CA_DIR,
                source: f.clone(),
            }),
        }
    }

    /// The REGISTRY_STORAGE_* variables that select and configure the s3
    /// driver. `REGISTRY_STORAGE=s3` replaces the whole `storage` map of the
    /// image's own config file (the registry applies variables in name
    /// order, so this one comes first), dropping its filesystem driver.
    pub(super) fn env(&self) -> Vec<(&'static str, EnvValue)> {
        use EnvValue::{Literal as L, Secret, Text};
        let mut env = vec![
            ("REGISTRY_STORAGE", EnvValue::literal("s3")),
            ("REGISTRY_STORAGE_S3_BUCKET", Text(self.bucket.clone())),
            ("REGISTRY_STORAGE_S3_REGION", Text(self.region.clone())),
        ];
        if let Some(e) = &self.endpoint {
            env.push(("REGISTRY_STORAGE_S3_REGIONENDPOINT", Text(e.clone())));
        }
        env.push((
            "REGISTRY_STORAGE_S3_FORCEPATHSTYLE",
            L(Literal::boolean(self.path_style)),
        ));
        env.push((
            "REGISTRY_STORAGE_S3_SECURE",
            L(Literal::boolean(self.secure)),
        ));
        if let Some(root) = &self.root_directory {
            env.push(("REGISTRY_STORAGE_S3_ROOTDIRECTORY", Text(root.clone())));
        }
        if let Some(c) = &self.credentials {
            env.push((
                "REGISTRY_STORAGE_S3_ACCESSKEY",
                Secret(c.access_key.clone()),
            ));
            env.push((
                "REGISTRY_STORAGE_S3_SECRETKEY",
                Secret(c.secret_key.clone()),
            ));
        }
        env.push((
            "REGISTRY_STORAGE_REDIRECT_DISABLE",
            L(Literal::boolean(!self.redirect)),
        ));
        if let Some(ca) = &self.ca {
            env.push(("SSL_CERT_DIR", EnvValue::literal(ca.mount_dir)));
        }
        env
    }
}

impl RedisPlan {
    pub(super) fn new(name: &str, r: &RedisCache) -> RedisPlan {
        RedisPlan {
            address: r.address.clone(),
            db: r.db,
            password: r
                .password_file
                .as_ref()
                .map(|_| SecretText::new(format!("{name}-redis"), "password")),
        }
    }

    /// The REGISTRY_REDIS_* variables, in both spellings: distribution 2.x
    /// reads `redis.addr`, 3.x `redis.addrs` (a list); each ignores the
    /// other's variable with a warning in its log (docs/design.md).
    pub(super) fn env(&self) -> Vec<(&'static str, EnvValue)> {
        use EnvValue::{Literal as L, Text, TextList};
        let mut env = vec![
            (
                "REGISTRY_STORAGE_CACHE_BLOBDESCRIPTOR",
                EnvValue::literal("redis"),
            ),
            ("REGISTRY_REDIS_ADDR", Text(self.address.clone())),
            ("REGISTRY_REDIS_ADDRS", TextList(vec![self.address.clone()])),
            ("REGISTRY_REDIS_DB", L(Literal::number(self.db.into()))),
        ];
        if let Some(p) = &self.password {
            env.push(("REGISTRY_REDIS_PASSWORD", EnvValue::Secret(p.clone())));
        }
        env
    }
}

impl ScalePlan {
    pub(super) fn new(config: &Config) -> ScalePlan {
        let several = config.replicas >= 2;
        ScalePlan {
            disruption_budget: several.then(|| DisruptionBudgetPlan {
                name: config.name.clone(),
                max_unavailable: 1,
            }),
            spread: several.then_some(SpreadPlan {
                topology_key: HOSTNAME_TOPOLOGY_KEY,
                max_skew: 1,
                when_unsatisfiable: match config.spread {
                    Spread::Preferred => "ScheduleAnyway",
                    Spread::Strict => "DoNotSchedule",
                },
            }),
        }
    }
}

/// What several replicas, the bucket and the cache cannot give although
/// the config may seem to ask for it.
pub(super) fn warnings(config: &Config, source: &super::DataSource) -> Vec<String> {
    let mut w = Vec::new();
    let n = config.replicas;
    if n >= 2 {
        if let Some(port) = config.ports.host {
            w.push(format!(
                "ports.host {port} with replicas: {n}: each pod holds port {port} of its node, so the scheduler puts at most one registry pod on a node; with fewer than {n} schedulable nodes the rest stay Pending, and an update replaces pods (Recreate) because an old and a new pod cannot hold one node's port at once. Use ports.node (a NodePort on every node) for several replicas"
            ));
        }
        if config.spread == Spread::Strict {
            w.push(format!(
                "spread: strict: no two registry pods share a node, so a cluster with fewer than {n} schedulable nodes leaves pods Pending (and a drain of one of exactly {n} nodes waits for room elsewhere)"
            ));
        }
    }
    if config.cache.redis.is_some() && n < 2 {
        w.push(
            "cache.redis with replicas: 1: one pod gains little over its own in-memory blob-descriptor cache, and the Redis server becomes one more thing that must be up".to_owned(),
        );
    }
    if let super::DataSource::S3(s3) = source {
        if !s3.secure {
            w.push(format!(
                "storage.s3 over plain HTTP ({}): the access keys sign every request but the images cross the network unencrypted; use it only for an endpoint inside the cluster",
                s3.endpoint.as_deref().unwrap_or("AWS S3")
            ));
        }
        if s3.redirect {
            w.push(
                "storage.s3.redirect is on: the registry answers blob downloads with a redirect to a pre-signed bucket URL, so every client (kubelets included) must reach the bucket's endpoint and trust its certificate".to_owned(),
            );
        }
        if s3.credentials.is_none() {
            w.push(
                "storage.s3 without access_key_file/secret_key_file: the registry uses the AWS default credential chain (instance role, IRSA web identity); anywhere else it cannot sign requests".to_owned(),
            );
        }
    }
    w
}

/// Pod-template annotations (see [`super::CHECKSUM_TLS`]): the SHA-256 of
/// the S3 key Secret's data, read only at start through env.
pub(crate) const CHECKSUM_S3: &str = "registry-gen/checksum-s3";
/// ... of the S3 CA ConfigMap's data: Go reads the trusted roots once.
pub(crate) const CHECKSUM_S3_CA: &str = "registry-gen/checksum-s3-ca";
/// ... of the Redis password Secret's data, read only at start through env.
pub(crate) const CHECKSUM_REDIS: &str = "registry-gen/checksum-redis";
