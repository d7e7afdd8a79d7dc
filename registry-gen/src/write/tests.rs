//! The write's own tests: kills at every file, CA guards, what is synced.

use super::ca::{set_aside_suffix, stamp};
use super::*;
use crate::bundle::{MODE_EXEC, MODE_FILE, MODE_SECRET};
use std::cell::RefCell;
use std::collections::BTreeMap;
use time::{OffsetDateTime, UtcOffset};

thread_local! {
    /// What this test's thread synced, in order.
    static SYNCED: RefCell<Vec<PathBuf>> = const { RefCell::new(Vec::new()) };
}

/// The counting hook: `path` was fsynced.
pub(super) fn synced(path: &Path) {
    SYNCED.with(|s| s.borrow_mut().push(path.to_owned()));
}

/// Run `f` and return what it synced.
fn syncs(f: impl FnOnce()) -> Vec<PathBuf> {
    SYNCED.with(|s| s.borrow_mut().clear());
    f();
    SYNCED.with(|s| s.take())
}

/// Every directory under `dir` (`dir` itself as `""`) and every file,
/// relative to it.
fn entries(dir: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut dirs, mut files) = (BTreeSet::from([String::new()]), BTreeSet::new());
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(dir).unwrap().display().to_string();
            if p.is_dir() {
                dirs.insert(rel);
                todo.push(p);
            } else {
                files.insert(rel);
            }
        }
    }
    (dirs, files)
}

#[test]
fn a_staged_write_syncs_what_it_wrote_and_each_directory_then_the_swap() {
    let (old, new) = old_and_new();
    for exists in [false, true] {
        let tmp = tempfile::tempdir().unwrap();
        // A parent that the write creates, too.
        let dir = tmp.path().join("new/parent/out");
        if exists {
            old.write_to(&dir).unwrap();
            // The user's files, kept by hard links, one in a directory
            // that the new bundle does not have.
            std::fs::create_dir_all(dir.join("mine/deeper")).unwrap();
            std::fs::write(dir.join("mine/deeper/notes.txt"), "mine").unwrap();
            std::fs::write(dir.join("trust/notes.txt"), "mine").unwrap();
        }
        let synced = syncs(|| new.write_to(&dir).unwrap());
        let staging = dir.with_file_name(".out.registry-gen-new");
        let rel = |p: &Path| {
            p.strip_prefix(&staging)
                .ok()
                .map(|r| r.display().to_string())
        };
        let (dirs, files) = entries(&dir);
        // 1. Before the swap (in the staged tree), in any order: each
        // file written and no hard link, and each directory, once.
        let n_staged = synced.iter().take_while(|p| rel(p).is_some()).count();
        let staged: Vec<String> = synced[..n_staged].iter().map(|p| rel(p).unwrap()).collect();
        let staged_set: BTreeSet<String> = staged.iter().cloned().collect();
        assert_eq!(staged.len(), staged_set.len(), "each once: {staged:?}");
        let mut expected: BTreeSet<String> = new.files().map(|(p, _)| p.to_owned()).collect();
        expected.insert(paths::FILE_LIST.into());
        expected.extend(dirs.iter().cloned());
        assert_eq!(staged_set, expected, "exists: {exists}");
        assert!(files.is_superset(&staged_set.difference(&dirs).cloned().collect()));
        if exists {
            assert!(dirs.contains("mine/deeper"));
        }
        // 2. After the swap, the parent and what the write created above.
        let mut after = vec![tmp.path().join("new/parent")];
        if !exists {
            after.extend([tmp.path().join("new"), tmp.path().to_owned()]);
        }
        assert_eq!(synced[n_staged..], after[..], "exists: {exists}");
    }
}

#[test]
fn an_in_place_write_syncs_every_directory_it_changed() {
    let (old, new) = old_and_new();
    let tmp = tempfile::tempdir().unwrap();
    old.write_to(tmp.path()).unwrap();
    let previous = std::fs::read_to_string(tmp.path().join(paths::FILE_LIST)).unwrap();
    let previous: BTreeSet<&str> = previous.lines().collect();
    let synced = syncs(|| new.write_in_place(tmp.path(), &previous, &[], &[]).unwrap());
    let (dirs, _) = entries(tmp.path());
    let synced_dirs: BTreeSet<String> = synced
        .iter()
        .filter(|p| p.is_dir())
        .map(|p| p.strip_prefix(tmp.path()).unwrap().display().to_string())
        .collect();
    assert_eq!(synced_dirs, dirs);
    assert_eq!(synced.last().unwrap(), tmp.path(), "the root last");
}

fn bundle(files: &[(&str, &str, u32)]) -> Bundle {
    let mut b = Bundle::default();
    for (p, c, m) in files {
        b.add(*p, *c, *m);
    }
    b
}

/// Every file under `dir` with its contents and mode.
fn tree(dir: &Path) -> BTreeMap<String, (String, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = BTreeMap::new();
    let mut dirs = vec![dir.to_owned()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
                out.insert(rel, (std::fs::read_to_string(&p).unwrap(), mode));
            }
        }
    }
    out
}

fn old_and_new() -> (Bundle, Bundle) {
    let old = bundle(&[
        (paths::CA_CERT, "CA", MODE_FILE),
        (paths::CA_KEY, "CA KEY", MODE_SECRET),
        ("trust/docker/certs.d/old.test:5000/ca.crt", "CA", MODE_FILE),
        ("auth/admin.password", "old password", MODE_SECRET),
        ("README.md", "old readme", MODE_FILE),
    ]);
    let new = bundle(&[
        (paths::CA_CERT, "CA", MODE_FILE),
        (paths::CA_KEY, "CA KEY", MODE_SECRET),
        ("trust/docker/certs.d/new.test:5000/ca.crt", "CA", MODE_FILE),
        ("auth/htpasswd", "admin:hash", MODE_SECRET),
        ("README.md", "new readme", MODE_FILE),
        ("scripts/start.sh", "#!/bin/sh", MODE_EXEC),
    ]);
    (old, new)
}

#[test]
fn a_write_killed_at_any_file_leaves_the_old_bundle_whole() {
    let (old, new) = old_and_new();
    for crash_after in 0..=new.files().count() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out");
        old.write_to(&dir).unwrap();
        std::fs::write(dir.join("trust/notes.txt"), "mine").unwrap();
        let before = tree(&dir);
        let previous = std::fs::read_to_string(dir.join(paths::FILE_LIST)).unwrap();
        let previous: BTreeSet<&str> = previous.lines().collect();
        let r = new.write_staged(&dir, &previous, &[], &[], Some(crash_after));
        if crash_after < new.files().count() {
            assert!(matches!(r, Staged::Failed(_)));
            assert_eq!(tree(&dir), before, "killed after {crash_after} files");
        }
        // The next write cleans up and completes.
        new.write_to(&dir).unwrap();
        let after = tree(&dir);
        assert_eq!(after["README.md"].0, "new readme");
        assert_eq!(after["trust/notes.txt"].0, "mine", "a user's file");
        assert!(!after.contains_key("auth/admin.password"), "stale file");
        assert!(!dir.join("trust/docker/certs.d/old.test:5000").exists());
        assert_eq!(after["auth/htpasswd"].1, 0o600);
        assert_eq!(after["scripts/start.sh"].1, 0o755);
        let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from("out")]);
    }
}

#[test]
fn a_kept_ca_outlives_a_bundle_that_no_longer_has_it() {
    // An external CA: the new bundle has ca.crt but no ca.key.
    let (old, _) = old_and_new();
    let new = bundle(&[(paths::CA_CERT, "CA", MODE_FILE)]);
    let tmp = tempfile::tempdir().unwrap();
    old.write_to(tmp.path()).unwrap();
    new.write_to(tmp.path()).unwrap();
    assert_eq!(tree(tmp.path())[paths::CA_KEY], ("CA KEY".into(), 0o600));
}

#[test]
fn a_path_that_is_a_file_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("out");
    std::fs::write(&f, "x").unwrap();
    let e = old_and_new().0.write_to(&f).unwrap_err();
    assert!(
        e.to_string().contains("exists and is not a directory"),
        "{e}"
    );
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "x");
}

#[test]
fn set_aside_names_take_a_counter_only_when_the_stamp_is_taken() {
    let taken = |names: &'static [&'static str]| move |n: &str| names.contains(&n);
    let s = "20270115T080000Z";
    assert_eq!(
        set_aside_suffix(s, &[paths::CA_CERT, paths::CA_KEY], taken(&[])),
        ".20270115T080000Z"
    );
    assert_eq!(
        set_aside_suffix(
            s,
            &[paths::CA_CERT, paths::CA_KEY],
            taken(&["certs/ca.crt.20270115T080000Z"])
        ),
        ".20270115T080000Z.1"
    );
    // The key's name alone taken: the pair still moves on together.
    assert_eq!(
        set_aside_suffix(
            s,
            &[paths::CA_CERT, paths::CA_KEY],
            taken(&["certs/ca.key.20270115T080000Z"])
        ),
        ".20270115T080000Z.1"
    );
    assert_eq!(
        set_aside_suffix(
            s,
            &[paths::CA_CERT, paths::CA_KEY],
            taken(&[
                "certs/ca.crt.20270115T080000Z",
                "certs/ca.key.20270115T080000Z",
                "certs/ca.crt.20270115T080000Z.1",
                "certs/ca.key.20270115T080000Z.2",
            ])
        ),
        ".20270115T080000Z.3"
    );
    // Another second's names do not count.
    assert_eq!(
        set_aside_suffix(
            s,
            &[paths::CA_CERT, paths::CA_KEY],
            taken(&["certs/ca.crt.20270115T075959Z"])
        ),
        ".20270115T080000Z"
    );
}

#[test]
fn the_stamp_is_utc_whatever_the_offset() {
    let at = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
    assert_eq!(stamp(at), "20270115T080000Z");
    let east = at.to_offset(UtcOffset::from_hms(5, 30, 0).unwrap());
    assert_eq!(stamp(east), "20270115T080000Z");
}

fn new_ca() -> Bundle {
    let (_, new) = old_and_new();
    let mut b = Bundle::default();
    for (p, f) in new.files() {
        let contents = match p {
            paths::CA_CERT => b"NEW CA".to_vec(),
            paths::CA_KEY => b"NEW CA KEY".to_vec(),
            _ => f.contents.clone(),
        };
        b.add(p, contents, f.mode);
    }
    b
}

const AT: i64 = 1_800_000_000;

fn at() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(AT).unwrap()
}

#[test]
fn a_changed_ca_is_refused_unless_it_is_replaced_on_purpose() {
    let tmp = tempfile::tempdir().unwrap();
    old_and_new().0.write_to(tmp.path()).unwrap();
    let before = tree(tmp.path());
    let e = new_ca().write_to(tmp.path()).unwrap_err();
    assert!(matches!(e, Error::Refused { .. }), "{e}");
    assert_eq!(tree(tmp.path()), before);
    let aside = new_ca().write_replacing_ca(tmp.path(), at()).unwrap();
    assert_eq!(
        aside,
        vec![
            SetAside {
                path: paths::CA_CERT.into(),
                kept_as: "certs/ca.crt.20270115T080000Z".into()
            },
            SetAside {
                path: paths::CA_KEY.into(),
                kept_as: "certs/ca.key.20270115T080000Z".into()
            },
        ]
    );
    let after = tree(tmp.path());
    assert_eq!(after[paths::CA_CERT].0, "NEW CA");
    assert_eq!(after[paths::CA_KEY], ("NEW CA KEY".into(), 0o600));
    assert_eq!(after["certs/ca.crt.20270115T080000Z"], ("CA".into(), 0o644));
    assert_eq!(
        after["certs/ca.key.20270115T080000Z"],
        ("CA KEY".into(), 0o600)
    );
}

#[test]
fn replacing_the_ca_twice_in_one_second_keeps_both_old_ones() {
    let tmp = tempfile::tempdir().unwrap();
    old_and_new().0.write_to(tmp.path()).unwrap();
    new_ca().write_replacing_ca(tmp.path(), at()).unwrap();
    let third = bundle(&[
        (paths::CA_CERT, "THIRD CA", MODE_FILE),
        (paths::CA_KEY, "THIRD KEY", MODE_SECRET),
    ]);
    let aside = third.write_replacing_ca(tmp.path(), at()).unwrap();
    assert_eq!(aside[0].kept_as, "certs/ca.crt.20270115T080000Z.1");
    assert_eq!(aside[1].kept_as, "certs/ca.key.20270115T080000Z.1");
    // A later plain write (with a bundle that dropped other files)
    // never treats a set-aside file as stale.
    third.write_to(tmp.path()).unwrap();
    let after = tree(tmp.path());
    assert_eq!(after[paths::CA_CERT].0, "THIRD CA");
    assert_eq!(after["certs/ca.crt.20270115T080000Z"].0, "CA");
    assert_eq!(after["certs/ca.key.20270115T080000Z"].1, 0o600);
    assert_eq!(after["certs/ca.crt.20270115T080000Z.1"].0, "NEW CA");
    assert_eq!(
        after["certs/ca.key.20270115T080000Z.1"],
        ("NEW CA KEY".into(), 0o600)
    );
}

#[test]
fn a_ca_replacement_killed_at_any_file_leaves_the_old_bundle_whole() {
    let (old, _) = old_and_new();
    let new = new_ca();
    for crash_after in 0..new.files().count() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out");
        old.write_to(&dir).unwrap();
        let before = tree(&dir);
        let aside = new.set_aside_ca(&dir, &stamp(at())).unwrap();
        let r = new.write_staged(&dir, &BTreeSet::new(), &aside, &[], Some(crash_after));
        assert!(matches!(r, Staged::Failed(_)));
        assert_eq!(tree(&dir), before, "killed after {crash_after} files");
        new.write_replacing_ca(&dir, at()).unwrap();
        assert_eq!(tree(&dir)["certs/ca.key.20270115T080000Z"].0, "CA KEY");
    }
}

#[test]
fn an_old_ca_is_set_aside_staged_and_in_place() {
    // An external CA: the new bundle has a certificate and no key, so
    // the old key only leaves its name.
    let new = bundle(&[(paths::CA_CERT, "EXTERNAL CA", MODE_FILE)]);
    for in_place in [true, false] {
        let tmp = tempfile::tempdir().unwrap();
        old_and_new().0.write_to(tmp.path()).unwrap();
        if in_place {
            let aside = new.set_aside_ca(tmp.path(), &stamp(at())).unwrap();
            new.write_in_place(tmp.path(), &BTreeSet::new(), &aside, &[])
                .unwrap();
        } else {
            new.write_replacing_ca(tmp.path(), at()).unwrap();
        }
        let after = tree(tmp.path());
        assert_eq!(after[paths::CA_CERT].0, "EXTERNAL CA");
        assert!(!after.contains_key(paths::CA_KEY), "in place: {in_place}");
        assert_eq!(after["certs/ca.crt.20270115T080000Z"].0, "CA");
        assert_eq!(
            after["certs/ca.key.20270115T080000Z"],
            ("CA KEY".into(), 0o600)
        );
    }
}

fn step(ca: (&str, Option<&str>), other: Option<(&str, &str, &str)>, readme: &str) -> Bundle {
    let mut files = vec![
        (paths::CA_CERT, ca.0, MODE_FILE),
        ("README.md", readme, MODE_FILE),
    ];
    if let Some(key) = ca.1 {
        files.push((paths::CA_KEY, key, MODE_SECRET));
    }
    let other_files;
    if let Some((which, cert, key)) = other {
        other_files = match which {
            "next" => [paths::CA_NEXT_CERT, paths::CA_NEXT_KEY],
            _ => [paths::CA_PREVIOUS_CERT, paths::CA_PREVIOUS_KEY],
        };
        files.push((other_files[0], cert, MODE_FILE));
        files.push((other_files[1], key, MODE_SECRET));
    }
    bundle(&files)
}

#[test]
fn a_rotation_step_killed_at_any_file_leaves_the_step_before_whole() {
    let step1 = step(("A", Some("A KEY")), Some(("next", "B", "B KEY")), "1");
    let step2 = step(("B", Some("B KEY")), Some(("previous", "A", "A KEY")), "2");
    for crash_after in 0..step2.files().count() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out");
        step1.write_to(&dir).unwrap();
        let before = tree(&dir);
        let previous = std::fs::read_to_string(dir.join(paths::FILE_LIST)).unwrap();
        let previous: BTreeSet<&str> = previous.lines().collect();
        let r = step2.write_staged(&dir, &previous, &[], &[], Some(crash_after));
        assert!(matches!(r, Staged::Failed(_)));
        assert_eq!(tree(&dir), before, "killed after {crash_after} files");
        step2.write_to(&dir).unwrap();
        let after = tree(&dir);
        assert_eq!(after[paths::CA_CERT].0, "B");
        assert_eq!(after[paths::CA_PREVIOUS_KEY], ("A KEY".into(), 0o600));
        assert!(!after.contains_key(paths::CA_NEXT_CERT));
        assert!(!after.contains_key(paths::CA_NEXT_KEY));
    }
}

#[test]
fn a_moved_ca_key_leaves_its_old_name_staged_and_in_place() {
    // Moving to a given CA C: step 2 has no certs/ca.key; the old key
    // lives on as ca-previous.key, so ca.key must not be carried over.
    let mut step1 = step(("A", Some("A KEY")), None, "1");
    step1.add(paths::CA_NEXT_CERT, "C", MODE_FILE);
    let step2 = step(("C", None), Some(("previous", "A", "A KEY")), "2");
    for in_place in [false, true] {
        let tmp = tempfile::tempdir().unwrap();
        step1.write_to(tmp.path()).unwrap();
        if in_place {
            let previous = std::fs::read_to_string(tmp.path().join(paths::FILE_LIST)).unwrap();
            let previous: BTreeSet<&str> = previous.lines().collect();
            step2
                .write_in_place(tmp.path(), &previous, &[], &[paths::CA_KEY])
                .unwrap();
        } else {
            step2.write_to(tmp.path()).unwrap();
        }
        let after = tree(tmp.path());
        assert_eq!(after[paths::CA_CERT].0, "C");
        assert!(!after.contains_key(paths::CA_KEY), "in place: {in_place}");
        assert_eq!(after[paths::CA_PREVIOUS_KEY].0, "A KEY");
    }
}

#[test]
fn a_ca_whose_bytes_the_new_bundle_drops_is_refused_or_set_aside() {
    let step2 = step(("B", Some("B KEY")), Some(("previous", "A", "A KEY")), "2");
    let tmp = tempfile::tempdir().unwrap();
    step2.write_to(tmp.path()).unwrap();
    let before = tree(tmp.path());
    // A bundle with another CA at certs/ca.crt: B would be lost.
    let other = step(("X", Some("X KEY")), Some(("previous", "A", "A KEY")), "x");
    assert!(matches!(
        other.write_to(tmp.path()),
        Err(Error::Refused { .. })
    ));
    assert_eq!(tree(tmp.path()), before);
    // finish: the old CA leaves the bundle and is set aside.
    let finished = step(("B", Some("B KEY")), None, "3");
    let aside = finished.write_replacing_ca(tmp.path(), at()).unwrap();
    assert_eq!(
        aside.iter().map(|s| s.kept_as.as_str()).collect::<Vec<_>>(),
        [
            "certs/ca-previous.crt.20270115T080000Z",
            "certs/ca-previous.key.20270115T080000Z"
        ]
    );
    let after = tree(tmp.path());
    assert_eq!(after[paths::CA_CERT].0, "B");
    assert!(!after.contains_key(paths::CA_PREVIOUS_CERT));
    assert_eq!(
        after["certs/ca-previous.key.20270115T080000Z"],
        ("A KEY".into(), 0o600)
    );
}

#[test]
fn changes_name_what_a_write_would_do_and_write_nothing() {
    use super::{Change, ChangeKind};
    let (old, new) = old_and_new();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let added = old.changes(&dir, None).unwrap();
    assert!(
        added.iter().all(|c| c.kind == ChangeKind::Added),
        "{added:?}"
    );
    assert_eq!(added.len(), old.files().count() + 1, "the file list too");
    assert!(!dir.exists());
    old.write_to(&dir).unwrap();
    assert_eq!(old.changes(&dir, None).unwrap(), []);
    std::fs::write(dir.join("trust/notes.txt"), "mine").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        dir.join(paths::CA_CERT),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let before = tree(&dir);
    let kind = |path: &str, kind| Change {
        path: path.into(),
        kind,
    };
    assert_eq!(
        new.changes(&dir, None).unwrap(),
        [
            kind(paths::FILE_LIST, ChangeKind::Changed),
            kind("README.md", ChangeKind::Changed),
            kind("auth/admin.password", ChangeKind::Removed),
            kind("auth/htpasswd", ChangeKind::Added),
            kind(paths::CA_CERT, ChangeKind::Mode(0o600, 0o644)),
            kind("scripts/start.sh", ChangeKind::Added),
            kind(
                "trust/docker/certs.d/new.test:5000/ca.crt",
                ChangeKind::Added
            ),
            kind(
                "trust/docker/certs.d/old.test:5000/ca.crt",
                ChangeKind::Removed
            ),
        ]
    );
    // A CA the write would refuse to replace is refused here too.
    assert!(matches!(
        new_ca().changes(&dir, None),
        Err(Error::Refused { .. })
    ));
    let aside = new_ca().changes(&dir, Some(at())).unwrap();
    assert!(aside.contains(&kind(
        paths::CA_KEY,
        ChangeKind::SetAside("certs/ca.key.20270115T080000Z".into())
    )));
    assert_eq!(tree(&dir), before, "nothing written");
}
