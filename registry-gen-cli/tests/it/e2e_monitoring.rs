//! Monitoring end to end, with real components only: the bundle of
//! `examples/observed.yaml` (on the sandbox's node address) is rendered by
//! the binary; Debian's distribution 2.8.2 is played from its Deployment
//! (e2e.rs); Debian's Prometheus 2.42 scrapes it through a scrape config
//! translated from the rendered PodMonitor (selector → the played pod, its
//! named debug port, path and scheme; the relabelings as rendered) and
//! loads the rendered alerts; Debian's blackbox exporter 0.23 runs the
//! rendered module (`monitoring/blackbox.yml`, its `ca_file` the bundle's
//! `trust/ca.crt`, as the how-to mounts it) for a scrape job translated
//! from the rendered Probe.
//!
//! After `verify.sh` pushes and pulls, every query of the rendered Grafana
//! dashboard returns a number, except those named below that this setup
//! cannot answer: the 3.x-only metrics (checked in distribution's source,
//! docs/howto-monitoring.md) and the kubelet's volume statistics. The
//! Docker Hub mirror is played too, from its own rendered Deployment, in
//! front of e2e_mirror's stand-in upstream: its series carry
//! `upstream="docker.io"` where the private registry's carry none, and as
//! 2.8 it keeps its proxy counters in expvar only. The probe's
//! `probe_ssl_earliest_cert_expiry` is the certificate's notAfter, a module
//! trusting another CA fails, and the rendered alerts stay silent until the
//! mirror stops.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use crate::common::text;
use crate::e2e::{
    example, render, start_pod, start_pod_as, start_proxies, start_proxies_as, wait_for, Bundle,
    Sandbox, Scenario, CLUSTER_IP, NODE_IP, POD_IP,
};
use crate::e2e_mirror::{
    make_upstream, mirror_bundle, push, start_upstream, HUB, HUB_REPO, UPSTREAM_IP,
};
use crate::support::self_signed;

const MIRROR_POD_IP: &str = "127.0.0.11";
/// The mirror's Service (its cluster IP).
const MIRROR_CLUSTER_IP: &str = "127.0.0.4";
const MIRROR_SERVICE: &str = "kube-registry-mirror-docker-io.registry.svc";
const BLACKBOX_IP: &str = "127.0.0.21";
const PROMETHEUS: &str = "127.0.0.30:9090";
/// The played pods' names, as a ReplicaSet would make them.
const POD: &str = "kube-registry-7d9f8b6c5-z2x9b";
const MIRROR_POD: &str = "kube-registry-mirror-docker-io-5b7c9d-z2x9c";

/// Dashboard queries this setup cannot answer, and why. Every other query
/// must return a number.
const UNANSWERED: [(&str, &str); 5] = [
    (
        "registry_storage_cache_hits_total",
        "registry 3.x only (2.8: registry_storage_cache_total{type})",
    ),
    (
        "registry_proxy_hits_total",
        "registry 3.x only (2.8's proxy counters are expvar)",
    ),
    ("registry_proxy_misses_total", "registry 3.x only"),
    ("registry_proxy_pulled_bytes_total", "registry 3.x only"),
    (
        "kubelet_volume_stats_used_bytes",
        "the kubelet's, and no kubelet runs here",
    ),
];

fn yaml(path: &Path) -> Value {
    serde_yaml::from_str(&fs::read_to_string(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Prometheus's spelling of a Kubernetes label key in service discovery.
fn sanitise(key: &str) -> String {
    key.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// A played pod as Prometheus's Kubernetes discovery would see it.
struct Pod<'a> {
    name: &'a str,
    ip: &'a str,
    deployment: Value,
}

/// The scrape job the Prometheus Operator makes of `pm` for `pods`: the
/// pods its selector and namespace selector match, on the container port
/// its endpoint names, with its path, scheme and relabelings; the pod's
/// labels as `__meta_kubernetes_pod_label_*`, `namespace`, `pod` and the
/// operator's `job` (`<namespace>/<name>`). The interval is shortened to
/// 1 s so the test is quick.
fn pod_monitor_job(pm: &Value, pods: &[Pod]) -> Value {
    let ns = pm["metadata"]["namespace"].as_str().unwrap();
    let spec = &pm["spec"];
    assert_eq!(spec["namespaceSelector"]["matchNames"], json!([ns]));
    let ep = &spec["podMetricsEndpoints"][0];
    let mut targets = Vec::new();
    for pod in pods {
        let template = &pod.deployment["spec"]["template"];
        let labels = template["metadata"]["labels"].as_object().unwrap();
        assert_eq!(pod.deployment["metadata"]["namespace"], ns);
        let matched = spec["selector"]["matchLabels"]
            .as_object()
            .unwrap()
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && spec["selector"]["matchExpressions"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| {
                    assert_eq!(e["operator"], "In");
                    let have = &labels[e["key"].as_str().unwrap()];
                    e["values"].as_array().unwrap().contains(have)
                });
        assert!(matched, "the PodMonitor does not select {}", pod.name);
        let port = template["spec"]["containers"][0]["ports"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == ep["port"])
            .unwrap_or_else(|| panic!("{} has no container port {}", pod.name, ep["port"]));
        let mut target_labels: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| {
                (
                    format!("__meta_kubernetes_pod_label_{}", sanitise(k)),
                    v.as_str().unwrap().to_owned(),
                )
            })
            .collect();
        target_labels.insert("namespace".into(), ns.into());
        target_labels.insert("pod".into(), pod.name.into());
        targets.push(json!({
            "targets": [format!("{}:{}", pod.ip, port["containerPort"])],
            "labels": target_labels,
        }));
    }
    let relabel: Vec<Value> = (ep["relabelings"].as_array().unwrap().iter())
        .map(|r| {
            json!({
                "action": r["action"],
                "source_labels": r["sourceLabels"],
                "regex": r["regex"],
                "target_label": r["targetLabel"],
                "replacement": r["replacement"],
            })
        })
        .collect();
    json!({
        "job_name": format!("{ns}/{}", pm["metadata"]["name"].as_str().unwrap()),
        "scrape_interval": "1s",
        "metrics_path": ep["path"],
        "scheme": ep["scheme"],
        "static_configs": targets,
        "relabel_configs": relabel,
    })
}

/// The scrape job the operator makes of the Probe: the prober's `/probe`
/// with the module and each target as `target`, `instance` the target.
fn probe_job(probe: &Value) -> Value {
    let spec = &probe["spec"];
    json!({
        "job_name": spec["jobName"],
        "scrape_interval": "1s",
        "metrics_path": spec["prober"]["path"],
        "scheme": spec["prober"]["scheme"],
        "params": {"module": [spec["module"]]},
        "static_configs": [{"targets": spec["targets"]["staticConfig"]["static"]}],
        "relabel_configs": [
            {"source_labels": ["__address__"], "target_label": "__param_target"},
            {"source_labels": ["__param_target"], "target_label": "instance"},
            {"target_label": "__address__", "replacement": spec["prober"]["url"]},
        ],
    })
}

fn query(sb: &Sandbox, q: &str) -> Vec<Value> {
    let o = sb.run(sb.cmd("curl").args([
        "--silent",
        "--show-error",
        "--max-time",
        "10",
        &format!("http://{PROMETHEUS}/api/v1/query"),
        "--data-urlencode",
        &format!("query={q}"),
    ]));
    let v: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("query {q}: {e}: {}", text(&o)));
    assert_eq!(v["status"], "success", "query {q}: {v}");
    v["data"]["result"].as_array().unwrap().clone()
}

/// Whether a result holds a number (not NaN: a ratio or quantile of nothing).
fn has_number(result: &[Value]) -> bool {
    result.iter().any(|s| {
        s["value"][1]
            .as_str()
            .and_then(|v| v.parse::<f64>().ok())
            .is_some_and(f64::is_finite)
    })
}

/// The certificate's notAfter, in seconds since the epoch.
fn not_after(cert: &Path) -> i64 {
    let o = Command::new("openssl")
        .args(["x509", "-noout", "-enddate", "-in"])
        .arg(cert)
        .output()
        .unwrap();
    let date = text(&o)
        .trim()
        .strip_prefix("notAfter=")
        .unwrap()
        .to_owned();
    let o = Command::new("date")
        .args(["-u", "-d", &date, "+%s"])
        .output()
        .unwrap();
    text(&o).trim().parse().unwrap()
}

/// The blackbox exporter with the rendered module; the CA where the how-to
/// mounts it is the bundle's trust/ca.crt. A second module, the same but
/// trusting another CA, must fail. Returns the prober's `host:port`.
fn start_blackbox(sb: &mut Sandbox, b: &Bundle, probe: &Value) -> String {
    let mut blackbox = yaml(&b.dir.join("monitoring/blackbox.yml"));
    let module = blackbox["modules"]["registry_tls"].clone();
    let mount = module["http"]["tls_config"]["ca_file"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(mount.ends_with("kube-registry-ca.crt"), "{mount}");
    let ca = sb.path().join("blackbox-ca.crt");
    fs::copy(b.dir.join("trust/ca.crt"), &ca).unwrap();
    let foreign = sb.path().join("foreign-ca.crt");
    self_signed(&foreign, "foreign", "1", &[]);
    blackbox["modules"]["registry_tls"]["http"]["tls_config"]["ca_file"] = json!(ca);
    let mut other = module.clone();
    other["http"]["tls_config"]["ca_file"] = json!(foreign);
    blackbox["modules"]["foreign_ca"] = other;
    let file = sb.path().join("blackbox.yml");
    fs::write(&file, serde_yaml::to_string(&blackbox).unwrap()).unwrap();
    let prober = probe["spec"]["prober"]["url"].as_str().unwrap().to_owned();
    let mut c = sb.cmd("prometheus-blackbox-exporter");
    c.arg(format!("--config.file={}", file.display()))
        .arg(format!(
            "--web.listen-address={BLACKBOX_IP}:{}",
            prober.rsplit_once(':').unwrap().1
        ));
    sb.spawn("blackbox", c);
    prober
}

/// Prometheus with the jobs translated from the PodMonitor (for `pods`) and
/// the Probe, and the rendered rule file.
fn start_prometheus(sb: &mut Sandbox, b: &Bundle, pods: &[Pod], probe: &Value) {
    let pm = yaml(&b.dir.join("manifests/podmonitor.yaml"));
    let config = json!({
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [b.dir.join("monitoring/alerts.yml")],
        "scrape_configs": [pod_monitor_job(&pm, pods), probe_job(probe)],
    });
    let file = sb.path().join("prometheus.yml");
    fs::write(&file, serde_yaml::to_string(&config).unwrap()).unwrap();
    let mut c = sb.cmd("prometheus");
    c.arg(format!("--config.file={}", file.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            sb.path().join("tsdb").display()
        ))
        .arg(format!("--web.listen-address={PROMETHEUS}"));
    sb.spawn("prometheus", c);
    wait_for("prometheus to be ready", Duration::from_secs(30), || {
        sb.curl(&[&format!("http://{PROMETHEUS}/-/ready")], None).0 == "200"
    });
}

/// Pull the upstream's test image through the mirror's NodePort with
/// skopeo, trusting the bundle's CA: the first time the mirror fetches it
/// from the upstream, later from its cache.
fn pull_through_mirror(sb: &Sandbox, b: &Bundle) {
    let endpoint = format!("{NODE_IP}:30521");
    let out = sb.path().join("pulled");
    let _ = fs::remove_dir_all(&out);
    let o = sb.run(
        sb.cmd("skopeo")
            .args(["copy", "--quiet", "--src-cert-dir"])
            .arg(b.dir.join("trust/docker/certs.d").join(&endpoint))
            .arg(format!("docker://{endpoint}/{HUB_REPO}"))
            .arg(format!("dir:{}", out.display())),
    );
    assert!(o.status.success(), "pull through the mirror: {}", text(&o));
}

/// The observed example with the sandbox's stand-in Docker Hub: its mirror
/// trusts the stand-in's CA (`ca_file`, beside the config). Without its
/// `exposure`: no Gateway runs here (e2e_exposure plays one), and verify.sh
/// checks every endpoint, the name on 443 included.
fn config() -> String {
    let mut c: Value = serde_yaml::from_str(&example("observed.yaml")).unwrap();
    c["mirrors"][0]["ca_file"] = json!("upstream/ca.crt");
    c.as_object_mut().unwrap().remove("exposure");
    serde_yaml::to_string(&c).unwrap()
}

#[test]
fn prometheus_scrapes_every_dashboard_query_and_the_probe_sees_the_certificate() {
    let prober_host = "prometheus-blackbox-exporter.monitoring.svc";
    let mut sb = Sandbox::new(&[
        (NODE_IP, vec!["registry.example.internal".into()]),
        (CLUSTER_IP, vec!["kube-registry.registry.svc".into()]),
        (MIRROR_CLUSTER_IP, vec![MIRROR_SERVICE.into()]),
        (BLACKBOX_IP, vec![prober_host.into()]),
        (UPSTREAM_IP, vec![HUB.into()]),
    ]);
    // The stand-in Docker Hub (e2e_mirror's) holds the test image.
    let upstream_ca = make_upstream(&sb);
    start_upstream(&mut sb, &upstream_ca);
    push(&sb, &upstream_ca, &format!("{HUB}/{HUB_REPO}"));
    let b = render(&sb, &Scenario::plain(config(), vec!["--node-ip", NODE_IP]));
    let manifests = b.dir.join("manifests");
    start_pod(&mut sb, &b);
    start_proxies(&mut sb, &b, false);
    let mirror = mirror_bundle(&b.dir, "docker-io");
    start_pod_as(&mut sb, &mirror, "mirror", MIRROR_POD_IP);
    start_proxies_as(
        &mut sb,
        &mirror,
        false,
        MIRROR_POD_IP,
        MIRROR_CLUSTER_IP,
        "mirror-proxy",
    );

    let probe = yaml(&manifests.join("probe.yaml"));
    let prober = start_blackbox(&mut sb, &b, &probe);
    let pods = [
        Pod {
            name: POD,
            ip: POD_IP,
            deployment: yaml(&manifests.join("deployment.yaml")),
        },
        Pod {
            name: MIRROR_POD,
            ip: MIRROR_POD_IP,
            deployment: yaml(&manifests.join("mirror-docker-io-deployment.yaml")),
        },
    ];
    start_prometheus(&mut sb, &b, &pods, &probe);

    // Traffic: verify.sh logs in, pushes and pulls at every node address,
    // and an image is pulled through the mirror; twice, so the second
    // round increments series Prometheus has already scraped (a counter
    // first seen at its final value has no rate).
    for round in 1..=2 {
        let o = sb.run(sb.cmd("bash").arg(b.dir.join("scripts/verify.sh")));
        assert!(o.status.success(), "verify.sh round {round}: {}", text(&o));
        pull_through_mirror(&sb, &b);
        std::thread::sleep(Duration::from_secs(3));
    }

    every_dashboard_query_answers(&sb, &b);

    // The mirror's series say its upstream; the private registry's none.
    let requests = query(&sb, "sum by (pod, upstream) (registry_http_requests_total)");
    let by_pod: BTreeMap<&str, &Value> = (requests.iter())
        .map(|s| (s["metric"]["pod"].as_str().unwrap(), &s["metric"]))
        .collect();
    assert_eq!(by_pod[MIRROR_POD]["upstream"], "docker.io", "{requests:?}");
    assert!(by_pod[POD].get("upstream").is_none(), "{requests:?}");
    // 2.8's mirror keeps its proxy counters in expvar, not in Prometheus
    // (the dashboard's mirror panels are 3.x's).
    let vars = sb.run(sb.cmd("curl").args([
        "--silent",
        &format!("http://{MIRROR_POD_IP}:5001/debug/vars"),
    ]));
    let vars: Value = serde_json::from_slice(&vars.stdout).unwrap();
    // The manifest was fetched from the upstream once (2.8 counts no blob
    // misses: its blob counters are not to be trusted either).
    let manifests = &vars["registry"]["proxy"]["manifests"];
    assert_eq!(manifests["Misses"], 1, "{}", vars["registry"]);
    assert_eq!(manifests["Requests"], 2, "{}", vars["registry"]);
    assert!(query(&sb, r#"{__name__=~"registry_proxy_.*"}"#).is_empty());

    certificate_as_the_probe_sees_it(&sb, &b, &prober, &probe);

    // The rendered alerts load and evaluate: none while all is well; with
    // the mirror stopped, its probe alert goes pending.
    let alerts = query(&sb, "ALERTS");
    assert!(alerts.is_empty(), "alerts while all is well: {alerts:?}");
    sb.stop("mirror");
    wait_for(
        "RegistryProbeFailing pending for the stopped mirror",
        Duration::from_secs(20),
        || {
            query(&sb, r#"ALERTS{alertname="RegistryProbeFailing"}"#)
                .iter()
                .any(|s| {
                    s["metric"]["instance"]
                        .as_str()
                        .is_some_and(|i| i.contains(MIRROR_SERVICE))
                })
        },
    );
}

/// Every query of the rendered dashboard returns a number, but the named
/// ones, which must have no data here.
fn every_dashboard_query_answers(sb: &Sandbox, b: &Bundle) {
    let dashboard: Value = serde_json::from_str(
        &fs::read_to_string(b.dir.join("monitoring/grafana-dashboard.json")).unwrap(),
    )
    .unwrap();
    let mut answered = Vec::new();
    let mut unanswered = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for t in panel["targets"].as_array().unwrap() {
            let expr = t["expr"]
                .as_str()
                .unwrap()
                .replace("$__rate_interval", "1m");
            match UNANSWERED.iter().find(|(m, _)| expr.contains(m)) {
                Some(_) => unanswered.push(expr),
                None => answered.push((panel["title"].as_str().unwrap().to_owned(), expr)),
            }
        }
    }
    assert_eq!(
        unanswered.len(),
        UNANSWERED.len(),
        "each named query is in the dashboard once: {unanswered:#?}"
    );
    for (title, expr) in &answered {
        let start = std::time::Instant::now();
        while !has_number(&query(sb, expr)) {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "no number for \"{title}\": {expr}\n= {:?}",
                query(sb, expr),
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }
    // Were they answered, they belong among the checked ones.
    for expr in &unanswered {
        assert!(
            !has_number(&query(sb, expr)),
            "{expr} has data: check it instead"
        );
    }
}

/// The probe reports the certificate's notAfter, as a client trusting the
/// bundle's CA sees it; with another CA it fails.
fn certificate_as_the_probe_sees_it(sb: &Sandbox, b: &Bundle, prober: &str, probe: &Value) {
    let target = "https://kube-registry.registry.svc:5000/";
    let probe_url = |module: &str| format!("http://{prober}/probe?module={module}&target={target}");
    let o =
        sb.run(
            sb.cmd("curl")
                .args(["--silent", "--max-time", "10", &probe_url("registry_tls")]),
        );
    let metrics = text(&o);
    let metric = |name: &str| -> f64 {
        (metrics.lines())
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no {name}: {metrics}"))
            .parse()
            .unwrap()
    };
    assert_eq!(metric("probe_success"), 1.0, "{metrics}");
    assert_eq!(
        metric("probe_ssl_earliest_cert_expiry") as i64,
        not_after(&b.dir.join("certs/server.crt"))
    );
    let o = sb.run(
        sb.cmd("curl")
            .args(["--silent", "--max-time", "10", &probe_url("foreign_ca")]),
    );
    assert!(
        text(&o).contains("\nprobe_success 0"),
        "trusted with another CA: {}",
        text(&o)
    );
    // Prometheus has it too, from the job translated from the Probe, for
    // the mirror's Service as well.
    let expiry = query(sb, "probe_ssl_earliest_cert_expiry");
    assert_eq!(expiry.len(), 2, "{expiry:?}");
    assert!(
        expiry
            .iter()
            .all(|s| s["metric"]["job"] == probe["spec"]["jobName"]),
        "{expiry:?}"
    );
}
