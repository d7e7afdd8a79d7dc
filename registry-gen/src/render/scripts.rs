//! Scripts: `start.sh`, `delete.sh`, `verify.sh`, `trust-node.sh` and
//! `gc.sh` (garbage collection around the maintenance Job), the mirrors'
//! container command (`mirror-start.sh`, POSIX sh, embedded in their
//! Deployments), and the trust DaemonSet's installer (which the trust
//! ConfigMap carries). Each
//! is a generated header that sets shell variables from the plan, then
//! static text beside this module (`scripts/*.sh`) that uses only those
//! variables. The bundle's scripts are bash (`set -euo pipefail`, a shared
//! preamble `scripts/common.sh`, each with `--help`); the installer is POSIX
//! sh, since it runs with the registry image's `/bin/sh`. `trust-node.sh`
//! and the installer copy the trust trees with the same POSIX function
//! (`scripts/install-tree.sh`). All shellcheck-clean (tested).

use crate::bundle::{Bundle, MODE_EXEC};
use crate::error::Result;
use crate::inputs::Inputs;
use crate::layout::GENERATED;
use crate::plan::mirrors::MirrorStart;
use crate::plan::{
    paths, CacheFlushPlan, ManifestKind, Plan, TrustInstallerPlan, Via, CACHE_FLUSHED, CACHE_KEYS,
    LABEL_INSTANCE, OWNER_KEY, READONLY_ENV, READONLY_VALUE, REGISTRY_CONTAINER, VERIFY_IMAGE,
};

const COMMON: &str = include_str!("scripts/common.sh");
const START: &str = include_str!("scripts/start.sh");
/// How start.sh ends: waiting for the private registry (and its mirrors),
/// or, in a mirror-only bundle, for the mirrors alone.
const START_REGISTRY: &str = include_str!("scripts/start-registry.sh");
const START_MIRRORS: &str = include_str!("scripts/start-mirrors.sh");
/// verify.sh's guard in a mirror-only bundle: only `--mirror` applies.
const VERIFY_MIRRORS_ONLY: &str = include_str!("scripts/verify-mirrors-only.sh");
const DELETE: &str = include_str!("scripts/delete.sh");
/// start.sh's and delete.sh's look at the owner of KEP-1755's ConfigMap.
const HOSTING: &str = include_str!("scripts/hosting.sh");
const GC: &str = include_str!("scripts/gc.sh");
const VERIFY: &str = include_str!("scripts/verify.sh");
const TRUST_NODE: &str = include_str!("scripts/trust-node.sh");
const INSTALL_TREE: &str = include_str!("scripts/install-tree.sh");
const TRUST_INSTALLER: &str = include_str!("scripts/trust-installer.sh");
const GC_JOB: &str = include_str!("scripts/gc-job.sh");
const MIRROR_START: &str = include_str!("scripts/mirror-start.sh");

/// The heredoc delimiter for the files the installer carries.
const EOF_MARK: &str = "REGISTRY_GEN_EOF";

/// A shell variable: a scalar or an array.
enum Var {
    One(String),
    Many(Vec<String>),
}

/// One bundle script: its path, its one-line summary, the variables its
/// header sets and the static parts that follow.
struct Script {
    path: &'static str,
    summary: &'static str,
    vars: Vec<(&'static str, Var)>,
    parts: Vec<String>,
}

pub(crate) fn render(plan: &Plan, _inputs: &Inputs, out: &mut Bundle) -> Result<()> {
    let mut scripts = vec![start(plan), delete(plan)];
    // A mirror-only bundle has no registry to collect garbage in.
    if plan.private {
        scripts.push(gc(plan));
    }
    scripts.extend([verify(plan), trust_node(plan)]);
    for s in scripts {
        let text = header("#!/usr/bin/env bash", s.summary, &s.vars) + &s.parts.join("\n");
        out.add(s.path, text, MODE_EXEC);
    }
    Ok(())
}

fn one(v: &str) -> Var {
    Var::One(v.to_owned())
}

fn parts(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|t| (*t).to_owned()).collect()
}

/// The addresses clients use: the private registry's node addresses (the
/// Service when it has none; none in a mirror-only bundle).
fn client_endpoints(plan: &Plan) -> Var {
    let node: Vec<String> = (plan.node_endpoints())
        .filter(|e| e.via != Via::PortlessAlias)
        .map(|e| e.authority())
        .collect();
    Var::Many(if node.is_empty() && plan.private {
        vec![plan.service_endpoint().authority()]
    } else {
        node
    })
}

/// The mirrors' node addresses (a mirror-only bundle's endpoints).
fn mirror_endpoints(plan: &Plan) -> Var {
    Var::Many(
        (plan.mirrors.iter())
            .flat_map(|m| m.node_endpoints())
            .map(|e| e.authority())
            .collect(),
    )
}

/// KEP-1755's ConfigMap, shared by every bundle on the cluster, and who
/// this bundle is (see `plan/owner.rs`).
fn hosting_vars(plan: &Plan) -> Vec<(&'static str, Var)> {
    let h = &plan.local_registry_hosting;
    let service = match plan.private {
        true => plan.service_endpoint().authority(),
        false => String::new(),
    };
    vec![
        (
            "HOSTING_MANIFEST",
            one(plan.manifest_path(ManifestKind::LocalRegistryHosting)),
        ),
        ("HOSTING_NAMESPACE", one(h.namespace)),
        ("HOSTING_NAME", one(h.name)),
        ("OWNER_KEY", one(OWNER_KEY)),
        ("OWNER", one(&plan.owner)),
        ("SERVICE", one(&service)),
    ]
}

fn manifest_paths(plan: &Plan) -> Var {
    Var::Many(plan.manifests.iter().map(|m| m.path.clone()).collect())
}

fn start(plan: &Plan) -> Script {
    let mut vars = vec![("NAMESPACE", one(plan.namespace))];
    if plan.private {
        vars.push(("DEPLOYMENT", one(plan.name)));
    }
    let endpoints = match plan.private {
        true => Var::Many(plan.endpoints.iter().map(|e| e.authority()).collect()),
        false => mirror_endpoints(plan),
    };
    vars.extend([
        (
            "MIRROR_DEPLOYMENTS",
            Var::Many(plan.mirrors.iter().map(|m| m.name.clone()).collect()),
        ),
        ("MANIFESTS", manifest_paths(plan)),
        // start.sh says when a changed password takes effect (no pod restarts).
        (
            "HTPASSWD_MANIFEST",
            one(plan.manifest_path(ManifestKind::HtpasswdSecret)),
        ),
        ("ENDPOINTS", endpoints),
    ]);
    vars.extend(hosting_vars(plan));
    let (summary, end) = match plan.private {
        true => (
            "Deploy the registry and wait until it is ready (--help).",
            START_REGISTRY,
        ),
        false => (
            "Deploy the mirrors and wait until they are ready (--help).",
            START_MIRRORS,
        ),
    };
    Script {
        path: paths::SCRIPT_START,
        summary,
        vars,
        parts: vec![COMMON.into(), HOSTING.into(), format!("{START}{end}")],
    }
}

fn delete(plan: &Plan) -> Script {
    // What holds the data (and the namespace around it) is kept by delete.sh.
    let data = (plan.manifests.iter())
        .filter(|m| {
            matches!(
                m.kind,
                ManifestKind::Namespace
                    | ManifestKind::PersistentVolume
                    | ManifestKind::PersistentVolumeClaim
                    | ManifestKind::MirrorPersistentVolume(_)
                    | ManifestKind::MirrorPersistentVolumeClaim(_)
            )
        })
        .map(|m| m.path.clone())
        .collect();
    // Objects the user or gc.sh creates from the bundle, outside start.sh:
    // never data, always deleted (first).
    let mut helpers = Vec::new();
    if plan.private {
        helpers.push(paths::PULL_TEST_POD.to_owned());
    }
    if plan.gc.quiesce.is_some() {
        helpers.push(paths::GC_JOB.to_owned());
    }
    let mut vars = vec![
        ("MANIFESTS", manifest_paths(plan)),
        ("DATA_MANIFESTS", Var::Many(data)),
        ("HELPER_MANIFESTS", Var::Many(helpers)),
        ("ON_DELETE", one(plan.data_on_delete())),
    ];
    vars.extend(hosting_vars(plan));
    // The namespace a bundle created may hold other bundles (or anything
    // else): delete.sh --purge-data deletes it only when it holds nothing
    // but this bundle's objects.
    vars.extend([
        ("NAMESPACE", one(plan.namespace)),
        (
            "NAMESPACE_MANIFEST",
            one(plan.manifest_path(ManifestKind::Namespace)),
        ),
        ("NOT_OURS", one(&format!("{LABEL_INSTANCE}!={}", plan.name))),
    ]);
    Script {
        path: paths::SCRIPT_DELETE,
        summary: "Remove the registry, keeping its data unless --purge-data (--help).",
        vars,
        parts: parts(&[COMMON, HOSTING, DELETE]),
    }
}

fn gc(plan: &Plan) -> Script {
    let selector = (plan.selector().iter())
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    let cache = (plan.gc.cache_flush.as_ref()).map_or(String::new(), |f| {
        format!("Redis {} db {}", f.address, f.db)
    });
    Script {
        path: paths::SCRIPT_GC,
        summary: "Free the space of deleted images: registry garbage-collect while the registry cannot write (--help).",
        vars: vec![
            ("NAMESPACE", one(plan.namespace)),
            ("DEPLOYMENT", one(plan.name)),
            ("CONTAINER", one(REGISTRY_CONTAINER)),
            ("REPLICAS", one(&plan.replicas.to_string())),
            ("SELECTOR", one(&selector)),
            ("JOB", one(&plan.gc.job)),
            ("JOB_MANIFEST", one(paths::GC_JOB)),
            (
                "QUIESCE",
                one(plan.gc.quiesce.map_or("none", |q| q.as_str())),
            ),
            ("READONLY_ENV", one(READONLY_ENV)),
            ("READONLY_VALUE", one(READONLY_VALUE)),
            ("REFUSAL", one(plan.gc.refusal.as_deref().unwrap_or(""))),
            ("CACHE", one(&cache)),
            ("FLUSHED", one(CACHE_FLUSHED)),
            ("STEPS", one(&plan.gc_steps())),
            ("BEFORE", one(&plan.gc_before())),
        ],
        parts: parts(&[COMMON, GC]),
    }
}

fn verify(plan: &Plan) -> Script {
    // `upstream=endpoint` of each mirror: verify.sh --mirror pulls through it.
    let mirrors = (plan.mirrors.iter())
        .map(|m| format!("{}={}", m.upstream, m.primary_endpoint().authority()))
        .collect();
    let (summary, texts): (_, &[&str]) = match plan.private {
        true => (
            "Check TLS, login and push/pull of a running registry from a client (--help).",
            &[COMMON, VERIFY],
        ),
        false => (
            "Pull an image through one of the mirrors from a client (--help).",
            &[COMMON, VERIFY_MIRRORS_ONLY, VERIFY],
        ),
    };
    let auth = if plan.auth.is_some() {
        "htpasswd"
    } else {
        "none"
    };
    Script {
        path: paths::SCRIPT_VERIFY,
        summary,
        vars: vec![
            ("ENDPOINTS", client_endpoints(plan)),
            ("AUTH", one(auth)),
            (
                "USER_NAME",
                one(plan.auth.as_ref().map_or("", |a| a.pull_user.as_str())),
            ),
            ("TEST_IMAGE", one(VERIFY_IMAGE)),
            ("MIRRORS", Var::Many(mirrors)),
        ],
        parts: parts(texts),
    }
}

fn trust_node(plan: &Plan) -> Script {
    let np = &plan.node_paths;
    let endpoints = match plan.private {
        true => client_endpoints(plan),
        false => mirror_endpoints(plan),
    };
    Script {
        path: paths::SCRIPT_TRUST_NODE,
        summary: "Install the trust files on this node or client, as root (--help).",
        vars: vec![
            ("ENDPOINTS", endpoints),
            ("DOCKER_DIR", one(np.docker)),
            ("DOCKER_DAEMON_JSON", one(np.docker_daemon_json)),
            ("CONTAINERD_DIR", one(np.containerd)),
            ("CONTAINERS_DIR", one(np.containers)),
            ("CONTAINERS_CONF_DIR", one(np.containers_conf)),
            ("K3S_REGISTRIES", one(np.k3s_registries)),
            ("K3S_CA", one(&np.k3s_ca)),
            ("OWNER_KEY", one(OWNER_KEY)),
        ],
        parts: parts(&[COMMON, INSTALL_TREE, TRUST_NODE]),
    }
}

/// The trust DaemonSet's installer: a POSIX sh script carrying the bundle's
/// containerd and Docker trust files (their very bytes, as heredocs in a
/// generated `unpack` function), which it installs under the node's
/// directories with `install_tree`, as trust-node.sh does, then idles.
/// `out` must already hold the trust files.
pub(crate) fn trust_installer(plan: &Plan, t: &TrustInstallerPlan, out: &Bundle) -> String {
    let np = &plan.node_paths;
    let one = |v: &str| Var::One(v.to_owned());
    let mut s = header(
        "#!/bin/sh",
        "Install this registry's trust files on the node (mounted under $TRUST_ROOT), then idle; --once exits instead.",
        &[
            ("NAME", one(plan.name)),
            ("HOST_ROOT", one(t.host_root)),
            ("CONTAINERD_TREE", one(paths::CONTAINERD_TREE)),
            ("CONTAINERD_DIR", one(np.containerd)),
            ("DOCKER_TREE", one(paths::DOCKER_TREE)),
            ("DOCKER_DIR", one(np.docker)),
            ("OWNER_KEY", one(OWNER_KEY)),
        ],
    );
    let mut unpack = String::from(
        "# Write the trust files, as in the bundle, under the directory $1.\nunpack() {\n",
    );
    for (path, file) in out.files() {
        let installed = [paths::CONTAINERD_TREE, paths::DOCKER_TREE];
        if installed
            .iter()
            .any(|tree| path.starts_with(&format!("{tree}/")))
        {
            let text = String::from_utf8_lossy(&file.contents);
            unpack.push_str(&format!(
                "write \"$1\"/{} <<'{EOF_MARK}'\n{text}{EOF_MARK}\n",
                sh_quote(path)
            ));
        }
    }
    unpack.push_str("}\n");
    s.push_str(&[unpack.as_str(), INSTALL_TREE, TRUST_INSTALLER].join("\n"));
    s
}

/// The garbage-collection Job's script, for the registry image's `/bin/sh`
/// (busybox) with the collection's command as its arguments: the
/// collection, then the flush of the Redis cache `f` (see
/// [`CacheFlushPlan`]).
pub(crate) fn gc_job_script(f: &CacheFlushPlan) -> String {
    let one = |v: &str| Var::One(v.to_owned());
    let mut s = header(
        "#!/bin/sh",
        "registry garbage-collect, then flush the registry's blob descriptors from Redis.",
        &[
            ("REDIS_ADDRESS", one(&f.address)),
            ("REDIS_HOST", one(&f.host)),
            ("REDIS_PORT", one(&f.port)),
            ("REDIS_DB", one(&f.db.to_string())),
            (
                "PASSWORD_ENV",
                one(if f.password.is_some() {
                    f.password_env
                } else {
                    ""
                }),
            ),
            ("FLUSHED", one(CACHE_FLUSHED)),
            ("KEYS", one(CACHE_KEYS)),
        ],
    );
    s.push_str(GC_JOB);
    s
}

/// A mirror container's command: the image's shell running
/// `scripts/mirror-start.sh` around the registry (see [`MirrorStart`]).
pub(crate) fn mirror_start_command(m: &MirrorStart) -> Vec<String> {
    let one = |v: &str| Var::One(v.to_owned());
    let mut script = header(
        "#!/bin/sh",
        "Start the mirror in proxy mode once its upstream answers; serve its cache read-only until then.",
        &[
            ("PROBE_URL", one(&m.probe_url)),
            ("RETRY_SECONDS", one(&m.retry_seconds.to_string())),
            (
                "PROBE_TIMEOUT_SECONDS",
                one(&m.probe_timeout_seconds.to_string()),
            ),
            ("PROXY_VARS", one(&m.proxy_vars.join(" "))),
            ("READONLY_ENV", one(m.readonly_env)),
            ("READONLY_VALUE", one(m.readonly_value)),
        ],
    );
    script.push_str(MIRROR_START);
    [
        m.shell.to_owned(),
        "-c".to_owned(),
        script,
        m.name.to_owned(),
    ]
    .into_iter()
    .chain(m.registry.iter().cloned())
    .collect()
}

/// The shebang, what the script does, the provenance line and the variables.
fn header(shebang: &str, summary: &str, vars: &[(&str, Var)]) -> String {
    let mut s = format!("{shebang}\n# {summary}\n# {GENERATED}\n\n");
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
    s
}

/// Single-quote a value for the shell.
fn sh_quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', r"'\''"))
}
