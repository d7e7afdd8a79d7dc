//! Scripts: `start.sh`, `delete.sh`, `verify.sh` and `trust-node.sh`. Each
//! is a generated header that sets shell variables from the plan, then a
//! shared preamble (`scripts/common.sh`) and a static body (`scripts/*.sh`
//! beside this module) that uses only those variables. bash, `set -euo
//! pipefail`, shellcheck-clean (tested), each with `--help`.

use crate::bundle::{Bundle, MODE_EXEC};
use crate::error::Result;
use crate::inputs::Inputs;
use crate::layout::GENERATED;
use crate::plan::{paths, ManifestKind, Plan, Via, VERIFY_IMAGE};

const COMMON: &str = include_str!("scripts/common.sh");
const START: &str = include_str!("scripts/start.sh");
const DELETE: &str = include_str!("scripts/delete.sh");
const VERIFY: &str = include_str!("scripts/verify.sh");
const TRUST_NODE: &str = include_str!("scripts/trust-node.sh");

/// A shell variable: a scalar or an array.
enum Var {
    One(String),
    Many(Vec<String>),
}

pub(crate) fn render(plan: &Plan, _inputs: &Inputs, out: &mut Bundle) -> Result<()> {
    let one = |v: &str| Var::One(v.to_owned());
    let manifests = Var::Many(plan.manifests.iter().map(|m| m.path.clone()).collect());
    // What holds the data (and the namespace around it) is kept by delete.sh.
    let data = Var::Many(
        plan.manifests
            .iter()
            .filter(|m| {
                matches!(
                    m.kind,
                    ManifestKind::Namespace
                        | ManifestKind::PersistentVolume
                        | ManifestKind::PersistentVolumeClaim
                )
            })
            .map(|m| m.path.clone())
            .collect(),
    );
    let node_endpoints: Vec<String> = plan
        .node_endpoints()
        .filter(|e| e.via != Via::PortlessAlias)
        .map(|e| e.authority())
        .collect();
    let endpoints = || {
        Var::Many(if node_endpoints.is_empty() {
            vec![plan.service_endpoint().authority()]
        } else {
            node_endpoints.clone()
        })
    };
    let pull_user = plan.auth.as_ref().map_or("", |a| a.pull_user.as_str());
    // start.sh says when a changed password takes effect (no pod restarts).
    let htpasswd_manifest = plan
        .manifests
        .iter()
        .find(|m| m.kind == ManifestKind::HtpasswdSecret)
        .map_or("", |m| m.path.as_str());
    let np = &plan.node_paths;

    let scripts = [
        (
            paths::SCRIPT_START,
            "Deploy the registry and wait until it is ready (--help).",
            vec![
                ("NAMESPACE", one(plan.namespace)),
                ("DEPLOYMENT", one(plan.name)),
                ("MANIFESTS", manifests),
                ("HTPASSWD_MANIFEST", one(htpasswd_manifest)),
                (
                    "ENDPOINTS",
                    Var::Many(plan.endpoints.iter().map(|e| e.authority()).collect()),
                ),
            ],
            START,
        ),
        (
            paths::SCRIPT_DELETE,
            "Remove the registry, keeping its data unless --purge-data (--help).",
            vec![
                (
                    "MANIFESTS",
                    Var::Many(plan.manifests.iter().map(|m| m.path.clone()).collect()),
                ),
                ("DATA_MANIFESTS", data),
                ("ON_DELETE", one(plan.data_on_delete())),
            ],
            DELETE,
        ),
        (
            paths::SCRIPT_VERIFY,
            "Check TLS, login and push/pull of a running registry from a client (--help).",
            vec![
                ("ENDPOINTS", endpoints()),
                (
                    "AUTH",
                    one(if plan.auth.is_some() {
                        "htpasswd"
                    } else {
                        "none"
                    }),
                ),
                ("USER_NAME", one(pull_user)),
                ("TEST_IMAGE", one(VERIFY_IMAGE)),
            ],
            VERIFY,
        ),
        (
            paths::SCRIPT_TRUST_NODE,
            "Install the trust files on this node or client, as root (--help).",
            vec![
                ("ENDPOINTS", endpoints()),
                ("DOCKER_DIR", one(np.docker)),
                ("CONTAINERD_DIR", one(np.containerd)),
                ("CONTAINERS_DIR", one(np.containers)),
                ("CONTAINERS_CONF_DIR", one(np.containers_conf)),
                ("K3S_REGISTRIES", one(np.k3s_registries)),
                ("K3S_CA", one(&np.k3s_ca)),
            ],
            TRUST_NODE,
        ),
    ];
    for (path, summary, vars, body) in scripts {
        out.add(path, script(summary, &vars, body), MODE_EXEC);
    }
    Ok(())
}

fn script(summary: &str, vars: &[(&str, Var)], body: &str) -> String {
    let mut s = format!("#!/usr/bin/env bash\n# {summary}\n# {GENERATED}\n\n");
    for (name, value) in vars {
        match value {
            Var::One(v) => s.push_str(&format!("{name}={}\n", sh_quote(v))),
            Var::Many(vs) => {
                let items: Vec<String> = vs.iter().map(|v| sh_quote(v)).collect();
                s.push_str(&format!("{name}=({})\n", items.join(" ")));
            }
        }
    }
    s.push('\n');
    s.push_str(COMMON);
    s.push('\n');
    s.push_str(body);
    s
}

/// Single-quote a value for the shell.
fn sh_quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', r"'\''"))
}
