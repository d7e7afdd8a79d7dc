//! `render --out DIR --check` and `render --out DIR --format tar` as a CI
//! job uses them (issue 23): the check writes nothing (the whole tree,
//! modes and mtimes included, hashed before and after) and exits 0 when a
//! render would change nothing, 1 with the list of paths when it would (a
//! changed config, a certificate due for renewal), 2 on an error; the tar
//! of an unchanged bundle is the same bytes run after run.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::common::{ok, run_with, stderr, stdout};

/// The render clock of these tests (2027-01-15).
const EPOCH: i64 = 1_800_000_000;

const CONFIG: &str = "name: reg\naddresses:\n  node_ips: [10.0.0.5]\nports:\n  node: 30443\nauth:\n  users: [{name: ci}]\n";

/// The binary in `dir` at EPOCH plus `days`.
fn at(dir: &Path, days: i64, args: &[&str]) -> std::process::Output {
    let epoch = (EPOCH + days * 86400).to_string();
    run_with(dir, args, &[("SOURCE_DATE_EPOCH", &epoch)], None)
}

/// sha256 over every entry under `dir` (itself included): path, kind,
/// mode, mtime and, for files, contents.
fn tree_hash(dir: &Path) -> String {
    fn walk(base: &Path, dir: &Path, h: &mut Sha256) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            let m = std::fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(base).unwrap().display().to_string();
            let line = format!(
                "{rel} {} {:o} {}.{}\n",
                m.is_dir(),
                m.permissions().mode(),
                m.mtime(),
                m.mtime_nsec()
            );
            h.update(line.as_bytes());
            if m.is_dir() {
                walk(base, &p, h);
            } else {
                h.update(std::fs::read(&p).unwrap());
            }
        }
    }
    let mut h = Sha256::new();
    walk(dir, dir, &mut h);
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A bundle rendered at EPOCH into `<tmp>/out` from `<tmp>/c.yaml`.
fn rendered() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("c.yaml"), CONFIG).unwrap();
    ok(&at(
        tmp.path(),
        0,
        &["render", "--config", "c.yaml", "--out", "out"],
    ));
    tmp
}

#[test]
fn an_unchanged_bundle_checks_0_and_nothing_is_written() {
    let tmp = rendered();
    let before = tree_hash(tmp.path());
    // A day later, from the bundle's own config and from the same file.
    for args in [
        &["render", "--out", "out", "--check"][..],
        &["render", "--config", "c.yaml", "--out", "out", "--check"],
    ] {
        let o = at(tmp.path(), 1, args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(stdout(&o), "");
    }
    assert_eq!(tree_hash(tmp.path()), before);
}

#[test]
fn a_changed_config_checks_1_with_the_paths_and_nothing_is_written() {
    let tmp = rendered();
    std::fs::write(
        tmp.path().join("c.yaml"),
        CONFIG.replace("10.0.0.5", "10.0.0.6"),
    )
    .unwrap();
    // A password changed by hand: the render takes it, so the htpasswd (a
    // secret) is listed as changed, and no secret is ever shown.
    std::fs::write(tmp.path().join("out/auth/ci.password"), "hunter2-by-hand\n").unwrap();
    let before = tree_hash(tmp.path());
    let o = at(
        tmp.path(),
        1,
        &["render", "--config", "c.yaml", "--out", "out", "--check"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let listed = stdout(&o);
    for line in [
        "would change: certs/server.crt",
        "would change: registry-gen.yaml",
        "would change: auth/htpasswd",
    ] {
        assert!(listed.lines().any(|l| l == line), "{line:?} in:\n{listed}");
    }
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("would add: trust/docker/certs.d/10.0.0.6:30443/")),
        "{listed}"
    );
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("would remove: trust/docker/certs.d/10.0.0.5:30443/")),
        "{listed}"
    );
    assert!(!listed.contains("hunter2") && !stderr(&o).contains("hunter2"));
    assert!(
        stderr(&o).contains("would change; render without --check to write them"),
        "{}",
        stderr(&o)
    );
    assert_eq!(tree_hash(tmp.path()), before);
}

#[test]
fn a_certificate_due_for_renewal_checks_1_and_nothing_is_written() {
    let tmp = rendered();
    let before = tree_hash(tmp.path());
    // Two thirds of the server certificate's life gone (it renews then).
    let o = at(tmp.path(), 600, &["render", "--out", "out", "--check"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let listed = stdout(&o);
    assert!(
        listed
            .lines()
            .any(|l| l == "would change: certs/server.crt"),
        "{listed}"
    );
    assert!(!listed.contains("certs/ca."), "the CA is kept: {listed}");
    assert_eq!(tree_hash(tmp.path()), before);
    // A mode changed by hand is listed too, with both modes.
    let ca = tmp.path().join("out/certs/ca.crt");
    std::fs::set_permissions(&ca, std::fs::Permissions::from_mode(0o600)).unwrap();
    let o = at(tmp.path(), 1, &["render", "--out", "out", "--check"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(stdout(&o), "would change mode 0600 -> 0644: certs/ca.crt\n");
}

#[test]
fn a_check_that_cannot_compare_exits_2_and_writes_nothing() {
    let tmp = rendered();
    let before = tree_hash(tmp.path());
    let o = at(
        tmp.path(),
        1,
        &["render", "--out", "out", "--check", "--name", "Not_A_Name"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("render --check could not compare the bundle: invalid config"));
    // A CA the write would refuse to replace.
    let o = at(
        tmp.path(),
        1,
        &[
            "render",
            "--out",
            "out",
            "--check",
            "--ca-cert",
            "out/certs/server.crt",
            "--ca-key",
            "out/certs/server.key",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(tree_hash(tmp.path()), before);
    // Without --out there is nothing to check (a usage error).
    let o = at(tmp.path(), 1, &["render", "--check"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn the_tar_of_an_unchanged_bundle_is_the_same_bytes_run_after_run() {
    let tmp = rendered();
    let before = tree_hash(tmp.path());
    let digest = |days: i64| {
        let o = at(
            tmp.path(),
            days,
            &["-q", "render", "--out", "out", "--format", "tar"],
        );
        ok(&o);
        assert!(o.stdout.len() > 10_000);
        hex(&Sha256::digest(&o.stdout))
    };
    let first = digest(1);
    assert_eq!(digest(2), first, "a day later");
    assert_eq!(tree_hash(tmp.path()), before, "--out DIR is only read");
    // Its content is the bundle on disk, file for file.
    let o = at(
        tmp.path(),
        3,
        &["-q", "render", "--out", "out", "--format", "tar"],
    );
    let mut archive = tar::Archive::new(o.stdout.as_slice());
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().display().to_string();
        let header = entry.header();
        assert_eq!((header.uid().unwrap(), header.gid().unwrap()), (0, 0));
        assert_eq!(header.username().unwrap(), Some(""));
        if header.entry_type().is_file() {
            let mode = header.mode().unwrap();
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
            let on_disk = tmp.path().join("out").join(&path);
            assert_eq!(bytes, std::fs::read(&on_disk).unwrap(), "{path}");
            assert_eq!(mode, crate::common::mode(&on_disk), "{path}");
        }
    }
    // Once the certificate is renewed, the digest changes with it.
    assert_ne!(digest(600), first);
}
