//! Routing each mirrored upstream through its mirror, for every runtime,
//! from the plan's [`MirrorPlan`]s:
//!
//! - containerd: `certs.d/<upstream>/hosts.toml` lists the mirror's node
//!   endpoints as `[host]` entries (`pull`, `resolve`, with the CA). containerd
//!   tries them in order and then `server`: the upstream with `fallback:
//!   true`, the mirror itself with `fallback: false`, so it never reaches the
//!   upstream. With `fallback: true` and `ca_file`, `server`'s `ca` is the
//!   upstream's CA (`upstream-ca.crt`), also CRI-O's `certs.d/<upstream>/ca.crt`.
//! - Docker: `daemon.json`'s `registry-mirrors`, for Docker Hub only (the only
//!   registry Docker mirrors); Docker always falls back to Docker Hub.
//! - CRI-O and podman: a `registries.conf.d` drop-in whose `[[registry]]`
//!   for the upstream lists the mirror as `[[registry.mirror]]`; with
//!   `fallback: false` its `location` is the mirror too.
//!
//! k3s's `registries.yaml` is written with the registry's, in `trust.rs`.

use std::fmt::Write as _;

use crate::bundle::{Bundle, MODE_FILE};
use crate::error::{Error, Result};
use crate::inputs::Inputs;
use crate::layout::GENERATED;
use crate::plan::mirrors::DOCKER_HUB;
use crate::plan::{paths, MirrorPlan, Plan};

pub(super) fn render(plan: &Plan, ca: &[u8], inputs: &Inputs, out: &mut Bundle) -> Result<()> {
    if plan.mirrors.is_empty() {
        return Ok(());
    }
    for m in &plan.mirrors {
        out.add(
            paths::containerd_hosts(&m.upstream),
            hosts_toml(plan, m),
            MODE_FILE,
        );
        out.add(paths::containerd_ca(&m.upstream), ca.to_vec(), MODE_FILE);
        // A node that falls back to the upstream verifies it with the
        // upstream's own CA, as the mirror does.
        if m.nodes_trust_upstream_ca() {
            let pem = inputs
                .upstream(&m.upstream)
                .and_then(|u| u.ca_pem.as_ref())
                .ok_or_else(|| Error::Input {
                    what: format!("the ca_file of the mirror of {}", m.upstream),
                    problem:
                        "was not read: the caller must put the file's contents in Inputs::upstreams"
                            .into(),
                })?;
            out.add(
                paths::containerd_upstream_ca(&m.upstream),
                pem.clone(),
                MODE_FILE,
            );
            // Shared with any bundle that mirrors the same upstream: the
            // owner line before the PEM block (Go's PEM reader skips it).
            out.add(
                paths::containers_ca(&m.upstream),
                format!("{}\n{pem}", plan.owner_line()),
                MODE_FILE,
            );
        }
    }
    if let Some(hub) = plan.mirrors.iter().find(|m| m.upstream == DOCKER_HUB) {
        out.add(paths::DOCKER_DAEMON_JSON, daemon_json(hub)?, MODE_FILE);
    }
    out.add(
        paths::containers_mirrors_conf(plan.name),
        registries_conf(plan),
        MODE_FILE,
    );
    Ok(())
}

fn fallback_words(m: &MirrorPlan) -> &'static str {
    if m.fallback {
        "then, if none answers, the upstream itself (fallback: true)"
    } else {
        "and never the upstream (fallback: false): `server` is the mirror too"
    }
}

/// containerd's hosts.toml for the upstream.
fn hosts_toml(plan: &Plan, m: &MirrorPlan) -> String {
    let ca = paths::CONTAINERD_CA;
    let mut s = format!(
        "# {GENERATED}\n{owner}\n# {up}/<image> through the mirror {name}, {fallback}.\n# Install as {dir}/{up}/{hosts}, with {ca} beside it.\nserver = \"{server}\"\n",
        owner = plan.owner_line(),
        up = m.upstream,
        name = m.name,
        fallback = fallback_words(m),
        dir = plan.node_paths.containerd,
        hosts = paths::CONTAINERD_HOSTS,
        server = m.containerd_server(),
    );
    if !m.fallback {
        // `server` is the mirror: it needs the bundle's CA.
        let _ = writeln!(s, "ca = \"{ca}\"");
    } else if m.nodes_trust_upstream_ca() {
        // `server` is the upstream: its own CA (`ca_file`), which
        // containerd adds to the system's CAs.
        let _ = writeln!(s, "ca = \"{}\"", paths::CONTAINERD_UPSTREAM_CA);
    }
    for e in m.node_endpoints() {
        let url = e.url();
        if url.contains(']') {
            // See `trust::hosts_toml`: containerd 1.6 and IPv6 table keys.
            let _ = write!(
                s,
                "\n[host]\n  \"{url}\" = {{ capabilities = [\"pull\", \"resolve\"], ca = \"{ca}\" }}\n"
            );
        } else {
            let _ = write!(
                s,
                "\n[host.\"{url}\"]\n  capabilities = [\"pull\", \"resolve\"]\n  ca = \"{ca}\"\n"
            );
        }
    }
    s
}

/// Docker's `registry-mirrors`, to merge into `/etc/docker/daemon.json`.
fn daemon_json(hub: &MirrorPlan) -> Result<String> {
    let urls: Vec<String> = hub.node_endpoints().map(|e| e.url()).collect();
    let json = serde_json::to_string_pretty(&serde_json::json!({ "registry-mirrors": urls }))
        .map_err(|e| Error::Serialize {
            path: paths::DOCKER_DAEMON_JSON.into(),
            message: e.to_string(),
        })?;
    Ok(json + "\n")
}

/// CRI-O's and podman's drop-in: one `[[registry]]` per upstream.
fn registries_conf(plan: &Plan) -> String {
    let mut s = format!(
        "# {GENERATED}\n{}\n# Install in {}/ (CRI-O, podman): each upstream through its mirror.\n",
        plan.owner_line(),
        plan.node_paths.containers_conf
    );
    for m in &plan.mirrors {
        let location = if m.fallback {
            m.upstream.clone()
        } else {
            m.primary_endpoint().authority()
        };
        let _ = write!(
            s,
            "\n# {up}: the mirror {name}, {fallback}.\n[[registry]]\nprefix = \"{up}\"\nlocation = \"{location}\"\n",
            up = m.upstream,
            name = m.name,
            fallback = fallback_words(m).replace("`server`", "`location`"),
        );
        for e in m.node_endpoints() {
            let _ = write!(
                s,
                "\n[[registry.mirror]]\nlocation = \"{}\"\n",
                e.authority()
            );
        }
    }
    // A port-less alias's prefix `host` (the registry's drop-in) would also
    // match `host:port/...` of a mirror on the same host; the longer prefix,
    // mapped to itself, wins (see `trust::render`).
    s.push_str("\n# Each mirror's own address stays as it is.\n");
    for e in plan.mirrors.iter().flat_map(|m| m.node_endpoints()) {
        let a = e.authority();
        let _ = write!(s, "[[registry]]\nprefix = \"{a}\"\nlocation = \"{a}\"\n\n");
    }
    s.truncate(s.trim_end().len());
    s.push('\n');
    s
}
