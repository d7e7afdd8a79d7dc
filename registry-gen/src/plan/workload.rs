//! What runs: a registry workload as the Deployment and Service renderers
//! see it, its resources, its roll strategy and its hardening. The main
//! registry and every mirror are rendered by the same code from one of
//! these, so they share the hardening, probes, TLS mount and checksum
//! rollout. Each is a view over the plan, built by [`Plan::workload`] or
//! [`Plan::mirror_workload`].

use std::collections::BTreeMap;

use super::mirrors::{MirrorStart, CHECKSUM_UPSTREAM, CHECKSUM_UPSTREAM_CA};
use super::{
    ClaimPlan, DataPlan, DataSource, EnvValue, Plan, PortPlan, CHECKSUM_HTTP_SECRET,
    CHECKSUM_REDIS, CHECKSUM_S3, CHECKSUM_S3_CA, CHECKSUM_TLS,
};
use crate::config::{AccessMode, CpuMemory, Limits};

/// One registry Deployment (and its Service).
#[derive(Debug)]
pub(crate) struct Workload<'p> {
    pub name: &'p str,
    pub labels: BTreeMap<String, String>,
    pub selector: BTreeMap<String, String>,
    pub replicas: i32,
    pub strategy: &'static str,
    pub ports: &'p PortPlan,
    pub data: &'p DataPlan,
    pub security: SecurityPlan,
    pub env: Vec<(&'static str, EnvValue)>,
    /// Read-only volumes after the data volume, in order.
    pub mounts: Vec<WorkloadMount>,
    /// Pod-template annotations besides the checksums (the scrape
    /// annotations of `monitoring.scrape_annotations`).
    pub annotations: BTreeMap<String, String>,
    /// The pod-template annotations: key and the object whose data it hashes.
    pub checksums: Vec<(&'static str, Checksum)>,
    /// Whether the plan's spread over the nodes (and its
    /// PodDisruptionBudget) covers these pods: the main registry's only.
    pub scaled: bool,
    /// A mirror's: the container's command wraps the registry (see
    /// [`MirrorStart`]); `None`: the image's own entrypoint.
    pub start: Option<MirrorStart>,
}

/// A Secret or ConfigMap mounted read-only.
#[derive(Debug)]
pub(crate) struct WorkloadMount {
    pub volume: &'static str,
    pub source: MountSource,
    pub mount_path: &'static str,
}

/// What a [`WorkloadMount`] mounts.
#[derive(Debug)]
pub(crate) enum MountSource {
    Secret(String),
    ConfigMap(String),
}

/// An object whose data a pod-template annotation hashes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Checksum {
    TlsSecret,
    HttpSecret,
    /// The upstream credentials Secret of `mirrors[i]`.
    UpstreamSecret(usize),
    /// The upstream CA ConfigMap of `mirrors[i]`.
    UpstreamCa(usize),
    /// The S3 access key Secret.
    S3Secret,
    /// The S3 endpoint's CA ConfigMap.
    S3Ca,
    /// The Redis password Secret.
    RedisSecret,
}

impl Workload<'_> {
    /// How its pods stop, which follows from its strategy.
    pub fn drain(&self) -> DrainPlan {
        DrainPlan::new(self.strategy)
    }
}

impl<'c> Plan<'c> {
    fn tls_mount(&self) -> WorkloadMount {
        WorkloadMount {
            volume: self.tls.volume,
            source: MountSource::Secret(self.tls.secret.clone()),
            mount_path: self.tls.mount_path,
        }
    }

    /// The annotations every registry's pod template carries besides its
    /// checksums.
    fn pod_annotations(&self) -> BTreeMap<String, String> {
        (self.monitoring.as_ref()).map_or_else(BTreeMap::new, |m| m.pod_annotations.clone())
    }

    /// The main registry.
    pub fn workload(&self) -> Workload<'_> {
        let mut mounts = vec![self.tls_mount()];
        if let Some(a) = &self.auth {
            mounts.push(WorkloadMount {
                volume: a.volume,
                source: MountSource::Secret(a.secret.clone()),
                mount_path: a.mount_path,
            });
        }
        let mut checksums = vec![
            (CHECKSUM_TLS, Checksum::TlsSecret),
            (CHECKSUM_HTTP_SECRET, Checksum::HttpSecret),
        ];
        if let DataSource::S3(s3) = &self.data.source {
            if s3.credentials.is_some() {
                checksums.push((CHECKSUM_S3, Checksum::S3Secret));
            }
            if let Some(ca) = &s3.ca {
                mounts.push(WorkloadMount {
                    volume: ca.volume,
                    source: MountSource::ConfigMap(ca.config_map.clone()),
                    mount_path: ca.mount_dir,
                });
                checksums.push((CHECKSUM_S3_CA, Checksum::S3Ca));
            }
        }
        if self.cache.as_ref().is_some_and(|c| c.password.is_some()) {
            checksums.push((CHECKSUM_REDIS, Checksum::RedisSecret));
        }
        Workload {
            name: self.name,
            labels: self.labels(),
            selector: self.selector(),
            replicas: self.replicas,
            strategy: self.strategy,
            ports: &self.ports,
            data: &self.data,
            security: self.security,
            env: self.env(),
            mounts,
            checksums,
            annotations: self.pod_annotations(),
            scaled: true,
            start: None,
        }
    }

    /// The mirror `mirrors[i]`: one replica (the proxy's scheduler keeps
    /// its expiry state per process), no htpasswd, the same certificate.
    pub fn mirror_workload(&self, i: usize) -> Option<Workload<'_>> {
        let m = self.mirrors.get(i)?;
        let mut env = self.registry_env(&m.ports, &m.data, None);
        env.extend(m.proxy_env());
        let mut mounts = vec![self.tls_mount()];
        let mut checksums = vec![
            (CHECKSUM_TLS, Checksum::TlsSecret),
            (CHECKSUM_HTTP_SECRET, Checksum::HttpSecret),
        ];
        if m.credentials.is_some() {
            checksums.push((CHECKSUM_UPSTREAM, Checksum::UpstreamSecret(i)));
        }
        if let Some(ca) = &m.upstream_ca {
            mounts.push(WorkloadMount {
                volume: ca.volume,
                source: MountSource::ConfigMap(ca.config_map.clone()),
                mount_path: ca.mount_path,
            });
            checksums.push((CHECKSUM_UPSTREAM_CA, Checksum::UpstreamCa(i)));
        }
        Some(Workload {
            name: &m.name,
            labels: m.labels(self),
            selector: m.selector(self),
            replicas: 1,
            strategy: m.strategy,
            ports: &m.ports,
            data: &m.data,
            security: m.security,
            env,
            mounts,
            checksums,
            annotations: self.pod_annotations(),
            scaled: false,
            start: Some(m.start()),
        })
    }
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
const REGISTRY_UID: i64 = 1000;

/// How long a stopping registry waits for requests in flight
/// (`REGISTRY_HTTP_DRAINTIMEOUT`): distribution stops listening at SIGTERM
/// and finishes what it serves, for at most this long. A 1 GiB layer at
/// 20 MiB/s (a slow node link) takes 51 s.
pub(crate) const DRAIN_TIMEOUT_SECONDS: u64 = 60;
/// How long a stopping pod of a rolling Deployment keeps serving before
/// the registry gets SIGTERM (its preStop hook): the time kube-proxy and
/// other nodes take to stop sending it new connections once it has left
/// the Service's endpoints.
const ENDPOINT_DELAY_SECONDS: i64 = 5;
/// Beyond the delay and the drain: the kubelet kills only after this.
const GRACE_MARGIN_SECONDS: i64 = 10;

/// How a pod stops without failing a request: leave the Service first,
/// then finish what is in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DrainPlan {
    /// The preStop sleep, where another pod takes over the requests
    /// (pods overlap); `None` under Recreate, where no pod would, and the
    /// delay would only lengthen the gap.
    pub pre_stop_seconds: Option<i64>,
    /// `terminationGracePeriodSeconds`: longer than the sleep and the
    /// drain together.
    pub grace_seconds: i64,
}

impl DrainPlan {
    pub(crate) fn new(strategy: &str) -> DrainPlan {
        let pre_stop_seconds = (strategy == ROLLING_UPDATE).then_some(ENDPOINT_DELAY_SECONDS);
        DrainPlan {
            pre_stop_seconds,
            grace_seconds: pre_stop_seconds.unwrap_or(0)
                + DRAIN_TIMEOUT_SECONDS as i64
                + GRACE_MARGIN_SECONDS,
        }
    }
}

/// The Deployment strategy of pods that can overlap: a new pod is ready
/// before an old one goes (maxUnavailable 0, maxSurge 1).
pub(crate) const ROLLING_UPDATE: &str = "RollingUpdate";
/// The strategy of pods that cannot: the old pod goes, then the new starts.
pub(crate) const RECREATE: &str = "Recreate";

/// Whether an old and a new pod of a Deployment can run at once: not with
/// a hostPort (one node's port, and a pinned node has one), nor with a
/// claim only one node may mount (ReadWriteOnce, ReadWriteOncePod: the
/// new pod may land on another node and wait forever). Everything else
/// can: ReadWriteMany, an S3 bucket, a hostPath directory (the Deployment
/// is pinned to its node, so the new pod mounts the same directory there),
/// an emptyDir (each pod its own; a mirror's cache refills).
pub(crate) fn pods_can_overlap(ports: &PortPlan, data: &DataPlan) -> bool {
    let shareable = match &data.source {
        DataSource::Claim(c) => c.access_modes.contains(&AccessMode::ReadWriteMany),
        DataSource::S3(_) | DataSource::HostPath { .. } | DataSource::EmptyDir => true,
    };
    ports.host.is_none() && shareable
}

/// A registry Deployment's strategy and hardening, from its ports and data.
pub(super) fn workload_policy(ports: &PortPlan, data: &DataPlan) -> (&'static str, SecurityPlan) {
    let strategy = if pods_can_overlap(ports, data) {
        ROLLING_UPDATE
    } else {
        RECREATE
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
