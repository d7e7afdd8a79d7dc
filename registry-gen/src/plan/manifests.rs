//! Which manifest files a bundle holds, in apply order, and which object
//! each one is. start.sh applies them in this order, delete.sh deletes in
//! reverse, the bundle writes Secret manifests 0600, and the kustomization
//! lists them, all from this one list.

use super::{DataSource, Plan, BUILTIN_NAMESPACES};

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
    /// The Gateway API TLSRoute to the Service (`exposure.gateway`).
    TlsRoute,
    /// The Ingress to the Service (`exposure.ingress`) ...
    Ingress,
    /// ... and, re-encrypting, the Secret with the bundle CA it verifies
    /// the registry with.
    IngressCaSecret,
    /// Monitoring (`monitoring`): the Prometheus Operator's PodMonitor ...
    PodMonitor,
    /// ... its PrometheusRule with the alerts ...
    PrometheusRule,
    /// ... the blackbox exporter's TLS Probe ...
    Probe,
    /// ... and the Grafana dashboard's ConfigMap.
    GrafanaDashboard,
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
                | ManifestKind::IngressCaSecret
        )
    }
}

/// One manifest file.
#[derive(Debug, Clone)]
pub(crate) struct Manifest {
    pub path: String,
    pub kind: ManifestKind,
}

impl Manifest {
    /// `manifests/<file>.yaml`.
    pub(super) fn new(file: &str, kind: ManifestKind) -> Manifest {
        Manifest {
            path: format!("manifests/{file}.yaml"),
            kind,
        }
    }
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

    /// Every manifest of the bundle, in apply order: what the others need
    /// first (namespace, volumes, Secrets), then the workloads, then what
    /// refers to them.
    pub(super) fn manifest_list(&self) -> Vec<Manifest> {
        let mut manifests = self.registry_inputs();
        let mut add = |file: &str, kind| manifests.push(Manifest::new(file, kind));
        if self.private {
            add("deployment", ManifestKind::Deployment);
            add("service", ManifestKind::Service);
        }
        if let Some(x) = &self.exposure {
            if x.route.is_some() {
                add("tlsroute", ManifestKind::TlsRoute);
            }
            if let Some(i) = &x.ingress {
                if i.ca_secret.is_some() {
                    add("secret-ingress-ca", ManifestKind::IngressCaSecret);
                }
                add("ingress", ManifestKind::Ingress);
            }
        }
        for (i, m) in self.mirrors.iter().enumerate() {
            manifests.extend(m.manifests(i));
        }
        let mut add = |file: &str, kind| manifests.push(Manifest::new(file, kind));
        if self.private {
            if self.scale.disruption_budget.is_some() {
                add("poddisruptionbudget", ManifestKind::PodDisruptionBudget);
            }
            add("local-registry-hosting", ManifestKind::LocalRegistryHosting);
        }
        if self.trust_installer.is_some() {
            add("trust-configmap", ManifestKind::TrustConfigMap);
            add("trust-daemonset", ManifestKind::TrustDaemonSet);
        }
        manifests.extend(self.monitoring_manifests());
        manifests
    }

    /// The monitoring objects, after what they watch.
    fn monitoring_manifests(&self) -> Vec<Manifest> {
        let Some(m) = &self.monitoring else {
            return Vec::new();
        };
        let operator = m.pod_monitor.is_some();
        [
            (operator, "podmonitor", ManifestKind::PodMonitor),
            (operator, "prometheusrule", ManifestKind::PrometheusRule),
            (operator && m.probe.is_some(), "probe", ManifestKind::Probe),
            (
                m.dashboard.is_some(),
                "grafana-dashboard",
                ManifestKind::GrafanaDashboard,
            ),
        ]
        .into_iter()
        .filter(|(on, ..)| *on)
        .map(|(_, file, kind)| Manifest::new(file, kind))
        .collect()
    }

    /// What the registry's pods need before they start: its namespace,
    /// volume, backends' Secrets and its own Secrets.
    fn registry_inputs(&self) -> Vec<Manifest> {
        let mut manifests = Vec::new();
        let mut add = |file: &str, kind| manifests.push(Manifest::new(file, kind));
        // A Namespace object is rendered only for a namespace that is not built in.
        if !BUILTIN_NAMESPACES.contains(&self.namespace) {
            add("namespace", ManifestKind::Namespace);
        }
        if let DataSource::Claim(c) = self.main_data() {
            if c.pv.is_some() {
                add("persistentvolume", ManifestKind::PersistentVolume);
            }
            add("persistentvolumeclaim", ManifestKind::PersistentVolumeClaim);
        }
        if let DataSource::S3(s3) = self.main_data() {
            if s3.credentials.is_some() {
                add("secret-s3", ManifestKind::S3Secret);
            }
            if s3.ca.is_some() {
                add("configmap-s3-ca", ManifestKind::S3CaConfigMap);
            }
        }
        if self.cache.as_ref().is_some_and(|c| c.password.is_some()) {
            add("secret-redis", ManifestKind::RedisSecret);
        }
        add("secret-tls", ManifestKind::TlsSecret);
        add("secret-http", ManifestKind::HttpSecret);
        if self.auth.is_some() {
            add("secret-htpasswd", ManifestKind::HtpasswdSecret);
            add("secret-pull", ManifestKind::PullSecret);
        }
        manifests
    }
}
