//! CA rotation in steps, unique serials and expiry, through the binary:
//! the files each step leaves, openssl judging the server certificate
//! against the old and the new trust, the bad inputs (a step out of order,
//! a given CA that does not match its key) refused with the bundle
//! untouched, and `inspect --fail-within` with its expiry table.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use crate::common::{bin, fails, ok, stdout, workspace};
use crate::support::{openssl_ca, openssl_verify};

/// 2026-01-01T00:00:00Z, the clock of every render here.
const EPOCH: i64 = 1_767_225_600;

/// `registry-gen render --out OUT --node-ip 10.0.0.5 FLAGS` at `EPOCH` + `days`.
fn render_at(out: &Path, days: i64, flags: &[&str]) -> Output {
    bin()
        .args([
            "render",
            "--out",
            out.to_str().unwrap(),
            "--node-ip",
            "10.0.0.5",
        ])
        .args(flags)
        .env("SOURCE_DATE_EPOCH", (EPOCH + days * 86400).to_string())
        .current_dir(workspace())
        .output()
        .unwrap()
}

/// Every file under `dir` (relative path → bytes).
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    crate::support::files_under(dir)
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(dir).unwrap().display().to_string();
            (rel, std::fs::read(&p).unwrap())
        })
        .collect()
}

/// The paths whose bytes differ between two [`files`] maps.
fn changed(a: &BTreeMap<String, Vec<u8>>, b: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    a.keys()
        .chain(b.keys())
        .filter(|p| a.get(*p) != b.get(*p))
        .cloned()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Nothing under `dir` differs from `before`.
#[track_caller]
fn unchanged(before: &BTreeMap<String, Vec<u8>>, dir: &Path) {
    assert_eq!(changed(before, &files(dir)), Vec::<String>::new());
}

fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap()
}

/// `openssl x509 -noout -serial` of `cert`.
fn serial(cert: &Path) -> String {
    let o = Command::new("openssl")
        .args(["x509", "-noout", "-serial", "-in"])
        .arg(cert)
        .output()
        .unwrap();
    assert!(o.status.success());
    String::from_utf8(o.stdout).unwrap().trim().to_owned()
}

/// Does openssl accept the bundle's server certificate for 10.0.0.5
/// against the CA file `trust`?
fn trusted(trust: &Path, out: &Path) -> bool {
    trusted_at(trust, out, 10) // after every step below
}

/// [`trusted`] on day `day` after `EPOCH`.
fn trusted_at(trust: &Path, out: &Path, day: i64) -> bool {
    let at = (EPOCH + day * 86400).to_string();
    // The whole chain the registry serves (the leaf, then at step 2 the
    // new CA cross-signed by the old one) as untrusted intermediates.
    let chain = out.join("certs/server.crt");
    openssl_verify(
        trust,
        &chain,
        &[
            "-attime",
            &at,
            "-verify_ip",
            "10.0.0.5",
            "-untrusted",
            chain.to_str().unwrap(),
        ],
    )
    .is_ok()
}

/// The report: a re-issued server certificate (one more DNS name)
/// kept the serial of the one it replaced. openssl reads a new one, and
/// every certificate of a rotation has its own.
#[test]
fn a_reissued_certificate_has_a_new_serial() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    ok(&render_at(&out, 0, &["--dns-name", "a.test"]));
    let first = serial(&out.join("certs/server.crt"));
    let key = read(&out, "certs/server.key");
    ok(&render_at(
        &out,
        0,
        &["--dns-name", "a.test", "--dns-name", "b.test"],
    ));
    assert_eq!(read(&out, "certs/server.key"), key, "the same key is kept");
    let second = serial(&out.join("certs/server.crt"));
    assert_ne!(first, second, "a re-issued certificate reused its serial");
    assert_ne!(first, serial(&out.join("certs/ca.crt")));
}

/// start → switch → finish: at every step the server certificate verifies
/// against the trust files installed at step 1 (both CAs), and against the
/// old CA alone until the switch; the old CA key stays in the bundle until
/// finish and is then set aside, never deleted.
#[test]
fn rotation_keeps_every_step_trusted_and_sets_the_old_ca_aside() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    ok(&render_at(&out, 0, &[]));
    let old_trust = tmp.path().join("old-trust.crt");
    std::fs::copy(out.join("trust/ca.crt"), &old_trust).unwrap();
    let (old_ca, old_key) = (read(&out, "certs/ca.crt"), read(&out, "certs/ca.key"));
    let mut serials = vec![
        serial(&out.join("certs/ca.crt")),
        serial(&out.join("certs/server.crt")),
    ];

    // Step 1: both trusted, the old CA still signs the same certificate.
    let server = read(&out, "certs/server.crt");
    let o = render_at(&out, 1, &["--rotate-ca", "start"]);
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--rotate-ca switch"));
    assert_eq!(read(&out, "certs/server.crt"), server);
    assert_eq!(read(&out, "certs/ca.crt"), old_ca);
    assert_eq!(read(&out, "certs/ca.key"), old_key);
    let next_ca = read(&out, "certs/ca-next.crt");
    serials.push(serial(&out.join("certs/ca-next.crt")));
    assert!(read(&out, "certs/ca-rotation.yaml").contains("step: 1"));
    let both = format!("{old_ca}{next_ca}");
    for f in [
        "trust/ca.crt",
        "trust/docker/certs.d/10.0.0.5:5000/ca.crt",
        "trust/containerd/certs.d/10.0.0.5:5000/ca.crt",
        "trust/containers/certs.d/10.0.0.5:5000/ca.crt",
    ] {
        assert_eq!(read(&out, f), both, "{f}");
    }
    let step1_trust = tmp.path().join("step1-trust.crt");
    std::fs::copy(out.join("trust/ca.crt"), &step1_trust).unwrap();
    assert!(trusted(&step1_trust, &out) && trusted(&old_trust, &out));
    // A re-render in step 1 stays in step 1 and changes nothing.
    let before = files(&out);
    ok(&render_at(&out, 1, &[]));
    assert!(changed(&before, &files(&out)).is_empty());

    // Step 2: the new CA signs a new server certificate; both trusted.
    ok(&render_at(&out, 2, &["--rotate-ca", "switch"]));
    assert_eq!(read(&out, "certs/ca.crt"), next_ca);
    assert_eq!(read(&out, "certs/ca-previous.crt"), old_ca);
    assert_eq!(read(&out, "certs/ca-previous.key"), old_key);
    assert!(!out.join("certs/ca-next.crt").exists());
    assert!(!out.join("certs/ca-next.key").exists());
    serials.push(serial(&out.join("certs/server.crt")));
    assert!(trusted(&step1_trust, &out), "the step-1 trust must hold");
    // The new CA cross-signed by the old one follows the leaf, so a client
    // that still trusts only the old CA verifies too, until finish.
    let chain = read(&out, "certs/server.crt");
    assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 2);
    let cross = tmp.path().join("cross.crt");
    std::fs::write(
        &cross,
        &chain[chain.find("-----END CERTIFICATE-----\n").unwrap() + 26..],
    )
    .unwrap();
    serials.push(serial(&cross));
    assert!(
        trusted(&old_trust, &out),
        "the old trust fails before finish"
    );
    // A re-render in step 2 keeps the chain (no pod rolls).
    let before = files(&out);
    ok(&render_at(&out, 2, &[]));
    assert!(changed(&before, &files(&out)).is_empty());
    assert_eq!(read(&out, "trust/ca.crt"), format!("{next_ca}{old_ca}"));

    // Step 3: the old CA is no longer trusted, and is set aside.
    ok(&render_at(&out, 3, &["--rotate-ca", "finish"]));
    assert_eq!(read(&out, "trust/ca.crt"), next_ca);
    assert!(!out.join("certs/ca-rotation.yaml").exists());
    assert!(!out.join("certs/ca-previous.crt").exists());
    let aside: BTreeMap<String, Vec<u8>> = files(&out)
        .into_iter()
        .filter(|(p, _)| p.starts_with("certs/ca-previous."))
        .collect();
    assert_eq!(
        aside.keys().collect::<Vec<_>>(),
        [
            "certs/ca-previous.crt.20260104T000000Z",
            "certs/ca-previous.key.20260104T000000Z"
        ]
    );
    assert_eq!(aside.values().nth(1).unwrap(), old_key.as_bytes());
    assert!(trusted(&step1_trust, &out) && trusted(&out.join("trust/ca.crt"), &out));
    assert_eq!(
        read(&out, "certs/server.crt")
            .matches("BEGIN CERTIFICATE")
            .count(),
        1
    );
    assert!(
        !trusted(&old_trust, &out),
        "the old CA alone still works after finish"
    );
    let mut unique = serials.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), serials.len(), "{serials:?}");
}

/// Moving to a given CA (e.g. the cluster's): the same three steps; its key
/// never enters the bundle, and the bundle's own CA is set aside at the end.
#[test]
fn rotation_moves_to_a_given_ca() {
    let tmp = tempfile::tempdir().unwrap();
    let (ca_crt, ca_key) = openssl_ca(
        tmp.path(),
        "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null",
        "3650",
    );
    let out = tmp.path().join("out");
    // openssl's CA is valid from now: render from today on.
    let today = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        - EPOCH)
        / 86400
        + 1;
    let given = [
        "--ca-cert",
        ca_crt.to_str().unwrap(),
        "--ca-key",
        ca_key.to_str().unwrap(),
    ];
    ok(&render_at(&out, today, &[]));
    let old_ca = read(&out, "certs/ca.crt");
    let old_trust = tmp.path().join("old-trust.crt");
    std::fs::copy(out.join("trust/ca.crt"), &old_trust).unwrap();
    let mut start = vec!["--rotate-ca", "start"];
    start.extend(given);
    ok(&render_at(&out, today + 1, &start));
    let cluster = std::fs::read_to_string(&ca_crt).unwrap();
    assert_eq!(read(&out, "certs/ca-next.crt"), cluster);
    assert!(
        !out.join("certs/ca-next.key").exists(),
        "the given key was copied"
    );
    // A re-render in step 1 without the flags reads the given CA from the
    // bundle's recorded config and changes nothing.
    let before = files(&out);
    ok(&render_at(&out, today + 1, &[]));
    unchanged(&before, &out);
    // A config without the given CA is refused and changes nothing.
    let plain = tmp.path().join("plain.yaml");
    std::fs::write(&plain, "addresses: {node_ips: [10.0.0.5]}\n").unwrap();
    fails(
        &render_at(&out, today + 1, &["--config", plain.to_str().unwrap()]),
        1,
        "keep tls.ca (or --ca-cert/--ca-key)",
    );
    unchanged(&before, &out);
    let mut switch = vec!["--rotate-ca", "switch"];
    switch.extend(given);
    ok(&render_at(&out, today + 2, &switch));
    assert_eq!(read(&out, "certs/ca.crt"), cluster);
    assert!(
        !out.join("certs/ca.key").exists(),
        "the old key left its name"
    );
    assert_eq!(read(&out, "certs/ca-previous.crt"), old_ca);
    // The given CA, cross-signed by the old one, keeps old clients working.
    assert!(trusted_at(&ca_crt, &out, today + 10));
    assert!(trusted_at(&old_trust, &out, today + 10));

    let mut finish = vec!["--rotate-ca", "finish"];
    finish.extend(given);
    ok(&render_at(&out, today + 3, &finish));
    assert_eq!(read(&out, "trust/ca.crt"), cluster);
    assert!(!trusted_at(&old_trust, &out, today + 10));
    assert!(files(&out)
        .keys()
        .any(|p| p.starts_with("certs/ca-previous.key.")));
}

/// Each bad input: exit 1, a message that says what to do, nothing changed.
#[test]
fn steps_out_of_order_and_a_mismatched_ca_change_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    // No bundle yet: nothing to rotate, nothing written.
    fails(
        &render_at(&out, 0, &["--rotate-ca", "start"]),
        1,
        "there is no CA in --out to rotate from",
    );
    assert!(!out.exists());
    ok(&render_at(&out, 0, &[]));
    let cases: [(&[&str], &str); 2] = [
        (
            &["--rotate-ca", "switch"],
            "no CA rotation is in progress in --out",
        ),
        (&["--rotate-ca", "finish"], "begin with --rotate-ca start"),
    ];
    for (flags, says) in cases {
        let before = files(&out);
        fails(&render_at(&out, 1, flags), 1, says);
        unchanged(&before, &out);
    }
    // A given CA whose key is another one's.
    let (ca_crt, _) = openssl_ca(
        tmp.path(),
        "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null",
        "3650",
    );
    let other = tmp.path().join("other");
    std::fs::create_dir(&other).unwrap();
    let (_, other_key) = openssl_ca(
        &other,
        "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null",
        "3650",
    );
    let before = files(&out);
    fails(
        &render_at(
            &out,
            1,
            &[
                "--rotate-ca",
                "start",
                "--ca-cert",
                ca_crt.to_str().unwrap(),
                "--ca-key",
                other_key.to_str().unwrap(),
            ],
        ),
        1,
        "does not belong to the given CA key",
    );
    unchanged(&before, &out);

    ok(&render_at(&out, 1, &["--rotate-ca", "start"]));
    let cases: [(&[&str], &str); 3] = [
        (
            &["--rotate-ca", "start"],
            "a rotation is already in progress",
        ),
        (
            &["--rotate-ca", "finish"],
            "the registry still serves a certificate of the old CA",
        ),
        (
            &["--new-ca", "--rotate-ca", "switch"],
            "cannot be used with",
        ),
    ];
    for (flags, says) in cases {
        let before = files(&out);
        let o = render_at(&out, 2, flags);
        assert_ne!(o.status.code(), Some(0));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(says),
            "{flags:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        unchanged(&before, &out);
    }
    ok(&render_at(&out, 2, &["--rotate-ca", "switch"]));
    let before = files(&out);
    fails(
        &render_at(&out, 3, &["--rotate-ca", "switch"]),
        1,
        "that step is done",
    );
    unchanged(&before, &out);
    // A broken record is named, not guessed at.
    std::fs::write(out.join("certs/ca-rotation.yaml"), "step: 7\n").unwrap();
    let before = files(&out);
    fails(
        &render_at(&out, 3, &[]),
        1,
        "certs/ca-rotation.yaml: records step 7",
    );
    unchanged(&before, &out);
}

/// Certificates made with a fixed clock, inspected near their expiry:
/// `--fail-within 30d` fails with the table (a snapshot), a shorter window
/// passes, a bad duration is a usage error; check DIR shows the same table.
#[test]
fn inspect_fail_within_fails_near_expiry_and_prints_the_table() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    ok(&render_at(&out, 0, &["--dns-name", "registry.test"]));
    let inspect_at = |days: i64, flags: &[&str]| {
        bin()
            .arg("inspect")
            .arg(&out)
            .args(flags)
            .env("SOURCE_DATE_EPOCH", (EPOCH + days * 86400).to_string())
            .output()
            .unwrap()
    };
    // The server certificate is valid 825 days: 20 days left on day 805.
    let o = inspect_at(805, &["--fail-within", "30d"]);
    fails(
        &o,
        1,
        "1 certificate(s) expire within 30d: certs/server.crt (on 2028-04-05)",
    );
    let report = stdout(&o);
    let table = &report[report.find("CERTIFICATE ").unwrap()..];
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(workspace().join("snapshots/inspect"));
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    s.bind(|| insta::assert_snapshot!("expiry-table-near-expiry", table));
    ok(&inspect_at(805, &["--fail-within", "2w"]));
    ok(&inspect_at(0, &["--fail-within", "30d"]));
    // Expired: a problem whatever the window.
    fails(&inspect_at(826, &[]), 1, "problem(s) found");
    for bad in ["30", "d", "30x", "0d", "1y", "99999999999d"] {
        let o = inspect_at(0, &["--fail-within", bad]);
        assert_eq!(o.status.code(), Some(2), "{bad}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("expected a duration such as 30d"),
            "{bad}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let o = bin()
        .arg("check")
        .arg(&out)
        .env("SOURCE_DATE_EPOCH", (EPOCH + 805 * 86400).to_string())
        .output()
        .unwrap();
    ok(&o);
    assert!(
        stdout(&o).contains(table.lines().nth(1).unwrap()),
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("CA rotation: none in progress"));
}

/// The trust DaemonSet's ConfigMap carries the installer with the trust
/// files' bytes: at step 1 both CAs, after finish the new one alone.
#[test]
fn the_trust_daemonset_carries_both_cas_during_a_rotation() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("registry-gen.yaml");
    std::fs::write(&config, "trust:\n  daemonset: true\n").unwrap();
    let out = tmp.path().join("out");
    let with_config = |step: Option<&str>, day: i64| {
        let mut flags = vec!["--config", config.to_str().unwrap()];
        if let Some(s) = step {
            flags.extend(["--rotate-ca", s]);
        }
        ok(&render_at(&out, day, &flags));
        read(&out, "manifests/trust-configmap.yaml")
    };
    // The first line of each CA's base64 body (it holds the serial)
    // identifies it in the embedded script.
    let body = |pem: &str| pem.lines().nth(1).unwrap().to_owned();
    with_config(None, 0);
    let old = body(&read(&out, "certs/ca.crt"));
    let cm = with_config(Some("start"), 1);
    let new = body(&read(&out, "certs/ca-next.crt"));
    assert!(cm.contains(&old) && cm.contains(&new), "{cm}");
    assert!(with_config(Some("switch"), 2).contains(&old));
    let cm = with_config(Some("finish"), 3);
    assert!(cm.contains(&new) && !cm.contains(&old), "{cm}");
}
