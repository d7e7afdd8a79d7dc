//! [`summarize`]: the plan of a config in words, for `registry-gen check`.
//!
//! Everything here is read from the [`Plan`], so the summary names exactly
//! the endpoints, ports, storage and trust files a render would produce.
//! Pure: no files, no clock, no randomness.

use std::fmt::{self, Write as _};

use crate::config::Config;
use crate::describe;
use crate::error::Result;
use crate::plan::{paths, Plan};

/// What a render of a config would set up, in words: endpoints, ports,
/// storage, TLS, auth, and what each kind of client needs. Its
/// [`Display`](fmt::Display) is the text `registry-gen check` prints.
///
/// ```
/// let config = registry_gen::Config::from_yaml("addresses: {node_ips: [10.0.0.5]}\nports: {node: 30443}\n")?;
/// let summary = registry_gen::summarize(&config)?;
/// assert!(summary.to_string().contains("10.0.0.5:30443"));
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    text: String,
    warnings: Vec<String>,
}

impl Summary {
    /// The plan's warnings (emptyDir storage, auth off, ...), also part of the text.
    ///
    /// ```
    /// let mut config = registry_gen::Config::embedded_default();
    /// config.auth = None;
    /// let summary = registry_gen::summarize(&config)?;
    /// assert!(summary.warnings().iter().any(|w| w.starts_with("storage is empty_dir")));
    /// assert!(summary.warnings().iter().any(|w| w.starts_with("auth is off")));
    /// # Ok::<(), registry_gen::Error>(())
    /// ```
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Validate `config` (every problem at once, as [`crate::render`] does) and
/// describe the plan a render would follow.
///
/// ```
/// let summary = registry_gen::summarize(&registry_gen::Config::embedded_default())?;
/// assert!(summary.to_string().contains("localhost:5000"));
/// assert!(!summary.warnings().is_empty()); // emptyDir storage
/// # Ok::<(), registry_gen::Error>(())
/// ```
pub fn summarize(config: &Config) -> Result<Summary> {
    crate::validate::validate(config)?;
    let plan = Plan::new(config, false)?;
    Ok(Summary {
        text: text(&plan),
        warnings: plan.warnings.clone(),
    })
}

fn text(plan: &Plan) -> String {
    let mut s = String::new();
    let replicas = if plan.replicas == 1 {
        "replica"
    } else {
        "replicas"
    };
    if !plan.private {
        let _ = writeln!(
            s,
            "mirror-only bundle {}/{}: image {}, no private registry (registry.enabled: false)",
            plan.namespace, plan.name, plan.image
        );
    } else {
        let _ = writeln!(
            s,
            "registry {}/{}: image {}, {} {replicas}",
            plan.namespace, plan.name, plan.image, plan.replicas
        );
        private_registry(plan, &mut s);
    }
    rest(plan, s)
}

/// The metrics endpoint and the monitoring objects, if any.
fn monitoring(plan: &Plan, s: &mut String) {
    let Some(m) = &plan.monitoring else {
        return;
    };
    let _ = writeln!(
        s,
        "\nmonitoring: every registry serves http://<pod IP>:{}{} (container port {})",
        m.debug.port,
        crate::plan::monitoring::METRICS_PATH,
        m.debug.name
    );
    if let (Some(pm), Some(rule)) = (&m.pod_monitor, &m.rule) {
        let _ = writeln!(
            s,
            "  PodMonitor {pm}, PrometheusRule {rule} ({} alerts)",
            m.alerts.len(),
            pm = pm.name
        );
    }
    if !m.pod_annotations.is_empty() {
        let _ = writeln!(
            s,
            "  prometheus.io/* scrape annotations on the pod templates"
        );
    }
    if let Some(p) = &m.probe {
        let _ = writeln!(
            s,
            "  certificate probed through the blackbox exporter at {} (module {})",
            p.prober, p.module
        );
    }
    if let Some(d) = &m.dashboard {
        let _ = writeln!(s, "  Grafana dashboard in ConfigMap {}", d.config_map);
    }
}

/// The private registry's endpoints, ports and storage.
fn private_registry(plan: &Plan, s: &mut String) {
    let _ = writeln!(s, "\nendpoints (as image names spell them):");
    let width = plan
        .endpoints
        .iter()
        .map(|e| e.authority().len())
        .max()
        .unwrap_or(0);
    for e in &plan.endpoints {
        let _ = writeln!(
            s,
            "  {:width$}  {}",
            e.authority(),
            describe::via(plan, e),
            width = width
        );
    }

    let p = &plan.ports;
    let mut ports = format!("container {}, Service {}", p.container, p.service);
    if let Some(h) = p.host {
        let _ = write!(ports, ", hostPort {h}");
    }
    if let Some(n) = p.node {
        let _ = write!(ports, ", NodePort {n}");
    }
    let _ = writeln!(s, "\nports: {ports}");

    let storage = describe::storage(plan);
    let _ = writeln!(s, "storage: {storage}");
    if let Some(m) = plan.data.mount_path() {
        let _ = writeln!(s, "  mounted in the pod at {m}");
    }
    let _ = writeln!(s, "  garbage collection: {}", plan.gc_summary());
    let _ = writeln!(s, "topology: {}", describe::topology(plan));
}

fn rest(plan: &Plan, mut s: String) -> String {
    tls(plan, &mut s);
    auth(plan, &mut s);
    if !plan.mirrors.is_empty() {
        let _ = writeln!(
            s,
            "\nmirrors (pull-through caches without login, signed by the same CA):"
        );
        for m in &plan.mirrors {
            for line in describe::mirror(m) {
                let _ = writeln!(s, "  {line}");
            }
        }
    }
    monitoring(plan, &mut s);
    let _ = writeln!(s, "\nwhat each client needs (files in the bundle):");
    for (who, what) in client_rows(plan) {
        let _ = writeln!(s, "  {:18} {what}", format!("{who}:"));
    }
    let (heading, shared) = describe::shared(plan);
    let _ = writeln!(s, "\n{heading}");
    for line in shared {
        let _ = writeln!(s, "  {line}");
    }
    if !plan.warnings.is_empty() {
        let _ = writeln!(s, "\nwarnings:");
        for w in &plan.warnings {
            let _ = writeln!(s, "  - {w}");
        }
    }
    s
}

/// The certificate: keys, signer, validity, names.
fn tls(plan: &Plan, s: &mut String) {
    let t = &plan.tls;
    let ca = describe::ca(plan);
    let mut sans: Vec<String> = t.ip_sans.iter().map(|ip| ip.to_string()).collect();
    sans.extend(t.dns_sans.iter().cloned());
    let _ = write!(s, "tls: {} keys; signed by {ca}", t.key_algorithm.as_str());
    if plan.ca.key_in_bundle() {
        let _ = write!(s, "; a new CA is valid {} days", t.ca_validity_days);
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "  server certificate valid {} days, CN {}, SANs: {}",
        t.server_validity_days,
        t.common_name,
        sans.join(", ")
    );
}

/// Who may log in, and where each password comes from.
fn auth(plan: &Plan, s: &mut String) {
    match &plan.auth {
        Some(a) => {
            let users: Vec<String> = a
                .users
                .iter()
                .map(|u| match &u.password_file {
                    Some(f) => format!("{} (password from {})", u.name, f.display()),
                    None => format!(
                        "{} (password generated into {})",
                        u.name,
                        paths::password(&u.name)
                    ),
                })
                .collect();
            let _ = writeln!(
                s,
                "auth: htpasswd, realm {:?}, bcrypt cost {}; users: {}",
                a.realm,
                a.bcrypt_cost,
                users.join(", ")
            );
        }
        None if plan.private => {
            let _ = writeln!(s, "auth: off");
        }
        None => {}
    }
}

/// What each kind of client needs from the bundle, as (who, what).
fn client_rows(plan: &Plan) -> Vec<(&'static str, String)> {
    let example = plan.docker_endpoint().authority();
    let np = &plan.node_paths;
    let ep = "<endpoint>";
    let mut rows = vec![
        (
            "docker, skopeo",
            format!("{} -> {}/{ep}/ca.crt", paths::docker_ca(ep), np.docker),
        ),
        (
            "containerd",
            format!(
                "{}/ -> {}/{ep}/ (config_path: see {})",
                paths::containerd_dir(ep),
                np.containerd,
                paths::CONTAINERD_README
            ),
        ),
        (
            "CRI-O, podman",
            format!(
                "{} -> {}/{ep}/ca.crt",
                paths::containers_ca(ep),
                np.containers
            ),
        ),
        (
            "k3s, rke2",
            format!("{} -> {}", paths::K3S_REGISTRIES, np.k3s_registries),
        ),
        (
            "system trust",
            format!(
                "{} (curl --cacert, update-ca-certificates)",
                paths::TRUST_CA
            ),
        ),
        (
            "every node",
            match plan.trust_installer {
                Some(_) => "the trust DaemonSet installs the CA and hosts.toml files".to_owned(),
                None => format!(
                    "{} installs them (run as root on the node)",
                    paths::SCRIPT_TRUST_NODE
                ),
            },
        ),
    ];
    if let Some(a) = &plan.auth {
        rows.push((
            "login",
            format!(
                "docker login {example} -u {}; pods pull with Secret {}",
                a.pull_user, a.pull_secret
            ),
        ));
    }
    rows
}
