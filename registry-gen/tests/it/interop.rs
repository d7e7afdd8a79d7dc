//! Real tools judge the bundle: openssl, kubectl kustomize, the
//! kubernetes-validate schema validator (PyPI), shellcheck, Apache's htpasswd and
//! the CNCF distribution registry (Debian's docker-registry). A missing tool
//! is a failure, never a skip: the README's test command installs them.

use std::io::Write;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::{apps::v1 as apps, core::v1 as core};
use registry_gen::Config;

use crate::common;

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
    v
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
        checks.push((
            "-verify_hostname",
            format!("{}.{}.svc", config.name, config.namespace),
        ));
        for (flag, value) in checks {
            let out = run(Command::new("openssl")
                .args([
                    "verify",
                    "-x509_strict",
                    "-purpose",
                    "sslserver",
                    flag,
                    &value,
                    "-CAfile",
                ])
                .arg(certs.join("ca.crt"))
                .arg(certs.join("server.crt")));
            assert!(out.contains(": OK"), "{value}: {out}");
        }
        // And a name that is not in the certificate is refused.
        let out = Command::new("openssl")
            .args([
                "verify",
                "-verify_hostname",
                "not-in-the-cert.test",
                "-CAfile",
            ])
            .arg(certs.join("ca.crt"))
            .arg(certs.join("server.crt"))
            .output()
            .unwrap();
        assert!(
            !out.status.success(),
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
        // Every manifest, the pull-test Pod under manifests/tests/ included.
        let manifests: Vec<PathBuf> = files_under(&b.join("manifests"))
            .into_iter()
            .filter(|p| !p.ends_with("kustomization.yaml"))
            .collect();
        let listed = manifests
            .iter()
            .filter(|p| !p.starts_with(b.join("manifests/tests")))
            .count();
        assert_eq!(
            built.matches("\nkind: ").count() + usize::from(built.starts_with("kind: ")),
            listed
        );
        let out = run(Command::new("python3")
            .args([
                "-m",
                "kubernetes_validate",
                "--strict",
                "--kubernetes-version",
                "1.33.0",
            ])
            .args(&manifests));
        assert!(!out.contains("ERROR") && !out.contains("WARN"), "{out}");
    }
}

#[test]
fn shellcheck_passes_the_scripts() {
    for config in all_configs() {
        let (_tmp, b) = written(&config);
        let scripts = files_under(&b.join("scripts"));
        assert_eq!(scripts.len(), 4, "{scripts:?}");
        run(Command::new("shellcheck")
            .args(["--severity=style", "--shell=bash"])
            .args(&scripts));
        for script in &scripts {
            let help = run(Command::new("bash").arg(script).arg("--help"));
            assert!(help.starts_with("Usage: "), "{}: {help}", script.display());
        }
    }
}

#[test]
fn apache_htpasswd_verifies_every_user() {
    for config in all_configs() {
        let Some(auth) = &config.auth else { continue };
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

/// The registry image's own config file (distribution's
/// cmd/registry/config-example.yml as the v2 and v3 images ship it): the
/// bundle configures everything else through REGISTRY_* variables.
const IMAGE_CONFIG: &str = "version: 0.1\nlog:\n  fields:\n    service: registry\nstorage:\n  cache:\n    blobdescriptor: inmemory\n  filesystem:\n    rootdirectory: /var/lib/registry\nhttp:\n  addr: :5000\n  headers:\n    X-Content-Type-Options: [nosniff]\nhealth:\n  storagedriver:\n    enabled: true\n    interval: 10s\n    threshold: 3\n";

/// Every file below `dir`, sorted.
fn files_under(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Killed(std::process::Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Play the pod: Secrets written where their volumes are mounted, env taken
/// from the rendered Deployment with paths re-rooted into a temp dir, and
/// the real distribution server started with it.
#[test]
fn the_real_registry_serves_tls_and_htpasswd_from_the_rendered_manifests() {
    for auth in [true, false] {
        let port = free_port();
        let mut config = Config::embedded_default();
        config.addresses.node_ips = vec!["127.0.0.1".parse().unwrap()];
        config.addresses.dns_names = vec!["localhost".into()];
        config.ports.container = port;
        config.ports.host = Some(port);
        if !auth {
            config.auth = None;
        }
        let (tmp, b) = written(&config);
        let root = tmp.path().join("pod");
        let d: apps::Deployment = serde_yaml::from_str(
            &std::fs::read_to_string(b.join("manifests/deployment.yaml")).unwrap(),
        )
        .unwrap();
        let pod = d.spec.unwrap().template.spec.unwrap();
        let container = &pod.containers[0];
        let secret_of = |name: &str| -> core::Secret {
            std::fs::read_dir(b.join("manifests"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| {
                    p.file_name()
                        .unwrap()
                        .to_str()
                        .unwrap()
                        .starts_with("secret-")
                })
                .map(|p| {
                    serde_yaml::from_str::<core::Secret>(&std::fs::read_to_string(p).unwrap())
                        .unwrap()
                })
                .find(|s| s.metadata.name.as_deref() == Some(name))
                .unwrap_or_else(|| panic!("no Secret {name}"))
        };
        let reroot = |p: &str| root.join(p.trim_start_matches('/'));
        for m in container.volume_mounts.as_ref().unwrap() {
            let dir = reroot(&m.mount_path);
            std::fs::create_dir_all(&dir).unwrap();
            let v = pod
                .volumes
                .as_ref()
                .unwrap()
                .iter()
                .find(|v| v.name == m.name)
                .unwrap();
            if let Some(s) = &v.secret {
                for (k, data) in secret_of(s.secret_name.as_ref().unwrap()).data.unwrap() {
                    std::fs::write(dir.join(k), data.0).unwrap();
                }
            }
        }
        let mut cmd = Command::new("docker-registry");
        let config_file = root.join("config.yml");
        std::fs::write(&config_file, IMAGE_CONFIG).unwrap();
        cmd.arg("serve")
            .arg(&config_file)
            .env_clear()
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for e in container.env.as_ref().unwrap() {
            let value = match (&e.value, &e.value_from) {
                (Some(v), _) => v.clone(),
                (None, Some(from)) => {
                    let r = from.secret_key_ref.as_ref().unwrap();
                    String::from_utf8(secret_of(&r.name).data.unwrap()[&r.key].0.clone()).unwrap()
                }
                _ => panic!("env {} has no value", e.name),
            };
            let value = if value.starts_with('/') {
                reroot(&value).display().to_string()
            } else {
                value
            };
            cmd.env(&e.name, value);
        }
        let _server = Killed(cmd.spawn().expect("docker-registry (Debian package)"));

        let url = |path: &str| format!("https://localhost:{port}{path}");
        let curl = |path: &str, user: Option<&str>| -> String {
            let mut c = Command::new("curl");
            c.args([
                "--silent",
                "--output",
                "/dev/null",
                "--write-out",
                "%{http_code}",
                "--cacert",
            ])
            .arg(
                b.join("trust/docker/certs.d")
                    .join(format!("localhost:{port}"))
                    .join("ca.crt"),
            );
            if let Some(u) = user {
                c.args(["--config", "-"]).stdin(Stdio::piped());
                let mut child = c.arg(url(path)).stdout(Stdio::piped()).spawn().unwrap();
                writeln!(
                    child.stdin.take().unwrap(),
                    "user = \"{u}:{}\"",
                    common::password(u)
                )
                .unwrap();
                return String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap();
            }
            String::from_utf8(c.arg(url(path)).output().unwrap().stdout).unwrap()
        };
        let start = Instant::now();
        while curl("/", None) != "200" {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the registry did not come up on {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        if auth {
            assert_eq!(curl("/v2/", None), "401", "without credentials");
            assert_eq!(
                curl("/v2/", Some("admin")),
                "200",
                "with the generated user's credentials"
            );
        } else {
            assert_eq!(curl("/v2/", None), "200");
        }
        // The bundle's own verify.sh, from a client: handshake, 401, login.
        let verify = Command::new("bash")
            .arg(b.join("scripts/verify.sh"))
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&verify.stdout).into_owned()
            + &String::from_utf8_lossy(&verify.stderr);
        assert!(verify.status.success(), "{said}");
        for ep in [format!("127.0.0.1:{port}"), format!("localhost:{port}")] {
            assert!(
                said.contains(&format!("ok: {ep} presents a certificate")),
                "{said}"
            );
        }
        if auth {
            assert!(said.contains("ok: admin can log in"), "{said}");
        }
        // skopeo (installed by test.sh) pushes the image verify.sh builds and pulls it back.
        for ep in [format!("127.0.0.1:{port}"), format!("localhost:{port}")] {
            assert!(
                said.contains(&format!(
                    "ok: pushed and pulled {ep}/registry-gen-verify:latest (sha256:"
                )),
                "{said}"
            );
        }
        // ... and it fails when the CA is not the one that signed.
        let other = {
            // A CA of its own key (the fixtures would give the same CA again).
            let c = Config::embedded_default();
            let mut inputs = registry_gen::Inputs::new(common::NOW);
            inputs.fill_missing(&c).unwrap();
            registry_gen::render(&c, &inputs).unwrap()
        };
        let ca = std::fs::read(b.join("certs/ca.crt")).unwrap();
        std::fs::write(
            b.join("certs/ca.crt"),
            &other.get("certs/ca.crt").unwrap().contents,
        )
        .unwrap();
        let verify = Command::new("bash")
            .arg(b.join("scripts/verify.sh"))
            .output()
            .unwrap();
        assert!(!verify.status.success());
        assert!(String::from_utf8_lossy(&verify.stderr)
            .contains("does not verify against certs/ca.crt"));
        std::fs::write(b.join("certs/ca.crt"), ca).unwrap();

        // TLS verification really happens: the system CAs alone refuse it.
        let refused = Command::new("curl")
            .args(["--silent", "--output", "/dev/null"])
            .arg(url("/v2/"))
            .status()
            .unwrap();
        assert!(
            !refused.success(),
            "curl trusted the registry without the bundle's CA"
        );
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
        let checks = address_checks(&config);
        for (flag, value) in checks {
            run(Command::new("openssl")
                .args([
                    "verify",
                    "-x509_strict",
                    "-purpose",
                    "sslserver",
                    flag,
                    &value,
                    "-CAfile",
                    "certs/ca.crt",
                    "certs/server.crt",
                ])
                .current_dir(&work));
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
            run(Command::new("openssl")
                .args([
                    "verify",
                    "-x509_strict",
                    "-purpose",
                    "sslserver",
                    "-attime",
                    &attime,
                    flag,
                    &value,
                    "-CAfile",
                ])
                .arg(certs.join("ca.crt"))
                .arg(certs.join("server.crt")));
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
        };
        assert!(text.contains(expected), "{}: {text}", alg.as_str());
    }
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
        let mut expected = applied.join("\n");
        expected.push_str(&format!(
            "\n--context=c --namespace {} rollout status deployment/{} --timeout=300s\n",
            config.namespace, config.name
        ));
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

        let delete = script("delete.sh", &[]);
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
        let purge = script("delete.sh", &["--purge-data"]);
        assert_eq!(purge.lines().count(), k.resources.len(), "{purge}");
    }
}

/// trust-node.sh installs exactly the bundle's trust trees under --root and
/// never edits containerd's config, only says what to add.
#[test]
fn trust_node_installs_the_trust_files_and_explains_config_path() {
    let config = common::load(&common::examples()[1]);
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

/// The opt-in trust DaemonSet's script, run under a temp root: it writes
/// exactly the bundle's containerd and Docker trust trees, and passes shellcheck.
#[test]
fn the_trust_daemonset_script_installs_the_bundle_trees() {
    let mut config = common::load(&common::examples()[1]);
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
    let root = tmp.path().join("node");
    run(Command::new("sh")
        .arg(&script)
        .arg("--once")
        .env("TRUST_ROOT", &root));
    for (from, to) in [
        ("trust/containerd/certs.d", "etc/containerd/certs.d"),
        ("trust/docker/certs.d", "etc/docker/certs.d"),
    ] {
        let src = files_under(&b.join(from));
        let dst = files_under(&root.join(to));
        assert_eq!(src.len(), dst.len(), "{from}");
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
}
