//! The bundle's own documents: `README.md` (a how-to with this bundle's
//! real addresses, ports and file names) and `registry-gen.yaml` (the
//! effective config, so the bundle can be re-rendered).

use std::fmt::Write as _;

use crate::bundle::{Bundle, MODE_FILE};
use crate::describe;
use crate::error::Result;
use crate::inputs::Inputs;
use crate::layout::GENERATED;
use crate::plan::{paths, Plan, Via, PULL_TEST_IMAGE};

pub(crate) fn render(plan: &Plan, inputs: &Inputs, out: &mut Bundle) -> Result<()> {
    let config = format!(
        "# The effective registry-gen config of this bundle. A re-render into this\n# directory reads it (flags override it; --config FILE renders from another):\n#   registry-gen render --out <this directory>\n{}",
        plan.effective_config
    );
    out.add(paths::CONFIG, config, MODE_FILE);
    out.add(paths::README, readme(plan, inputs), MODE_FILE);
    Ok(())
}

fn readme(plan: &Plan, inputs: &Inputs) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Registry bundle: {} in namespace {}\n",
        plan.name, plan.namespace
    );
    let _ = writeln!(s, "{GENERATED}\n");
    if !plan.warnings.is_empty() {
        s.push_str("## Warnings\n\n");
        for w in &plan.warnings {
            let _ = writeln!(s, "- {w}");
        }
        s.push('\n');
    }
    if let Some(r) = &inputs.rotation {
        let _ = writeln!(
            s,
            "## CA rotation in progress\n\n{}: {}. Every trust file below holds both CAs.\n\nNext: {}, then `registry-gen render --out . --rotate-ca {}` in this directory ({} records the step).\n",
            r.step.taken(),
            r.step.describe(),
            r.step.before_next(),
            r.step.next().as_str(),
            paths::CA_ROTATION
        );
    }
    if plan.private {
        addresses(plan, &mut s);
    } else {
        let _ = writeln!(
            s,
            "A mirror-only bundle (`registry.enabled: false`): no private registry, only the mirrors below. The server certificate (`{}`) names each of them: IPs {} and DNS names {}.\n",
            paths::SERVER_CERT,
            list(plan.tls.ip_sans.iter().map(|i| i.to_string())),
            list(plan.tls.dns_sans.iter().cloned()),
        );
    }
    mirrors_and_start(plan, &mut s);
    trust_and_rest(plan, inputs, s)
}

fn addresses(plan: &Plan, s: &mut String) {
    s.push_str(
        "## Addresses\n\nClients put these in image references (`<address>/<image>:<tag>`):\n\n",
    );
    s.push_str("| address | reaches the registry through |\n|---|---|\n");
    for e in &plan.endpoints {
        let _ = writeln!(s, "| `{}` | {} |", e.authority(), describe::via(plan, e));
    }
    let _ = writeln!(
        s,
        "\nThe server certificate (`{}`) names every one of them: IPs {} and DNS names {}.\n",
        paths::SERVER_CERT,
        list(plan.tls.ip_sans.iter().map(|i| i.to_string())),
        list(plan.tls.dns_sans.iter().cloned()),
    );
}

fn mirrors_and_start(plan: &Plan, s: &mut String) {
    if !plan.mirrors.is_empty() {
        s.push_str("## Mirrors\n\nPull-through caches (no login, pulls only); `trust-node.sh` routes each upstream's pulls through its mirror for containerd, Docker (Docker Hub only), CRI-O/podman and k3s:\n\n```\n");
        for m in &plan.mirrors {
            for line in describe::mirror(m) {
                let _ = writeln!(s, "{line}");
            }
        }
        s.push_str("```\n\n");
        let start = plan.mirrors[0].start();
        let _ = writeln!(
            s,
            "A mirror whose upstream does not answer when its pod starts serves what it cached, read-only (pushes refused; the log says so), asks the upstream again every {} s and, once it answers, switches to proxying in the same container: no restart, nothing to do by hand. Distribution in proxy mode would panic at start instead (distribution#4038).\n",
            start.retry_seconds
        );
        s.push_str("Check one with `./scripts/verify.sh --mirror UPSTREAM IMAGE`.\n\n");
    }
    s.push_str("## Start\n\n```sh\n./scripts/start.sh            # kubectl apply, in dependency order, then rollout status\nsudo ./scripts/trust-node.sh  # on each node and client: install the trust files below\n");
    if plan.private {
        s.push_str("./scripts/verify.sh           # from a client: TLS, login, push/pull\n```\n\n");
    } else {
        s.push_str("./scripts/verify.sh --mirror UPSTREAM IMAGE  # from a client: pull through a mirror\n```\n\n");
    }
    let unchecked = if plan.private {
        ", without start.sh's look at who owns the shared ConfigMap"
    } else {
        ""
    };
    let _ = writeln!(s, "Every object, Secrets included, is in `manifests/` (`kubectl apply -k manifests/` applies the same{unchecked}). Each script takes `--help`, and `--context`/`--kubeconfig` where it calls kubectl.\n");
    let (heading, shared) = describe::shared(plan);
    let _ = writeln!(s, "Names {heading}\n\n```");
    for line in shared {
        let _ = writeln!(s, "{line}");
    }
    s.push_str("```\n\n");
}

fn trust_and_rest(plan: &Plan, inputs: &Inputs, mut s: String) -> String {
    let generated_ca = plan.ca.key_in_bundle();
    let ep = plan.primary_endpoint().authority();
    let np = &plan.node_paths;
    s.push_str("## Trust the CA on clients and nodes\n\n");
    s.push_str("`scripts/trust-node.sh`, run as root on a node or client, installs what its runtimes need. By hand:\n\n");
    let _ = writeln!(
        s,
        "- Docker, skopeo: `trust/docker/certs.d/<address>/ca.crt` into `{}/`, e.g.\n  `sudo mkdir -p {d}/{ep} && sudo cp trust/docker/certs.d/{ep}/ca.crt {d}/{ep}/`",
        np.docker,
        d = np.docker
    );
    let _ = writeln!(
        s,
        "- containerd (kubelet, `ctr`, `crictl`): `trust/containerd/certs.d/*` into `{}/`, and containerd's `config_path` set to it (see `trust/containerd/README.md`).",
        np.containerd
    );
    let _ = writeln!(
        s,
        "- CRI-O, podman: `trust/containers/certs.d/*` into `{}/`{}.",
        np.containers,
        if plan.endpoints.iter().any(|e| e.via == Via::PortlessAlias) {
            format!(
                " and `trust/containers/registries.conf.d/*` into `{}/`",
                np.containers_conf
            )
        } else {
            String::new()
        }
    );
    let _ = writeln!(
        s,
        "- k3s, rke2: `trust/k3s/registries.yaml` as `{}` and `trust/ca.crt` as `{}`.",
        np.k3s_registries, np.k3s_ca
    );
    let _ = writeln!(
        s,
        "- Anything else: `{}` is the CA alone, for a system trust store (`update-ca-certificates`, `update-ca-trust`).\n",
        paths::TRUST_CA
    );
    if plan.private {
        private_usage(plan, inputs, &mut s);
    }
    certificates_and_files(plan, generated_ca, s)
}

fn private_usage(plan: &Plan, inputs: &Inputs, s: &mut String) {
    let ep = plan.docker_endpoint().authority();
    let runtime = plan.runtime_endpoint().authority();
    if let Some(alias) = Some(plan.runtime_endpoint()).filter(|e| e.via == Via::PortlessAlias) {
        let _ = writeln!(
            s,
            "Port-less names such as `{}/busybox:1.36` reach NodePort {} through containerd's hosts.toml (and CRI-O's registries.conf.d, k3s's mirrors): nothing to patch, no apiserver port range to widen. Docker does not redirect; it uses `{}`.\n",
            alias.host,
            alias.port,
            plan.docker_endpoint().authority()
        );
    }
    let _ = writeln!(
        s,
        "Check that the kubelet can pull: push `{img}` as `{ep}/{img}`, then `kubectl apply -f {}`: it pulls `{runtime}/{img}` with `imagePullPolicy: Always`.\n",
        paths::PULL_TEST_POD,
        img = PULL_TEST_IMAGE
    );

    if let Some(a) = &plan.auth {
        s.push_str("## Log in, push, pull\n\n");
        for u in &a.users {
            let origin = match inputs.passwords.get(&u.name) {
                Some(p) if p.generated => format!("generated, in `{}`", paths::password(&u.name)),
                _ => "the one you gave".to_owned(),
            };
            let _ = writeln!(s, "- user `{}`: password {origin}", u.name);
        }
        let user = &a.pull_user;
        let _ = writeln!(
            s,
            "\n```sh\ndocker login {ep} --username {user} --password-stdin < {}\ndocker tag busybox {ep}/busybox && docker push {ep}/busybox\n```\n",
            paths::password(user)
        );
        let _ = writeln!(
            s,
            "Pods pull with the Secret `{}` (namespace {}): add it under `imagePullSecrets`, or copy it to the pod's namespace.\n",
            a.pull_secret, plan.namespace
        );
    } else {
        let _ = writeln!(s, "## Push, pull\n\n```sh\ndocker tag busybox {ep}/busybox && docker push {ep}/busybox\n```\n");
    }
}

fn certificates_and_files(plan: &Plan, generated_ca: bool, mut s: String) -> String {
    s.push_str("## Certificates by hand\n\n");
    let _ = writeln!(
        s,
        "`{}` is the openssl equivalent of `certs/`. These commands make an equivalent {}server certificate by hand. They overwrite `certs/`, so run them in a scratch directory:\n",
        paths::OPENSSL_CNF,
        if generated_ca { "CA and " } else { "" }
    );
    s.push_str("```sh\n");
    let _ = writeln!(
        s,
        "mkdir -p /tmp/by-hand/certs && cp {}{} /tmp/by-hand/certs/ && cd /tmp/by-hand",
        paths::OPENSSL_CNF,
        if generated_ca {
            String::new()
        } else {
            format!(" {}", paths::CA_CERT)
        }
    );
    for c in plan.tls.openssl_commands(generated_ca) {
        let _ = writeln!(s, "{c}");
    }
    let _ = writeln!(
        s,
        "openssl verify -CAfile {} {}\n```\n",
        paths::CA_CERT,
        paths::SERVER_CERT
    );
    let _ = writeln!(
        s,
        "`registry-gen inspect .` shows what the certificates name and when they expire.\n"
    );

    if plan.private {
        storage_and_gc(plan, &mut s);
    } else {
        let _ = writeln!(
            s,
            "## Storage\n\nEach mirror's cache is described under Mirrors. `./scripts/delete.sh` removes the mirrors. {}\n",
            plan.data_on_delete()
        );
    }
    monitoring(plan, &mut s);
    files(plan, s)
}

/// What the monitoring files are and what the cluster must provide.
fn monitoring(plan: &Plan, s: &mut String) {
    let Some(m) = &plan.monitoring else {
        return;
    };
    let _ = writeln!(
        s,
        "## Monitoring

Every registry of the bundle serves Prometheus metrics at `http://<pod IP>:{}{}` (container port `{}`; plain HTTP, on no Service).
",
        m.debug.port,
        crate::plan::monitoring::METRICS_PATH,
        m.debug.name,
    );
    if m.pod_monitor.is_some() {
        s.push_str("- `manifests/podmonitor.yaml` and `manifests/prometheusrule.yaml` (the alerts) need the Prometheus Operator's CRDs on the cluster before `./scripts/start.sh`.
");
    }
    let _ = writeln!(
        s,
        "- `{}`: the same alerts as a plain Prometheus rule file.",
        paths::ALERT_RULES
    );
    if let Some(p) = &m.probe {
        let _ = writeln!(
            s,
            "- `{}`: the blackbox exporter's module `{}` for the certificate probe; the exporter at `{}` reads this bundle's `{}` as `{}`.",
            paths::BLACKBOX_CONFIG,
            p.module,
            p.prober,
            paths::TRUST_CA,
            p.ca_file,
        );
    }
    if m.dashboard.is_some() {
        let _ = writeln!(
            s,
            "- `{}`: the Grafana dashboard; `manifests/grafana-dashboard.yaml` carries it to Grafana's dashboard sidecar.",
            paths::GRAFANA_DASHBOARD
        );
    }
    s.push_str(
        "
The alerts' runbooks: docs/howto-monitoring.md of registry-gen.

",
    );
}

fn storage_and_gc(plan: &Plan, s: &mut String) {
    s.push_str("## Storage\n\n");
    let storage = match plan.data.mount_path() {
        Some(m) => format!("{}, mounted in the pod at `{m}`.", describe::storage(plan)),
        None => format!("{}.", describe::storage(plan)),
    };
    let delete = format!(
        "`./scripts/delete.sh` removes the registry. {}",
        plan.data_on_delete()
    );
    let _ = writeln!(s, "{storage} {delete}\n");
    let _ = writeln!(s, "Topology: {}.\n", describe::topology(plan));

    s.push_str("## Free disk space\n\n");
    s.push_str("Deleting an image frees nothing until `registry garbage-collect` has run, and that must not run beside a registry that writes. ");
    if plan.gc.refusal.is_none() {
        let ep = plan.primary_endpoint().authority();
        let _ = writeln!(
            s,
            "Delete what you no longer need (`skopeo delete` deletes the manifest, with every tag on it), then collect:\n\n```sh\nskopeo delete docker://{ep}/<image>:<tag>\n./scripts/gc.sh --dry-run   # what would go\n./scripts/gc.sh             # free the space\n```\n\n{}\n\nWith registry 3.x, a tag deleted by itself (`DELETE /v2/<image>/manifests/<tag>`) leaves its manifest behind: add `--delete-untagged`.\n",
            plan.gc_steps()
        );
    } else {
        let _ = writeln!(s, "{}\n", plan.gc_steps());
    }
}

fn files(plan: &Plan, mut s: String) -> String {
    s.push_str("## Files\n\n");
    let keep = if plan.ca.key_in_bundle() {
        "; keep the CA key safe: every client trusts it"
    } else {
        ""
    };
    let _ = writeln!(
        s,
        "- `certs/`: {}{keep}; the server's key, certificate and CSR; `openssl.cnf` to reproduce them by hand.",
        describe::ca(plan)
    );
    if plan.private {
        s.push_str("- `manifests/`: one file per Kubernetes object and `kustomization.yaml`; outside it, `tests/` (the pull-test Pod) and `maintenance/` (the garbage-collection Job, which gc.sh runs). Files holding Secret data are mode 0600.\n");
        s.push_str(
            "- `auth/`: `htpasswd`, generated passwords and the registry's HTTP secret (all 0600).\n",
        );
        s.push_str("- `trust/`: what clients and nodes need to trust the registry.\n");
        s.push_str("- `scripts/`: start, delete, verify, trust-node, gc.\n");
    } else {
        s.push_str("- `manifests/`: one file per Kubernetes object and `kustomization.yaml`. Files holding Secret data are mode 0600.\n");
        s.push_str("- `auth/`: the mirrors' HTTP secret (0600).\n");
        s.push_str("- `trust/`: what clients and nodes need to trust the mirrors and route pulls through them.\n");
        s.push_str("- `scripts/`: start, delete, verify (`--mirror`), trust-node.\n");
    }
    s
}

fn list(items: impl Iterator<Item = String>) -> String {
    let v: Vec<String> = items.map(|i| format!("`{i}`")).collect();
    if v.is_empty() {
        "(none)".to_owned()
    } else {
        v.join(", ")
    }
}
