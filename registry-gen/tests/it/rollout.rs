//! Re-renders and rollouts: the Deployment's pod template changes when, and
//! only when, a Secret the registry reads only at start changed (the TLS
//! Secret, the HTTP secret), so `kubectl apply` rolls the pods exactly then;
//! the trust installer's when its script (a ConfigMap) changed.
//! An unchanged re-render changes no manifest and no Secret; a password
//! change changes the htpasswd Secret and nothing the pod template holds.
//!
//! Each re-render goes the CLI's way: [`Inputs::reuse_previous`] over the
//! earlier bundle, then [`Inputs::fill_missing`] (the OS RNG), so the salts
//! and keys are real random ones, not fixtures.

use std::collections::BTreeMap;

use k8s_openapi::api::{apps::v1 as apps, core::v1 as core};
use registry_gen::{Bundle, Config, Inputs, Password, Secret};

use crate::common;

const TLS: &str = "registry-gen/checksum-tls";
const HTTP: &str = "registry-gen/checksum-http-secret";

fn example(stem: &str) -> Config {
    common::load(&common::workspace().join(format!("examples/{stem}.yaml")))
}

/// Render `config` as `registry-gen render --out` would over `previous`
/// (`None`: a first render), with `given` passwords injected first.
fn render_over(config: &Config, previous: Option<&Bundle>, given: &[(&str, &str)]) -> Bundle {
    let mut inputs = Inputs::new(common::NOW);
    for (user, pw) in given {
        inputs
            .passwords
            .insert((*user).to_owned(), Password::given(Secret::new(*pw)));
    }
    if let Some(previous) = previous {
        inputs
            .reuse_previous(config, &mut |p| previous.get(p).map(|f| f.contents.clone()))
            .unwrap();
    }
    inputs.fill_missing(config).unwrap();
    registry_gen::render(config, &inputs).unwrap()
}

/// The paths whose bytes differ between two bundles (or that only one has).
fn changed(a: &Bundle, b: &Bundle) -> Vec<String> {
    let a: BTreeMap<_, _> = a.files().collect();
    let b: BTreeMap<_, _> = b.files().collect();
    let mut paths: Vec<String> = a
        .keys()
        .chain(b.keys())
        .filter(|p| a.get(*p) != b.get(*p))
        .map(|p| p.to_string())
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

/// The annotations of a workload's pod template.
fn template_annotations(t: core::PodTemplateSpec) -> BTreeMap<String, String> {
    t.metadata.unwrap().annotations.unwrap()
}

fn pod_annotations(b: &Bundle) -> BTreeMap<String, String> {
    let d: apps::Deployment = common::yaml(b, "manifests/deployment.yaml");
    template_annotations(d.spec.unwrap().template)
}

#[test]
fn an_unchanged_re_render_changes_no_manifest_and_no_secret() {
    for stem in ["nodeport-htpasswd", "minikube-nfs", "shared-pvc-rsa"] {
        let config = example(stem);
        let first = render_over(&config, None, &[]);
        let second = render_over(&config, Some(&first), &[]);
        let third = render_over(&config, Some(&second), &[]);
        // Byte-identical, the CSR included: an ECDSA signature is
        // randomised, so the earlier CSR is kept while it asks for the same.
        let none: &[&str] = &[];
        assert_eq!(changed(&first, &second), none, "{stem}");
        assert_eq!(changed(&second, &third), none, "{stem}");
    }
}

#[test]
fn a_new_dns_name_changes_the_tls_checksum_and_nothing_else_of_the_pod_template() {
    let config = example("nodeport-htpasswd");
    let first = render_over(&config, None, &[]);
    let mut wider = config.clone();
    wider
        .addresses
        .dns_names
        .push("registry.example.test".into());
    let second = render_over(&wider, Some(&first), &[]);

    let (before, after) = (pod_annotations(&first), pod_annotations(&second));
    assert_ne!(
        before[TLS], after[TLS],
        "a re-issued certificate must roll the pods"
    );
    assert_eq!(before[HTTP], after[HTTP]);
    let changed = changed(&first, &second);
    for must in [
        "certs/server.crt",
        "manifests/secret-tls.yaml",
        "manifests/deployment.yaml",
    ] {
        assert!(
            changed.iter().any(|p| p == must),
            "{must} unchanged: {changed:?}"
        );
    }
    for kept in [
        "auth/htpasswd",
        "manifests/secret-htpasswd.yaml",
        "manifests/secret-http.yaml",
        "certs/ca.crt",
        "certs/server.key",
    ] {
        assert!(!changed.iter().any(|p| p == kept), "{kept} changed");
    }
}

#[test]
fn a_password_change_changes_the_htpasswd_secret_and_not_the_pod_template() {
    let config = example("nodeport-htpasswd");
    let users: Vec<String> = config
        .auth
        .iter()
        .flat_map(|a| &a.users)
        .map(|u| u.name.clone())
        .collect();
    let user = users[0].as_str();
    let first = render_over(&config, None, &[(user, "the first password")]);

    // Given again, the same password keeps its very line: nothing changes
    // beyond the randomly signed CSR.
    let same = render_over(&config, Some(&first), &[(user, "the first password")]);
    let unchanged = changed(&first, &same);
    assert!(
        unchanged
            .iter()
            .all(|p| p == "certs/server.csr" || p == "README.md"),
        "{unchanged:?}"
    );

    let second = render_over(&config, Some(&first), &[(user, "the second password")]);
    let changed = changed(&first, &second);
    assert!(changed
        .iter()
        .any(|p| p == "manifests/secret-htpasswd.yaml"));
    assert_eq!(
        common::text(&first, "manifests/deployment.yaml"),
        common::text(&second, "manifests/deployment.yaml"),
        "a password change must not roll the pods"
    );
    for kept in ["manifests/secret-tls.yaml", "manifests/secret-http.yaml"] {
        assert!(!changed.iter().any(|p| p == kept), "{kept} changed");
    }
    // The changed user's line is new and verifies; every other line is kept.
    let lines = |b: &Bundle| -> BTreeMap<String, String> {
        common::text(b, "auth/htpasswd")
            .lines()
            .map(|l| {
                let (u, h) = l.split_once(':').unwrap();
                (u.to_owned(), h.to_owned())
            })
            .collect()
    };
    let (old, new) = (lines(&first), lines(&second));
    assert!(bcrypt::verify("the second password", &new[user]).unwrap());
    for other in users.iter().filter(|u| *u != user) {
        assert_eq!(old[other], new[other], "{other}'s line");
    }
}

#[test]
fn a_changed_bcrypt_cost_gets_a_fresh_salt() {
    let config = example("nodeport-htpasswd");
    let first = render_over(&config, None, &[]);
    let mut costlier = config.clone();
    costlier.auth.as_mut().unwrap().bcrypt_cost += 1;
    let second = render_over(&costlier, Some(&first), &[]);
    let hashes = |b: &Bundle| -> Vec<String> {
        common::text(b, "auth/htpasswd")
            .lines()
            .map(|l| l.split_once(':').unwrap().1.to_owned())
            .collect()
    };
    for (old, new) in hashes(&first).iter().zip(hashes(&second)) {
        let (old, new): (bcrypt::HashParts, bcrypt::HashParts) =
            (old.parse().unwrap(), new.parse().unwrap());
        assert_eq!(new.get_cost(), old.get_cost() + 1);
        assert_ne!(new.get_salt(), old.get_salt());
    }
}

#[test]
fn new_addresses_roll_the_trust_installer_and_an_unchanged_render_does_not() {
    let config = example("shared-pvc-rsa");
    let annotation = |b: &Bundle| -> String {
        let d: apps::DaemonSet = common::yaml(b, "manifests/trust-daemonset.yaml");
        template_annotations(d.spec.unwrap().template)["registry-gen/checksum-script"].clone()
    };
    let first = render_over(&config, None, &[]);
    let same = render_over(&config, Some(&first), &[]);
    assert_eq!(annotation(&first), annotation(&same));
    let mut wider = config.clone();
    wider
        .addresses
        .dns_names
        .push("another.example.test".into());
    let second = render_over(&wider, Some(&first), &[]);
    assert_ne!(
        annotation(&first),
        annotation(&second),
        "the installer runs its script only at start: a new one must roll it"
    );
}

/// Several replicas on S3: an unchanged re-render changes nothing but the
/// CSR; a new S3 secret key changes its Secret and the pod template's
/// `checksum-s3` (the registry reads it through env, once), nothing else of
/// the pod template, and no other Secret.
#[test]
fn a_new_s3_key_rolls_the_pods_through_its_checksum_only() {
    const S3: &str = "registry-gen/checksum-s3";
    const S3_CA: &str = "registry-gen/checksum-s3-ca";
    const REDIS: &str = "registry-gen/checksum-redis";
    let config = example("s3-replicas");
    let render = |previous: Option<&Bundle>, secret_key: &str| {
        let mut inputs = Inputs::new(common::NOW);
        let fixture = common::inputs(&config);
        inputs.backends = fixture.backends.clone();
        inputs.backends.s3_credentials = Some(registry_gen::S3Credentials::new(
            Secret::new(common::S3_ACCESS_KEY),
            Secret::new(secret_key),
        ));
        if let Some(previous) = previous {
            inputs
                .reuse_previous(&config, &mut |p| {
                    previous.get(p).map(|f| f.contents.clone())
                })
                .unwrap();
        }
        inputs.fill_missing(&config).unwrap();
        registry_gen::render(&config, &inputs).unwrap()
    };
    let first = render(None, "the first secret key");
    let same = render(Some(&first), "the first secret key");
    assert!(changed(&first, &same).is_empty());

    let second = render(Some(&first), "the second secret key");
    assert_eq!(
        changed(&first, &second),
        ["manifests/deployment.yaml", "manifests/secret-s3.yaml"]
    );
    let (before, after) = (pod_annotations(&first), pod_annotations(&second));
    assert_ne!(before[S3], after[S3]);
    for kept in [TLS, HTTP, S3_CA, REDIS] {
        assert_eq!(before[kept], after[kept], "{kept}");
    }
}

/// Every Deployment of a bundle: (file, strategy type, preStop sleep
/// seconds, grace period, drain timeout in seconds).
fn stops(b: &Bundle) -> Vec<(String, String, Option<i64>, i64, i64)> {
    let mut v = Vec::new();
    for (path, f) in b.files() {
        if !path.starts_with("manifests/") || !path.ends_with("deployment.yaml") {
            continue;
        }
        let d: apps::Deployment = serde_yaml::from_slice(&f.contents).unwrap();
        let spec = d.spec.unwrap();
        let strategy = spec.strategy.unwrap();
        let kind = strategy.type_.unwrap();
        if kind == "RollingUpdate" {
            let r = strategy.rolling_update.unwrap();
            assert_eq!(
                (r.max_unavailable, r.max_surge),
                (
                    Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(0)),
                    Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(1))
                ),
                "{path}"
            );
        }
        let pod = spec.template.spec.unwrap();
        let c = &pod.containers[0];
        let sleep = c.lifecycle.as_ref().map(|l| {
            let cmd = l.pre_stop.as_ref().unwrap().exec.as_ref().unwrap();
            let cmd = cmd.command.as_ref().unwrap();
            assert_eq!(cmd[0], "sleep", "{path}");
            cmd[1].parse::<i64>().unwrap()
        });
        let drain = c
            .env
            .as_ref()
            .unwrap()
            .iter()
            .find(|e| e.name == "REGISTRY_HTTP_DRAINTIMEOUT")
            .and_then(|e| e.value.as_deref()?.strip_suffix('s')?.parse().ok())
            .unwrap_or_else(|| panic!("{path}: no REGISTRY_HTTP_DRAINTIMEOUT in seconds"));
        let grace = pod.termination_grace_period_seconds.unwrap();
        v.push((path.to_owned(), kind, sleep, grace, drain));
    }
    v
}

/// Pods overlap on every roll where the topology allows (a NodePort over
/// hostPath, ReadWriteMany, S3, emptyDir; the mirrors alike); only a
/// hostPort or a claim one node mounts replaces them. A stopping pod of a
/// rolling Deployment leaves the Service before the registry stops (a
/// preStop sleep), and every pod's grace period outlasts its sleep and its
/// drain, so the kubelet never kills a request in flight.
#[test]
fn pods_overlap_where_the_topology_allows_and_drain_within_their_grace() {
    let case = |ports: &str, storage: &str| {
        let mut c = Config::embedded_default();
        c.ports = serde_yaml::from_str(ports).unwrap();
        c.storage = serde_yaml::from_str(storage).unwrap();
        c
    };
    let table = [
        (
            "{container: 5000, node: 30500}",
            "host_path: {path: /srv/registry, node: n1}",
            "RollingUpdate",
        ),
        (
            "{container: 5000, node: 30500}",
            "pvc: {size: 1Gi, access_modes: [ReadWriteMany]}",
            "RollingUpdate",
        ),
        (
            "{container: 5000, node: 30500}",
            "empty_dir: {}",
            "RollingUpdate",
        ),
        (
            "{container: 5000}",
            "host_path: {path: /srv/registry, node: n1}",
            "RollingUpdate",
        ),
        (
            "{container: 5000, node: 30500}",
            "pvc: {size: 1Gi}",
            "Recreate",
        ),
        (
            "{container: 5000, node: 30500}",
            "pvc: {size: 1Gi, access_modes: [ReadWriteOncePod]}",
            "Recreate",
        ),
        (
            "{container: 5000, host: 5000}",
            "host_path: {path: /srv/registry, node: n1}",
            "Recreate",
        ),
        (
            "{container: 5000, host: 5000}",
            "pvc: {size: 1Gi, access_modes: [ReadWriteMany]}",
            "Recreate",
        ),
    ];
    let mut bundles: Vec<(String, Bundle)> = table
        .iter()
        .map(|(ports, storage, _)| {
            (
                format!("{ports} {storage}"),
                common::render(&case(ports, storage)),
            )
        })
        .collect();
    for ((name, b), (_, _, want)) in bundles.iter().zip(table) {
        let main = stops(b)
            .into_iter()
            .find(|s| s.0 == "manifests/deployment.yaml")
            .unwrap();
        assert_eq!(main.1, want, "{name}");
    }
    for p in common::examples() {
        bundles.push((p.display().to_string(), common::render(&common::load(&p))));
    }
    for (name, b) in &bundles {
        for (file, kind, sleep, grace, drain) in stops(b) {
            let at = format!("{name}: {file}");
            assert_eq!(sleep.is_some(), kind == "RollingUpdate", "{at}: {kind}");
            assert!(
                grace > sleep.unwrap_or(0) + drain,
                "{at}: grace {grace} s does not outlast {sleep:?} s + {drain} s"
            );
        }
    }
}
