//! Real tools judge the bundle: openssl, kubectl kustomize, the
//! kubernetes-validate schema validator (PyPI), shellcheck and Apache's
//! htpasswd (the distribution registry is run by the CLI's end-to-end
//! tests, registry-gen-cli/tests/it/e2e.rs). A missing tool
//! is a failure, never a skip: the README's test command installs them.

use std::io::Write;
use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use k8s_openapi::api::core::v1 as core;
use registry_gen::Config;

use crate::common;
use crate::support::{files_under, kubernetes_validate, openssl_verify};

/// Run a tool; panic with its output unless it succeeds.
fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e} (the README's test command installs the tools)"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

fn written(config: &Config) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bundle");
    common::render(config).write_to(&out).unwrap();
    (dir, out)
}

fn all_configs() -> Vec<Config> {
    let mut v: Vec<Config> = common::examples().iter().map(|p| common::load(p)).collect();
    v.push(Config::embedded_default());
    // Names YAML 1.1 (Kubernetes' parser) reads as booleans: they must
    // reach the API server as the strings they are.
    let mut yaml11 = Config::embedded_default();
    yaml11.name = "no".to_owned();
    yaml11.namespace = "on".to_owned();
    v.push(yaml11);
    v
}

/// Objects of custom resources (Gateway API, Prometheus Operator): the
/// Kubernetes schema validator has no schema for them; `crd_schemas.rs`
/// validates them against their CRDs' schemas.
fn is_custom_resource(manifest: &std::path::Path) -> bool {
    let text = std::fs::read_to_string(manifest).unwrap();
    (text.lines())
        .filter_map(|l| l.strip_prefix("apiVersion: "))
        .any(crate::support::crd::is_custom_resource)
}

/// `openssl verify` flags that check one configured address each.
fn address_checks(config: &Config) -> Vec<(&'static str, String)> {
    let ips = config
        .addresses
        .node_ips
        .iter()
        .map(|ip| ("-verify_ip", ip.to_string()));
    let names = config
        .addresses
        .dns_names
        .iter()
        .map(|d| ("-verify_hostname", d.clone()));
    ips.chain(names).collect()
}

#[test]
fn openssl_accepts_the_certificates_for_every_address() {
    for config in all_configs() {
        let (_tmp, b) = written(&config);
        let certs = b.join("certs");
        run(Command::new("openssl")
            .args(["req", "-verify", "-noout", "-in"])
            .arg(certs.join("server.csr")));
        let mut checks = address_checks(&config);
        // The private registry's Service, unless a mirror-only bundle.
        if config.registry.enabled {
            checks.push((
                "-verify_hostname",
                format!("{}.{}.svc", config.name, config.namespace),
            ));
        }
        let (ca, server) = (certs.join("ca.crt"), certs.join("server.crt"));
        for (flag, value) in checks {
            let out = openssl_verify(&ca, &server, &[flag, &value])
                .unwrap_or_else(|e| panic!("{value}: {e}"));
            assert!(out.contains(": OK"), "{value}: {out}");
        }
        // And a name that is not in the certificate is refused.
        assert!(
            openssl_verify(&ca, &server, &["-verify_hostname", "not-in-the-cert.test"]).is_err(),
            "openssl accepted a name outside the SANs"
        );
        // The key is the certificate's.
        let from_key = run(Command::new("openssl")
            .args(["pkey", "-pubout", "-in"])
            .arg(certs.join("server.key")));
        let from_cert = run(Command::new("openssl")
            .args(["x509", "-noout", "-pubkey", "-in"])
            .arg(certs.join("server.crt")));
        assert_eq!(from_key, from_cert, "server.key does not match server.crt");
    }
}

#[test]
fn kubectl_kustomize_builds_and_the_schema_validator_accepts_every_object() {
    for config in all_configs() {
        let (_tmp, b) = written(&config);
        let built = run(Command::new("kubectl")
            .arg("kustomize")
            .arg(b.join("manifests")));
        // Every manifest, the pull-test Pod under manifests/tests/ and the
        // garbage-collection Job under manifests/maintenance/ included.
        let manifests: Vec<PathBuf> = files_under(&b.join("manifests"))
            .into_iter()
            .filter(|p| !p.ends_with("kustomization.yaml"))
            .collect();
        let listed = manifests
            .iter()
            .filter(|p| {
                !p.starts_with(b.join("manifests/tests"))
                    && !p.starts_with(b.join("manifests/maintenance"))
            })
            .count();
        assert_eq!(
            built.matches("\nkind: ").count() + usize::from(built.starts_with("kind: ")),
            listed
        );
        let core: Vec<PathBuf> = manifests
            .into_iter()
            .filter(|m| !is_custom_resource(m))
            .collect();
        kubernetes_validate(&core);
    }
}

#[test]
fn shellcheck_passes_the_scripts() {
    for config in all_configs() {
        let (_tmp, b) = written(&config);
        let scripts = files_under(&b.join("scripts"));
        // A mirror-only bundle has no gc.sh.
        let expected = if config.registry.enabled { 5 } else { 4 };
        assert_eq!(scripts.len(), expected, "{scripts:?}");
        run(Command::new("shellcheck")
            .args(["--severity=style", "--shell=bash"])
            .args(&scripts));
        for script in &scripts {
            let help = run(Command::new("bash").arg(script).arg("--help"));
            assert!(help.starts_with("Usage: "), "{}: {help}", script.display());
        }
        // With a Redis cache, the GC Job's command is a POSIX sh script
        // (the registry image's busybox shell).
        let job = b.join("manifests/maintenance/gc-job.yaml");
        if job.exists() {
            let job: k8s_openapi::api::batch::v1::Job =
                serde_yaml::from_str(&std::fs::read_to_string(&job).unwrap()).unwrap();
            let command = job.spec.unwrap().template.spec.unwrap().containers[0]
                .command
                .clone()
                .unwrap();
            assert_eq!(command[0] == "/bin/sh", config.cache.redis.is_some());
            if command[0] == "/bin/sh" {
                let script = b.join("gc-job.sh");
                std::fs::write(&script, &command[2]).unwrap();
                run(Command::new("shellcheck")
                    .args(["--severity=style", "--shell=sh"])
                    .arg(&script));
            }
        }
        // Each mirror's command is a POSIX sh script around the registry
        // (mirror-start.sh, the registry image's busybox shell).
        for m in &config.mirrors {
            let slug = m.upstream.replace(['.', ':'], "-");
            let d: k8s_openapi::api::apps::v1::Deployment = serde_yaml::from_str(
                &std::fs::read_to_string(
                    b.join(format!("manifests/mirror-{slug}-deployment.yaml")),
                )
                .unwrap(),
            )
            .unwrap();
            let command = d.spec.unwrap().template.spec.unwrap().containers[0]
                .command
                .clone()
                .unwrap();
            assert_eq!(command[0], "/bin/sh");
            let script = b.join(format!("mirror-start-{slug}.sh"));
            std::fs::write(&script, &command[2]).unwrap();
            run(Command::new("shellcheck")
                .args(["--severity=style", "--shell=sh"])
                .arg(&script));
        }
    }
}

#[test]
fn apache_htpasswd_verifies_every_user() {
    for config in all_configs() {
        let Some(auth) = config.auth.as_ref().filter(|_| config.registry.enabled) else {
            continue;
        };
        let (_tmp, b) = written(&config);
        for user in &auth.users {
            let mut child = Command::new("htpasswd")
                .args(["-v", "-i"])
                .arg(b.join("auth/htpasswd"))
                .arg(&user.name)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("htpasswd (apache2-utils)");
            child
                .stdin
                .take()
                .unwrap()
                .write_all(common::password(&user.name).as_bytes())
                .unwrap();
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{}: {}",
                user.name,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// The commands `certs/openssl.cnf` documents really reproduce an
/// equivalent certificate with openssl alone.
#[test]
fn openssl_cnf_reproduces_the_certificates_by_hand() {
    for config in all_configs() {
        let (tmp, b) = written(&config);
        let work = tmp.path().join("by-hand");
        std::fs::create_dir_all(work.join("certs")).unwrap();
        std::fs::copy(b.join("certs/openssl.cnf"), work.join("certs/openssl.cnf")).unwrap();
        let cnf = std::fs::read_to_string(b.join("certs/openssl.cnf")).unwrap();
        let commands: Vec<&str> = cnf
            .lines()
            .filter_map(|l| l.strip_prefix("#   openssl "))
            .collect();
        assert_eq!(commands.len(), 5, "{cnf}");
        for c in commands {
            run(Command::new("sh")
                .arg("-c")
                .arg(format!("openssl {c}"))
                .current_dir(&work));
        }
        let (ca, server) = (work.join("certs/ca.crt"), work.join("certs/server.crt"));
        for (flag, value) in address_checks(&config) {
            openssl_verify(&ca, &server, &[flag, &value])
                .unwrap_or_else(|e| panic!("by hand, {value}: {e}"));
        }
    }
}

/// For every key algorithm, with keys really generated: openssl accepts the
/// chain for every address, reads the SANs, verifies the CSR and matches the key.
#[test]
fn openssl_accepts_every_key_algorithm() {
    for alg in registry_gen::KeyAlgorithm::ALL {
        let mut config = Config::embedded_default();
        config.addresses.node_ips =
            vec!["10.131.82.54".parse().unwrap(), "fd00::54".parse().unwrap()];
        config.addresses.dns_names = vec!["registry.example.test".into()];
        config.tls.key_algorithm = alg;
        let mut inputs = registry_gen::Inputs::new(common::NOW);
        inputs.fill_missing(&config).unwrap();
        let dir = tempfile::tempdir().unwrap();
        registry_gen::render(&config, &inputs)
            .unwrap()
            .write_to(dir.path())
            .unwrap();
        let certs = dir.path().join("certs");
        let attime = (common::NOW.unix_timestamp() + 3600).to_string();
        for (flag, value) in address_checks(&config) {
            openssl_verify(
                &certs.join("ca.crt"),
                &certs.join("server.crt"),
                &["-attime", &attime, flag, &value],
            )
            .unwrap_or_else(|e| panic!("{}, {value}: {e}", alg.as_str()));
        }
        let sans = run(Command::new("openssl")
            .args(["x509", "-noout", "-ext", "subjectAltName", "-in"])
            .arg(certs.join("server.crt")));
        assert!(
            sans.contains("IP Address:10.131.82.54, IP Address:FD00:0:0:0:0:0:0:54, DNS:registry.example.test, DNS:kube-registry,"),
            "{}: {sans}",
            alg.as_str()
        );
        run(Command::new("openssl")
            .args(["req", "-verify", "-noout", "-in"])
            .arg(certs.join("server.csr")));
        let from_key = run(Command::new("openssl")
            .args(["pkey", "-pubout", "-in"])
            .arg(certs.join("server.key")));
        let from_cert = run(Command::new("openssl")
            .args(["x509", "-noout", "-pubkey", "-in"])
            .arg(certs.join("server.crt")));
        assert_eq!(from_key, from_cert, "{}", alg.as_str());
        let text = run(Command::new("openssl")
            .args(["x509", "-noout", "-text", "-in"])
            .arg(certs.join("server.crt")));
        let expected = match alg {
            registry_gen::KeyAlgorithm::EcdsaP256 => "NIST CURVE: P-256",
            registry_gen::KeyAlgorithm::EcdsaP384 => "NIST CURVE: P-384",
            registry_gen::KeyAlgorithm::Rsa2048 => "Public-Key: (2048 bit)",
            registry_gen::KeyAlgorithm::Rsa3072 => "Public-Key: (3072 bit)",
            registry_gen::KeyAlgorithm::Rsa4096 => "Public-Key: (4096 bit)",
            other => panic!("no expectation for {}", other.as_str()),
        };
        assert!(text.contains(expected), "{}: {text}", alg.as_str());
    }
}

/// start.sh says a changed password needs no restart when, and only when,
/// kubectl reports the htpasswd Secret as configured (a stub kubectl that
/// answers as `kubectl apply` does).
#[test]
fn start_sh_says_when_a_changed_password_takes_effect() {
    let config = common::load(&common::workspace().join("examples/nodeport-htpasswd.yaml"));
    let (tmp, b) = written(&config);
    let stub = tmp.path().join("kubectl-stub");
    let run_with = |htpasswd_answer: &str| {
        std::fs::write(
            &stub,
            format!(
                "#!/bin/sh\ncase \"$*\" in\n  *secret-htpasswd.yaml) echo 'secret/docker-registry-htpasswd {htpasswd_answer}' ;;\n  apply*) echo 'object unchanged' ;;\nesac\n"
            ),
        )
        .unwrap();
        std::fs::set_permissions(&stub, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        run(Command::new("bash")
            .arg(b.join("scripts/start.sh"))
            .env("KUBECTL", &stub)
            .current_dir("/"))
    };
    let changed = run_with("configured");
    assert!(
        changed.contains("passwords changed: the running registry takes them without a restart"),
        "{changed}"
    );
    let unchanged = run_with("unchanged");
    assert!(!unchanged.contains("passwords changed"), "{unchanged}");
    assert!(unchanged.contains("secret/docker-registry-htpasswd unchanged"));
}

/// start.sh and delete.sh against a stub kubectl that records its calls:
/// dependency order, reverse order, data kept, flags passed through.
#[test]
fn the_scripts_call_kubectl_in_order_and_keep_the_data() {
    for config in all_configs() {
        let (tmp, b) = written(&config);
        let log = tmp.path().join("kubectl.log");
        let stub = tmp.path().join("kubectl-stub");
        std::fs::write(
            &stub,
            format!("#!/bin/sh\necho \"$*\" >> '{}'\n", log.display()),
        )
        .unwrap();
        std::fs::set_permissions(&stub, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let script = |name: &str, args: &[&str]| {
            let _ = std::fs::remove_file(&log);
            run(Command::new("bash")
                .arg(b.join("scripts").join(name))
                .args(args)
                .env("KUBECTL", &stub)
                .current_dir("/"));
            std::fs::read_to_string(&log).unwrap_or_default()
        };
        #[derive(serde::Deserialize)]
        struct K {
            resources: Vec<String>,
        }
        let k: K = serde_yaml::from_str(
            &std::fs::read_to_string(b.join("manifests/kustomization.yaml")).unwrap(),
        )
        .unwrap();
        let applied: Vec<String> = k
            .resources
            .iter()
            .map(|r| format!("--context=c apply -f {}/manifests/{r}", b.display()))
            .collect();
        let start = script("start.sh", &["--context", "c"]);
        // First, whose KEP-1755 ConfigMap is on the cluster (owners.rs).
        let mut expected = if config.registry.enabled {
            "--context=c get configmap local-registry-hosting --namespace kube-public --ignore-not-found -o jsonpath={.metadata.name}{\"|\"}{.metadata.annotations.registry-gen/owner}{\"|\"}{.data.localRegistryHosting\\.v1}\n".to_owned()
        } else {
            String::new()
        };
        expected.push_str(&applied.join("\n"));
        expected.push('\n');
        // The private registry first, unless a mirror-only bundle.
        if config.registry.enabled {
            expected.push_str(&format!(
                "--context=c --namespace {} rollout status deployment/{} --timeout=300s\n",
                config.namespace, config.name
            ));
        }
        // ... then each mirror's Deployment.
        for m in &config.mirrors {
            let mirror = format!(
                "{}-mirror-{}",
                config.name,
                m.upstream.replace(['.', ':'], "-")
            );
            expected.push_str(&format!(
                "--context=c --namespace {} rollout status deployment/{mirror} --timeout=300s\n",
                config.namespace
            ));
        }
        assert_eq!(start, expected);
        // The namespace comes first, the workload after its Secrets and storage.
        let pos = |needle: &str| start.find(needle);
        if let Some(ns) = pos("namespace.yaml") {
            assert!(ns < pos("secret-tls.yaml").unwrap());
        }
        assert!(
            pos("secret-tls.yaml") < pos("deployment.yaml")
                && pos("deployment.yaml") < pos("service.yaml")
        );
        assert_eq!(
            script("start.sh", &["--context", "c"]),
            start,
            "start.sh is repeatable"
        );

        // Not the looks at the ConfigMap's owner and at what else is in
        // the namespace (owners.rs).
        let deletes = |args: &[&str]| -> String {
            script("delete.sh", args)
                .lines()
                .filter(|l| !l.starts_with("get "))
                .map(|l| format!("{l}\n"))
                .collect()
        };
        let delete = deletes(&[]);
        let deleted: Vec<&str> = delete.lines().collect();
        assert!(
            deleted
                .iter()
                .all(|l| l.starts_with("delete --ignore-not-found -f ")),
            "{delete}"
        );
        for keep in [
            "namespace.yaml",
            "persistentvolume.yaml",
            "persistentvolumeclaim.yaml",
        ] {
            assert!(
                !delete.contains(&format!("/manifests/{keep}")),
                "delete.sh removed {keep}"
            );
        }
        assert!(
            delete.find("service.yaml") < delete.find("deployment.yaml"),
            "reverse order: {delete}"
        );
        let purge = deletes(&["--purge-data"]);
        // The objects made from the bundle outside start.sh go too, with
        // or without --purge-data: the pull-test Pod and, where there is
        // one, the garbage-collection Job.
        let mut helpers = Vec::new();
        if b.join("manifests/tests/pull-test-pod.yaml").exists() {
            helpers.push("manifests/tests/pull-test-pod.yaml");
        }
        if b.join("manifests/maintenance/gc-job.yaml").exists() {
            helpers.push("manifests/maintenance/gc-job.yaml");
        }
        for (i, h) in helpers.iter().enumerate() {
            let call = format!("delete --ignore-not-found -f {}/{h}", b.display());
            assert_eq!(purge.lines().nth(i), Some(call.as_str()), "{purge}");
            assert_eq!(delete.lines().nth(i), Some(call.as_str()), "{delete}");
        }
        assert_eq!(
            purge.lines().count(),
            k.resources.len() + helpers.len(),
            "{purge}"
        );
    }
}

/// trust-node.sh installs exactly the bundle's trust trees under --root and
/// never edits containerd's config, only says what to add.
#[test]
fn trust_node_installs_the_trust_files_and_explains_config_path() {
    let config = common::load(&common::workspace().join("examples/nodeport-htpasswd.yaml"));
    let (tmp, b) = written(&config);
    let root = tmp.path().join("node");
    std::fs::create_dir_all(root.join("etc/containerd")).unwrap();
    let original = "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".registry]\n";
    std::fs::write(root.join("etc/containerd/config.toml"), original).unwrap();
    let out = run(Command::new("bash")
        .arg(b.join("scripts/trust-node.sh"))
        .args(["--containerd", "--docker", "--crio", "--k3s", "--root"])
        .arg(&root));
    assert!(
        out.contains(
            "does not set config_path = \"/etc/containerd/certs.d\"; add, for containerd 1.x:"
        ),
        "{out}"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("etc/containerd/config.toml")).unwrap(),
        original
    );
    for (from, to) in [
        ("trust/containerd/certs.d", "etc/containerd/certs.d"),
        ("trust/docker/certs.d", "etc/docker/certs.d"),
        ("trust/containers/certs.d", "etc/containers/certs.d"),
        (
            "trust/containers/registries.conf.d",
            "etc/containers/registries.conf.d",
        ),
    ] {
        let src = files_under(&b.join(from));
        assert!(!src.is_empty(), "{from}");
        for f in src {
            let rel = f.strip_prefix(b.join(from)).unwrap();
            assert_eq!(
                std::fs::read(root.join(to).join(rel)).unwrap(),
                std::fs::read(&f).unwrap(),
                "{}",
                rel.display()
            );
        }
    }
    let k3s = root.join("etc/rancher/k3s/registries.yaml");
    assert_eq!(
        std::fs::metadata(&k3s).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let ca = root.join("etc/rancher/k3s/docker-registry-default-ca.crt");
    assert_eq!(
        std::fs::read(ca).unwrap(),
        std::fs::read(b.join("certs/ca.crt")).unwrap()
    );
    assert!(std::fs::read_to_string(&k3s)
        .unwrap()
        .contains("ca_file: /etc/rancher/k3s/docker-registry-default-ca.crt"));
    // Again: the same result, no error.
    run(Command::new("bash")
        .arg(b.join("scripts/trust-node.sh"))
        .args(["--containerd", "--root"])
        .arg(&root));
}

/// An invalid /etc/docker/daemon.json: trust-node.sh says in one line which
/// file and what JSON error, leaves the file and nothing beside it, still
/// installs every other runtime's files, and exits 1 at the end.
#[test]
fn trust_node_reports_an_invalid_daemon_json_and_installs_the_other_runtimes() {
    let config = common::load(&common::workspace().join("examples/mirrors.yaml"));
    let (tmp, b) = written(&config);
    assert!(b.join("trust/docker/daemon.json").exists());
    let root = tmp.path().join("node");
    std::fs::create_dir_all(root.join("etc/docker")).unwrap();
    let broken = "{\n  \"log-driver\": \"json-file\"\n  \"debug\": true\n}\n";
    std::fs::write(root.join("etc/docker/daemon.json"), broken).unwrap();
    let out = Command::new("bash")
        .arg(b.join("scripts/trust-node.sh"))
        .args(["--docker", "--containerd", "--crio", "--k3s", "--root"])
        .arg(&root)
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(!said.contains("Traceback"), "{said}");
    let line = format!(
        "trust-node.sh: docker: {} is left as it is, registry-mirrors not merged: Expecting ',' delimiter: line 3 column 3 (char 32)\n",
        root.join("etc/docker/daemon.json").display()
    );
    assert!(said.contains(&line), "{said}");
    assert_eq!(
        std::fs::read_to_string(root.join("etc/docker/daemon.json")).unwrap(),
        broken
    );
    let beside: Vec<_> = std::fs::read_dir(root.join("etc/docker"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(beside.len(), 2, "{beside:?}"); // daemon.json, certs.d
                                               // Every runtime after Docker still got its files.
    for f in [
        "etc/containerd/certs.d/docker.io/hosts.toml",
        "etc/containers/registries.conf.d/kube-registry-mirrors.conf",
        "etc/rancher/k3s/registries.yaml",
    ] {
        assert!(root.join(f).exists(), "{f}: {said}");
    }
}

/// The opt-in trust DaemonSet's script passes shellcheck as POSIX sh and,
/// run under a temp root by dash and by busybox alone (as in the registry's
/// Alpine image: every command a busybox applet), writes exactly the
/// bundle's containerd and Docker trust trees; a second run changes nothing.
#[test]
fn the_trust_daemonset_script_installs_the_bundle_trees() {
    let mut config = common::load(&common::workspace().join("examples/nodeport-htpasswd.yaml"));
    config.trust.daemonset = true;
    let (tmp, b) = written(&config);
    let cm: core::ConfigMap = serde_yaml::from_str(
        &std::fs::read_to_string(b.join("manifests/trust-configmap.yaml")).unwrap(),
    )
    .unwrap();
    let script = tmp.path().join("install.sh");
    std::fs::write(&script, &cm.data.unwrap()["install.sh"]).unwrap();
    run(Command::new("shellcheck")
        .args(["--severity=style", "--shell=sh"])
        .arg(&script));
    // A PATH holding busybox alone, under the names the script calls.
    let busybox = tmp.path().join("busybox");
    std::fs::create_dir(&busybox).unwrap();
    let applets = "sh cat cmp cp chmod dirname find grep head mkdir mktemp mv rm sed sleep stat";
    for applet in applets.split(' ') {
        std::os::unix::fs::symlink(which("busybox"), busybox.join(applet)).unwrap();
    }
    for (shell, path) in [
        ("dash", std::env::var_os("PATH").unwrap()),
        ("busybox", busybox.clone().into_os_string()),
    ] {
        let root = tmp.path().join(format!("node-{shell}"));
        let install = || {
            run(Command::new(if shell == "dash" {
                "dash".into()
            } else {
                busybox.join("sh")
            })
            .arg(&script)
            .arg("--once")
            .env_clear()
            .env("PATH", &path)
            .env("TRUST_ROOT", &root))
        };
        assert!(
            install().starts_with("installed the trust files"),
            "{shell}"
        );
        assert!(install().contains("were installed already"), "{shell}");
        for (from, to) in [
            ("trust/containerd/certs.d", "etc/containerd/certs.d"),
            ("trust/docker/certs.d", "etc/docker/certs.d"),
        ] {
            let src = files_under(&b.join(from));
            let dst = files_under(&root.join(to));
            assert_eq!(src.len(), dst.len(), "{shell}: {from}");
            for f in src {
                let rel = f.strip_prefix(b.join(from)).unwrap();
                assert_eq!(
                    std::fs::read(root.join(to).join(rel)).unwrap(),
                    std::fs::read(&f).unwrap(),
                    "{shell}: {}",
                    rel.display()
                );
            }
        }
    }
}

/// Where `tool` is on PATH; a missing tool fails the test.
fn which(tool: &str) -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|dir| dir.join(tool))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("{tool} is not on PATH (the README's test command installs the tools)")
        })
}

/// Several replicas on S3 with the strict spread, four replicas: the
/// PodDisruptionBudget and the topologySpreadConstraint the API server
/// would get pass the schema validator, and say what the plan says.
#[test]
fn disruption_budget_and_strict_spread_pass_the_schema_validator() {
    let mut config = common::load(&common::workspace().join("examples/s3-replicas.yaml"));
    config.replicas = 4;
    config.spread = registry_gen::Spread::Strict;
    let (_tmp, b) = written(&config);
    let deployment = std::fs::read_to_string(b.join("manifests/deployment.yaml")).unwrap();
    assert!(
        deployment.contains("whenUnsatisfiable: DoNotSchedule"),
        "{deployment}"
    );
    assert!(deployment.contains("maxUnavailable: 0"), "{deployment}");
    let pdb = std::fs::read_to_string(b.join("manifests/poddisruptionbudget.yaml")).unwrap();
    assert!(pdb.contains("maxUnavailable: 1"), "{pdb}");
    kubernetes_validate(&[
        b.join("manifests/deployment.yaml"),
        b.join("manifests/poddisruptionbudget.yaml"),
    ]);
}
