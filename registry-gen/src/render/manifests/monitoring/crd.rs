//! The Prometheus Operator's objects (`monitoring.coreos.com/v1`), which
//! k8s-openapi does not have: typed values with only the fields the bundle
//! renders, spelt as the operator's CRDs spell them (the tests validate
//! every rendered object against those CRDs' schemas).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use serde::Serialize;

/// The API group and version of every object here.
pub(crate) const API_VERSION: &str = "monitoring.coreos.com/v1";

/// A PodMonitor: which pods Prometheus scrapes, on which port and path.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PodMonitor {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: meta::ObjectMeta,
    pub spec: PodMonitorSpec,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PodMonitorSpec {
    pub selector: meta::LabelSelector,
    pub namespace_selector: NamespaceSelector,
    pub pod_metrics_endpoints: Vec<PodMetricsEndpoint>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NamespaceSelector {
    pub match_names: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PodMetricsEndpoint {
    /// The container port's name.
    pub port: String,
    pub path: String,
    pub scheme: String,
    pub interval: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub relabelings: Vec<RelabelConfig>,
}

/// One relabeling (`action: replace`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RelabelConfig {
    pub action: &'static str,
    pub source_labels: Vec<String>,
    pub regex: String,
    pub target_label: String,
    pub replacement: String,
}

/// A PrometheusRule: alerting rules in groups.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PrometheusRule {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: meta::ObjectMeta,
    pub spec: PrometheusRuleSpec,
}

#[derive(Debug, Serialize)]
pub(crate) struct PrometheusRuleSpec {
    pub groups: Vec<RuleGroup>,
}

/// A rule group (also the group of a plain Prometheus rule file, which
/// `promtool check rules` reads).
#[derive(Debug, Serialize)]
pub(crate) struct RuleGroup {
    pub name: String,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Rule {
    pub alert: String,
    pub expr: String,
    #[serde(rename = "for")]
    pub for_: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

/// A Probe: a blackbox exporter probes static targets.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Probe {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: meta::ObjectMeta,
    pub spec: ProbeSpec,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProbeSpec {
    pub job_name: String,
    pub interval: String,
    pub module: String,
    pub prober: Prober,
    pub targets: ProbeTargets,
}

#[derive(Debug, Serialize)]
pub(crate) struct Prober {
    pub url: String,
    pub scheme: String,
    pub path: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProbeTargets {
    pub static_config: StaticConfig,
}

#[derive(Debug, Serialize)]
pub(crate) struct StaticConfig {
    #[serde(rename = "static")]
    pub targets: Vec<String>,
}
