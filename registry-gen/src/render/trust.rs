//! Trust files for clients and nodes, one set per endpoint of the plan, so
//! the directories always match the certificate's SANs:
//!
//! - `trust/ca.crt`: the CA alone, for a system trust store;
//! - `trust/docker/certs.d/<endpoint>/ca.crt`: Docker Engine, skopeo, podman;
//! - `trust/containerd/certs.d/<endpoint>/{hosts.toml,ca.crt}`: containerd,
//!   including the port-less alias whose `server` is the NodePort (without
//!   it containerd goes to port 443, the second write-up's failure);
//! - `trust/containers/{certs.d,registries.conf.d}`: CRI-O and podman;
//! - `trust/k3s/registries.yaml`: k3s and rke2;
//! - for the mirrors (`mirrors.rs`): each mirror's endpoints like the
//!   registry's, and per upstream the routing through its mirror.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::bundle::{Bundle, MODE_FILE, MODE_SECRET};
use crate::error::{Error, Result};
use crate::inputs::Inputs;
use crate::k3s;
use crate::layout::GENERATED;
use crate::plan::{paths, Endpoint, Plan, Via};

mod mirrors;

pub(crate) fn render(plan: &Plan, inputs: &Inputs, out: &mut Bundle) -> Result<()> {
    let ca = trusted_cas(out)?;
    for e in &plan.endpoints {
        let a = e.authority();
        if e.via != Via::PortlessAlias {
            // `.crt` is what Docker reads as a CA (`.cert`/`.key` are client certificates).
            out.add(paths::docker_ca(&a), ca.clone(), MODE_FILE);
            out.add(paths::containers_ca(&a), ca.clone(), MODE_FILE);
        }
        out.add(
            paths::containerd_hosts(&a),
            hosts_toml(plan, e, Pushes::Yes),
            MODE_FILE,
        );
        out.add(paths::containerd_ca(&a), ca.clone(), MODE_FILE);
    }
    for e in plan.mirrors.iter().flat_map(|m| &m.endpoints) {
        let a = e.authority();
        out.add(paths::docker_ca(&a), ca.clone(), MODE_FILE);
        out.add(paths::containers_ca(&a), ca.clone(), MODE_FILE);
        // A proxy-mode registry refuses every push.
        out.add(
            paths::containerd_hosts(&a),
            hosts_toml(plan, e, Pushes::No),
            MODE_FILE,
        );
        out.add(paths::containerd_ca(&a), ca.clone(), MODE_FILE);
    }
    mirrors::render(plan, &ca, inputs, out)?;
    out.add(paths::CONTAINERD_README, containerd_readme(plan), MODE_FILE);
    let aliases: Vec<&Endpoint> = plan
        .endpoints
        .iter()
        .filter(|e| e.via == Via::PortlessAlias)
        .collect();
    if !aliases.is_empty() {
        let mut conf = format!(
            "# {GENERATED}\n{}\n# Install in {}/ (CRI-O, podman).\n",
            plan.owner_line(),
            plan.node_paths.containers_conf
        );
        for e in &aliases {
            // containers/image lets the prefix `host` match `host:port/...`
            // too (a `:` may follow it), which would rewrite a reference
            // that already names the NodePort to `host:port:port`: the
            // longer `host:port` prefix, mapped to itself, wins there.
            let location = format!("{}:{}", e.host, e.port);
            let _ = write!(
                conf,
                "\n[[registry]]\nprefix = \"{host}\"\nlocation = \"{location}\"\n\n[[registry]]\nprefix = \"{location}\"\nlocation = \"{location}\"\n",
                host = e.host,
            );
        }
        out.add(paths::containers_conf(plan.name), conf, MODE_FILE);
    }
    let (k3s, has_auth) = k3s_registries(plan, inputs)?;
    out.add(
        paths::K3S_REGISTRIES,
        k3s,
        if has_auth { MODE_SECRET } else { MODE_FILE },
    );
    out.add(paths::TRUST_CA, ca, MODE_FILE);
    Ok(())
}

/// The CAs clients trust: `certs/ca.crt`, and during a CA rotation the
/// other CA after it (`certs/ca-next.crt` or `certs/ca-previous.crt`), so
/// every trust file holds both until the rotation's last step.
fn trusted_cas(out: &Bundle) -> Result<Vec<u8>> {
    let mut ca = out
        .get(paths::CA_CERT)
        .map(|f| f.contents.clone())
        .ok_or_else(|| Error::Serialize {
            path: paths::TRUST_CA.into(),
            message: "the CA certificate was not rendered (renderer order)".into(),
        })?;
    for other in [paths::CA_NEXT_CERT, paths::CA_PREVIOUS_CERT] {
        if let Some(f) = out.get(other) {
            if !ca.ends_with(b"\n") {
                ca.push(b'\n');
            }
            ca.extend_from_slice(&f.contents);
        }
    }
    Ok(ca)
}

/// Whether a registry takes pushes: the private one does, a mirror (a
/// proxy-mode registry) refuses them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pushes {
    Yes,
    No,
}

/// containerd's hosts.toml for one endpoint. `ca` is relative: containerd
/// resolves it against the directory holding hosts.toml, so the tree works
/// wherever it is installed. containerd 1.7 needs the `[host."..."]` table.
fn hosts_toml(plan: &Plan, e: &Endpoint, pushes: Pushes) -> String {
    let target = e.url();
    let what = if e.via == Via::PortlessAlias {
        format!("Port-less names ({}/<image>) go to the NodePort: without `server`, containerd would use port 443.", e.host)
    } else {
        format!("{}/<image>", e.authority())
    };
    let capabilities = if pushes == Pushes::Yes {
        r#"["pull", "resolve", "push"]"#
    } else {
        r#"["pull", "resolve"]"#
    };
    let ca = paths::CONTAINERD_CA;
    // containerd 1.6's TOML parser (go-toml v1) rejects `]` inside a quoted
    // key of a table header, which an IPv6 URL has: there, the same table
    // is written inline under `[host]`.
    let host = if target.contains(']') {
        format!("[host]\n  \"{target}\" = {{ capabilities = {capabilities}, ca = \"{ca}\" }}\n")
    } else {
        format!("[host.\"{target}\"]\n  capabilities = {capabilities}\n  ca = \"{ca}\"\n")
    };
    // The top-level `ca` is for `server` itself, which containerd tries
    // after the `[host]` entries (a 404 there must not turn into an
    // unknown-authority error).
    // A port-less alias's directory is shared with any other bundle that
    // names the same host: it says whose it is (see `plan/owner.rs`).
    let owner = if e.via == Via::PortlessAlias {
        format!("{}\n", plan.owner_line())
    } else {
        String::new()
    };
    format!(
        "# {GENERATED}\n{owner}# {what}\n# Install as {}/{}/{hosts}, with {ca} beside it.\nserver = \"{target}\"\nca = \"{ca}\"\n\n{host}",
        plan.node_paths.containerd,
        e.authority(),
        hosts = paths::CONTAINERD_HOSTS,
    )
}

fn containerd_readme(plan: &Plan) -> String {
    let np = &plan.node_paths;
    let example = plan.primary_endpoint().authority();
    format!(
        r#"# containerd trust files

Copy `certs.d/` to `{dir}/` on every node (`scripts/trust-node.sh` does it), one
directory per name that image references use; each holds `hosts.toml` and the
CA (`ca.crt`, found relative to `hosts.toml`).

containerd's CRI plugin reads these directories only when `config_path` is set
in `/etc/containerd/config.toml`, then `systemctl restart containerd`:

containerd 1.x (config `version = 2`):

```toml
[plugins."io.containerd.grpc.v1.cri".registry]
  config_path = "{dir}"
```

containerd 2.x (config `version = 3`):

```toml
[plugins."io.containerd.cri.v1.images".registry]
  config_path = "{dir}"
```

Without it, kubelet pulls fail with `x509: certificate signed by unknown
authority`, and port-less names go to port 443. `ctr` needs the directory
on its command line:

```sh
ctr images pull --hosts-dir {dir} --user USER {example}/IMAGE:TAG
```
"#,
        dir = np.containerd
    )
}

/// A mirror's entry: its node endpoints, in order.
fn k3s_mirror(m: &crate::plan::MirrorPlan) -> k3s::Mirror {
    k3s::Mirror {
        endpoint: m.node_endpoints().map(Endpoint::url).collect(),
    }
}

/// k3s's registries.yaml: a mirror for each port-less alias, and TLS (and
/// the first user's login) for every address the nodes use.
fn k3s_registries(plan: &Plan, inputs: &Inputs) -> Result<(String, bool)> {
    let auth = match &plan.auth {
        Some(a) => {
            let password = inputs.password(&a.pull_user)?;
            Some((a.pull_user.clone(), password.secret.expose().to_owned()))
        }
        None => None,
    };
    let mut mirrors = BTreeMap::new();
    let mut configs = BTreeMap::new();
    for e in plan.node_endpoints() {
        if e.via == Via::PortlessAlias {
            mirrors.insert(
                e.host.clone(),
                k3s::Mirror {
                    endpoint: vec![e.url()],
                },
            );
        } else {
            configs.insert(
                e.authority(),
                k3s::HostConfig {
                    auth: auth.as_ref().map(|(u, p)| k3s::Login {
                        username: u.clone(),
                        password: p.clone(),
                    }),
                    tls: k3s::Tls {
                        ca_file: plan.node_paths.k3s_ca.clone(),
                    },
                },
            );
        }
    }
    // Each upstream pulled through its mirror (with TLS, no login).
    for m in &plan.mirrors {
        mirrors.insert(m.upstream.clone(), k3s_mirror(m));
        for e in m.node_endpoints() {
            configs.insert(
                e.authority(),
                k3s::HostConfig {
                    auth: None,
                    tls: k3s::Tls {
                        ca_file: plan.node_paths.k3s_ca.clone(),
                    },
                },
            );
        }
    }
    let body = crate::yaml::to_string(&k3s::Registries { mirrors, configs })?;
    let no_fallback: Vec<&str> = plan
        .mirrors
        .iter()
        .filter(|m| !m.fallback)
        .map(|m| m.upstream.as_str())
        .collect();
    let fallback_note = if no_fallback.is_empty() {
        String::new()
    } else {
        format!(
            "# {} must never be pulled from directly (fallback: false): start k3s with\n# --disable-default-registry-endpoint (k3s v1.26.13+k3s1, v1.27.10+k3s1, v1.28.6+k3s1,\n# v1.29.1+k3s1 and later),\n# else containerd falls back to the upstream when the mirror fails.\n",
            no_fallback.join(", ")
        )
    };
    let text = format!(
        "# {GENERATED}\n{}\n# Install as {} (mode 0600) with trust/ca.crt as {}, then restart k3s.\n{fallback_note}{body}",
        plan.owner_line(),
        plan.node_paths.k3s_registries,
        plan.node_paths.k3s_ca
    );
    Ok((text, auth.is_some()))
}
