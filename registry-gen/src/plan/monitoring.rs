//! Monitoring: how Prometheus finds and scrapes every registry of the
//! bundle (the private one and each mirror) on its debug listener, which
//! alerts it evaluates, what the Grafana dashboard shows, and how a
//! blackbox exporter probes the serving certificate.
//!
//! Every name, label, selector, port and PromQL selector of the monitoring
//! objects is derived here; `alerts.rs` holds the alerts and their
//! thresholds, `dashboard.rs` the dashboard's panels. The metric names are
//! distribution's own (2.8 scraped in e2e_monitoring, 3.x read in source:
//! docs/howto-monitoring.md, "Where the metric names come from").

use std::collections::BTreeMap;

use super::mirrors::LABEL_MIRROR;
use super::{DataSource, DebugPlan, Plan, Via, LABEL_INSTANCE, LABEL_NAME};
use crate::config::Config;

mod alerts;
mod dashboard;
pub(crate) use alerts::Alert;
pub(crate) use dashboard::Panel;

/// distribution's Prometheus path on the debug listener (its default; the
/// bundle sets only `REGISTRY_HTTP_DEBUG_PROMETHEUS_ENABLED`).
pub(crate) const METRICS_PATH: &str = "/metrics";
/// The debug listener speaks plain HTTP (never TLS: it is not the TLS port).
pub(crate) const METRICS_SCHEME: &str = "http";
/// How often Prometheus scrapes a registry and probes a certificate.
/// 30 s: the alerts' windows (5 m and more) hold ten samples or more.
pub(crate) const SCRAPE_INTERVAL: &str = "30s";
/// The series label that names a mirror's upstream (`docker.io`); absent on
/// the private registry's series.
pub(crate) const UPSTREAM_LABEL: &str = "upstream";
/// The label Grafana's dashboard sidecar looks for (the Grafana Helm
/// chart's and kube-prometheus-stack's default `sidecar.dashboards.label`).
pub(crate) const DASHBOARD_LABEL: (&str, &str) = ("grafana_dashboard", "1");
/// Where the blackbox exporter reads the bundle's CA (the module's
/// `tls_config.ca_file`; docs/howto-monitoring.md mounts it there).
pub(crate) const BLACKBOX_CA_DIR: &str = "/etc/prometheus/registry-gen";
/// The documented scrape annotations on a pod template.
const ANNOTATION_SCRAPE: &str = "prometheus.io/scrape";
const ANNOTATION_PORT: &str = "prometheus.io/port";
const ANNOTATION_PATH: &str = "prometheus.io/path";
const ANNOTATION_SCHEME: &str = "prometheus.io/scheme";

/// The monitoring objects and what they select.
#[derive(Debug)]
pub(crate) struct MonitoringPlan {
    /// The debug listener every registry pod serves `/metrics` on.
    pub debug: DebugPlan,
    /// Labels of the PodMonitor, PrometheusRule and Probe: the bundle's,
    /// then the user's `monitoring.labels`.
    pub labels: BTreeMap<String, String>,
    /// The PodMonitor, if the Prometheus Operator's objects are on.
    pub pod_monitor: Option<PodMonitorPlan>,
    /// The PrometheusRule's name, if the Prometheus Operator's objects are on.
    pub rule: Option<String>,
    /// Every alert, in the order the rule lists them.
    pub alerts: Vec<Alert>,
    /// The blackbox probe of the serving certificate, if an exporter is given.
    pub probe: Option<ProbePlan>,
    /// The Grafana dashboard, if on.
    pub dashboard: Option<DashboardPlan>,
    /// The scrape annotations of every registry pod template (empty: off).
    pub pod_annotations: BTreeMap<String, String>,
}

/// What the PodMonitor selects and how it labels the series.
#[derive(Debug)]
pub(crate) struct PodMonitorPlan {
    pub name: String,
    /// `matchLabels`: this bundle's pods.
    pub match_labels: BTreeMap<String, String>,
    /// `matchExpressions`: `app.kubernetes.io/name` in these (the private
    /// registry's and the mirrors'; never a helper's).
    pub names: (String, Vec<String>),
    /// One relabeling per mirror: the pod label value (`docker-io`) that
    /// becomes `upstream="docker.io"` on its series.
    pub upstreams: Vec<UpstreamRelabel>,
}

/// Turns a mirror pod's label into the `upstream` series label.
#[derive(Debug)]
pub(crate) struct UpstreamRelabel {
    /// `__meta_kubernetes_pod_label_<the mirror label, sanitised>`.
    pub source_label: String,
    /// The pod label's value, anchored.
    pub regex: String,
    pub target_label: &'static str,
    pub replacement: String,
}

/// The blackbox exporter's probe of every registry's Service over TLS.
#[derive(Debug)]
pub(crate) struct ProbePlan {
    pub name: String,
    /// The `job` label of the probe's series (what the alerts select).
    pub job: String,
    /// `host:port` of the exporter.
    pub prober: String,
    pub module: String,
    /// URLs probed: the private registry's Service, then each mirror's; each
    /// host is one of the certificate's SANs.
    pub targets: Vec<String>,
    /// The CA file the module trusts, inside the exporter's pod.
    pub ca_file: String,
}

/// The Grafana dashboard.
#[derive(Debug)]
pub(crate) struct DashboardPlan {
    /// The ConfigMap that carries it.
    pub config_map: String,
    /// Its key in the ConfigMap (the sidecar writes it under this file name).
    pub key: String,
    pub title: String,
    /// Grafana's `uid`: stable across re-renders, unique per bundle.
    pub uid: String,
    pub panels: Vec<Panel>,
}

/// The series of this bundle's registries: every query starts from these.
pub(crate) struct Selectors {
    /// Matchers of every registry pod's series (`namespace`, `pod`).
    pub pods: String,
    /// Matchers of the blackbox probe's series.
    pub probe: Option<String>,
    /// Matchers of the data and cache volumes' kubelet series, if any claim.
    pub claims: Option<String>,
    /// The Deployments of the registries (kube-state-metrics' `deployment`).
    pub deployments: String,
}

impl MonitoringPlan {
    pub(super) fn new(config: &Config, plan: &Plan) -> Option<MonitoringPlan> {
        let m = config.monitoring.as_ref()?;
        let debug = plan.ports.debug.filter(|d| d.metrics)?;
        let mut labels = plan.labels();
        labels.extend(m.labels.clone());
        let probe = m.blackbox.as_ref().map(|b| ProbePlan {
            name: format!("{}-tls", plan.name),
            job: format!("{}/{}-tls", plan.namespace, plan.name),
            prober: b.address.clone(),
            module: b.module.clone(),
            targets: service_urls(plan),
            ca_file: format!("{BLACKBOX_CA_DIR}/{}-ca.crt", plan.name),
        });
        let selectors = selectors(plan, probe.as_ref());
        let dashboard = m.dashboard.then(|| DashboardPlan {
            config_map: format!("{}-grafana-dashboard", plan.name),
            key: format!("registry-gen-{}-{}.json", plan.namespace, plan.name),
            title: format!("Registry {}/{}", plan.namespace, plan.name),
            uid: format!("rg-{}-{}", plan.namespace, plan.name),
            panels: dashboard::panels(&selectors),
        });
        let mut pod_annotations = BTreeMap::new();
        if m.scrape_annotations {
            for (k, v) in [
                (ANNOTATION_SCRAPE, "true".to_owned()),
                (ANNOTATION_PORT, debug.port.to_string()),
                (ANNOTATION_PATH, METRICS_PATH.to_owned()),
                (ANNOTATION_SCHEME, METRICS_SCHEME.to_owned()),
            ] {
                pod_annotations.insert(k.to_owned(), v);
            }
        }
        Some(MonitoringPlan {
            debug,
            labels,
            pod_monitor: m.prometheus_operator.then(|| pod_monitor(plan)),
            rule: m
                .prometheus_operator
                .then(|| format!("{}-alerts", plan.name)),
            alerts: alerts::alerts(&selectors),
            probe,
            dashboard,
            pod_annotations,
        })
    }
}

/// What the user should know about the monitoring settings.
pub(super) fn warnings(config: &Config) -> Vec<String> {
    let Some(m) = &config.monitoring else {
        return Vec::new();
    };
    let mut w = Vec::new();
    if m.prometheus_operator && m.scrape_annotations {
        w.push("monitoring.prometheus_operator and monitoring.scrape_annotations are both on: a Prometheus that also honours the prometheus.io annotations scrapes every registry twice, and the alerts count each request twice".to_owned());
    }
    if m.blackbox.is_some() && !m.prometheus_operator {
        w.push("monitoring.blackbox is set without monitoring.prometheus_operator: no Probe is rendered, so nothing probes the certificate until your Prometheus scrapes the exporter with the module of monitoring/blackbox.yml (docs/howto-monitoring.md); until then the certificate alerts stay silent".to_owned());
    }
    w
}

fn pod_monitor(plan: &Plan) -> PodMonitorPlan {
    let mut names = Vec::new();
    if plan.private {
        names.push(plan.selector()[LABEL_NAME].clone());
    }
    if let Some(m) = plan.mirrors.first() {
        names.push(m.selector(plan)[LABEL_NAME].clone());
    }
    PodMonitorPlan {
        name: plan.name.to_owned(),
        match_labels: BTreeMap::from([(LABEL_INSTANCE.to_owned(), plan.name.to_owned())]),
        names: (LABEL_NAME.to_owned(), names),
        upstreams: (plan.mirrors.iter())
            .map(|m| UpstreamRelabel {
                source_label: format!("__meta_kubernetes_pod_label_{}", sanitise(LABEL_MIRROR)),
                regex: m.selector(plan)[LABEL_MIRROR].clone(),
                target_label: UPSTREAM_LABEL,
                replacement: m.upstream.clone(),
            })
            .collect(),
    }
}

/// A Kubernetes label key as Prometheus's service discovery spells it.
fn sanitise(key: &str) -> String {
    key.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// `https://<service>.<namespace>.svc:<port>/` of each registry.
fn service_urls(plan: &Plan) -> Vec<String> {
    let main = plan.endpoints.iter().filter(|e| e.via == Via::Service);
    let mirrors = plan.mirrors.iter().flat_map(|m| &m.endpoints);
    main.chain(mirrors.filter(|e| e.via == Via::Service))
        .map(|e| format!("{}/", e.url()))
        .collect()
}

/// The characters of a generated Kubernetes name suffix: a ReplicaSet's
/// pod-template-hash and a pod's random suffix (apimachinery's
/// `rand.SafeEncodeString` alphabet, no vowels, no 0, 1 or 3).
const NAME_SUFFIX: &str = "[bcdfghjklmnpqrstvwxz2456789]";
/// The longest pod-template-hash: a uint32 in decimal, one character a digit.
const HASH_MAX_LEN: usize = 10;
/// The random suffix a pod's generateName gets.
const POD_SUFFIX_LEN: usize = 5;
/// The longest generateName Kubernetes keeps before that suffix (63 - 5).
const GENERATE_NAME_MAX: usize = 58;

/// A PromQL regex for the pods of `deployments` and no others:
/// `<deployment>-<hash>-<5 chars>`, so another bundle whose name starts
/// with this one's (`reg` and `reg-b` in one namespace) is not matched. A
/// name so long that Kubernetes truncates its pods' generateName (58
/// characters before the suffix) falls back to the prefix alone.
fn pods_of(deployments: &[String]) -> String {
    let (exact, long): (Vec<&String>, Vec<&String>) = deployments
        .iter()
        .partition(|d| d.len() + "-".len() + HASH_MAX_LEN + "-".len() <= GENERATE_NAME_MAX);
    let exact = (!exact.is_empty()).then(|| {
        let names: Vec<&str> = exact.iter().map(|d| d.as_str()).collect();
        format!(
            "({})-{NAME_SUFFIX}{{1,{HASH_MAX_LEN}}}-{NAME_SUFFIX}{{{POD_SUFFIX_LEN}}}",
            names.join("|")
        )
    });
    let long = long.iter().map(|d| format!("{d}-.+"));
    exact.into_iter().chain(long).collect::<Vec<_>>().join("|")
}

fn selectors(plan: &Plan, probe: Option<&ProbePlan>) -> Selectors {
    let mut deployments = Vec::new();
    let mut claims = Vec::new();
    if plan.private {
        deployments.push(plan.name.to_owned());
        if let DataSource::Claim(c) = &plan.data.source {
            claims.push(c.pvc.clone());
        }
    }
    for m in &plan.mirrors {
        deployments.push(m.name.clone());
        if let DataSource::Claim(c) = &m.data.source {
            claims.push(c.pvc.clone());
        }
    }
    let ns = plan.namespace;
    Selectors {
        pods: format!(r#"namespace="{ns}",pod=~"{}""#, pods_of(&deployments)),
        probe: probe.map(|p| format!(r#"job="{}""#, p.job)),
        claims: (!claims.is_empty()).then(|| {
            format!(
                r#"namespace="{ns}",persistentvolumeclaim=~"{}""#,
                claims.join("|")
            )
        }),
        deployments: format!(
            r#"namespace="{ns}",deployment=~"{}""#,
            deployments.join("|")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::pods_of;

    #[test]
    fn a_name_kubernetes_truncates_in_pod_names_falls_back_to_its_prefix() {
        let short = "kube-registry".to_owned();
        let long = "a-bundle-name-long-enough-that-its-pods-names-get-cut".to_owned();
        let regex = pods_of(&[short, long.clone()]);
        assert_eq!(
            regex,
            format!(
                "(kube-registry)-{0}{{1,10}}-{0}{{5}}|{long}-.+",
                super::NAME_SUFFIX
            )
        );
    }
}
