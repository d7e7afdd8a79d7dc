//! The plan: the single place that derives every name, label, selector,
//! port, path, Secret key, SAN and endpoint from a validated [`Config`].
//!
//! Renderers read the plan and never invent a value of their own, so two
//! files that must agree (the Deployment's mountPath and its
//! `REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY`, a Secret's name and the
//! volume that mounts it, the certificate's SANs and the trust directories)
//! always take it from the same field here.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

use crate::config::{AccessMode, Config, CpuMemory, KeyAlgorithm, Limits, LogLevel, Storage};
use crate::error::Result;

pub(crate) use crate::layout as paths;

mod env;
pub(crate) use env::{EnvValue, Literal, SecretText};
mod gc;
pub(crate) use gc::{
    CacheFlushPlan, GcPlan, CACHE_FLUSHED, CACHE_KEYS, READONLY_ENV, READONLY_VALUE,
};
mod owner;
pub(crate) use owner::OWNER_KEY;
pub(crate) mod mirrors;
mod workload;

pub(crate) use mirrors::MirrorPlan;
pub(crate) use workload::{Checksum, MountSource, Workload, WorkloadMount};
mod backends;
pub(crate) use backends::{
    RedisPlan, S3CaPlan, S3Plan, S3SecretPlan, ScalePlan, CHECKSUM_REDIS, CHECKSUM_S3,
    CHECKSUM_S3_CA,
};

/// Kubernetes namespaces that exist in every cluster: the bundle never
/// creates (nor deletes) them.
pub(crate) const BUILTIN_NAMESPACES: [&str; 4] =
    ["default", "kube-system", "kube-public", "kube-node-lease"];

/// Label keys (the Kubernetes recommended labels).
const LABEL_NAME: &str = "app.kubernetes.io/name";
pub(crate) const LABEL_INSTANCE: &str = "app.kubernetes.io/instance";
const LABEL_MANAGED_BY: &str = "app.kubernetes.io/managed-by";

/// Where the TLS Secret is mounted in the pod.
pub(crate) const TLS_MOUNT: &str = "/certs";
/// Where the htpasswd Secret is mounted in the pod.
pub(crate) const AUTH_MOUNT: &str = "/auth";

/// Pod-template annotations of the registry's Deployment: the SHA-256 of
/// the data of a Secret the registry reads only when it starts (the
/// distribution server never reloads its certificate, and an env value from
/// a Secret is fixed for a container's life). When its bytes change, the
/// pod template changes, so the next `kubectl apply` rolls the pods; when
/// they don't, nothing rolls. One annotation per Secret, so a diff or
/// `kubectl rollout history` says which one rolled them. The htpasswd
/// Secret has none on purpose: the registry re-reads the mounted file, and
/// a roll under the Recreate strategy is downtime.
pub(crate) const CHECKSUM_TLS: &str = "registry-gen/checksum-tls";
/// See [`CHECKSUM_TLS`]: the same for the `REGISTRY_HTTP_SECRET` Secret.
pub(crate) const CHECKSUM_HTTP_SECRET: &str = "registry-gen/checksum-http-secret";
/// The trust installer DaemonSet's pod-template annotation: the SHA-256 of
/// its ConfigMap's data (the script, with the CA in it), which the pod runs
/// only when it starts; a new CA or new addresses roll it.
pub(crate) const CHECKSUM_TRUST_SCRIPT: &str = "registry-gen/checksum-script";

/// The registry's container in its Deployment (gc.sh sets its env by name).
pub(crate) const REGISTRY_CONTAINER: &str = "registry";

/// The image the pull-test Pod pulls from the registry (push it first).
pub(crate) const PULL_TEST_IMAGE: &str = "busybox:1.36";

/// The tiny image `verify.sh` builds, pushes and pulls back.
pub(crate) const VERIFY_IMAGE: &str = "registry-gen-verify:latest";

/// The distribution registry's `/` handler answers 200 without credentials
/// (its `alive` wrapper), so probes work with auth on.
pub(crate) const PROBE_PATH: &str = "/";

/// Everything derived from the config. Renderers read this and never the
/// [`Config`] itself.
#[derive(Debug)]
pub(crate) struct Plan<'c> {
    pub name: &'c str,
    pub namespace: &'c str,
    /// The registry's image (also the trust installer's: it has a shell).
    pub image: &'c str,
    pub replicas: i32,
    /// The private registry is in the bundle (`registry.enabled`); when
    /// not, a mirror-only bundle: no private-registry objects, endpoints,
    /// trust files, pull test or garbage collection, and the fields that
    /// describe it (ports, data, auth) are never rendered.
    pub private: bool,
    pub resources: ResourcePlan,
    /// `REGISTRY_STORAGE_DELETE_ENABLED`.
    pub delete_enabled: bool,
    /// `REGISTRY_LOG_LEVEL`.
    pub log_level: LogLevel,
    /// Where the CA comes from.
    pub ca: CaPlan,
    pub ports: PortPlan,
    pub tls: TlsPlan,
    pub auth: Option<AuthPlan>,
    pub http_secret: SecretKeyRef,
    pub data: DataPlan,
    /// Addresses (host or host:port) that clients put in image references.
    pub endpoints: Vec<Endpoint>,
    /// Where trust files go on nodes and clients.
    pub node_paths: NodePaths,
    /// The Deployment's strategy: `Recreate` unless pods can overlap, then
    /// `RollingUpdate` with maxUnavailable 0 (a new pod is ready before an
    /// old one goes).
    pub strategy: &'static str,
    /// The Redis blob-descriptor cache, if any.
    pub cache: Option<RedisPlan>,
    /// Disruption budget and spread over the nodes (several replicas).
    pub scale: ScalePlan,
    /// How the registry container runs (user, capabilities, filesystem).
    pub security: SecurityPlan,
    /// Every manifest, in apply order.
    pub manifests: Vec<Manifest>,
    /// The opt-in DaemonSet that installs the trust files on every node.
    pub trust_installer: Option<TrustInstallerPlan>,
    /// KEP-1755's ConfigMap that tells tools where the registry is.
    pub local_registry_hosting: ObjectName,
    /// Who wrote a name the bundle shares with others on the cluster or a
    /// node: `<namespace>/<name>` (see `plan/owner.rs`).
    pub owner: String,
    /// The Pod that makes the kubelet pull from the registry.
    pub pull_test: PullTestPlan,
    /// Garbage collection: the maintenance Job and gc.sh.
    pub gc: GcPlan,
    /// The pull-through caches, in config order (`mirrors[i]`).
    pub mirrors: Vec<MirrorPlan>,
    /// The effective config as YAML, saved in the bundle for re-renders.
    pub effective_config: String,
    /// Things the user should know before relying on this bundle.
    pub warnings: Vec<String>,
}

/// CPU and memory requests and limits, as Kubernetes quantities.
#[derive(Debug, Clone)]
pub(crate) struct ResourcePlan {
    pub requests: Quantities,
    pub limits: Quantities,
}

/// A memory quantity and a CPU one (a limit may have none).
#[derive(Debug, Clone)]
pub(crate) struct Quantities {
    pub cpu: Option<String>,
    pub memory: String,
}

impl From<&CpuMemory> for Quantities {
    fn from(c: &CpuMemory) -> Quantities {
        Quantities {
            cpu: Some(c.cpu.clone()),
            memory: c.memory.clone(),
        }
    }
}

impl From<&Limits> for Quantities {
    fn from(l: &Limits) -> Quantities {
        Quantities {
            cpu: l.cpu.clone(),
            memory: l.memory.clone(),
        }
    }
}

/// What a CPU limit was measured to cost, for the warning.
const THROTTLE_COST: &str = "measured on 2 cores with distribution 2.8.2: under 100m a 256 MiB push took 4.9x and a pull 8.3x as long as with no limit and each authenticated request 27 ms more; under 500m pulls still took 1.4x-1.7x";

/// Below this CPU limit (in millicores) the registry was measured to move
/// images markedly slower than without a limit (docs/performance.md, "The
/// registry under its own limits").
pub(crate) const THROTTLING_CPU_LIMIT_MILLIS: f64 = 1000.0;

/// A CPU quantity in millicores (`100m` → 100, `0.5` → 500, `2` → 2000);
/// `None` for what validation refuses.
pub(crate) fn cpu_millis(q: &str) -> Option<f64> {
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

/// Where the CA that signs the server certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CaPlan {
    /// Generated by this render; its key goes into the bundle.
    Generated,
    /// Given in `tls.ca`; its key stays out of the bundle.
    Given { cert_file: PathBuf },
    /// The bundle's own CA, kept from an earlier render.
    Kept,
}

impl CaPlan {
    /// Whether the CA's key is in the bundle (`certs/ca.key`).
    pub fn key_in_bundle(&self) -> bool {
        !matches!(self, CaPlan::Given { .. })
    }
}

/// A named object, possibly in another namespace than the registry's.
#[derive(Debug, Clone)]
pub(crate) struct ObjectName {
    pub name: &'static str,
    pub namespace: &'static str,
}

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
    /// The script's path inside the installer's container.
    pub fn script_path(&self) -> String {
        format!("{}/{}", self.script_dir, self.script_key)
    }
}

/// Ports after defaults.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PortPlan {
    pub container: u16,
    pub service: u16,
    pub host: Option<u16>,
    pub node: Option<u16>,
    /// The container port's name, the Service's targetPort and the probes' port.
    pub name: &'static str,
    /// The registry's debug listener, if on: a named container port of its
    /// own, never on the Service.
    pub debug: Option<DebugPlan>,
}

/// The registry's debug listener (`REGISTRY_HTTP_DEBUG_*`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct DebugPlan {
    pub port: u16,
    /// The container port's name (what a PodMonitor selects).
    pub name: &'static str,
    /// Prometheus `/metrics` on it.
    pub metrics: bool,
}

/// A Secret key referenced from the pod (env or volume).
#[derive(Debug, Clone)]
pub(crate) struct SecretKeyRef {
    pub secret: String,
    pub key: &'static str,
}

/// The TLS Secret, its mount, and the certificate profile.
#[derive(Debug)]
pub(crate) struct TlsPlan {
    pub secret: String,
    pub volume: &'static str,
    pub mount_path: &'static str,
    /// Keys of a kubernetes.io/tls Secret.
    pub cert_key: &'static str,
    pub key_key: &'static str,
    pub key_algorithm: KeyAlgorithm,
    pub common_name: String,
    pub ca_common_name: String,
    pub organization: &'static str,
    pub ip_sans: Vec<IpAddr>,
    /// Configured names first, then the in-cluster Service names.
    pub dns_sans: Vec<String>,
    pub ca_validity_days: i64,
    pub server_validity_days: i64,
}

impl TlsPlan {
    /// The openssl commands that reproduce `certs/` by hand, run from the
    /// bundle's root with `certs/openssl.cnf` (shown there and in the README).
    pub fn openssl_commands(&self, ca_generated: bool) -> Vec<String> {
        let genkey = match self.key_algorithm {
            KeyAlgorithm::EcdsaP256 => {
                "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256"
            }
            KeyAlgorithm::EcdsaP384 => {
                "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384"
            }
            KeyAlgorithm::Rsa2048 => "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048",
            KeyAlgorithm::Rsa3072 => "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072",
            KeyAlgorithm::Rsa4096 => "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:4096",
        };
        let mut v = Vec::new();
        if ca_generated {
            v.push(format!("{genkey} -out {}", paths::CA_KEY));
            v.push(format!(
                "openssl req -x509 -new -config {cnf} -extensions v3_ca -subj '/O={}/CN={}' -key {} -days {} -out {}",
                self.organization,
                self.ca_common_name,
                paths::CA_KEY,
                self.ca_validity_days,
                paths::CA_CERT,
                cnf = paths::OPENSSL_CNF,
            ));
        }
        v.push(format!("{genkey} -out {}", paths::SERVER_KEY));
        v.push(format!(
            "openssl req -new -config {} -key {} -out {}",
            paths::OPENSSL_CNF,
            paths::SERVER_KEY,
            paths::SERVER_CSR
        ));
        v.push(format!(
            "openssl x509 -req -in {} -CA {} -CAkey {} -CAcreateserial -days {} -extfile {} -extensions v3_req -out {}",
            paths::SERVER_CSR,
            paths::CA_CERT,
            if ca_generated { paths::CA_KEY } else { "<your CA key>" },
            self.server_validity_days,
            paths::OPENSSL_CNF,
            paths::SERVER_CERT
        ));
        v
    }
}

/// htpasswd authentication and the pull Secret that goes with it.
#[derive(Debug)]
pub(crate) struct AuthPlan {
    pub realm: String,
    pub users: Vec<UserPlan>,
    /// The user whose credentials the pull Secret, k3s's registries.yaml
    /// and verify.sh use: the first one.
    pub pull_user: String,
    pub bcrypt_cost: u32,
    pub secret: String,
    pub key: &'static str,
    pub volume: &'static str,
    pub mount_path: &'static str,
    /// The kubernetes.io/dockerconfigjson Secret for pods that pull.
    pub pull_secret: String,
}

/// One htpasswd user.
#[derive(Debug)]
pub(crate) struct UserPlan {
    pub name: String,
    /// Where the password comes from; `None`: generated (or given on stdin).
    pub password_file: Option<PathBuf>,
}

/// The data volume.
#[derive(Debug)]
pub(crate) struct DataPlan {
    pub volume: &'static str,
    /// The registry's root directory and the volume's mountPath: one value.
    pub mount_path: String,
    pub source: DataSource,
}

impl DataPlan {
    /// Where the data volume is mounted; `None` for an S3 bucket (no volume).
    pub fn mount_path(&self) -> Option<&str> {
        (!matches!(self.source, DataSource::S3(_))).then_some(self.mount_path.as_str())
    }
}

/// Where the data volume comes from.
#[derive(Debug)]
pub(crate) enum DataSource {
    /// A PersistentVolumeClaim.
    Claim(ClaimPlan),
    HostPath {
        path: String,
        node: String,
    },
    EmptyDir,
    /// An S3-compatible bucket: no volume at all.
    S3(S3Plan),
}

/// A PersistentVolumeClaim; `pv` is set when the bundle also creates the
/// volume (NFS).
#[derive(Debug)]
pub(crate) struct ClaimPlan {
    pub pvc: String,
    pub pv: Option<NfsVolume>,
    pub size: String,
    pub access_modes: Vec<AccessMode>,
    pub storage_class: Option<String>,
}

/// A PersistentVolume on NFS that the bundle creates for its claim.
#[derive(Debug)]
pub(crate) struct NfsVolume {
    pub name: String,
    pub server: String,
    pub path: String,
}

/// How an endpoint reaches the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    HostPort,
    NodePort,
    /// A port-less name (`host/image`) that trust files redirect to the NodePort.
    PortlessAlias,
    Service,
}

/// One address clients use, as image references spell it.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    /// Host as it appears in an image reference (IPv6 in brackets).
    pub host: String,
    pub port: u16,
    pub via: Via,
}

impl Endpoint {
    /// The name as image references spell it: `host:port`, or `host` alone
    /// for 443 and for a port-less alias.
    pub fn authority(&self) -> String {
        if self.port == 443 || self.via == Via::PortlessAlias {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Where the registry really answers: `https://host:port` (no `:443`).
    pub fn url(&self) -> String {
        if self.port == 443 {
            format!("https://{}", self.host)
        } else {
            format!("https://{}:{}", self.host, self.port)
        }
    }
}

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

/// The registry's hardening. It runs without privileges, with no
/// capabilities (but `NET_BIND_SERVICE` for a port below 1024), on a
/// read-only root filesystem with the RuntimeDefault seccomp profile. It
/// runs as a non-root user where the storage lets that user write: a
/// dynamically provisioned claim (the kubelet gives the volume to
/// `fsGroup`) or an emptyDir. On NFS and hostPath volumes the kubelet
/// changes no ownership, and a fresh export or a directory the kubelet
/// creates belongs to root, so there the registry stays root (capabilities
/// still dropped): docs/config.md says what ownership a non-root run needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SecurityPlan {
    /// uid = gid = fsGroup when non-root.
    pub run_as: Option<i64>,
    pub net_bind_service: bool,
}

/// The user a non-root registry runs as.
pub(crate) const REGISTRY_UID: i64 = 1000;

/// Which object a manifest file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ManifestKind {
    Namespace,
    PersistentVolume,
    PersistentVolumeClaim,
    TlsSecret,
    HtpasswdSecret,
    HttpSecret,
    PullSecret,
    Deployment,
    Service,
    /// KEP-1755's `local-registry-hosting` ConfigMap in kube-public.
    LocalRegistryHosting,
    /// The opt-in trust installer: its script in a ConfigMap ...
    TrustConfigMap,
    /// ... and the DaemonSet that runs it on every node.
    TrustDaemonSet,
    /// The objects of the mirror `mirrors[i]`.
    MirrorPersistentVolume(usize),
    MirrorPersistentVolumeClaim(usize),
    MirrorUpstreamSecret(usize),
    MirrorUpstreamCa(usize),
    MirrorDeployment(usize),
    MirrorService(usize),
    /// The S3 access key pair.
    S3Secret,
    /// The S3 endpoint's private CA.
    S3CaConfigMap,
    /// The Redis password.
    RedisSecret,
    /// The PodDisruptionBudget of several replicas.
    PodDisruptionBudget,
}

impl ManifestKind {
    /// Files holding Secret data are written 0600.
    pub fn is_secret(self) -> bool {
        matches!(
            self,
            ManifestKind::TlsSecret
                | ManifestKind::HtpasswdSecret
                | ManifestKind::HttpSecret
                | ManifestKind::PullSecret
                | ManifestKind::MirrorUpstreamSecret(_)
                | ManifestKind::S3Secret
                | ManifestKind::RedisSecret
        )
    }
}

/// One manifest file.
#[derive(Debug, Clone)]
pub(crate) struct Manifest {
    pub path: String,
    pub kind: ManifestKind,
}

impl Plan<'_> {
    /// The bundle path of the manifest of `kind`, `""` when the bundle has
    /// none (for the scripts' variables).
    pub fn manifest_path(&self, kind: ManifestKind) -> &str {
        self.manifests
            .iter()
            .find(|m| m.kind == kind)
            .map_or("", |m| m.path.as_str())
    }
}

impl<'c> Plan<'c> {
    /// Derive the plan. The config must have passed `validate`; `ca_kept`:
    /// the inputs carry the CA of an earlier render of this bundle.
    pub fn new(config: &'c Config, ca_kept: bool) -> Result<Plan<'c>> {
        let name = config.name.as_str();
        let namespace = config.namespace.as_str();
        // A Namespace object is rendered only for a namespace that is not built in.
        let create_namespace = !BUILTIN_NAMESPACES.contains(&namespace);
        let p = &config.ports;
        let ports = PortPlan {
            container: p.container,
            service: p.service.unwrap_or(p.container),
            host: p.host,
            node: p.node,
            name: "registry",
            debug: config.registry.debug.as_ref().map(|d| DebugPlan {
                port: d.port,
                name: "debug",
                metrics: d.metrics,
            }),
        };

        let private = config.registry.enabled;
        let service_dns = service_names(name, namespace, &config.addresses.cluster_domain);
        let mut dns_sans = config.addresses.dns_names.clone();
        if private {
            dns_sans.extend(service_dns.iter().cloned());
        }
        // Each mirror's Service names: its pods serve the same certificate.
        for m in &config.mirrors {
            let svc = mirrors::object_name(name, &m.upstream);
            dns_sans.extend(service_names(
                &svc,
                namespace,
                &config.addresses.cluster_domain,
            ));
        }
        let common_name = config
            .addresses
            .dns_names
            .first()
            .cloned()
            .or_else(|| config.addresses.node_ips.first().map(IpAddr::to_string))
            .unwrap_or_else(|| service_dns[2].clone());
        let tls = TlsPlan {
            secret: format!("{name}-tls"),
            volume: "certs",
            mount_path: TLS_MOUNT,
            cert_key: "tls.crt",
            key_key: "tls.key",
            key_algorithm: config.tls.key_algorithm,
            common_name,
            ca_common_name: format!("registry-gen CA for {name}.{namespace}"),
            organization: "registry-gen",
            ip_sans: config.addresses.node_ips.clone(),
            dns_sans,
            ca_validity_days: config.tls.ca_validity_days,
            server_validity_days: config.tls.server_validity_days,
        };

        // A mirror-only bundle has no login: the mirrors serve without one.
        let auth = config.auth.as_ref().filter(|_| private).map(|a| AuthPlan {
            realm: a.realm.clone(),
            users: a
                .users
                .iter()
                .map(|u| UserPlan {
                    name: u.name.clone(),
                    password_file: u.password_file.clone(),
                })
                .collect(),
            pull_user: a.users.first().map(|u| u.name.clone()).unwrap_or_default(),
            bcrypt_cost: a.bcrypt_cost,
            secret: format!("{name}-htpasswd"),
            key: "htpasswd",
            volume: "auth",
            mount_path: AUTH_MOUNT,
            pull_secret: format!("{name}-pull"),
        });

        let data = data_plan(&config.storage, name, namespace, &config.registry.data_path);

        let mut endpoints = Vec::new();
        let hosts: Vec<String> = config
            .addresses
            .node_ips
            .iter()
            .map(|ip| match ip {
                IpAddr::V4(v4) => v4.to_string(),
                IpAddr::V6(v6) => format!("[{v6}]"),
            })
            .chain(config.addresses.dns_names.iter().cloned())
            .collect();
        let alias = config.ports.portless_alias.unwrap_or(ports.node.is_some());
        let alias_port = ports.node.filter(|_| alias);
        for host in &hosts {
            let exposed = [
                (ports.host, Via::HostPort),
                (ports.node, Via::NodePort),
                (alias_port, Via::PortlessAlias),
            ];
            for (port, via) in exposed {
                if let Some(port) = port {
                    endpoints.push(Endpoint {
                        host: host.clone(),
                        port,
                        via,
                    });
                }
            }
        }
        endpoints.push(Endpoint {
            host: service_dns[2].clone(),
            port: ports.service,
            via: Via::Service,
        });
        if !private {
            endpoints.clear();
        }

        let mut manifests = Vec::new();
        let mut add = |file: &str, kind| {
            manifests.push(Manifest {
                path: format!("manifests/{file}.yaml"),
                kind,
            })
        };
        if create_namespace {
            add("namespace", ManifestKind::Namespace);
        }
        let main_data = if private {
            &data.source
        } else {
            &DataSource::EmptyDir
        };
        if let DataSource::Claim(c) = main_data {
            if c.pv.is_some() {
                add("persistentvolume", ManifestKind::PersistentVolume);
            }
            add("persistentvolumeclaim", ManifestKind::PersistentVolumeClaim);
        }
        if let DataSource::S3(s3) = main_data {
            if s3.credentials.is_some() {
                add("secret-s3", ManifestKind::S3Secret);
            }
            if s3.ca.is_some() {
                add("configmap-s3-ca", ManifestKind::S3CaConfigMap);
            }
        }
        let cache = config
            .cache
            .redis
            .as_ref()
            .filter(|_| private)
            .map(|r| RedisPlan::new(name, r));
        if cache.as_ref().is_some_and(|c| c.password.is_some()) {
            add("secret-redis", ManifestKind::RedisSecret);
        }
        add("secret-tls", ManifestKind::TlsSecret);
        add("secret-http", ManifestKind::HttpSecret);
        if auth.is_some() {
            add("secret-htpasswd", ManifestKind::HtpasswdSecret);
            add("secret-pull", ManifestKind::PullSecret);
        }
        if private {
            add("deployment", ManifestKind::Deployment);
            add("service", ManifestKind::Service);
        }
        let mirrors: Vec<MirrorPlan> = config
            .mirrors
            .iter()
            .map(|m| MirrorPlan::new(config, m, &hosts, ports.container))
            .collect();
        for (i, m) in mirrors.iter().enumerate() {
            manifests.extend(m.manifests(i));
        }
        let mut add = |file: &str, kind| {
            manifests.push(Manifest {
                path: format!("manifests/{file}.yaml"),
                kind,
            })
        };
        let scale = ScalePlan::new(config);
        if private {
            if scale.disruption_budget.is_some() {
                add("poddisruptionbudget", ManifestKind::PodDisruptionBudget);
            }
            add("local-registry-hosting", ManifestKind::LocalRegistryHosting);
        }
        let node_paths = NodePaths {
            docker: "/etc/docker/certs.d",
            docker_daemon_json: "/etc/docker/daemon.json",
            containerd: "/etc/containerd/certs.d",
            containers: "/etc/containers/certs.d",
            containers_conf: "/etc/containers/registries.conf.d",
            k3s_registries: "/etc/rancher/k3s/registries.yaml",
            k3s_ca: format!("/etc/rancher/k3s/{name}-{namespace}-ca.crt"),
        };
        let trust_installer = config.trust.daemonset.then(|| TrustInstallerPlan {
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
        });
        if trust_installer.is_some() {
            add("trust-configmap", ManifestKind::TrustConfigMap);
            add("trust-daemonset", ManifestKind::TrustDaemonSet);
        }

        let (strategy, security) = workload_policy(&ports, &data);

        let mut warnings = Vec::new();
        if !private {
            warnings.push(
                "registry.enabled is false: a mirror-only bundle, without the private registry; `auth` is not used (the mirrors serve pulls without a login)".to_owned(),
            );
        }
        if private && matches!(data.source, DataSource::EmptyDir) {
            warnings.push(
                "storage is empty_dir: every pushed image is lost when the registry pod is deleted or moved; use nfs, host_path or pvc storage to keep them".to_owned(),
            );
        }
        if private && ports.host.is_none() && ports.node.is_none() {
            warnings.push(
                "neither ports.host nor ports.node is set: the registry is reachable only inside the cluster, and nodes (kubelet, containerd) cannot pull from it by a node address".to_owned(),
            );
        }
        if let Some(cpu) = &config.resources.limits.cpu {
            if cpu_millis(cpu).is_some_and(|m| m < THROTTLING_CPU_LIMIT_MILLIS) {
                warnings.push(format!(
                    "resources.limits.cpu is {cpu}: the registry is throttled to it while it moves images ({THROTTLE_COST}); remove the CPU limit (the default) and keep the request, see docs/performance.md"
                ));
            }
        }
        if trust_installer.is_some() {
            warnings.push(
                "trust.daemonset is on: a DaemonSet writes the CA and hosts.toml files into /etc/containerd/certs.d and /etc/docker/certs.d on every node through hostPath volumes; containerd's config_path must still point there".to_owned(),
            );
        }
        if private && config.auth.is_none() {
            warnings
                .push("auth is off: anyone who reaches the registry can push and pull".to_owned());
        }
        for (i, m) in mirrors.iter().enumerate() {
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
        if private {
            warnings.extend(backends::warnings(config, &data.source));
        }

        let ca = match (&config.tls.ca, ca_kept) {
            (Some(files), _) => CaPlan::Given {
                cert_file: files.cert_file.clone(),
            },
            (None, true) => CaPlan::Kept,
            (None, false) => CaPlan::Generated,
        };
        let runtime_authority = if private {
            runtime_endpoint(&endpoints).authority()
        } else {
            String::new()
        };
        // A mirror-only bundle has nothing to collect: no gc.sh, no Job.
        let gc = GcPlan::new(
            name,
            &config.image,
            config.registry.delete_enabled,
            if private {
                &data.source
            } else {
                &DataSource::EmptyDir
            },
            cache.as_ref(),
        );
        Ok(Plan {
            name,
            namespace,
            image: &config.image,
            replicas: config.replicas,
            private,
            resources: ResourcePlan {
                requests: (&config.resources.requests).into(),
                limits: (&config.resources.limits).into(),
            },
            delete_enabled: config.registry.delete_enabled,
            log_level: config.registry.log_level,
            ca,
            ports,
            tls,
            auth,
            http_secret: SecretKeyRef {
                secret: format!("{name}-http"),
                key: "http-secret",
            },
            data,
            endpoints,
            node_paths,
            strategy,
            cache,
            scale,
            security,
            manifests,
            trust_installer,
            local_registry_hosting: ObjectName {
                name: "local-registry-hosting",
                namespace: "kube-public",
            },
            owner: format!("{namespace}/{name}"),
            pull_test: PullTestPlan {
                pod: format!("{name}-pull-test"),
                container: "pull-test",
                helper: "pull-test",
                image: format!("{runtime_authority}/{PULL_TEST_IMAGE}"),
            },
            gc,
            mirrors,
            effective_config: config.to_yaml()?,
            warnings,
        })
    }

    /// Labels every object carries.
    pub fn labels(&self) -> BTreeMap<String, String> {
        let mut l = self.selector();
        l.insert(LABEL_MANAGED_BY.to_owned(), "registry-gen".to_owned());
        l
    }

    /// The Deployment's and the Service's selector: a subset of [`Plan::labels`].
    pub fn selector(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            (LABEL_NAME.to_owned(), "registry".to_owned()),
            (LABEL_INSTANCE.to_owned(), self.name.to_owned()),
        ])
    }

    /// The container's environment: the registry is configured through
    /// REGISTRY_* variables only, which distribution v2 and v3 both read
    /// (their config files live at different paths). Each value that
    /// carries user input is an [`EnvValue::Text`] or a
    /// [`EnvValue::Secret`] (see the `env` module).
    pub fn env(&self) -> Vec<(&'static str, EnvValue)> {
        let mut env = self.registry_env(&self.ports, &self.data, self.cache.as_ref());
        if let Some(a) = &self.auth {
            use EnvValue::{Literal as L, Text};
            env.push(("REGISTRY_AUTH", EnvValue::literal("htpasswd")));
            env.push(("REGISTRY_AUTH_HTPASSWD_REALM", Text(a.realm.clone())));
            env.push((
                "REGISTRY_AUTH_HTPASSWD_PATH",
                L(Literal::path(a.mount_path, a.key)),
            ));
        }
        env
    }

    /// What every registry of the bundle (the main one and each mirror)
    /// is configured with: its listener, TLS, HTTP secret, data (and its
    /// blob-descriptor cache), logging.
    fn registry_env(
        &self,
        ports: &PortPlan,
        data: &DataPlan,
        cache: Option<&RedisPlan>,
    ) -> Vec<(&'static str, EnvValue)> {
        use EnvValue::{GeneratedSecret, Literal as L, Text};
        let lit = EnvValue::literal;
        let mut env = vec![
            ("REGISTRY_HTTP_ADDR", L(Literal::port(ports.container))),
            (
                "REGISTRY_HTTP_TLS_CERTIFICATE",
                L(Literal::path(self.tls.mount_path, self.tls.cert_key)),
            ),
            (
                "REGISTRY_HTTP_TLS_KEY",
                L(Literal::path(self.tls.mount_path, self.tls.key_key)),
            ),
            (
                "REGISTRY_HTTP_SECRET",
                GeneratedSecret(self.http_secret.clone()),
            ),
        ];
        match &data.source {
            DataSource::S3(s3) => {
                env.extend(s3.env());
                // REGISTRY_STORAGE=s3 dropped the image's in-memory cache
                // setting with the rest of its storage map: set it again.
                if cache.is_none() {
                    env.push(("REGISTRY_STORAGE_CACHE_BLOBDESCRIPTOR", lit("inmemory")));
                }
            }
            _ => env.push((
                "REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY",
                Text(data.mount_path.clone()),
            )),
        }
        if let Some(c) = cache {
            env.extend(c.env());
        }
        env.extend([
            (
                "REGISTRY_STORAGE_DELETE_ENABLED",
                L(Literal::boolean(self.delete_enabled)),
            ),
            // No TLS 1.0/1.1 (the distribution server accepts them by default).
            ("REGISTRY_HTTP_TLS_MINIMUMTLS", lit("tls1.2")),
            // The official 3.x image's config file says `debug`.
            ("REGISTRY_LOG_LEVEL", lit(self.log_level.as_str())),
            // The debug listener, owned here: the official 3.x image's config
            // file starts one on `:5001` (which crash-loops the registry when
            // the container port is 5001); an empty address switches it
            // off. As Text the one rule writes it as YAML's `""`: an empty
            // env value would be dropped by the API server, and every apply
            // would report the Deployment `configured`.
            (
                "REGISTRY_HTTP_DEBUG_ADDR",
                ports
                    .debug
                    .map_or(Text(String::new()), |d| L(Literal::port(d.port))),
            ),
        ]);
        if let Some(d) = ports.debug {
            env.push((
                "REGISTRY_HTTP_DEBUG_PROMETHEUS_ENABLED",
                L(Literal::boolean(d.metrics)),
            ));
        }
        // Registry 3.x exports OpenTelemetry traces to localhost:4318 unless
        // told not to, and logs an error for each batch nobody receives.
        // 2.x has no tracing and ignores it.
        env.push(("OTEL_TRACES_EXPORTER", lit("none")));
        env
    }

    /// The endpoints reached from outside the cluster (node addresses).
    pub fn node_endpoints(&self) -> impl Iterator<Item = &Endpoint> {
        self.endpoints.iter().filter(|e| e.via != Via::Service)
    }

    /// The name a node's container runtime pulls by: a port-less alias if
    /// there is one (a DNS name's first), else the first node address, else
    /// the Service.
    pub fn runtime_endpoint(&self) -> &Endpoint {
        runtime_endpoint(&self.endpoints)
    }

    /// The in-cluster Service endpoint.
    pub fn service_endpoint(&self) -> &Endpoint {
        self.endpoints
            .iter()
            .find(|e| e.via == Via::Service)
            .unwrap_or_else(|| self.primary_endpoint())
    }

    /// Labels of a helper workload (the pull-test Pod, the trust
    /// DaemonSet): never the registry's selector, so the Service never
    /// routes to it.
    pub fn helper_labels(&self, helper: &str) -> BTreeMap<String, String> {
        BTreeMap::from([
            (LABEL_NAME.to_owned(), format!("registry-{helper}")),
            (LABEL_INSTANCE.to_owned(), self.name.to_owned()),
            (LABEL_MANAGED_BY.to_owned(), "registry-gen".to_owned()),
        ])
    }

    /// What `delete.sh` does to the data, for its `--help` and the
    /// bundle's README (one text, so they cannot disagree).
    pub fn data_on_delete(&self) -> &'static str {
        if !self.private {
            return "The mirrors' caches stay: the PersistentVolumeClaims and PersistentVolumes of mirrors with pvc, nfs or host_path storage (and a namespace the bundle created) are kept unless --purge-data is given; an empty_dir cache goes with its pod.";
        }
        match &self.data.source {
            DataSource::Claim(ClaimPlan { pv: Some(_), .. }) => {
                "The data stays: the PersistentVolumeClaim and the PersistentVolume (and a namespace the bundle created) are kept unless --purge-data is given; even then the volume's reclaim policy Retain leaves the files on the NFS export."
            }
            DataSource::Claim(ClaimPlan { pv: None, .. }) => {
                "The data stays: the PersistentVolumeClaim (and a namespace the bundle created) is kept unless --purge-data is given; deleting the claim deletes the data if its StorageClass's reclaim policy is Delete, the default of most provisioners."
            }
            DataSource::HostPath { .. } => {
                "The data stays: the images are in a directory of the node, which delete.sh never touches (--purge-data deletes only a namespace the bundle created)."
            }
            DataSource::EmptyDir => {
                "The data is lost: storage is emptyDir, which goes with the pod (as on every pod restart)."
            }
            DataSource::S3(_) => {
                "The data stays: the images are in the S3 bucket, which delete.sh never touches (it deletes the Secret with the bucket's keys like every other object; --purge-data deletes only a namespace the bundle created)."
            }
        }
    }

    /// The endpoint a user tries first: the first node address, else the Service.
    pub fn primary_endpoint(&self) -> &Endpoint {
        primary_endpoint(&self.endpoints)
    }

    /// An address to show in examples: the private registry's primary
    /// endpoint, or in a mirror-only bundle the first mirror's.
    pub fn example_endpoint(&self) -> &Endpoint {
        match self.mirrors.first() {
            Some(m) if !self.private => m.primary_endpoint(),
            _ => self.primary_endpoint(),
        }
    }
}

/// See [`Plan::primary_endpoint`]; `endpoints` always ends with the Service.
fn primary_endpoint(endpoints: &[Endpoint]) -> &Endpoint {
    endpoints
        .iter()
        .find(|e| e.via != Via::Service)
        .unwrap_or_else(|| &endpoints[endpoints.len() - 1])
}

/// See [`Plan::runtime_endpoint`].
fn runtime_endpoint(endpoints: &[Endpoint]) -> &Endpoint {
    let alias = |dns: bool| {
        endpoints.iter().find(move |e| {
            e.via == Via::PortlessAlias
                && (e.host.parse::<IpAddr>().is_err() && !e.host.starts_with('[')) == dns
        })
    };
    alias(true)
        .or_else(|| alias(false))
        .unwrap_or_else(|| primary_endpoint(endpoints))
}

/// `<svc>`, `<svc>.<ns>`, `<svc>.<ns>.svc`, `<svc>.<ns>.svc.<domain>`.
fn service_names(svc: &str, ns: &str, domain: &str) -> [String; 4] {
    [
        svc.to_owned(),
        format!("{svc}.{ns}"),
        format!("{svc}.{ns}.svc"),
        format!("{svc}.{ns}.svc.{domain}"),
    ]
}

/// The data volume of a registry whose objects are named `name`.
fn data_plan(storage: &Storage, name: &str, namespace: &str, data_path: &str) -> DataPlan {
    let source = match storage {
        Storage::Nfs(n) => DataSource::Claim(ClaimPlan {
            pvc: format!("{name}-data"),
            pv: Some(NfsVolume {
                name: format!("{namespace}-{name}-data"),
                server: n.server.clone(),
                path: n.path.clone(),
            }),
            size: n.size.clone(),
            access_modes: n.access_modes.clone(),
            storage_class: Some(n.storage_class_name.clone()),
        }),
        Storage::Pvc(c) => DataSource::Claim(ClaimPlan {
            pvc: format!("{name}-data"),
            pv: None,
            size: c.size.clone(),
            access_modes: c.access_modes.clone(),
            storage_class: c.storage_class_name.clone(),
        }),
        Storage::HostPath(h) => DataSource::HostPath {
            path: h.path.clone(),
            node: h.node.clone(),
        },
        Storage::EmptyDir {} => DataSource::EmptyDir,
        Storage::S3(s3) => DataSource::S3(S3Plan::new(name, s3)),
    };
    DataPlan {
        volume: "data",
        mount_path: data_path.to_owned(),
        source,
    }
}

/// A registry Deployment's strategy and hardening, from its ports and data.
fn workload_policy(ports: &PortPlan, data: &DataPlan) -> (&'static str, SecurityPlan) {
    // A hostPort or a volume that only one node can mount can't be held by
    // the old and the new pod at once: replace pods instead of rolling.
    let shared_volume = match &data.source {
        DataSource::Claim(c) => c.access_modes.contains(&AccessMode::ReadWriteMany),
        DataSource::S3(_) => true,
        DataSource::HostPath { .. } | DataSource::EmptyDir => false,
    };
    let strategy = if ports.host.is_none() && shared_volume {
        "RollingUpdate"
    } else {
        "Recreate"
    };

    let low_port = ports.container < 1024;
    let writable_by_fs_group = matches!(
        &data.source,
        DataSource::Claim(ClaimPlan { pv: None, .. }) | DataSource::EmptyDir | DataSource::S3(_)
    );
    let security = SecurityPlan {
        run_as: (writable_by_fs_group && !low_port).then_some(REGISTRY_UID),
        net_bind_service: low_port,
    };
    (strategy, security)
}
