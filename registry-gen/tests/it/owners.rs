//! Two bundles on one cluster and one node: what they share (KEP-1755's
//! ConfigMap, a port-less alias's containerd directory, k3s's
//! registries.yaml, an upstream's routing, a namespace) names its owner or
//! is looked at, and neither
//! bundle's scripts replace or delete the other's copy without
//! `--take-over`. start.sh and delete.sh run against a fake `kubectl` that
//! keeps the ConfigMap as a file and lets the real kubectl evaluate the
//! scripts' jsonpath over it (as gc_script.rs does); trust-node.sh and the
//! trust DaemonSet's installer run under a temp root.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use registry_gen::Config;

use crate::common;

/// The fake: `$FAKE_DIR/hosting.yaml` is the cluster's
/// kube-public/local-registry-hosting, `calls` one line per call.
const FAKE_KUBECTL: &str = r#"#!/usr/bin/env bash
set -eu
d=$FAKE_DIR
args=()
for a in "$@"; do
    case $a in --context=* | --kubeconfig=*) ;; *) args+=("$a") ;; esac
done
set -- "${args[@]}"
echo "$*" >>"$d/calls"
[ "$1" != --namespace ] || shift 2
case $1 in
    apply)
        [ "$(basename "$3")" != local-registry-hosting.yaml ] || cp "$3" "$d/hosting.yaml"
        echo "applied $(basename "$3")" ;;
    delete)
        [ "$(basename "$4")" != local-registry-hosting.yaml ] || rm -f "$d/hosting.yaml"
        [ "$(basename "$4")" != namespace.yaml ] || touch "$d/namespace-deleted" ;;
    get)
        if [ "$2" = deployments,statefulsets,daemonsets,jobs,pods,persistentvolumeclaims ]; then
            # What else is in the namespace: $d/others, as `-o name` prints it.
            [ "$5 $6" = "-l app.kubernetes.io/instance!=docker-registry" ] || { echo "fake kubectl: unexpected: $*" >&2; exit 1; }
            cat "$d/others" 2>/dev/null || true
            exit 0
        fi
        [ "$2 $3" = "configmap local-registry-hosting" ] || { echo "fake kubectl: unexpected: $*" >&2; exit 1; }
        [ -f "$d/hosting.yaml" ] || exit 0
        while [ "$1" != -o ]; do shift; done
        KUBECONFIG=/dev/null exec kubectl patch --local -f "$d/hosting.yaml" --type=merge -p '{}' -o "$2" ;;
    rollout) ;;
    *) echo "fake kubectl: unexpected: $*" >&2; exit 1 ;;
esac
"#;

/// Bundle A: the example, `default/docker-registry`, NodePort 30443 with
/// the port-less aliases 10.131.82.54 and yuan.com.
fn bundle_a() -> Config {
    common::load(&common::workspace().join("examples/nodeport-htpasswd.yaml"))
}

/// Bundle B: another registry, `team-b/registry-b`, on the same nodes
/// (NodePort 30444), so the same port-less aliases.
fn bundle_b() -> Config {
    let mut c = bundle_a();
    c.name = "registry-b".into();
    c.namespace = "team-b".into();
    c.ports.node = Some(30444);
    c
}

struct Cluster {
    tmp: tempfile::TempDir,
    state: PathBuf,
    kubectl: PathBuf,
}

impl Cluster {
    fn new() -> Cluster {
        let tmp = tempfile::tempdir().unwrap();
        let state = tmp.path().join("state");
        std::fs::create_dir(&state).unwrap();
        let kubectl = tmp.path().join("kubectl-fake");
        std::fs::write(&kubectl, FAKE_KUBECTL).unwrap();
        std::fs::set_permissions(
            &kubectl,
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        Cluster {
            tmp,
            state,
            kubectl,
        }
    }

    /// Write the bundle of `config` as `<tmp>/<label>`.
    fn bundle(&self, label: &str, config: &Config) -> PathBuf {
        let dir = self.tmp.path().join(label);
        common::render(config).write_to(&dir).unwrap();
        dir
    }

    fn script(&self, bundle: &Path, script: &str, args: &[&str]) -> Output {
        let _ = std::fs::remove_file(self.state.join("calls"));
        Command::new("bash")
            .arg(bundle.join("scripts").join(script))
            .args(args)
            .env("KUBECTL", &self.kubectl)
            .env("FAKE_DIR", &self.state)
            .current_dir("/")
            .output()
            .unwrap()
    }

    /// The ConfigMap on the cluster, if any.
    fn hosting(&self) -> Option<String> {
        std::fs::read_to_string(self.state.join("hosting.yaml")).ok()
    }

    fn calls(&self) -> String {
        std::fs::read_to_string(self.state.join("calls")).unwrap_or_default()
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A's start.sh writes the ConfigMap; B's refuses to replace it, applying
/// nothing, and names the owner and the flag; with `--take-over` it is B's.
/// A's delete.sh then leaves B's copy; B's deletes it.
#[test]
fn a_second_bundle_takes_the_registry_hosting_configmap_only_with_take_over() {
    let c = Cluster::new();
    let (a, b) = (c.bundle("a", &bundle_a()), c.bundle("b", &bundle_b()));
    let o = c.script(&a, "start.sh", &["--context", "x"]);
    assert!(o.status.success(), "{}", text(&o));
    let a_copy = c.hosting().expect("A's start.sh applies the ConfigMap");
    assert!(
        a_copy.contains("registry-gen/owner: default/docker-registry"),
        "{a_copy}"
    );

    let o = c.script(&b, "start.sh", &["--context", "x"]);
    let said = text(&o);
    assert!(!o.status.success(), "{said}");
    assert!(
        said.contains("configmap kube-public/local-registry-hosting (KEP-1755: one per cluster) is owned by default/docker-registry (registry-gen/owner); nothing was applied. Run again with --take-over"),
        "{said}"
    );
    assert!(!c.calls().contains("apply"), "{}", c.calls());
    assert_eq!(c.hosting().as_deref(), Some(a_copy.as_str()));

    let o = c.script(&b, "start.sh", &["--take-over"]);
    let said = text(&o);
    assert!(o.status.success(), "{said}");
    assert!(
        said.contains("taking over configmap kube-public/local-registry-hosting, owned by default/docker-registry (registry-gen/owner), for team-b/registry-b (--take-over)"),
        "{said}"
    );
    let b_copy = c.hosting().unwrap();
    assert!(
        b_copy.contains("registry-gen/owner: team-b/registry-b"),
        "{b_copy}"
    );
    // Again: B's own now.
    let o = c.script(&b, "start.sh", &[]);
    assert!(o.status.success(), "{}", text(&o));

    // A's delete.sh leaves B's ConfigMap, and deletes the rest of A.
    let o = c.script(&a, "delete.sh", &[]);
    let said = text(&o);
    assert!(o.status.success(), "{said}");
    assert!(
        said.contains("kept configmap kube-public/local-registry-hosting: it is owned by team-b/registry-b (registry-gen/owner), not default/docker-registry's (--take-over deletes it anyway)"),
        "{said}"
    );
    assert_eq!(c.hosting().as_deref(), Some(b_copy.as_str()));
    assert!(
        c.calls().contains("/manifests/deployment.yaml"),
        "{}",
        c.calls()
    );
    // B's deletes it.
    let o = c.script(&b, "delete.sh", &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(c.hosting(), None);
}

/// delete.sh --take-over deletes another bundle's ConfigMap anyway.
#[test]
fn delete_take_over_deletes_another_bundles_configmap() {
    let c = Cluster::new();
    let (a, b) = (c.bundle("a", &bundle_a()), c.bundle("b", &bundle_b()));
    let o = c.script(&a, "start.sh", &[]);
    assert!(o.status.success(), "{}", text(&o));
    let o = c.script(&b, "delete.sh", &["--take-over"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(c.hosting(), None);
}

/// A ConfigMap without the owner annotation: an earlier render's (it names
/// this bundle's Service) is adopted; any other (kind's, by hand) is
/// refused by start.sh and kept by delete.sh.
#[test]
fn an_unmarked_registry_hosting_configmap_is_adopted_only_when_it_names_this_bundle() {
    let c = Cluster::new();
    let (a, b) = (c.bundle("a", &bundle_a()), c.bundle("b", &bundle_b()));
    let ours = std::fs::read_to_string(a.join("manifests/local-registry-hosting.yaml")).unwrap();
    let unmarked: String = ours
        .lines()
        .filter(|l| !l.contains("annotations:") && !l.contains("registry-gen/owner"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(unmarked.contains("hostFromClusterNetwork: docker-registry.default.svc:8443"));
    std::fs::write(c.state.join("hosting.yaml"), &unmarked).unwrap();

    let o = c.script(&b, "start.sh", &[]);
    let said = text(&o);
    assert!(!o.status.success(), "{said}");
    assert!(said.contains("is not marked registry-gen/owner and names another registry (written by hand, by another tool or by an older registry-gen); nothing was applied"), "{said}");
    let o = c.script(&b, "delete.sh", &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(c.hosting().as_deref(), Some(unmarked.as_str()));

    let o = c.script(&a, "start.sh", &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains("taking over"), "{}", text(&o));
    assert!(c
        .hosting()
        .unwrap()
        .contains("registry-gen/owner: default/docker-registry"));
}

/// Two bundles in one namespace: A's `delete.sh --purge-data` deletes A's
/// objects but keeps the namespace (it would take B's registry and data
/// with it) and says what is still there; alone, or with `--take-over`,
/// it deletes it.
#[test]
fn purge_keeps_a_namespace_that_holds_another_bundle() {
    let c = Cluster::new();
    let mut config = bundle_a();
    config.namespace = "registries".into();
    let a = c.bundle("a", &config);
    assert!(a.join("manifests/namespace.yaml").exists());
    std::fs::write(
        c.state.join("others"),
        "deployment.apps/registry-b\npersistentvolumeclaim/registry-b-data\n",
    )
    .unwrap();
    let o = c.script(&a, "delete.sh", &["--purge-data"]);
    let said = text(&o);
    assert!(o.status.success(), "{said}");
    assert!(said.contains("kept namespace registries: it holds what is not this bundle's: deployment.apps/registry-b persistentvolumeclaim/registry-b-data (--take-over deletes it anyway, with them)"), "{said}");
    assert!(!c.state.join("namespace-deleted").exists(), "{}", c.calls());
    assert!(
        c.calls().contains("/manifests/deployment.yaml"),
        "{}",
        c.calls()
    );

    let o = c.script(&a, "delete.sh", &["--purge-data", "--take-over"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(c.state.join("namespace-deleted").exists(), "{}", c.calls());
    std::fs::remove_file(c.state.join("namespace-deleted")).unwrap();

    std::fs::remove_file(c.state.join("others")).unwrap();
    let o = c.script(&a, "delete.sh", &["--purge-data"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(c.state.join("namespace-deleted").exists(), "{}", c.calls());
}

fn trust_node(bundle: &Path, root: &Path, args: &[&str]) -> Output {
    Command::new("bash")
        .arg(bundle.join("scripts/trust-node.sh"))
        .args(["--containerd", "--crio", "--k3s", "--docker", "--root"])
        .arg(root)
        .args(args)
        .output()
        .unwrap()
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A's trust-node.sh installs the port-less aliases; B's installs its own
/// files, leaves A's aliases and A's registries.yaml as they are, names
/// the owner and the flag, and exits 1; with `--take-over` they are B's,
/// and A's run then refuses in turn.
#[test]
fn trust_node_leaves_another_bundles_alias_unless_take_over() {
    let c = Cluster::new();
    let (a, b) = (c.bundle("a", &bundle_a()), c.bundle("b", &bundle_b()));
    let root = c.tmp.path().join("node");
    let o = trust_node(&a, &root, &[]);
    assert!(o.status.success(), "{}", text(&o));
    let alias = root.join("etc/containerd/certs.d/10.131.82.54/hosts.toml");
    let k3s = root.join("etc/rancher/k3s/registries.yaml");
    let a_alias = read(&alias);
    assert!(
        a_alias.contains("# registry-gen/owner: default/docker-registry\n")
            && a_alias.contains("server = \"https://10.131.82.54:30443\""),
        "{a_alias}"
    );
    let a_k3s = read(&k3s);

    let o = trust_node(&b, &root, &[]);
    let said = text(&o);
    assert_eq!(o.status.code(), Some(1), "{said}");
    for shared in [
        "etc/containerd/certs.d/10.131.82.54/hosts.toml",
        "etc/containerd/certs.d/yuan.com/hosts.toml",
        "etc/rancher/k3s/registries.yaml",
    ] {
        assert!(
            said.contains(&format!(
                "trust-node.sh: left as it is: {}: owned by default/docker-registry (registry-gen/owner); --take-over replaces it",
                root.join(shared).display()
            )),
            "{shared}: {said}"
        );
    }
    assert_eq!(read(&alias), a_alias);
    assert_eq!(read(&k3s), a_k3s);
    // CRI-O's drop-ins have their own names, but B's routes the port-less
    // names A's routes, and the file read last (B's) would win silently.
    assert!(
        said.contains(&format!(
            "trust-node.sh: left as it is: {}: not installed, its prefix = \"10.131.82.54\" is routed by {} too (owned by default/docker-registry), and the file read last wins; --take-over replaces it",
            root.join("etc/containers/registries.conf.d/registry-b.conf").display(),
            root.join("etc/containers/registries.conf.d/docker-registry.conf").display()
        )),
        "{said}"
    );
    assert!(!root
        .join("etc/containers/registries.conf.d/registry-b.conf")
        .exists());
    // B's own names are installed all the same.
    for own in [
        "etc/containerd/certs.d/10.131.82.54:30444/hosts.toml",
        "etc/docker/certs.d/10.131.82.54:30444/ca.crt",
        "etc/containers/certs.d/10.131.82.54:30444/ca.crt",
    ] {
        assert_eq!(
            read(&root.join(own)),
            read(&b.join("trust").join(own.replacen("etc/", "", 1))),
            "{own}"
        );
    }

    let o = trust_node(&b, &root, &["--take-over"]);
    let said = text(&o);
    assert!(o.status.success(), "{said}");
    assert!(said.contains("taking over"), "{said}");
    assert_eq!(
        read(&alias),
        read(&b.join("trust/containerd/certs.d/10.131.82.54/hosts.toml"))
    );
    assert!(read(&k3s).contains("# registry-gen/owner: team-b/registry-b\n"));
    assert!(root
        .join("etc/containers/registries.conf.d/registry-b.conf")
        .exists());
    // A's run now leaves B's.
    let o = trust_node(&a, &root, &[]);
    let said = text(&o);
    assert_eq!(o.status.code(), Some(1), "{said}");
    assert!(
        said.contains("owned by team-b/registry-b (registry-gen/owner)"),
        "{said}"
    );
}

/// An alias directory without the owner line: the copy an earlier render
/// of this bundle wrote (the same file but the line) is this bundle's;
/// another registry's is left as it is.
#[test]
fn trust_node_adopts_an_unmarked_alias_only_when_it_is_this_bundles() {
    let c = Cluster::new();
    let (a, b) = (c.bundle("a", &bundle_a()), c.bundle("b", &bundle_b()));
    let root = c.tmp.path().join("node");
    let dir = root.join("etc/containerd/certs.d/10.131.82.54");
    std::fs::create_dir_all(&dir).unwrap();
    let ours = read(&a.join("trust/containerd/certs.d/10.131.82.54/hosts.toml"));
    let older: String = ours
        .lines()
        .filter(|l| !l.starts_with("# registry-gen/owner:"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(older, ours);
    std::fs::write(dir.join("hosts.toml"), &older).unwrap();

    let containerd = |bundle: &Path, root: &Path| {
        Command::new("bash")
            .arg(bundle.join("scripts/trust-node.sh"))
            .args(["--containerd", "--root"])
            .arg(root)
            .output()
            .unwrap()
    };
    let o = containerd(&b, &root);
    let said = text(&o);
    assert_eq!(o.status.code(), Some(1), "{said}");
    assert!(said.contains("10.131.82.54/hosts.toml: not marked registry-gen/owner and not this bundle's (written by hand, by another tool or by an older registry-gen); --take-over replaces it"), "{said}");
    assert_eq!(read(&dir.join("hosts.toml")), older);

    // The same unmarked copy on another node: A's own.
    let root = c.tmp.path().join("node-2");
    let dir = root.join("etc/containerd/certs.d/10.131.82.54");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("hosts.toml"), &older).unwrap();
    let o = containerd(&a, &root);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains("taking over"), "{}", text(&o));
    assert_eq!(read(&dir.join("hosts.toml")), ours);
}

/// The trust DaemonSet's installer follows the same rule, with busybox's
/// commands alone: B's leaves A's alias, installs the rest, and fails (its
/// pod shows it).
#[test]
fn the_trust_daemonset_leaves_another_bundles_alias() {
    let c = Cluster::new();
    let mut config_b = bundle_b();
    config_b.trust.daemonset = true;
    let (a, b) = (c.bundle("a", &bundle_a()), c.bundle("b", &config_b));
    let root = c.tmp.path().join("node");
    let o = trust_node(&a, &root, &[]);
    assert!(o.status.success(), "{}", text(&o));
    let cm: k8s_openapi::api::core::v1::ConfigMap =
        serde_yaml::from_str(&read(&b.join("manifests/trust-configmap.yaml"))).unwrap();
    let script = c.tmp.path().join("install.sh");
    std::fs::write(&script, &cm.data.unwrap()["install.sh"]).unwrap();
    // As the registry's Alpine image runs it: busybox alone on PATH.
    let busybox = c.tmp.path().join("busybox");
    std::fs::create_dir(&busybox).unwrap();
    let real = std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|d| d.join("busybox"))
        .find(|p| p.is_file())
        .expect("busybox (the README's test command installs it)");
    let applets = "sh cat cmp cp chmod dirname find grep head mkdir mktemp mv rm sed sleep stat";
    for applet in applets.split(' ') {
        std::os::unix::fs::symlink(&real, busybox.join(applet)).unwrap();
    }
    let o = Command::new(busybox.join("sh"))
        .arg(&script)
        .arg("--once")
        .env_clear()
        .env("PATH", &busybox)
        .env("TRUST_ROOT", &root)
        .output()
        .unwrap();
    let said = text(&o);
    assert_eq!(o.status.code(), Some(1), "{said}");
    assert!(said.contains("10.131.82.54/hosts.toml: owned by default/docker-registry (registry-gen/owner); scripts/trust-node.sh --take-over on this node replaces it"), "{said}");
    assert!(
        read(&root.join("etc/containerd/certs.d/10.131.82.54/hosts.toml"))
            .contains("registry-gen/owner: default/docker-registry")
    );
    assert!(root
        .join("etc/containerd/certs.d/10.131.82.54:30444/hosts.toml")
        .exists());
}

/// An upstream's directory an earlier render wrote (no owner line, and no
/// `ca` for a fallback's upstream CA yet) is this bundle's: trust-node.sh
/// replaces it without `--take-over`.
#[test]
fn trust_node_adopts_an_upstream_directory_of_an_earlier_render() {
    let c = Cluster::new();
    let mut config = bundle_a();
    config.mirrors = Config::from_yaml(
        "mirrors: [{upstream: ghcr.io, fallback: true, ports: {node: 30521}, ca_file: ghcr-ca.crt}]",
    )
    .unwrap()
    .mirrors;
    let a = c.bundle("a", &config);
    let ours = read(&a.join("trust/containerd/certs.d/ghcr.io/hosts.toml"));
    assert!(ours.contains("\nca = \"upstream-ca.crt\"\n"), "{ours}");
    let older: String = ours
        .lines()
        .filter(|l| !l.starts_with("# registry-gen/owner:") && !l.starts_with("ca = "))
        .map(|l| format!("{l}\n"))
        .collect();
    let root = c.tmp.path().join("node");
    let dir = root.join("etc/containerd/certs.d/ghcr.io");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("hosts.toml"), &older).unwrap();
    let o = Command::new("bash")
        .arg(a.join("scripts/trust-node.sh"))
        .args(["--containerd", "--root"])
        .arg(&root)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(read(&dir.join("hosts.toml")), ours);
    assert!(dir.join("upstream-ca.crt").exists());
}
