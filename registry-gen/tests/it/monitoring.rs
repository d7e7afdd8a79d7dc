//! The monitoring objects with real tools: `promtool` checks the rendered
//! alerts and runs each one on series that make it fire and on series that
//! must not; the Prometheus Operator's CRD schemas (npm
//! `@kubernetes-models/prometheus-operator`, pinned in
//! `tests/crd/package.json`) accept the PodMonitor, PrometheusRule and
//! Probe and reject a planted bad field. The scrape itself, the dashboard's
//! queries and the probe run against the real registry in the CLI's
//! `e2e_monitoring`.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use registry_gen::{Bundle, Config};
use serde_json::{json, Value};

use crate::common;

fn observed() -> (Config, Bundle) {
    let config = common::load(&crate::support::workspace().join("examples/observed.yaml"));
    let bundle = common::render(&config);
    (config, bundle)
}

fn object(bundle: &Bundle, path: &str) -> Value {
    common::yaml(bundle, path)
}

/// The rule groups as a plain Prometheus rule file.
fn rule_file(bundle: &Bundle) -> Value {
    let rule = object(bundle, "manifests/prometheusrule.yaml");
    json!({ "groups": rule["spec"]["groups"] })
}

fn alert_names(rules: &Value) -> BTreeSet<String> {
    (rules["groups"].as_array().unwrap().iter())
        .flat_map(|g| g["rules"].as_array().unwrap())
        .map(|r| r["alert"].as_str().unwrap().to_owned())
        .collect()
}

fn promtool(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new("promtool")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("promtool (Debian's prometheus; the README's test command installs it)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// `promtool check rules` on the bundle's `monitoring/alerts.yml`.
fn check_rules(bundle: &registry_gen::Bundle) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("alerts.yml"),
        common::text(bundle, "monitoring/alerts.yml"),
    )
    .unwrap();
    promtool(dir.path(), &["check", "rules", "alerts.yml"])
}

#[test]
fn promtool_accepts_the_rendered_rules() {
    let (_, bundle) = observed();
    // The rule file and the PrometheusRule hold the same group.
    let file: Value = common::yaml(&bundle, "monitoring/alerts.yml");
    assert_eq!(file, rule_file(&bundle));
    let (ok, text) = check_rules(&bundle);
    assert!(ok, "promtool check rules:\n{text}");
    assert!(text.contains("SUCCESS: 10 rules found"), "{text}");
}

/// Without claims (emptyDir, S3) and without a blackbox exporter there are
/// no volume and certificate alerts; a mirror-only bundle selects only the
/// mirrors; the rules still pass promtool, the objects their CRDs.
#[test]
fn smaller_bundles_have_fewer_alerts_and_still_pass() {
    let mut config = common::load(&crate::support::workspace().join("examples/mirrors-only.yaml"));
    let mut debug = registry_gen::DebugListener::default();
    debug.port = 5001;
    config.registry.debug = Some(debug);
    let (mut monitoring, _) = observed();
    let mut m = monitoring.monitoring.take().unwrap();
    m.blackbox = None;
    config.monitoring = Some(m);
    for s in &mut config.mirrors {
        s.storage = registry_gen::Storage::EmptyDir {};
    }
    let bundle = common::render(&config);
    let rules = rule_file(&bundle);
    let names = alert_names(&rules);
    assert_eq!(
        names.iter().map(String::as_str).collect::<Vec<_>>(),
        [
            "RegistryCacheFailing",
            "RegistryErrorRatioHigh",
            "RegistryLatencyHigh",
            "RegistryMirrorUpstreamFailing",
            "RegistryNoReadyPod",
            "RegistryStorageSlow"
        ]
    );
    assert!(bundle.get("manifests/probe.yaml").is_none());
    assert!(bundle.get("monitoring/blackbox.yml").is_none());
    let pm = object(&bundle, "manifests/podmonitor.yaml");
    assert_eq!(
        pm["spec"]["selector"]["matchExpressions"][0]["values"],
        json!(["registry-mirror"])
    );
    let (ok, text) = check_rules(&bundle);
    assert!(ok, "{text}");
    let objects: Vec<Value> = ["podmonitor", "prometheusrule"]
        .into_iter()
        .map(|f| object(&bundle, &format!("manifests/{f}.yaml")))
        .collect();
    let (ok, text) = crd_validate(&objects);
    assert!(ok, "{text}");
}

const NS: &str = "registry";
const MAIN_POD: &str = "kube-registry-6d4f9c7b8-x2x9q";
const MIRROR_POD: &str = "kube-registry-mirror-docker-io-5b7c9d-b2c4d";
/// A pod of another bundle in the same namespace whose name starts with
/// this one's: never this bundle's alerts.
const OTHER_BUNDLE_POD: &str = "kube-registry-b-6d4f9c7b8-x2x9q";
const PROBE_JOB: &str = "registry/kube-registry-tls";
const TARGET: &str = "https://kube-registry.registry.svc:5000/";

/// A series as promtool's `input_series` writes it.
fn series(name: &str, labels: &[(&str, &str)], values: &str) -> Value {
    let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    json!({ "series": format!("{name}{{{}}}", labels.join(",")), "values": values })
}

fn requests(pod: &str, upstream: Option<&str>, code: &str, values: &str) -> Value {
    let mut l = vec![
        ("namespace", NS),
        ("pod", pod),
        ("handler", "manifest"),
        ("method", "get"),
        ("code", code),
    ];
    if let Some(u) = upstream {
        l.push(("upstream", u));
    }
    series("registry_http_requests_total", &l, values)
}

/// A histogram whose observations all fall between 1 s and 2.5 s (p99 about
/// 2.49 s) or, `fast`, below 0.1 s.
fn histogram(name: &str, labels: &[(&str, &str)], fast: bool) -> Vec<Value> {
    ["0.1", "1", "2.5", "+Inf"]
        .into_iter()
        .map(|le| {
            let mut l = labels.to_vec();
            l.push(("le", le));
            let counting = fast || le == "2.5" || le == "+Inf";
            series(name, &l, if counting { "0+10x40" } else { "0x40" })
        })
        .collect()
}

fn volume(claim: &str, available: &str) -> Vec<Value> {
    let l = [("namespace", NS), ("persistentvolumeclaim", claim)];
    vec![
        series("kubelet_volume_stats_available_bytes", &l, available),
        series("kubelet_volume_stats_capacity_bytes", &l, "1000x200"),
    ]
}

/// One promtool test: `series`, then at `at` the alert `name` fires with
/// `labels` (plus its severity) or, with no labels, does not fire.
fn case(name: &str, series: Vec<Value>, at: &str, labels: Option<Value>) -> Value {
    let exp = match labels {
        Some(l) => json!([{ "exp_labels": l }]),
        None => json!([]),
    };
    json!({
        "interval": "1m",
        "input_series": series,
        "alert_rule_test": [{ "eval_time": at, "alertname": name, "exp_alerts": exp }],
    })
}

/// Every alert: one case where it fires, one or more of normal traffic (or
/// of what another alert covers) where it must not.
fn cases() -> Vec<(&'static str, Value)> {
    let ns = NS;
    let main = [("namespace", NS), ("pod", MAIN_POD)];
    let mirror = [
        ("namespace", NS),
        ("pod", MIRROR_POD),
        ("upstream", "docker.io"),
    ];
    let with = |base: &[(&'static str, &'static str)], more: &[(&'static str, &'static str)]| {
        let mut v = base.to_vec();
        v.extend_from_slice(more);
        v
    };
    let deploy = |values: &str| {
        vec![series(
            "kube_deployment_status_replicas_available",
            &[("namespace", NS), ("deployment", "kube-registry")],
            values,
        )]
    };
    let probe = |name: &str, values: &str| {
        vec![series(
            name,
            &[("job", PROBE_JOB), ("instance", TARGET)],
            values,
        )]
    };
    let days = |d: u64| format!("{}x30", d * 86400);
    vec![
        (
            "RegistryNoReadyPod",
            case(
                "RegistryNoReadyPod",
                deploy("1 0x15"),
                "10m",
                Some(
                    json!({"severity": "critical", "namespace": ns, "deployment": "kube-registry"}),
                ),
            ),
        ),
        // A roll: no ready pod for 2 minutes.
        (
            "RegistryNoReadyPod",
            case("RegistryNoReadyPod", deploy("1 0 0 1x12"), "10m", None),
        ),
        (
            "RegistryErrorRatioHigh",
            case(
                "RegistryErrorRatioHigh",
                vec![
                    requests(MAIN_POD, None, "500", "0+10x30"),
                    requests(MAIN_POD, None, "200", "0+90x30"),
                ],
                "20m",
                Some(json!({"severity": "critical", "namespace": ns})),
            ),
        ),
        // Errors of another bundle's registry in the same namespace.
        (
            "RegistryErrorRatioHigh",
            case(
                "RegistryErrorRatioHigh",
                vec![
                    requests(OTHER_BUNDLE_POD, None, "500", "0+50x30"),
                    requests(MAIN_POD, None, "200", "0+90x30"),
                ],
                "20m",
                None,
            ),
        ),
        // Many 401 and 404 (logins, a push's blob checks) and a mirror's 5xx.
        (
            "RegistryErrorRatioHigh",
            case(
                "RegistryErrorRatioHigh",
                vec![
                    requests(MAIN_POD, None, "401", "0+50x30"),
                    requests(MAIN_POD, None, "404", "0+50x30"),
                    requests(MAIN_POD, None, "200", "0+10x30"),
                    requests(MAIN_POD, None, "500", "0+1x30"),
                    requests(MIRROR_POD, Some("docker.io"), "502", "0+50x30"),
                ],
                "20m",
                None,
            ),
        ),
        (
            "RegistryLatencyHigh",
            case(
                "RegistryLatencyHigh",
                histogram(
                    "registry_http_request_duration_seconds_bucket",
                    &with(&main, &[("handler", "manifest"), ("method", "get")]),
                    false,
                ),
                "25m",
                Some(json!({"severity": "warning", "namespace": ns, "handler": "manifest"})),
            ),
        ),
        // A slow blob (its time is the transfer's) and a fast manifest.
        (
            "RegistryLatencyHigh",
            case(
                "RegistryLatencyHigh",
                [
                    histogram(
                        "registry_http_request_duration_seconds_bucket",
                        &with(&main, &[("handler", "blob"), ("method", "get")]),
                        false,
                    ),
                    histogram(
                        "registry_http_request_duration_seconds_bucket",
                        &with(&main, &[("handler", "manifest"), ("method", "get")]),
                        true,
                    ),
                ]
                .concat(),
                "25m",
                None,
            ),
        ),
        (
            "RegistryStorageSlow",
            case(
                "RegistryStorageSlow",
                histogram(
                    "registry_storage_action_seconds_bucket",
                    &with(
                        &mirror,
                        &[("driver", "filesystem"), ("action", "GetContent")],
                    ),
                    false,
                ),
                "25m",
                Some(
                    json!({"severity": "warning", "namespace": ns, "upstream": "docker.io", "driver": "filesystem", "action": "GetContent"}),
                ),
            ),
        ),
        // A Walk lists a whole tree (catalog, garbage collection).
        (
            "RegistryStorageSlow",
            case(
                "RegistryStorageSlow",
                [
                    histogram(
                        "registry_storage_action_seconds_bucket",
                        &with(&main, &[("driver", "filesystem"), ("action", "Walk")]),
                        false,
                    ),
                    histogram(
                        "registry_storage_action_seconds_bucket",
                        &with(&main, &[("driver", "filesystem"), ("action", "Stat")]),
                        true,
                    ),
                ]
                .concat(),
                "25m",
                None,
            ),
        ),
        (
            "RegistryCacheFailing",
            case(
                "RegistryCacheFailing",
                vec![series(
                    "registry_storage_cache_total",
                    &with(&main, &[("type", "Error")]),
                    "0+1x30",
                )],
                "20m",
                Some(json!({"severity": "warning", "namespace": ns})),
            ),
        ),
        // The 3.x counter of the same.
        (
            "RegistryCacheFailing",
            case(
                "RegistryCacheFailing",
                vec![series(
                    "registry_storage_cache_errors_total",
                    &mirror,
                    "0+1x30",
                )],
                "20m",
                Some(json!({"severity": "warning", "namespace": ns, "upstream": "docker.io"})),
            ),
        ),
        // A cache that hits and misses, and errors no more.
        (
            "RegistryCacheFailing",
            case(
                "RegistryCacheFailing",
                ["Request", "Hit", "Miss"]
                    .into_iter()
                    .map(|t| {
                        series(
                            "registry_storage_cache_total",
                            &with(&main, &[("type", t)]),
                            "0+5x30",
                        )
                    })
                    .chain([series(
                        "registry_storage_cache_total",
                        &with(&main, &[("type", "Error")]),
                        "0+1x5 5x25",
                    )])
                    .collect(),
                "30m",
                None,
            ),
        ),
        (
            "RegistryMirrorUpstreamFailing",
            case(
                "RegistryMirrorUpstreamFailing",
                vec![
                    requests(MIRROR_POD, Some("docker.io"), "502", "0+20x40"),
                    requests(MIRROR_POD, Some("docker.io"), "200", "0+80x40"),
                ],
                "30m",
                Some(json!({"severity": "warning", "namespace": ns, "upstream": "docker.io"})),
            ),
        ),
        // The private registry's 5xx are not an upstream's; a mirror's 404s are not failures.
        (
            "RegistryMirrorUpstreamFailing",
            case(
                "RegistryMirrorUpstreamFailing",
                vec![
                    requests(MAIN_POD, None, "500", "0+50x40"),
                    requests(MIRROR_POD, Some("docker.io"), "404", "0+50x40"),
                    requests(MIRROR_POD, Some("docker.io"), "200", "0+50x40"),
                ],
                "30m",
                None,
            ),
        ),
        (
            "RegistryVolumeNearlyFull",
            case(
                "RegistryVolumeNearlyFull",
                volume("kube-registry-data", "50x30"),
                "20m",
                Some(
                    json!({"severity": "critical", "namespace": ns, "persistentvolumeclaim": "kube-registry-data"}),
                ),
            ),
        ),
        (
            "RegistryVolumeNearlyFull",
            case(
                "RegistryVolumeNearlyFull",
                volume("kube-registry-data", "150x30"),
                "20m",
                None,
            ),
        ),
        // 390 of 1000 free, one less a minute: empty in 6.5 hours.
        (
            "RegistryVolumeFullWithinDays",
            case(
                "RegistryVolumeFullWithinDays",
                volume("kube-registry-mirror-docker-io-data", "390-1x180"),
                "150m",
                Some(
                    json!({"severity": "warning", "namespace": ns, "persistentvolumeclaim": "kube-registry-mirror-docker-io-data"}),
                ),
            ),
        ),
        // 30 % free but not shrinking; shrinking as fast but 80 % free.
        (
            "RegistryVolumeFullWithinDays",
            case(
                "RegistryVolumeFullWithinDays",
                [
                    volume("kube-registry-data", "300x180"),
                    volume("kube-registry-mirror-docker-io-data", "800-1x180"),
                ]
                .concat(),
                "150m",
                None,
            ),
        ),
        (
            "RegistryCertificateExpiresSoon",
            case(
                "RegistryCertificateExpiresSoon",
                probe("probe_ssl_earliest_cert_expiry", &days(20)),
                "20m",
                Some(json!({"severity": "warning", "job": PROBE_JOB, "instance": TARGET})),
            ),
        ),
        (
            "RegistryCertificateExpiresSoon",
            case(
                "RegistryCertificateExpiresSoon",
                probe("probe_ssl_earliest_cert_expiry", &days(40)),
                "20m",
                None,
            ),
        ),
        (
            "RegistryProbeFailing",
            case(
                "RegistryProbeFailing",
                probe("probe_success", "0x15"),
                "10m",
                Some(json!({"severity": "critical", "job": PROBE_JOB, "instance": TARGET})),
            ),
        ),
        // One failed probe, then success again.
        (
            "RegistryProbeFailing",
            case(
                "RegistryProbeFailing",
                probe("probe_success", "1 0 1x13"),
                "10m",
                None,
            ),
        ),
    ]
}

#[test]
fn every_alert_fires_on_its_condition_and_not_on_normal_traffic() {
    let (_, bundle) = observed();
    let mut rules = rule_file(&bundle);
    let cases = cases();
    let tested: BTreeSet<String> = cases.iter().map(|(n, _)| (*n).to_owned()).collect();
    assert_eq!(tested, alert_names(&rules), "every alert has its cases");
    // The annotations are checked by `promtool check rules` (templates);
    // here only when an alert fires, and with which labels.
    for g in rules["groups"].as_array_mut().unwrap() {
        for r in g["rules"].as_array_mut().unwrap() {
            r.as_object_mut().unwrap().remove("annotations");
        }
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rules.yaml"),
        serde_yaml::to_string(&rules).unwrap(),
    )
    .unwrap();
    let tests = json!({
        "rule_files": ["rules.yaml"],
        "evaluation_interval": "1m",
        "tests": cases.into_iter().map(|(_, c)| c).collect::<Vec<_>>(),
    });
    std::fs::write(
        dir.path().join("tests.yaml"),
        serde_yaml::to_string(&tests).unwrap(),
    )
    .unwrap();
    let (ok, text) = promtool(dir.path(), &["test", "rules", "tests.yaml"]);
    assert!(ok, "promtool test rules:\n{text}");
}

#[test]
fn every_alert_has_a_runbook_in_the_monitoring_howto() {
    let (_, bundle) = observed();
    let doc = std::fs::read_to_string(crate::support::workspace().join("docs/howto-monitoring.md"))
        .unwrap();
    let rule = object(&bundle, "manifests/prometheusrule.yaml");
    for r in rule["spec"]["groups"][0]["rules"].as_array().unwrap() {
        let name = r["alert"].as_str().unwrap();
        assert!(
            doc.contains(&format!("\n### {name}\n")),
            "docs/howto-monitoring.md has no `### {name}` runbook"
        );
        let url = r["annotations"]["runbook"].as_str().unwrap();
        assert!(
            url.ends_with(&format!("docs/howto-monitoring.md#{}", name.to_lowercase())),
            "{url}"
        );
        for section in ["**Meaning**", "**Action**"] {
            let body = doc.split(&format!("\n### {name}\n")).nth(1).unwrap();
            let body = body.split("\n### ").next().unwrap();
            assert!(body.contains(section), "{name}'s runbook has no {section}");
        }
    }
}

/// Runs the CRD validator on `objects`; its success and output.
fn crd_validate(objects: &[Value]) -> (bool, String) {
    match crate::support::crd::validate_json(objects) {
        Ok(text) => (true, text),
        Err(text) => (false, text),
    }
}

#[test]
fn the_crd_schemas_accept_every_object_and_catch_a_bad_field() {
    let (_, bundle) = observed();
    let objects: Vec<Value> = ["podmonitor", "prometheusrule", "probe"]
        .into_iter()
        .map(|f| object(&bundle, &format!("manifests/{f}.yaml")))
        .collect();
    let (ok, text) = crd_validate(&objects);
    assert!(ok, "{text}");
    let kinds: Vec<&str> = (text.lines())
        .map(|l| l.split(' ').take(2).collect::<Vec<_>>().join(" "))
        .map(|l| match l.as_str() {
            "ok PodMonitor" => "PodMonitor",
            "ok PrometheusRule" => "PrometheusRule",
            "ok Probe" => "Probe",
            _ => "?",
        })
        .collect();
    assert_eq!(kinds, ["PodMonitor", "PrometheusRule", "Probe"], "{text}");
    // Planted: a port number where the CRD wants the port's name, a rule
    // without its expression, a prober without its URL.
    let mut bad = objects.clone();
    bad[0]["spec"]["podMetricsEndpoints"][0]["port"] = json!(5001);
    bad[1]["spec"]["groups"][0]["rules"][0]
        .as_object_mut()
        .unwrap()
        .remove("expr");
    bad[2]["spec"]["prober"]
        .as_object_mut()
        .unwrap()
        .remove("url");
    for (i, b) in bad.iter().enumerate() {
        let (ok, text) = crd_validate(std::slice::from_ref(b));
        assert!(!ok, "the planted bad field of object {i} passed: {text}");
    }
    let (_, text) = crd_validate(&bad[..1]);
    assert!(
        text.contains("podMetricsEndpoints/0/port must be string"),
        "{text}"
    );
}

#[test]
fn every_registry_pod_serves_metrics_on_its_debug_port_and_carries_the_annotations() {
    let (mut config, _) = observed();
    config.monitoring.as_mut().unwrap().scrape_annotations = true;
    let bundle = common::render(&config);
    for path in [
        "manifests/deployment.yaml",
        "manifests/mirror-docker-io-deployment.yaml",
    ] {
        let d = object(&bundle, path);
        let pod = &d["spec"]["template"];
        let a = &pod["metadata"]["annotations"];
        assert_eq!(a["prometheus.io/scrape"], "true", "{path}");
        assert_eq!(a["prometheus.io/port"], "5001", "{path}");
        assert_eq!(a["prometheus.io/path"], "/metrics", "{path}");
        assert_eq!(a["prometheus.io/scheme"], "http", "{path}");
        let c = &pod["spec"]["containers"][0];
        assert!(
            c["ports"]
                .as_array()
                .unwrap()
                .contains(&json!({"containerPort": 5001, "name": "debug", "protocol": "TCP"})),
            "{path}"
        );
        let env = c["env"].as_array().unwrap();
        for (k, v) in [
            ("REGISTRY_HTTP_DEBUG_ADDR", ":5001"),
            ("REGISTRY_HTTP_DEBUG_PROMETHEUS_ENABLED", "true"),
        ] {
            assert!(env.contains(&json!({"name": k, "value": v})), "{path}: {k}");
        }
    }
    // The debug port is on no Service.
    for path in [
        "manifests/service.yaml",
        "manifests/mirror-docker-io-service.yaml",
    ] {
        assert!(!common::text(&bundle, path).contains("5001"), "{path}");
    }
    // Off by default: the example has no annotations.
    let (_, plain) = observed();
    assert!(!common::text(&plain, "manifests/deployment.yaml").contains("prometheus.io/"));
}

#[test]
fn monitoring_needs_the_metrics_switch() {
    let (mut config, _) = observed();
    config.registry.debug.as_mut().unwrap().metrics = false;
    let err = registry_gen::validate(&config).unwrap_err().to_string();
    assert!(
        err.contains("monitoring") && err.contains("registry.debug"),
        "{err}"
    );
}

#[test]
fn contradictory_settings_are_warned_about() {
    let (mut config, bundle) = observed();
    assert!(
        bundle.warnings().iter().all(|w| !w.contains("monitoring")),
        "{:?}",
        bundle.warnings()
    );
    let m = config.monitoring.as_mut().unwrap();
    m.scrape_annotations = true;
    let w = common::render(&config).warnings().join("\n");
    assert!(w.contains("scrapes every registry twice"), "{w}");
    let m = config.monitoring.as_mut().unwrap();
    m.scrape_annotations = false;
    m.prometheus_operator = false;
    let bundle = common::render(&config);
    let w = bundle.warnings().join("\n");
    assert!(w.contains("no Probe is rendered"), "{w}");
    // Without the operator: no PodMonitor, PrometheusRule or Probe, but the
    // rule file, the blackbox module and the dashboard.
    for gone in ["podmonitor", "prometheusrule", "probe"] {
        assert!(
            bundle.get(&format!("manifests/{gone}.yaml")).is_none(),
            "{gone}"
        );
    }
    for kept in [
        "monitoring/alerts.yml",
        "monitoring/blackbox.yml",
        "manifests/grafana-dashboard.yaml",
    ] {
        assert!(bundle.get(kept).is_some(), "{kept}");
    }
}

#[test]
fn check_says_what_is_monitored() {
    let (config, _) = observed();
    let text = registry_gen::summarize(&config).unwrap().to_string();
    for line in [
        "monitoring: every registry serves http://<pod IP>:5001/metrics (container port debug)",
        "  PodMonitor kube-registry, PrometheusRule kube-registry-alerts (10 alerts)",
        "  certificate probed through the blackbox exporter at prometheus-blackbox-exporter.monitoring.svc:9115 (module registry_tls)",
        "  Grafana dashboard in ConfigMap kube-registry-grafana-dashboard",
    ] {
        assert!(text.contains(&format!("{line}\n")), "{text}");
    }
}
