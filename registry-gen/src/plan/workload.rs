//! A registry workload as the Deployment and Service renderers see it: the
//! main registry and every mirror are rendered by the same code from one of
//! these, so they share the hardening, probes, TLS mount and checksum
//! rollout. Each is a view over the plan, built by [`Plan::workload`] or
//! [`Plan::mirror_workload`].

use std::collections::BTreeMap;

use super::mirrors::{MirrorStart, CHECKSUM_UPSTREAM, CHECKSUM_UPSTREAM_CA};
use super::{
    DataPlan, DataSource, EnvValue, Plan, PortPlan, SecurityPlan, CHECKSUM_HTTP_SECRET,
    CHECKSUM_REDIS, CHECKSUM_S3, CHECKSUM_S3_CA, CHECKSUM_TLS,
};

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

impl<'c> Plan<'c> {
    fn tls_mount(&self) -> WorkloadMount {
        WorkloadMount {
            volume: self.tls.volume,
            source: MountSource::Secret(self.tls.secret.clone()),
            mount_path: self.tls.mount_path,
        }
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
            scaled: false,
            start: Some(m.start()),
        })
    }
}
