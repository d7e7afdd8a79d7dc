//! Faults while writing: the CLI killed at any moment, a full disk, a path
//! that is a file. The bundle directory always holds either the old bundle
//! or the new one, whole, and a user's own files survive.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::common;

/// The binary with no input, its stdout dropped, its stderr kept.
fn bin() -> Command {
    let mut c = common::bin();
    c.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c
}

fn render(out: &Path, dns: &str) -> Command {
    let mut c = bin();
    c.args(["render", "--dns-name", dns, "--out"]).arg(out);
    c
}

/// Every file under `dir`, relative.
fn files(dir: &Path) -> BTreeSet<String> {
    crate::support::files_under(dir)
        .iter()
        .map(|p| p.strip_prefix(dir).unwrap().display().to_string())
        .collect()
}

/// The bundle in `out` is one render's, whole: every file its list names
/// is there, nothing else is (but the user's file), and the config, the
/// trust directories and the certificate all name the same address.
fn assert_whole(out: &Path, when: &str) -> String {
    let listed: BTreeSet<String> = std::fs::read_to_string(out.join(".registry-gen-files"))
        .unwrap_or_else(|e| panic!("{when}: no file list: {e}"))
        .lines()
        .map(str::to_owned)
        .collect();
    let mut present = files(out);
    present.remove(".registry-gen-files");
    present.retain(|p| set_aside_name(p).is_none());
    assert!(
        present.remove("notes.txt"),
        "{when}: the user's file is gone"
    );
    assert_eq!(present, listed, "{when}: files differ from the list");
    let config = std::fs::read_to_string(out.join("registry-gen.yaml")).unwrap();
    let name = ["a.test", "b.test"]
        .into_iter()
        .find(|n| config.contains(&format!("- {n}")))
        .unwrap_or_else(|| panic!("{when}: config names neither: {config}"));
    let other = if name == "a.test" { "b.test" } else { "a.test" };
    assert!(
        out.join(format!("trust/docker/certs.d/{name}:5000/ca.crt"))
            .exists(),
        "{when}: {name} has no trust dir"
    );
    assert!(
        !out.join(format!("trust/docker/certs.d/{other}:5000"))
            .exists(),
        "{when}: mixed: {other}'s trust dir beside {name}'s config"
    );
    let pem = std::fs::read(out.join("certs/server.crt")).unwrap();
    let (_, pem) = x509_parser::pem::parse_x509_pem(&pem).unwrap();
    let cert = pem.parse_x509().unwrap();
    let sans = format!(
        "{:?}",
        cert.subject_alternative_name().unwrap().unwrap().value
    );
    assert!(sans.contains(name), "{when}: the certificate lacks {name}");
    assert!(
        !sans.contains(other),
        "{when}: the certificate names {other}"
    );
    name.to_owned()
}

/// A rendered bundle for `a.test` in `<tmp>/out`, with a file of the
/// user's (`notes.txt`) beside it.
fn first_bundle() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = render(&out, "a.test").output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::write(out.join("notes.txt"), "mine\n").unwrap();
    (tmp, out)
}

/// `out` is all there is in `parent`: no staged tree, no set-aside copy.
fn assert_alone(parent: &Path, out: &Path) {
    let beside: Vec<PathBuf> = std::fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(beside, vec![out.to_owned()], "leftovers beside the bundle");
}

#[test]
fn killing_the_cli_at_any_moment_leaves_the_old_or_the_new_bundle() {
    let (tmp, out) = first_bundle();
    let ca = std::fs::read(out.join("certs/ca.key")).unwrap();
    // How long a whole render takes, to spread the kills over it.
    let start = Instant::now();
    assert!(render(&out, "b.test").status().unwrap().success());
    let took = start.elapsed();
    let runs = 40u32;
    let mut seen = BTreeSet::new();
    for i in 0..runs {
        let dns = if i % 2 == 0 { "a.test" } else { "b.test" };
        let mut child = render(&out, dns).spawn().unwrap();
        std::thread::sleep(took * i / runs);
        let _ = child.kill(); // SIGKILL: no cleanup runs
        let _ = child.wait();
        seen.insert(assert_whole(
            &out,
            &format!("kill {i} after {:?}", took * i / runs),
        ));
        assert_eq!(
            std::fs::read(out.join("certs/ca.key")).unwrap(),
            ca,
            "the CA key changed"
        );
    }
    // A render after all that completes and leaves nothing beside the bundle.
    assert!(render(&out, "a.test").status().unwrap().success());
    assert_eq!(assert_whole(&out, "last"), "a.test");
    assert_alone(tmp.path(), &out);
    eprintln!("bundles seen after kills: {seen:?}");
}

/// `--new-ca` at a fixed clock, so every run's set-aside names share one
/// stamp and the counter is exercised.
fn render_new_ca(out: &Path, dns: &str) -> Command {
    let mut c = render(out, dns);
    c.arg("--new-ca").env("SOURCE_DATE_EPOCH", "1800000000");
    c
}

/// `certs/ca.crt.<stamp>[.<n>]` → (`ca.crt`, `.<stamp>[.<n>]`).
fn set_aside_name(path: &str) -> Option<(&'static str, &str)> {
    ["ca.crt", "ca.key"].into_iter().find_map(|ca| {
        let suffix = path.strip_prefix("certs/")?.strip_prefix(ca)?;
        suffix.starts_with('.').then_some((ca, suffix))
    })
}

/// Every set-aside CA file under `out` with its bytes.
fn set_aside(out: &Path) -> BTreeMap<String, Vec<u8>> {
    files(out)
        .into_iter()
        .filter(|p| set_aside_name(p).is_some())
        .map(|p| {
            let bytes = std::fs::read(out.join(&p)).unwrap();
            (p, bytes)
        })
        .collect()
}

/// The subject key id of a certificate and the authority key id it names.
fn key_ids(pem: &[u8]) -> (Vec<u8>, Vec<u8>) {
    use x509_parser::extensions::ParsedExtension;
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem).unwrap();
    let cert = pem.parse_x509().unwrap();
    let (mut ski, mut aki) = (Vec::new(), Vec::new());
    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(id) => ski = id.0.to_vec(),
            ParsedExtension::AuthorityKeyIdentifier(a) => {
                aki = a
                    .key_identifier
                    .as_ref()
                    .map_or(Vec::new(), |id| id.0.to_vec());
            }
            _ => {}
        }
    }
    (ski, aki)
}

#[test]
fn killing_a_new_ca_render_at_any_moment_leaves_the_old_or_the_new_bundle() {
    use std::os::unix::fs::PermissionsExt;
    let (tmp, out) = first_bundle();
    // How long a whole --new-ca render takes, to spread the kills over it.
    let start = Instant::now();
    let o = render_new_ca(&out, "b.test").output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let took = start.elapsed();
    // Spread over a quarter more than that, so that some runs complete.
    let (runs, spread) = (40u32, took * 5 / 4);
    let (mut kept_old, mut got_new) = (0, 0);
    for i in 0..runs {
        let when = format!("kill {i} after {:?}", spread * i / runs);
        let ca = std::fs::read(out.join("certs/ca.crt")).unwrap();
        let key = std::fs::read(out.join("certs/ca.key")).unwrap();
        let aside_before = set_aside(&out);
        let dns = if i % 2 == 0 { "a.test" } else { "b.test" };
        let mut child = render_new_ca(&out, dns).spawn().unwrap();
        std::thread::sleep(spread * i / runs);
        let _ = child.kill(); // SIGKILL: no cleanup runs
        let _ = child.wait();

        assert_whole(&out, &when);
        let ca_now = std::fs::read(out.join("certs/ca.crt"))
            .unwrap_or_else(|e| panic!("{when}: no certs/ca.crt: {e}"));
        let key_now = std::fs::read(out.join("certs/ca.key"))
            .unwrap_or_else(|e| panic!("{when}: no certs/ca.key: {e}"));
        let server = std::fs::read(out.join("certs/server.crt")).unwrap();
        assert_eq!(
            key_ids(&server).1,
            key_ids(&ca_now).0,
            "{when}: the server certificate is not signed by certs/ca.crt"
        );
        assert_eq!(
            std::fs::read(out.join("trust/ca.crt")).unwrap(),
            ca_now,
            "{when}: trust/ca.crt is not certs/ca.crt"
        );
        let aside_now = set_aside(&out);
        if ca_now == ca {
            // The old bundle: its CA in place, nothing more set aside.
            assert_eq!(key_now, key, "{when}: the old CA with another key");
            assert_eq!(
                aside_now, aside_before,
                "{when}: set aside without a new CA"
            );
            kept_old += 1;
            continue;
        }
        // The new bundle: a new CA, and the old one set aside, whole.
        got_new += 1;
        assert_ne!(
            key_now, key,
            "{when}: a new CA certificate with the old key"
        );
        for (p, bytes) in &aside_before {
            assert_eq!(aside_now.get(p), Some(bytes), "{when}: {p} changed or went");
        }
        let added: Vec<(&String, &Vec<u8>)> = aside_now
            .iter()
            .filter(|(p, _)| !aside_before.contains_key(*p))
            .collect();
        assert_eq!(
            added.len(),
            2,
            "{when}: set aside: {:?}",
            added.iter().map(|a| a.0).collect::<Vec<_>>()
        );
        let (crt, kept_key) = (added[0], added[1]);
        let (ca_name, suffix) = set_aside_name(crt.0).unwrap();
        assert_eq!(ca_name, "ca.crt", "{when}");
        assert_eq!(
            set_aside_name(kept_key.0),
            Some(("ca.key", suffix)),
            "{when}: not a pair"
        );
        assert_eq!(
            crt.1, &ca,
            "{when}: the set-aside certificate is not the old CA"
        );
        assert_eq!(
            kept_key.1, &key,
            "{when}: the set-aside key is not the old key"
        );
        let mode = std::fs::metadata(out.join(kept_key.0))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{when}: {}", kept_key.0);
    }
    eprintln!("after {runs} kills: old bundle {kept_old}, new bundle {got_new}");
    // A render after all that completes and leaves nothing beside the bundle.
    assert!(render_new_ca(&out, "a.test").status().unwrap().success());
    assert_eq!(assert_whole(&out, "last"), "a.test");
    assert_alone(tmp.path(), &out);
}

#[test]
fn two_new_ca_renders_in_one_second_both_succeed_and_keep_both_old_cas() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    assert!(render(&out, "a.test").status().unwrap().success());
    let mut olds = Vec::new();
    let mut said = Vec::new();
    for _ in 0..2 {
        olds.push((
            std::fs::read(out.join("certs/ca.crt")).unwrap(),
            std::fs::read(out.join("certs/ca.key")).unwrap(),
        ));
        let o = render_new_ca(&out, "a.test").output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(o.status.success(), "{err}");
        said.push(err);
    }
    let aside = set_aside(&out);
    let d = out.display();
    for (suffix, (ca, key), err) in [
        (".20270115T080000Z", &olds[0], &said[0]),
        (".20270115T080000Z.1", &olds[1], &said[1]),
    ] {
        assert_eq!(&aside[&format!("certs/ca.crt{suffix}")], ca);
        assert_eq!(&aside[&format!("certs/ca.key{suffix}")], key);
        for f in ["ca.crt", "ca.key"] {
            let line = format!("kept the old CA file {d}/certs/{f} as {d}/certs/{f}{suffix}\n");
            assert!(err.contains(&line), "{err}");
        }
    }
    assert_eq!(aside.len(), 4, "{:?}", aside.keys());
    assert_ne!(olds[0].0, olds[1].0);
    assert_ne!(std::fs::read(out.join("certs/ca.crt")).unwrap(), olds[1].0);
}

/// On a full disk (a small tmpfs in a private mount namespace, as root)
/// the render fails with the OS's words and the old bundle is untouched.
#[test]
fn a_full_disk_fails_plainly_and_keeps_the_old_bundle() {
    let tmp = tempfile::tempdir().unwrap();
    let disk = tmp.path().join("disk");
    std::fs::create_dir(&disk).unwrap();
    let script = r#"
set -eu
mount -t tmpfs -o size=4m tmpfs "$DISK"
"$BIN" render --dns-name a.test --out "$DISK/out" 2>/dev/null
echo mine > "$DISK/out/notes.txt"
used=$(df -k --output=used "$DISK" | tail -n 1 | tr -d ' ')
mount -o remount,size=$((used + used / 2))k "$DISK"
cp -a "$DISK/out" "$COPY"
if "$BIN" render --dns-name b.test --out "$DISK/out" 2>"$ERR"; then echo RENDERED; else echo "EXIT $?"; fi
if diff -r "$COPY" "$DISK/out" >&2; then echo UNCHANGED; fi
ls -A "$DISK"
"#;
    let o = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", script])
        .env("BIN", env!("CARGO_BIN_EXE_registry-gen"))
        .env("DISK", &disk)
        .env("COPY", tmp.path().join("copy"))
        .env("ERR", tmp.path().join("err"))
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .expect("unshare (util-linux; the test runs as root)");
    let said = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let err = std::fs::read_to_string(tmp.path().join("err")).unwrap();
    assert!(said.contains("EXIT 1"), "{said}\n{err}");
    assert!(
        err.contains("No space left on device"),
        "the error does not say why: {err}"
    );
    assert!(
        err.lines().any(|l| l.starts_with("registry-gen: error: ")),
        "{err}"
    );
    assert!(said.contains("UNCHANGED"), "the old bundle changed: {said}");
    assert_eq!(
        said.lines()
            .skip_while(|l| *l != "UNCHANGED")
            .skip(1)
            .collect::<Vec<_>>(),
        vec!["out"],
        "leftovers beside the bundle: {said}"
    );
}

#[test]
fn an_out_path_that_is_a_file_is_an_error_and_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("out");
    std::fs::write(&f, "a file\n").unwrap();
    let o = render(&f, "a.test").output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("exists and is not a directory"), "{err}");
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "a file\n");
}
