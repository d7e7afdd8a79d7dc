//! The plan: the single place that derives every name, label, selector,
//! port, path, Secret key, SAN and endpoint from a validated [`Config`].
//!
//! Renderers read the plan and never invent a value of their own, so two
//! files that must agree (the Deployment's mountPath and its
//! `REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY`, a Secret's name and the
//! volume that mounts it, the certificate's SANs and the trust directories)
//! always take it from the same field here.
//!
//! Each submodule owns one question; [`Plan::new`] composes them:
//!
//! - `endpoints`: where clients reach the registry (ports, addresses, the
//!   port-less alias, the Service); `exposure`: on 443 by a DNS name
//!   (Gateway API TLSRoute, Ingress);
//! - `tls`: how TLS is signed (the CA's origin, the certificate's SANs);
//! - `auth`: who may log in (htpasswd, the pull Secret, the HTTP secret);
//! - `data`: where data lives (claims, NFS, hostPath, emptyDir, S3);
//! - `backends`: what several replicas share (S3, Redis, the disruption
//!   budget and spread);
//! - `workload`, `env`: what runs (Deployments, resources, strategy,
//!   hardening) and the `REGISTRY_*` environment with its one quoting rule;
//! - `mirrors`: the pull-through caches;
//! - `monitoring`: how Prometheus scrapes them, the alerts, the dashboard,
//!   the certificate probe;
//! - `gc`: maintenance (garbage collection);
//! - `trust`: how nodes come to trust and pull (trust file paths, the
//!   installer, discovery, the pull test);
//! - `owner`: names shared with other bundles;
//! - `manifests`: which files the bundle holds, in apply order;
//! - `warnings`: what the user should know before relying on the bundle.

use std::collections::BTreeMap;

use crate::config::{Config, LogLevel};
use crate::error::Result;

pub(crate) use crate::layout as paths;

mod auth;
mod backends;
mod data;
mod endpoints;
mod env;
mod exposure;
mod gc;
mod manifests;
pub(crate) mod mirrors;
pub(crate) mod monitoring;
mod owner;
mod tls;
mod trust;
mod warnings;
mod workload;

/// How an Ingress carries TLS: the config's choice, as renderers see it.
pub(crate) use crate::config::IngressMode;
pub(crate) use auth::{AuthPlan, SecretKeyRef, AUTH_MOUNT, CHECKSUM_HTTP_SECRET};
pub(crate) use backends::{
    RedisPlan, S3CaPlan, S3Plan, S3SecretPlan, ScalePlan, CHECKSUM_REDIS, CHECKSUM_S3,
    CHECKSUM_S3_CA,
};
use data::data_plan;
pub(crate) use data::{ClaimPlan, DataPlan, DataSource};
use endpoints::primary_endpoint;
pub(crate) use endpoints::{DebugPlan, Endpoint, PortPlan, Via};
pub(crate) use env::{EnvValue, Literal, SecretText};
pub(crate) use exposure::{ExposurePlan, IngressPlan, RoutePlan, GATEWAY_GROUP};
pub(crate) use gc::{
    CacheFlushPlan, GcPlan, CACHE_FLUSHED, CACHE_KEYS, READONLY_ENV, READONLY_VALUE,
};
pub(crate) use manifests::{Manifest, ManifestKind};
pub(crate) use mirrors::MirrorPlan;
pub(crate) use monitoring::MonitoringPlan;
pub(crate) use owner::OWNER_KEY;
pub(crate) use tls::{CaPlan, TlsPlan, CHECKSUM_TLS, TLS_MOUNT};
pub(crate) use trust::{
    NodePaths, ObjectName, PullTestPlan, TrustInstallerPlan, CHECKSUM_TRUST_SCRIPT, PULL_TEST_IMAGE,
};
use workload::workload_policy;
pub(crate) use workload::{
    Checksum, DrainPlan, MountSource, Quantities, ResourcePlan, SecurityPlan, Workload,
    WorkloadMount, DRAIN_TIMEOUT_SECONDS, ROLLING_UPDATE,
};

/// Kubernetes namespaces that exist in every cluster: the bundle never
/// creates (nor deletes) them.
pub(crate) const BUILTIN_NAMESPACES: [&str; 4] =
    ["default", "kube-system", "kube-public", "kube-node-lease"];

/// Label keys (the Kubernetes recommended labels).
const LABEL_NAME: &str = "app.kubernetes.io/name";
pub(crate) const LABEL_INSTANCE: &str = "app.kubernetes.io/instance";
const LABEL_MANAGED_BY: &str = "app.kubernetes.io/managed-by";

/// The registry's container in its Deployment (gc.sh sets its env by name).
pub(crate) const REGISTRY_CONTAINER: &str = "registry";

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
    /// The registry on port 443 by a DNS name (Gateway, Ingress).
    pub exposure: Option<ExposurePlan>,
    /// The monitoring objects (`monitoring`), if any.
    pub monitoring: Option<MonitoringPlan>,
    /// The effective config as YAML, saved in the bundle for re-renders.
    pub effective_config: String,
    /// Things the user should know before relying on this bundle.
    pub warnings: Vec<String>,
}

impl<'c> Plan<'c> {
    /// Derive the plan. The config must have passed `validate`; `ca_kept`:
    /// the inputs carry the CA of an earlier render of this bundle.
    pub fn new(config: &'c Config, ca_kept: bool) -> Result<Plan<'c>> {
        let (name, namespace) = (config.name.as_str(), config.namespace.as_str());
        let private = config.registry.enabled;
        let ports = PortPlan::new(config);
        let service_dns =
            endpoints::service_names(name, namespace, &config.addresses.cluster_domain);
        let hosts = endpoints::hosts(&config.addresses);
        let exposure = ExposurePlan::new(config, &service_dns[2]);
        let exposed = exposure.as_ref().map(|x| x.hostname.as_str());
        let endpoints = if private {
            endpoints::endpoints(config, &ports, &hosts, exposed, &service_dns[2])
        } else {
            Vec::new()
        };
        let data = data_plan(&config.storage, name, namespace, &config.registry.data_path);
        let cache = (config.cache.redis.as_ref())
            .filter(|_| private)
            .map(|r| RedisPlan::new(name, r));
        let (strategy, security) = workload_policy(&ports, &data);
        let node_paths = NodePaths::new(name, namespace);
        let trust_installer =
            (config.trust.daemonset).then(|| TrustInstallerPlan::new(name, &node_paths));
        // A mirror-only bundle has nothing to collect: no gc.sh, no Job.
        let gc = GcPlan::new(
            name,
            &config.image,
            config.registry.delete_enabled,
            data::main_data(private, &data),
            cache.as_ref(),
        );
        let runtime_authority = match private {
            true => endpoints::runtime_endpoint(&endpoints).authority(),
            false => String::new(),
        };
        let mut plan = Plan {
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
            ca: CaPlan::new(config, ca_kept),
            tls: TlsPlan::new(config, private, &service_dns, exposed),
            exposure,
            auth: AuthPlan::new(config, private),
            http_secret: auth::http_secret(name),
            mirrors: (config.mirrors.iter())
                .map(|m| MirrorPlan::new(config, m, &hosts, &ports))
                .collect(),
            monitoring: None,
            ports,
            data,
            endpoints,
            node_paths,
            strategy,
            cache,
            scale: ScalePlan::new(config),
            security,
            manifests: Vec::new(),
            trust_installer,
            local_registry_hosting: trust::LOCAL_REGISTRY_HOSTING,
            owner: format!("{namespace}/{name}"),
            pull_test: PullTestPlan::new(name, &runtime_authority),
            gc,
            effective_config: config.to_yaml()?,
            warnings: Vec::new(),
        };
        plan.monitoring = MonitoringPlan::new(config, &plan);
        plan.manifests = plan.manifest_list();
        plan.warnings = warnings::warnings(config, &plan);
        Ok(plan)
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
}
