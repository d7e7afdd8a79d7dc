//! The `registry-gen` binary as users run it: help, exit codes, errors that
//! write nothing, re-renders that keep the CA, passwords from stdin, and
//! the stdout stream.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::{
    bin, fails, mode, ok, run, run_in, run_with, says, snapshot, stderr, stdout, workspace,
};
use crate::support::{openssl_ca, openssl_verify, self_signed};

/// `registry-gen render --out OUT FLAGS`, run in the workspace.
fn render(out: &Path, flags: &[&str], stdin: Option<&str>) -> Output {
    let mut args = vec!["render", "--out", out.to_str().unwrap()];
    args.extend_from_slice(flags);
    run(&args, stdin)
}

#[test]
fn every_help_reads_well() {
    for (name, args) in [
        ("help", &["--help"][..]),
        ("render-help", &["render", "--help"]),
        ("init-help", &["init", "--help"]),
        ("check-help", &["check", "--help"]),
        ("completions-help", &["completions", "--help"]),
    ] {
        let o = run(args, None);
        ok(&o);
        snapshot(name, &stdout(&o));
    }
}

/// Refused runs: each exits with its code, says why on stderr, prints
/// nothing on stdout and writes nothing (it runs in an empty directory).
#[test]
fn refused_runs_exit_with_their_code_say_why_and_write_nothing() {
    for (args, stdin, code, says) in [
        // Usage errors (clap's exit code 2).
        (
            &["render", "--node-ip", "not-an-ip"][..],
            None,
            2,
            "invalid value 'not-an-ip' for '--node-ip <IP>'",
        ),
        (
            &["render", "--key-algorithm", "dsa"],
            None,
            2,
            "expected one of ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072, rsa-4096",
        ),
        (
            &["render", "--password-stdin"],
            None,
            2,
            "the following required arguments were not provided:\n  --user <NAME>",
        ),
        (
            &["render", "--check"],
            None,
            2,
            "the following required arguments were not provided:\n  --out <DIR>",
        ),
        (
            &["render", "--check", "--format", "tar", "--out", "y"],
            None,
            2,
            "the argument '--check' cannot be used with '--format <FORMAT>'",
        ),
        (
            &["completions", "tcsh"],
            None,
            2,
            "invalid value 'tcsh' for '<SHELL>'",
        ),
        // Input that cannot be used (1).
        (
            &[
                "render",
                "--config",
                "/nonexistent/registry-gen.yaml",
                "--out",
                "out",
            ],
            None,
            1,
            "--config: reading /nonexistent/registry-gen.yaml: No such file",
        ),
        (
            &["check", "--config", "missing.yaml"],
            None,
            1,
            "--config: reading missing.yaml: No such file",
        ),
        (
            &["render", "--host-path", "/data/registry", "--out", "out"],
            None,
            1,
            "--host-path needs --host-path-node NODE",
        ),
        (
            &["render"],
            None,
            1,
            "without --out there is nowhere to keep a generated CA key",
        ),
        (
            &["render", "--format", "yaml", "--out", "y"],
            None,
            1,
            "--format yaml prints freshly made manifests and takes no --out",
        ),
        (
            &["render", "--format", "tar", "--out", "y", "--new-ca"],
            None,
            1,
            "it takes no CA step (--new-ca, --rotate-ca)",
        ),
        (
            &[
                "render",
                "--out",
                "out",
                "--user",
                "bob",
                "--password-stdin",
            ],
            Some(""),
            1,
            "--password-stdin: standard input held no password",
        ),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let o = run_with(tmp.path(), args, &[], stdin);
        fails(&o, code, says);
        assert_eq!(stdout(&o), "", "{args:?} printed to stdout");
        assert_eq!(
            std::fs::read_dir(tmp.path()).unwrap().count(),
            0,
            "{args:?} wrote a file"
        );
    }
}

#[test]
fn a_bad_config_exits_2_names_every_field_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let cfg = tmp.path().join("bad.yaml");
    std::fs::write(
        &cfg,
        "namespace: Bad_NS\naddresses:\n  node_ips: [0.0.0.0]\nports: {node: 80}\n",
    )
    .unwrap();
    let o = render(&out, &["--config", cfg.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.starts_with("registry-gen: error: invalid config (3 problems):"),
        "{err}"
    );
    for field in [
        "namespace: \"Bad_NS\"",
        "addresses.node_ips[0]: 0.0.0.0",
        "ports.node: 80",
    ] {
        assert!(err.contains(field), "{field} missing from: {err}");
    }
    assert!(!out.exists(), "a failed render wrote {}", out.display());
}

#[test]
fn render_writes_the_bundle_and_a_rerender_keeps_ca_passwords_and_http_secret() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = render(&out, &[], None);
    ok(&o);
    let err = stderr(&o);
    assert!(
        err.contains("registry-gen: warning: storage is empty_dir"),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "password: {}",
            out.join("auth/admin.password").display()
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("next: {}", out.join("scripts/start.sh").display())),
        "{err}"
    );
    assert!(
        stdout(&o).is_empty(),
        "stdout is kept for data: {}",
        stdout(&o)
    );
    for (p, m) in [
        ("certs/ca.key", 0o600),
        ("certs/server.key", 0o600),
        ("auth/htpasswd", 0o600),
        ("auth/admin.password", 0o600),
        ("manifests/secret-tls.yaml", 0o600),
        ("certs/server.crt", 0o644),
        ("scripts/start.sh", 0o755),
        ("certs", 0o700),
        ("auth", 0o700),
    ] {
        assert_eq!(mode(&out.join(p)), m, "{p}");
    }
    let password = std::fs::read_to_string(out.join("auth/admin.password")).unwrap();
    assert!(
        password.trim().len() >= 22,
        "a generated password carries at least 128 bits"
    );
    assert!(!err.contains(password.trim()), "the password was printed");

    let keep = [
        "certs/ca.crt",
        "certs/ca.key",
        "auth/admin.password",
        "auth/http-secret",
    ];
    let before: Vec<Vec<u8>> = keep
        .iter()
        .map(|p| std::fs::read(out.join(p)).unwrap())
        .collect();
    let server_before = std::fs::read(out.join("certs/server.crt")).unwrap();
    let rerender = || render(&out, &["--dns-name", "registry.example.test"], None);
    let o = rerender();
    ok(&o);
    says(&o, "kept the existing CA");
    assert!(!stderr(&o).contains("CA key:"), "{}", stderr(&o));
    for (p, b) in keep.iter().zip(&before) {
        assert_eq!(
            &std::fs::read(out.join(p)).unwrap(),
            b,
            "{p} changed on re-render"
        );
    }
    let server_after = std::fs::read(out.join("certs/server.crt")).unwrap();
    assert_ne!(server_before, server_after);
    says(&o, "issued a new server certificate: the earlier one has CN localhost, not registry.example.test");
    // Nothing changed: the server certificate stays, byte for byte.
    let o = rerender();
    ok(&o);
    says(&o, "kept the server certificate: it names every address");
    assert_eq!(
        std::fs::read(out.join("certs/server.crt")).unwrap(),
        server_after
    );
    let verify = openssl_verify(
        &out.join("certs/ca.crt"),
        &out.join("certs/server.crt"),
        &["-verify_hostname", "registry.example.test"],
    );
    assert!(
        verify.is_ok(),
        "the new server cert is signed by the kept CA: {verify:?}"
    );
}

#[test]
fn an_existing_ca_is_never_overwritten() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    ok(&render(&out, &[], None));
    let ca = std::fs::read(out.join("certs/ca.crt")).unwrap();
    std::fs::remove_file(out.join("certs/ca.key")).unwrap();
    let o = render(&out, &[], None);
    fails(&o, 1, "certs/ca.key: is missing while certs/ca.crt exists");
    assert_eq!(std::fs::read(out.join("certs/ca.crt")).unwrap(), ca);
    assert!(!out.join("certs/ca.key").exists());
}

#[test]
fn password_stdin_sets_the_users_password_and_it_is_never_written_or_printed() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let pw = "correct horse battery staple";
    let o = render(
        &out,
        &["--user", "alice", "--password-stdin"],
        Some(&format!("{pw}\n")),
    );
    ok(&o);
    assert!(!stderr(&o).contains(pw) && !stdout(&o).contains(pw));
    assert!(
        !out.join("auth/alice.password").exists(),
        "a given password is not stored"
    );
    let htpasswd = std::fs::read_to_string(out.join("auth/htpasswd")).unwrap();
    let (user, hash) = htpasswd.trim().split_once(':').unwrap();
    assert_eq!(user, "alice");
    assert!(bcrypt::verify(pw, hash).unwrap());

    // Re-rendering without the password keeps it: the bundle holds the
    // pull user's login (k3s registries.yaml), taken back only while it
    // reproduces the htpasswd line.
    ok(&render(&out, &["--user", "alice"], None));
    assert_eq!(
        std::fs::read_to_string(out.join("auth/htpasswd")).unwrap(),
        htpasswd
    );
    // Where the bundle no longer holds it, it can't silently be replaced.
    std::fs::remove_file(out.join("trust/k3s/registries.yaml")).unwrap();
    let o = render(&out, &["--user", "alice"], None);
    fails(
        &o,
        1,
        "the password of user \"alice\": was given last time and is not stored",
    );
    assert_eq!(
        std::fs::read_to_string(out.join("auth/htpasswd")).unwrap(),
        htpasswd
    );
}

#[test]
fn stdout_mode_needs_a_ca_to_sign_with_and_then_prints_the_stream() {
    // Without a CA: see refused_runs_exit_with_their_code_say_why_and_write_nothing.
    // A "cluster CA": the CA of another bundle.
    let tmp = tempfile::tempdir().unwrap();
    let other = tmp.path().join("other");
    ok(&render(&other, &[], None));
    let (ca_crt, ca_key) = (other.join("certs/ca.crt"), other.join("certs/ca.key"));
    let args = [
        "render",
        "--ca-cert",
        ca_crt.to_str().unwrap(),
        "--ca-key",
        ca_key.to_str().unwrap(),
    ];
    let o = run(&args, None);
    fails(
        &o,
        1,
        "nowhere to keep a generated password for user \"admin\"",
    );

    let mut with_user = args.to_vec();
    with_user.extend(["--user", "ci", "--password-stdin"]);
    let o = run(&with_user, Some("s3cret-pw\n"));
    ok(&o);
    let stream = stdout(&o);
    assert_eq!(
        stream.lines().filter(|l| *l == "---").count(),
        7,
        "{stream}"
    );
    for kind in ["kind: Secret", "kind: Deployment", "kind: Service"] {
        assert!(stream.contains(kind), "{kind}");
    }
    let key_b64 = {
        let key = std::fs::read_to_string(&ca_key).unwrap();
        let body: String = key.lines().filter(|l| !l.starts_with("-----")).collect();
        body[..40].to_owned()
    };
    assert!(
        !stream.contains(&key_b64),
        "the CA key leaked into the stream"
    );
}

#[test]
fn flags_override_the_config_file() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = render(
        &out,
        &[
            "--config",
            "examples/nodeport-htpasswd.yaml",
            "--namespace",
            "registry",
            "--node-ip",
            "127.0.0.2",
            "--node-ip",
            "::1",
            "--dns-name",
            "registry.test",
            "--nfs-server",
            "nfs.test",
            "--nfs-path",
            "/exports/registry",
            "--storage-size",
            "23Gi",
            "--host-port",
            "5000",
            "--key-algorithm",
            "ecdsa-p384",
        ],
        None,
    );
    ok(&o);
    let effective = std::fs::read_to_string(out.join("registry-gen.yaml")).unwrap();
    snapshot("flags-override-effective-config", &effective);
    let cert = std::fs::read(out.join("certs/server.crt")).unwrap();
    let (_, pem) = x509_parser::pem::parse_x509_pem(&cert).unwrap();
    let cert = pem.parse_x509().unwrap();
    let sans = format!(
        "{:?}",
        cert.subject_alternative_name()
            .unwrap()
            .unwrap()
            .value
            .general_names
    );
    assert!(
        sans.contains("registry.test")
            && sans.contains("registry.registry.svc")
            && !sans.contains("yuan.com"),
        "{sans}"
    );
    assert!(out.join("manifests/namespace.yaml").exists());
    // The flagged bundle is as valid as the examples.
    let k = Command::new("kubectl")
        .arg("kustomize")
        .arg(out.join("manifests"))
        .output()
        .expect("kubectl");
    assert!(k.status.success(), "{}", String::from_utf8_lossy(&k.stderr));
    let manifests: Vec<PathBuf> = std::fs::read_dir(out.join("manifests"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && !p.ends_with("kustomization.yaml"))
        .collect();
    crate::support::kubernetes_validate(&manifests);
    assert!(out.join("trust/docker/certs.d/[::1]:5000/ca.crt").exists());
    assert!(out
        .join("trust/docker/certs.d/registry.test:30443/ca.crt")
        .exists());
}

#[test]
fn source_date_epoch_sets_the_clock() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = bin()
        .args(["render", "--out", out.to_str().unwrap()])
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .output()
        .unwrap();
    ok(&o);
    let cert = std::fs::read(out.join("certs/server.crt")).unwrap();
    let (_, pem) = x509_parser::pem::parse_x509_pem(&cert).unwrap();
    assert_eq!(
        pem.parse_x509().unwrap().validity().not_before.timestamp(),
        1_767_225_600
    );
}

#[test]
fn paths_in_a_config_file_are_relative_to_it_and_saved_absolute() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("conf");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("alice.pw"), "from-a-file\n").unwrap();
    std::fs::write(
        dir.join("c.yaml"),
        "addresses: {node_ips: [127.0.0.1]}\nports: {host: 5000}\nauth:\n  users: [{name: alice, password_file: alice.pw}]\n",
    )
    .unwrap();
    let out = tmp.path().join("out");
    let o = render(
        &out,
        &["--config", dir.join("c.yaml").to_str().unwrap()],
        None,
    );
    ok(&o);
    let htpasswd = std::fs::read_to_string(out.join("auth/htpasswd")).unwrap();
    assert!(bcrypt::verify("from-a-file", htpasswd.trim().split_once(':').unwrap().1).unwrap());
    let effective = std::fs::read_to_string(out.join("registry-gen.yaml")).unwrap();
    assert!(
        effective.contains(&format!(
            "password_file: {}",
            dir.join("alice.pw").display()
        )),
        "{effective}"
    );
    // The bundle re-renders from its own effective config, from any directory.
    let o = render(
        &out,
        &["--config", out.join("registry-gen.yaml").to_str().unwrap()],
        None,
    );
    ok(&o);
}

#[test]
fn a_rerender_removes_what_it_no_longer_writes_and_nothing_else() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = render(&out, &["--dns-name", "old.test"], None);
    ok(&o);
    assert!(out
        .join("trust/docker/certs.d/old.test:5000/ca.crt")
        .exists());
    assert!(out.join("auth/admin.password").exists());
    std::fs::write(out.join("trust/notes.txt"), "mine\n").unwrap();

    let o = render(
        &out,
        &[
            "--dns-name",
            "new.test",
            "--user",
            "admin",
            "--password-stdin",
        ],
        Some("given-now\n"),
    );
    ok(&o);
    assert!(
        !out.join("trust/docker/certs.d/old.test:5000").exists(),
        "the dropped address's trust dir stayed"
    );
    assert!(out
        .join("trust/docker/certs.d/new.test:5000/ca.crt")
        .exists());
    assert!(
        !out.join("auth/admin.password").exists(),
        "a stale generated password stayed beside the given one"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("trust/notes.txt")).unwrap(),
        "mine\n",
        "a user's file was touched"
    );
    assert!(out.join("certs/ca.key").exists());
}

#[test]
fn signs_with_a_given_ca_in_every_key_format_openssl_writes() {
    let formats = [
        (
            "pkcs1-rsa",
            "openssl genrsa -traditional 2048 2>/dev/null",
            "BEGIN RSA PRIVATE KEY",
        ),
        (
            "sec1-ec",
            "openssl ecparam -name prime256v1 -genkey -noout",
            "BEGIN EC PRIVATE KEY",
        ),
        (
            "pkcs8-ec384",
            "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384",
            "BEGIN PRIVATE KEY",
        ),
    ];
    for (name, genkey, header) in formats {
        let tmp = tempfile::tempdir().unwrap();
        let (ca_crt, ca_key) = openssl_ca(tmp.path(), genkey, "365");
        assert!(
            std::fs::read_to_string(&ca_key).unwrap().contains(header),
            "{name}"
        );
        let out = tmp.path().join("out");
        let args = [
            "render",
            "--out",
            out.to_str().unwrap(),
            "--ca-cert",
            ca_crt.to_str().unwrap(),
            "--ca-key",
            ca_key.to_str().unwrap(),
            "--node-ip",
            "10.131.82.54",
            "--dns-name",
            "yuan.test",
        ];
        let o = run(&args, None);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        assert!(
            !out.join("certs/ca.key").exists(),
            "{name}: the given CA key was copied into the bundle"
        );
        assert_eq!(
            std::fs::read(out.join("certs/ca.crt")).unwrap(),
            std::fs::read(&ca_crt).unwrap(),
            "{name}"
        );
        let cert = out.join("certs/server.crt");
        for (flags, accepted) in [
            (["-verify_ip", "10.131.82.54"], true),
            (["-verify_hostname", "yuan.test"], true),
            (["-verify_hostname", "other.test"], false),
        ] {
            let verdict = openssl_verify(&ca_crt, &cert, &flags);
            assert_eq!(verdict.is_ok(), accepted, "{name} {flags:?}: {verdict:?}");
        }
        let key = std::fs::read_to_string(out.join("certs/server.key")).unwrap();
        assert!(
            key.starts_with("-----BEGIN PRIVATE KEY-----"),
            "{name}: the server key is PKCS#8"
        );
        // Re-rendering with the same CA keeps the server certificate.
        let again = run(&args, None);
        assert!(again.status.success(), "{name}: {}", stderr(&again));
        assert!(
            stderr(&again).contains("kept the server certificate"),
            "{name}: {}",
            stderr(&again)
        );
    }
}

#[test]
fn a_wrong_given_ca_is_named_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let (ca_crt, ca_key) = openssl_ca(
        tmp.path(),
        "openssl genrsa -traditional 2048 2>/dev/null",
        "30",
    );
    let other_key = tmp.path().join("other.key");
    let o = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
        ])
        .arg(&other_key)
        .output()
        .unwrap();
    assert!(o.status.success());
    let out = tmp.path().join("out");
    let with_ca = |crt: &Path, key: &Path, epoch: Option<&str>| {
        let mut c = bin();
        c.args([
            "render",
            "--out",
            out.to_str().unwrap(),
            "--ca-cert",
            crt.to_str().unwrap(),
            "--ca-key",
            key.to_str().unwrap(),
        ]);
        if let Some(e) = epoch {
            c.env("SOURCE_DATE_EPOCH", e);
        }
        c.output().unwrap()
    };

    let in_a_year = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 365 * 86400)
        .to_string();
    // A server certificate is not a CA.
    let bundle = tmp.path().join("bundle");
    ok(&render(&bundle, &[], None));
    let (server_crt, server_key) = (
        bundle.join("certs/server.crt"),
        bundle.join("certs/server.key"),
    );
    for (crt, key, epoch, says) in [
        (
            &ca_crt,
            &other_key,
            None,
            "tls.ca.cert_file: (CN=kubernetes) does not belong to the given CA key",
        ),
        (
            &ca_crt,
            &ca_key,
            Some(in_a_year.as_str()),
            "tls.ca.cert_file: (CN=kubernetes) expired on",
        ),
        (&server_crt, &server_key, None, "is not a CA certificate"),
        (
            &ca_crt,
            &ca_crt,
            None,
            "tls.ca.key_file: is not a usable private key",
        ),
    ] {
        fails(&with_ca(crt, key, epoch), 1, says);
        assert!(!out.exists(), "a refused render wrote files ({says})");
    }
}

/// Moving a bundle from its generated CA to the cluster's: refused
/// without --new-ca, done with it, the old CA kept aside.
#[test]
fn a_given_ca_replaces_a_generated_one_only_with_new_ca() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = render(&out, &[], None);
    ok(&o);
    let old_ca = std::fs::read(out.join("certs/ca.crt")).unwrap();
    let pki = tmp.path().join("pki");
    std::fs::create_dir(&pki).unwrap();
    let (crt, key) = openssl_ca(&pki, "openssl genrsa -traditional 2048", "365");
    let given = |extra: &[&str]| {
        let mut args = vec![
            "render",
            "--ca-cert",
            crt.to_str().unwrap(),
            "--ca-key",
            key.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        run(&args, None)
    };
    let o = given(&[]);
    fails(&o, 1, "an existing CA is never overwritten");
    says(&o, "--new-ca");
    assert_eq!(std::fs::read(out.join("certs/ca.crt")).unwrap(), old_ca);

    let o = given(&["--new-ca"]);
    ok(&o);
    assert_eq!(
        std::fs::read(out.join("certs/ca.crt")).unwrap(),
        std::fs::read(&crt).unwrap()
    );
    assert!(
        !out.join("certs/ca.key").exists(),
        "the given CA's key entered the bundle"
    );
    let aside: Vec<String> = std::fs::read_dir(out.join("certs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("ca.crt.") || n.starts_with("ca.key."))
        .collect();
    assert_eq!(aside.len(), 2, "{aside:?}");
    assert!(openssl_verify(
        &crt,
        &out.join("certs/server.crt"),
        &["-verify_hostname", "localhost"]
    )
    .is_ok());
    // Re-rendering with the same given CA is fine now.
    assert!(given(&[]).status.success());
}

#[test]
fn new_ca_sets_the_old_one_aside_and_reissues_the_server_certificate() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    assert!(run(&["render", "--out", out.to_str().unwrap()], None)
        .status
        .success());
    let old_ca = std::fs::read(out.join("certs/ca.crt")).unwrap();
    let old_key = std::fs::read(out.join("certs/ca.key")).unwrap();
    let o = bin()
        .args(["render", "--new-ca", "--out", out.to_str().unwrap()])
        .env("SOURCE_DATE_EPOCH", "1800000000")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(out.join("certs/ca.crt.20270115T080000Z")).unwrap(),
        old_ca
    );
    assert_eq!(
        std::fs::read(out.join("certs/ca.key.20270115T080000Z")).unwrap(),
        old_key
    );
    assert_eq!(mode(&out.join("certs/ca.key.20270115T080000Z")), 0o600);
    assert_ne!(std::fs::read(out.join("certs/ca.crt")).unwrap(), old_ca);
    let d = out.display();
    assert!(
        stderr(&o).contains(&format!(
            "kept the old CA file {d}/certs/ca.crt as {d}/certs/ca.crt.20270115T080000Z\n\
             kept the old CA file {d}/certs/ca.key as {d}/certs/ca.key.20270115T080000Z\n"
        )),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o)
            .contains("issued a new server certificate: the earlier one was not signed by this CA"),
        "{}",
        stderr(&o)
    );
    let verify = Command::new("openssl")
        .args([
            "verify",
            "-attime",
            "1800000060",
            "-verify_hostname",
            "localhost",
            "-CAfile",
        ])
        .arg(out.join("certs/ca.crt"))
        .arg(out.join("certs/server.crt"))
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    // The trust files follow the new CA.
    assert_eq!(
        std::fs::read(out.join("trust/ca.crt")).unwrap(),
        std::fs::read(out.join("certs/ca.crt")).unwrap()
    );
    // A later plain render reuses the new CA and keeps the old one aside.
    let new_ca = std::fs::read(out.join("certs/ca.crt")).unwrap();
    let o = bin()
        .args(["render", "--out", out.to_str().unwrap()])
        .env("SOURCE_DATE_EPOCH", "1800000000")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(out.join("certs/ca.crt")).unwrap(), new_ca);
    assert_eq!(
        std::fs::read(out.join("certs/ca.key.20270115T080000Z")).unwrap(),
        old_key
    );

    let o = run(&["render", "--new-ca"], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("--new-ca replaces the CA of the bundle in --out; it needs --out DIR"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn inspect_reports_a_bundle_and_judges_foreign_certificates() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    ok(&render(&out, &["--node-ip", "10.0.0.7"], None));
    let o = run(&["inspect", out.to_str().unwrap()], None);
    ok(&o);
    let report = stdout(&o);
    for line in [
        "certs/server.crt\n  subject:  O=registry-gen, CN=localhost\n",
        "  names:    IP:10.0.0.7, DNS:localhost, DNS:kube-registry,",
        "certs/ca.crt (CA)\n",
        "chain: ok, certs/server.crt is signed by certs/ca.crt\n",
        "(824 days left)",
    ] {
        assert!(report.contains(line), "{line:?} missing from:\n{report}");
    }

    // The bundle's config lists an address the certificate lacks.
    let cfg = tmp.path().join("more.yaml");
    std::fs::write(&cfg, "addresses: {node_ips: [10.0.0.7, 10.0.0.8], dns_names: [localhost]}\nports: {host: 5000}\n").unwrap();
    let o = run(
        &[
            "inspect",
            out.to_str().unwrap(),
            "--config",
            cfg.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("problem: certs/server.crt: does not name IP:10.0.0.8"),
        "{}",
        stdout(&o)
    );

    // A CN-only certificate that expires soon, made by openssl.
    let cn_only = tmp.path().join("cn-only.pem");
    self_signed(
        &cn_only,
        "yuan.com",
        "10",
        &["basicConstraints=critical,CA:FALSE"],
    );
    let o = run(&["inspect", cn_only.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(1));
    let report = stdout(&o);
    assert!(
        report.contains("has no subjectAltName, only a CN (CN=yuan.com): Go clients"),
        "{report}"
    );
    assert!(
        report.contains("warning: ") && report.contains(" expires in 9 days, on "),
        "{report}"
    );

    // A server certificate with the wrong CA, in one PEM file.
    let other = tmp.path().join("other");
    ok(&render(&other, &[], None));
    let mixed = tmp.path().join("mixed.pem");
    let mut pem = std::fs::read(out.join("certs/server.crt")).unwrap();
    pem.extend(std::fs::read(other.join("certs/ca.crt")).unwrap());
    std::fs::write(&mixed, pem).unwrap();
    let o = run(&["inspect", mixed.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("chain: FAILS, "), "{}", stdout(&o));
    assert!(
        stdout(&o).contains(&format!("{} #1", mixed.display())),
        "{}",
        stdout(&o)
    );

    // Expired, on a clock two years and a half ahead.
    let later = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 900 * 86400)
        .to_string();
    let o = bin()
        .args(["inspect", out.to_str().unwrap()])
        .env("SOURCE_DATE_EPOCH", later)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("problem: certs/server.crt: expired on"),
        "{}",
        stdout(&o)
    );

    let o = run(&["inspect", cfg.to_str().unwrap()], None);
    fails(&o, 1, "holds no PEM certificate");
}

// ---- init, check, schema, completions, man, --quiet, colour, tar ----

/// Every property path of the schema `registry-gen schema` prints.
fn schema_paths() -> Vec<String> {
    let o = run(&["schema"], None);
    ok(&o);
    let schema: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    crate::support::schema_paths(&schema)
}

#[test]
fn init_writes_a_commented_config_and_its_schema_and_never_overwrites() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run_in(tmp.path(), &["init"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    snapshot("init-stderr", &stderr(&o));
    let cfg = tmp.path().join("registry-gen.yaml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    assert!(
        text.starts_with("# yaml-language-server: $schema=registry-gen.schema.json\n"),
        "{text}"
    );
    let schema = std::fs::read(tmp.path().join("registry-gen.schema.json")).unwrap();
    assert_eq!(schema, run(&["schema"], None).stdout);

    // The values are the embedded default's, so it renders as is.
    let parsed = registry_gen::Config::from_yaml(&text).unwrap();
    assert_eq!(parsed, registry_gen::Config::embedded_default());
    let o = run_in(tmp.path(), &["check", "--config", "registry-gen.yaml"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // Every field of the schema is named in it, with a comment above it or
    // beside it (commented-out alternatives count).
    let keys: Vec<String> = text
        .lines()
        .map(|l| l.trim_start_matches([' ', '#', '-']).trim_start())
        .filter_map(|l| l.split_once(':').map(|(k, _)| k.to_owned()))
        .collect();
    for path in schema_paths() {
        let leaf = path.rsplit('.').next().unwrap();
        assert!(
            keys.iter().any(|k| k == leaf)
                || text.contains(&format!("{leaf}: "))
                || text.contains(&format!("{{{leaf}:"))
                || text.contains(&format!(" {leaf}: ")),
            "init's config does not name {path}"
        );
    }

    // A second init leaves the edited file alone.
    std::fs::write(&cfg, "name: mine\n").unwrap();
    let o = run_in(tmp.path(), &["init"], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "registry-gen: error: registry-gen.yaml: exists already; init never overwrites a config: edit it, check it with `registry-gen check --config registry-gen.yaml`, or move it away first\n"
    );
    assert_eq!(std::fs::read_to_string(&cfg).unwrap(), "name: mine\n");

    // `-` prints it; another path beside an existing schema keeps the schema.
    let o = run_in(tmp.path(), &["init", "-"], &[]);
    assert!(o.status.success());
    assert_eq!(stdout(&o), text);
    assert_eq!(stderr(&o), "");
    std::fs::write(tmp.path().join("registry-gen.schema.json"), "{}").unwrap();
    let o = run_in(tmp.path(), &["init", "other.yaml"], &[]);
    ok(&o);
    assert!(stderr(&o).contains("kept the existing registry-gen.schema.json"));
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("registry-gen.schema.json")).unwrap(),
        "{}"
    );
    let o = run_in(tmp.path(), &["--quiet", "init", "third.yaml"], &[]);
    assert!(o.status.success());
    assert_eq!(stderr(&o), "");
}

#[test]
fn check_prints_the_plan_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run_in(tmp.path(), &["check"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");
    snapshot("check-default", &stdout(&o));
    for example in [
        "nodeport-htpasswd",
        "minikube-nfs",
        "shared-pvc-rsa",
        "mirrors",
        "s3-replicas",
    ] {
        let cfg = workspace().join(format!("examples/{example}.yaml"));
        let o = run_in(
            tmp.path(),
            &["check", "--config", cfg.to_str().unwrap()],
            &[],
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        snapshot(&format!("check-{example}"), &stdout(&o));
        // REGISTRY_GEN_CONFIG stands for --config.
        let e = run_in(
            tmp.path(),
            &["check"],
            &[("REGISTRY_GEN_CONFIG", cfg.to_str().unwrap())],
        );
        assert_eq!(e.stdout, o.stdout);
    }
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "check wrote a file"
    );

    // Invalid or unparsable: exit 2, every problem named, nothing on stdout.
    let bad = tmp.path().join("bad.yaml");
    std::fs::write(&bad, "name: Bad\nports: {node: 80}\n").unwrap();
    let o = run_in(tmp.path(), &["check", "--config", "bad.yaml"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stdout(&o), "");
    snapshot("check-invalid", &stderr(&o));
    std::fs::write(&bad, "nodeips: [1.2.3.4]\n").unwrap();
    let o = run_in(tmp.path(), &["check", "--config", "bad.yaml"], &[]);
    fails(&o, 2, "unknown field `nodeips`");
    // A file that cannot be read is a failure, not a usage error: see
    // refused_runs_exit_with_their_code_say_why_and_write_nothing.
}

/// The schema, checked by a real JSON Schema validator (check-jsonschema):
/// every example and the init template pass; broken configs fail where
/// they are broken.
#[test]
fn every_example_validates_against_the_schema_and_a_bad_config_does_not() {
    let tmp = tempfile::tempdir().unwrap();
    let schema = tmp.path().join("registry-gen.schema.json");
    std::fs::write(&schema, run(&["schema"], None).stdout).unwrap();
    let init = tmp.path().join("init.yaml");
    std::fs::write(&init, run(&["init", "-"], None).stdout).unwrap();
    let mut files = crate::support::examples();
    files.push(workspace().join("registry-gen/src/default.yaml"));
    files.push(init);
    let check = |files: &[PathBuf]| {
        Command::new("check-jsonschema")
            .arg("--schemafile")
            .arg(&schema)
            .args(files)
            .output()
            .expect("check-jsonschema is installed (test.sh installs it)")
    };
    let o = check(&files);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));

    for (bad, expect) in [
        ("nme: registry\n", "'nme' was unexpected"),
        (
            "ports: {node: thirty}\n",
            "'thirty' is not of type 'integer', 'null'",
        ),
        (
            "storage: {empty_dir: {}, host_path: {path: /x, node: n}}\n",
            "has too many properties",
        ),
        ("tls: {key_algorithm: dsa}\n", "$.tls.key_algorithm"),
        (
            "auth: {users: [{password_file: x}]}\n",
            "'name' is a required property",
        ),
    ] {
        let f = tmp.path().join("bad.yaml");
        std::fs::write(&f, bad).unwrap();
        let o = check(&[f]);
        assert_eq!(o.status.code(), Some(1), "{bad} passed the schema");
        assert!(stdout(&o).contains(expect), "{bad}: {}", stdout(&o));
        // and registry-gen itself refuses it too.
        let r = run(
            &[
                "check",
                "--config",
                tmp.path().join("bad.yaml").to_str().unwrap(),
            ],
            None,
        );
        assert_eq!(r.status.code(), Some(2), "{bad}: {}", stderr(&r));
    }
}

#[test]
fn completions_and_man_page() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = run(&["completions", shell], None);
        assert!(o.status.success(), "{shell}: {}", stderr(&o));
        let text = stdout(&o);
        for word in ["init", "check", "render", "key-algorithm"] {
            assert!(text.contains(word), "{shell} completion lacks {word}");
        }
    }
    // The bash script is valid bash.
    let tmp = tempfile::tempdir().unwrap();
    let script = tmp.path().join("registry-gen.bash");
    std::fs::write(&script, run(&["completions", "bash"], None).stdout).unwrap();
    let o = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    ok(&o);

    let o = run(&["man"], None);
    assert!(o.status.success());
    let page = stdout(&o);
    assert!(page.contains(".TH registry-gen 1"), "{page}");
    // groff formats it without a warning.
    let man = tmp.path().join("registry-gen.1");
    std::fs::write(&man, &o.stdout).unwrap();
    let o = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .arg(&man)
        .output()
        .expect("groff");
    assert!(o.status.success() && o.stderr.is_empty(), "{}", stderr(&o));
}

#[test]
fn quiet_silences_everything_but_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = run_in(tmp.path(), &["render", "--quiet", "--out", "out"], &[]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stderr(&o), "");
    assert!(out.join("certs/ca.crt").exists());
    // REGISTRY_GEN_QUIET stands for --quiet, and -q works before the subcommand.
    let o = run_in(
        tmp.path(),
        &["render", "--out", "out"],
        &[("REGISTRY_GEN_QUIET", "1")],
    );
    assert_eq!(stderr(&o), "");
    let o = run_in(tmp.path(), &["-q", "render", "--out", "out"], &[]);
    assert_eq!(stderr(&o), "");
    // ...but errors still show.
    let o = run_in(
        tmp.path(),
        &["-q", "render", "--out", "out", "--namespace", "A"],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("registry-gen: error: invalid config"),
        "{}",
        stderr(&o)
    );
    // Without --quiet, a render says what it wrote and what to run next.
    let o = run_in(tmp.path(), &["render", "--out", "out2"], &[]);
    let err = stderr(&o);
    assert!(
        err.contains("wrote ") && err.ends_with("next: out2/scripts/start.sh\n"),
        "{err}"
    );
}

#[test]
fn key_algorithm_comes_from_the_environment_too() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run_in(
        tmp.path(),
        &["render", "--out", "out"],
        &[("REGISTRY_GEN_KEY_ALGORITHM", "rsa-2048")],
    );
    ok(&o);
    let cfg = std::fs::read_to_string(tmp.path().join("out/registry-gen.yaml")).unwrap();
    assert!(cfg.contains("key_algorithm: rsa-2048"), "{cfg}");
    // The flag wins over the variable.
    let o = run_in(
        tmp.path(),
        &["render", "--out", "out2", "--key-algorithm", "ecdsa-p384"],
        &[("REGISTRY_GEN_KEY_ALGORITHM", "rsa-2048")],
    );
    ok(&o);
    let cfg = std::fs::read_to_string(tmp.path().join("out2/registry-gen.yaml")).unwrap();
    assert!(cfg.contains("key_algorithm: ecdsa-p384"), "{cfg}");
}

#[test]
fn colour_only_when_wanted_and_never_with_no_color() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = ["render", "--out", "out", "--namespace", "A"];
    let forced = run_in(tmp.path(), &bad, &[("CLICOLOR_FORCE", "1")]);
    says(&forced, "\x1b[");
    for envs in [
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")][..],
        &[("NO_COLOR", "1")],
        &[],
    ] {
        let o = run_in(tmp.path(), &bad, envs);
        assert!(!stderr(&o).contains('\x1b'), "{envs:?}: {}", stderr(&o));
        let o = run_in(tmp.path(), &["render", "--help"], envs);
        assert!(!stdout(&o).contains('\x1b'), "{envs:?}");
    }
    let help = run_in(tmp.path(), &["--help"], &[("CLICOLOR_FORCE", "1")]);
    assert!(stdout(&help).contains("\x1b["));
    let help = run_in(
        tmp.path(),
        &["--help"],
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")],
    );
    assert!(!stdout(&help).contains('\x1b'));
}

/// `render --format tar`, read back by the real `tar`: every bundle path,
/// its mode, owner 0/0 and the render clock as mtime; extracted with -p it
/// is the same tree that `--out` writes.
#[test]
fn format_tar_streams_the_whole_bundle_with_modes() {
    let tmp = tempfile::tempdir().unwrap();
    let epoch = [("SOURCE_DATE_EPOCH", "1700000000")];
    let cfg = workspace().join("examples/nodeport-htpasswd.yaml");
    let cfg = cfg.to_str().unwrap();
    let o = run_in(
        tmp.path(),
        &["render", "--config", cfg, "--format", "tar"],
        &epoch,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("as a tar stream") && err.contains("holds the CA key and passwords"),
        "{err}"
    );
    let tarball = tmp.path().join("bundle.tar");
    std::fs::write(&tarball, &o.stdout).unwrap();

    let listing = Command::new("tar")
        .args([
            "--list",
            "--verbose",
            "--full-time",
            "--numeric-owner",
            "--file",
        ])
        .arg(&tarball)
        .output()
        .unwrap();
    assert!(listing.status.success(), "{}", stderr(&listing));
    let listing = stdout(&listing);
    let mut listed = Vec::new();
    for line in listing.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(f[1], "0/0", "{line}");
        assert_eq!(
            format!("{} {}", f[3], f[4]),
            "2023-11-14 22:13:20",
            "{line}"
        );
        listed.push(format!("{} {}", f[0], f[5]));
    }
    snapshot("render-tar-listing", &listed.join("\n"));
    for secret in [
        "certs/ca.key",
        "certs/server.key",
        "auth/htpasswd",
        "auth/Yuan.password",
    ] {
        assert!(
            listed.contains(&format!("-rw------- {secret}")),
            "{secret}: {listing}"
        );
    }

    // Extracted, it is what --out writes (paths and modes).
    let x = tmp.path().join("x");
    std::fs::create_dir(&x).unwrap();
    let o = Command::new("tar")
        .args(["-xpf"])
        .arg(&tarball)
        .arg("-C")
        .arg(&x)
        .output()
        .unwrap();
    ok(&o);
    let o = run_in(
        tmp.path(),
        &["render", "--config", cfg, "--out", "dir"],
        &epoch,
    );
    ok(&o);
    // Every path with its mode; the file list is --out's own.
    let modes = |root: &Path| -> Vec<String> {
        crate::support::tree(root)
            .iter()
            .filter(|p| *p != Path::new(".registry-gen-files"))
            .map(|p| format!("{:o} {}", mode(&root.join(p)), p.display()))
            .collect()
    };
    assert_eq!(modes(&x), modes(&tmp.path().join("dir")));
    // The extracted bundle is a working one: its password matches its htpasswd.
    let pw = std::fs::read_to_string(x.join("auth/Yuan.password")).unwrap();
    let htpasswd = std::fs::read_to_string(x.join("auth/htpasswd")).unwrap();
    let hash = htpasswd.trim().strip_prefix("Yuan:").unwrap();
    assert!(bcrypt::verify(pw.trim(), hash).unwrap());
    // --format tar writes to stdout only: with --out it is refused (see
    // refused_runs_exit_with_their_code_say_why_and_write_nothing).
}

/// Every file under `dir` (relative path → bytes).
fn bundle_files(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut std::collections::BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_str().unwrap().to_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The paths whose bytes differ (or that only one side has).
fn changed_files(
    a: &std::collections::BTreeMap<String, Vec<u8>>,
    b: &std::collections::BTreeMap<String, Vec<u8>>,
) -> Vec<String> {
    let mut v: Vec<String> = a
        .keys()
        .chain(b.keys())
        .filter(|p| a.get(*p) != b.get(*p))
        .cloned()
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Re-rendering with the real binary: an unchanged re-render changes no
/// manifest and no Secret (the kept certificate, the kept htpasswd lines),
/// so `start.sh` rolls nothing; a password given anew changes the htpasswd
/// and pull Secrets and leaves the Deployment byte-identical (no rollout:
/// the registry re-reads htpasswd).
#[test]
fn a_rerender_changes_no_secret_and_a_new_password_leaves_the_pod_template() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let out_s = out.to_str().unwrap();
    let render = |pw: &str| {
        let o = run(
            &[
                "render",
                "--out",
                out_s,
                "--user",
                "alice",
                "--password-stdin",
            ],
            Some(&format!("{pw}\n")),
        );
        assert!(o.status.success(), "{}", stderr(&o));
        bundle_files(&out)
    };
    let first = render("the first password");
    let second = render("the first password");
    let third = render("the first password");
    // Byte-identical, the CSR too (the earlier one is kept while it asks
    // for the same): the README says the same of a generated and a kept CA.
    assert!(changed_files(&first, &second).is_empty());
    assert!(changed_files(&second, &third).is_empty());

    let fourth = render("the second password");
    let changed = changed_files(&third, &fourth);
    assert_eq!(
        changed,
        [
            "auth/htpasswd",
            "manifests/secret-htpasswd.yaml",
            "manifests/secret-pull.yaml",
            "trust/k3s/registries.yaml",
        ],
        "a password change touches the credentials only"
    );
    let htpasswd = String::from_utf8(fourth["auth/htpasswd"].clone()).unwrap();
    let (_, hash) = htpasswd.trim().split_once(':').unwrap();
    assert!(bcrypt::verify("the second password", hash).unwrap());
}
