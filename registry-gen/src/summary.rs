//! [`summarize`]: the plan of a config in words, for `registry-gen check`.
//!
//! Everything here is read from the [`Plan`], so the summary names exactly
//! the endpoints, ports, storage and trust files a render would produce.
//! Pure: no files, no clock, no randomness.

use std::fmt::{self, Write as _};

use crate::config::Config;
use crate::describe;
use crate::error::Result;
use crate::plan::{paths, Plan, Via};

/// What a render of a config would set up, in words: endpoints, ports,
/// storage, TLS, auth, and what each kind of client needs. Its
/// [`Display`](fmt::Display) is the text `registry-gen check` prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    text: String,
    warnings: Vec<String>,
}

impl Summary {
    /// The plan's warnings (emptyDir storage, auth off, ...), also part of the text.
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
    let _ = writeln!(
        s,
        "registry {}/{}: image {}, {} {replicas}",
        plan.namespace, plan.name, plan.image, plan.replicas
    );

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
    let _ = writeln!(s, "  mounted in the pod at {}", plan.data.mount_path);

    let t = &plan.tls;
    let ca = describe::ca(plan);
    let mut sans: Vec<String> = t.ip_sans.iter().map(|ip| ip.to_string()).collect();
    sans.extend(t.dns_sans.iter().cloned());
    let _ = writeln!(s, "tls: {} keys; signed by {ca}", t.key_algorithm.as_str());
    let _ = writeln!(
        s,
        "  server certificate valid {} days, CN {}, SANs: {}",
        t.server_validity_days,
        t.common_name,
        sans.join(", ")
    );

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
        None => {
            let _ = writeln!(s, "auth: off");
        }
    }

    let _ = writeln!(s, "\nwhat each client needs (files in the bundle):");
    let example = plan
        .endpoints
        .iter()
        .find(|e| e.via != Via::PortlessAlias)
        .map(|e| e.authority())
        .unwrap_or_default();
    let _ = writeln!(
        s,
        "  docker, skopeo:    {} -> {}/<endpoint>/ca.crt",
        paths::docker_ca("<endpoint>"),
        plan.node_paths.docker
    );
    let _ = writeln!(
        s,
        "  containerd:        {}/ -> {}/<endpoint>/ (config_path: see {})",
        paths::containerd_dir("<endpoint>"),
        plan.node_paths.containerd,
        paths::CONTAINERD_README
    );
    let _ = writeln!(
        s,
        "  CRI-O, podman:     {} -> {}/<endpoint>/ca.crt",
        paths::containers_ca("<endpoint>"),
        plan.node_paths.containers
    );
    let _ = writeln!(
        s,
        "  k3s, rke2:         {} -> {}",
        paths::K3S_REGISTRIES,
        plan.node_paths.k3s_registries
    );
    let _ = writeln!(
        s,
        "  system trust:      {} (curl --cacert, update-ca-certificates)",
        paths::TRUST_CA
    );
    if plan.trust_installer.is_some() {
        let _ = writeln!(
            s,
            "  every node:        the trust DaemonSet installs the CA and hosts.toml files"
        );
    } else {
        let _ = writeln!(
            s,
            "  every node:        {} installs them (run as root on the node)",
            paths::SCRIPT_TRUST_NODE
        );
    }
    if let Some(a) = &plan.auth {
        let _ = writeln!(
            s,
            "  login:             docker login {example} -u {}; pods pull with Secret {}",
            a.pull_user, a.pull_secret
        );
    }

    if !plan.warnings.is_empty() {
        let _ = writeln!(s, "\nwarnings:");
        for w in &plan.warnings {
            let _ = writeln!(s, "  - {w}");
        }
    }
    s
}
