//! The monitoring objects (`monitoring`): the PodMonitor, the
//! PrometheusRule and the Probe (typed in `crd.rs`), the Grafana dashboard
//! (`monitoring/grafana-dashboard.json` and the same bytes in a ConfigMap),
//! the alerts as a plain rule file (`monitoring/alerts.yml`) and the
//! blackbox exporter's module (`monitoring/blackbox.yml`). Every
//! name, selector, port, query and threshold is the plan's.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use serde::Serialize;

use super::labeled;
use crate::bundle::{Bundle, MODE_FILE};
use crate::error::{Error, Result};
use crate::plan::monitoring::{
    DashboardPlan, ProbePlan, METRICS_PATH, METRICS_SCHEME, SCRAPE_INTERVAL,
};
use crate::plan::{paths, MonitoringPlan, Plan};

mod crd;
mod dashboard;
use crd::*;

/// The plan's monitoring, which these objects need.
fn monitoring<'p>(plan: &'p Plan) -> Result<&'p MonitoringPlan> {
    plan.monitoring.as_ref().ok_or_else(|| Error::Serialize {
        path: "monitoring".into(),
        message: "not in the plan".into(),
    })
}

fn missing(what: &str) -> Error {
    Error::Serialize {
        path: format!("monitoring.{what}"),
        message: "not in the plan".into(),
    }
}

pub(super) fn pod_monitor(plan: &Plan) -> Result<PodMonitor> {
    let m = monitoring(plan)?;
    let pm = m
        .pod_monitor
        .as_ref()
        .ok_or_else(|| missing("prometheus_operator"))?;
    Ok(PodMonitor {
        api_version: API_VERSION,
        kind: "PodMonitor",
        metadata: labeled(plan, &pm.name, true, m.labels.clone()),
        spec: PodMonitorSpec {
            selector: meta::LabelSelector {
                match_labels: Some(pm.match_labels.clone()),
                match_expressions: Some(vec![meta::LabelSelectorRequirement {
                    key: pm.names.0.clone(),
                    operator: "In".to_owned(),
                    values: Some(pm.names.1.clone()),
                }]),
            },
            namespace_selector: NamespaceSelector {
                match_names: vec![plan.namespace.to_owned()],
            },
            pod_metrics_endpoints: vec![PodMetricsEndpoint {
                port: m.debug.name.to_owned(),
                path: METRICS_PATH.to_owned(),
                scheme: METRICS_SCHEME.to_owned(),
                interval: SCRAPE_INTERVAL.to_owned(),
                relabelings: (pm.upstreams.iter())
                    .map(|u| RelabelConfig {
                        action: "replace",
                        source_labels: vec![u.source_label.clone()],
                        regex: u.regex.clone(),
                        target_label: u.target_label.to_owned(),
                        replacement: u.replacement.clone(),
                    })
                    .collect(),
            }],
        },
    })
}

/// The alerts as one rule group (the PrometheusRule's and the rule file's).
fn rule_group(plan: &Plan) -> Result<RuleGroup> {
    let m = monitoring(plan)?;
    Ok(RuleGroup {
        name: format!("registry-gen.{}.{}", plan.namespace, plan.name),
        rules: (m.alerts.iter())
            .map(|a| Rule {
                alert: a.name.to_owned(),
                expr: a.expr.clone(),
                for_: a.for_.to_owned(),
                labels: BTreeMap::from([("severity".to_owned(), a.severity.as_str().to_owned())]),
                annotations: BTreeMap::from([
                    ("summary".to_owned(), a.summary.to_owned()),
                    ("description".to_owned(), a.description.to_owned()),
                    ("runbook".to_owned(), a.runbook.clone()),
                ]),
            })
            .collect(),
    })
}

pub(super) fn prometheus_rule(plan: &Plan) -> Result<PrometheusRule> {
    let m = monitoring(plan)?;
    let name = m
        .rule
        .as_ref()
        .ok_or_else(|| missing("prometheus_operator"))?;
    Ok(PrometheusRule {
        api_version: API_VERSION,
        kind: "PrometheusRule",
        metadata: labeled(plan, name, true, m.labels.clone()),
        spec: PrometheusRuleSpec {
            groups: vec![rule_group(plan)?],
        },
    })
}

fn probe_plan<'p>(plan: &'p Plan) -> Result<(&'p MonitoringPlan, &'p ProbePlan)> {
    let m = monitoring(plan)?;
    Ok((m, m.probe.as_ref().ok_or_else(|| missing("blackbox"))?))
}

pub(super) fn probe(plan: &Plan) -> Result<Probe> {
    let (m, p) = probe_plan(plan)?;
    Ok(Probe {
        api_version: API_VERSION,
        kind: "Probe",
        metadata: labeled(plan, &p.name, true, m.labels.clone()),
        spec: ProbeSpec {
            job_name: p.job.clone(),
            interval: SCRAPE_INTERVAL.to_owned(),
            module: p.module.clone(),
            prober: Prober {
                url: p.prober.clone(),
                scheme: "http".to_owned(),
                path: "/probe".to_owned(),
            },
            targets: ProbeTargets {
                static_config: StaticConfig {
                    targets: p.targets.clone(),
                },
            },
        },
    })
}

fn dashboard_plan<'p>(plan: &'p Plan) -> Result<&'p DashboardPlan> {
    monitoring(plan)?
        .dashboard
        .as_ref()
        .ok_or_else(|| missing("dashboard"))
}

/// The dashboard's JSON, as Grafana imports it.
fn dashboard_json(plan: &Plan) -> Result<String> {
    let d = dashboard_plan(plan)?;
    serde_json::to_string_pretty(&dashboard::dashboard(d))
        .map(|s| s + "\n")
        .map_err(|e| Error::Serialize {
            path: paths::GRAFANA_DASHBOARD.to_owned(),
            message: e.to_string(),
        })
}

pub(super) fn dashboard_config_map(plan: &Plan) -> Result<core::ConfigMap> {
    let m = monitoring(plan)?;
    let d = dashboard_plan(plan)?;
    let mut labels = plan.labels();
    let (key, value) = crate::plan::monitoring::DASHBOARD_LABEL;
    labels.insert(key.to_owned(), value.to_owned());
    labels.extend(m.labels.clone());
    Ok(core::ConfigMap {
        metadata: labeled(plan, &d.config_map, true, labels),
        data: Some(BTreeMap::from([(d.key.clone(), dashboard_json(plan)?)])),
        ..Default::default()
    })
}

/// The blackbox exporter's config file with the module that trusts the
/// bundle's CA.
#[derive(Serialize)]
struct BlackboxConfig {
    modules: BTreeMap<String, BlackboxModule>,
}

#[derive(Serialize)]
struct BlackboxModule {
    prober: &'static str,
    timeout: &'static str,
    http: BlackboxHttp,
}

#[derive(Serialize)]
struct BlackboxHttp {
    method: &'static str,
    /// `/` answers 200 without credentials (distribution's `alive` wrapper).
    valid_status_codes: Vec<u16>,
    fail_if_not_ssl: bool,
    tls_config: BlackboxTls,
}

#[derive(Serialize)]
struct BlackboxTls {
    ca_file: String,
}

/// A plain Prometheus rule file.
#[derive(Serialize)]
struct RuleFile {
    groups: Vec<RuleGroup>,
}

/// The files beside the manifests: the alerts as a rule file, the
/// dashboard's JSON, the blackbox module.
pub(crate) fn render_files(plan: &Plan, out: &mut Bundle) -> Result<()> {
    let Some(m) = &plan.monitoring else {
        return Ok(());
    };
    let rules = RuleFile {
        groups: vec![rule_group(plan)?],
    };
    out.add(
        paths::ALERT_RULES,
        crate::yaml::file(paths::ALERT_RULES, &rules)?,
        MODE_FILE,
    );
    if m.dashboard.is_some() {
        out.add(paths::GRAFANA_DASHBOARD, dashboard_json(plan)?, MODE_FILE);
    }
    if let Some(p) = &m.probe {
        let config = BlackboxConfig {
            modules: BTreeMap::from([(
                p.module.clone(),
                BlackboxModule {
                    prober: "http",
                    timeout: "5s",
                    http: BlackboxHttp {
                        method: "GET",
                        valid_status_codes: vec![200],
                        fail_if_not_ssl: true,
                        tls_config: BlackboxTls {
                            ca_file: p.ca_file.clone(),
                        },
                    },
                },
            )]),
        };
        out.add(
            paths::BLACKBOX_CONFIG,
            crate::yaml::file(paths::BLACKBOX_CONFIG, &config)?,
            MODE_FILE,
        );
    }
    Ok(())
}
