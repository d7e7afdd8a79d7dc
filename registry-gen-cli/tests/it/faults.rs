//! Faults while writing: the CLI killed at any moment, a full disk, a path
//! that is a file. The bundle directory always holds either the old bundle
//! or the new one, whole, and a user's own files survive.

use std::collections::BTreeSet;
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

#[test]
fn killing_the_cli_at_any_moment_leaves_the_old_or_the_new_bundle() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = render(&out, "a.test").output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::write(out.join("notes.txt"), "mine\n").unwrap();
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
    let beside: Vec<PathBuf> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(beside, vec![out.clone()], "leftovers beside the bundle");
    eprintln!("bundles seen after kills: {seen:?}");
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
    assert!(err.starts_with("registry-gen: error: "), "{err}");
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
