//! The `monitoring` section: which monitoring objects the bundle renders
//! for a Prometheus that scrapes the registries' `/metrics`. The metrics
//! themselves are switched on in one place, `registry.debug.metrics`, for
//! the private registry and every mirror alike.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Monitoring objects for the registries' metrics (needs
/// `registry.debug.metrics: true`). See docs/howto-monitoring.md.
///
/// ```
/// use registry_gen::{validate, Config, Error};
///
/// let mut config = Config::from_yaml("
/// addresses: {dns_names: [registry.example.com]}
/// registry: {debug: {port: 5001}}
/// monitoring: {labels: {release: kube-prometheus-stack}}
/// ")?;
/// let monitoring = config.monitoring.as_ref().unwrap();
/// assert!(monitoring.prometheus_operator && monitoring.dashboard && !monitoring.scrape_annotations);
/// let summary = registry_gen::summarize(&config)?.to_string();
/// assert!(summary.contains("PodMonitor kube-registry, PrometheusRule kube-registry-alerts"));
///
/// config.registry.debug = None; // the objects read `/metrics` on the debug listener
/// let Err(Error::Invalid(problems)) = validate(&config) else { panic!() };
/// assert_eq!(problems[0].path, "registry.debug.metrics");
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Monitoring {
    /// Render the Prometheus Operator's objects (`monitoring.coreos.com/v1`):
    /// a PodMonitor that scrapes the registry and each mirror on their debug
    /// port, and a PrometheusRule with the alerts. The cluster needs the
    /// operator's CRDs, or applying the bundle fails.
    #[serde(default = "super::default_true")]
    pub prometheus_operator: bool,
    /// Put the `prometheus.io/scrape`, `/port`, `/path` and `/scheme`
    /// annotations on the registries' pod templates, for a Prometheus
    /// without the operator that discovers pods by them.
    #[serde(default)]
    pub scrape_annotations: bool,
    /// Render the Grafana dashboard: `monitoring/grafana-dashboard.json`,
    /// and a ConfigMap labelled `grafana_dashboard: "1"` that Grafana's
    /// dashboard sidecar picks up.
    #[serde(default = "super::default_true")]
    pub dashboard: bool,
    /// A blackbox exporter that probes the registries over TLS, trusting the
    /// bundle's CA, for the certificate-expiry alert: renders a `Probe`
    /// (with `prometheus_operator`) and the exporter's module in
    /// `monitoring/blackbox.yml`. Absent: no probe, no expiry alert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blackbox: Option<Blackbox>,
    /// Extra labels on the PodMonitor, PrometheusRule, Probe and dashboard
    /// ConfigMap, for a Prometheus whose selectors want them (kube-prometheus-stack's Helm
    /// chart selects `release: <its release name>`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

impl Default for Monitoring {
    /// As YAML reads `monitoring: {}`.
    fn default() -> Self {
        Monitoring {
            prometheus_operator: super::default_true(),
            scrape_annotations: false,
            dashboard: super::default_true(),
            blackbox: None,
            labels: BTreeMap::new(),
        }
    }
}

/// Where the blackbox exporter answers.
///
/// ```
/// let config = registry_gen::Config::from_yaml("
/// addresses: {dns_names: [registry.example.com]}
/// registry: {debug: {port: 5001}}
/// monitoring:
///   blackbox: {address: 'prometheus-blackbox-exporter.monitoring.svc:9115'}
/// ")?;
/// let blackbox = config.monitoring.as_ref().and_then(|m| m.blackbox.as_ref()).unwrap();
/// assert_eq!(blackbox.module, "registry_tls"); // the default
/// let summary = registry_gen::summarize(&config)?.to_string();
/// assert!(summary.contains("probed through the blackbox exporter at prometheus-blackbox-exporter.monitoring.svc:9115 (module registry_tls)"));
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Blackbox {
    /// `host:port` of the exporter's HTTP listener, e.g.
    /// `prometheus-blackbox-exporter.monitoring.svc:9115`; no scheme.
    pub address: String,
    /// Name of the exporter module that trusts the bundle's CA (the bundle's
    /// `monitoring/blackbox.yml` defines it under this name).
    #[serde(default = "default_module")]
    pub module: String,
}

impl Default for Blackbox {
    /// As YAML reads `{address: ""}`: set `address`.
    fn default() -> Self {
        Blackbox {
            address: String::new(),
            module: default_module(),
        }
    }
}

fn default_module() -> String {
    "registry_tls".to_owned()
}
