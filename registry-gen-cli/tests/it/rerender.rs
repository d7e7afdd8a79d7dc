//! Re-rendering an existing bundle as an operator does (issue 19, item 2):
//! without --config the bundle's own recorded config is read, nothing it
//! holds has to be given again, a config that changes what the bundle is
//! says so, every printed `next:` command works as printed, and a re-render
//! with nothing changed is byte-identical.

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::{ok, run_with, stderr};

/// Every file of `dir` by relative path.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p.strip_prefix(base).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn changed(a: &BTreeMap<String, Vec<u8>>, b: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect()
}

const CONFIG: &str = "name: reg\nnamespace: prod\naddresses:\n  node_ips: [10.0.0.5]\nports:\n  node: 30443\nstorage:\n  host_path: {path: /srv/reg, node: n1}\n";

/// The `next:` line of `text` that starts with `registry-gen`, as argv.
fn next_command(text: &str) -> Vec<String> {
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("next: registry-gen "))
        .unwrap_or_else(|| panic!("no `next: registry-gen` line in:\n{text}"));
    line.split_whitespace().map(str::to_owned).collect()
}

#[test]
fn a_re_render_without_config_keeps_the_bundles_settings_and_changes_no_byte() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.yaml"), CONFIG).unwrap();
    let run = |args: &[&str], stdin: Option<&str>| run_with(dir.path(), args, &[], stdin);
    ok(&run(&["render", "--config", "c.yaml", "--out", "b"], None));
    let first = tree(&dir.path().join("b"));
    let o = run(&["render", "--out", "b"], None);
    ok(&o);
    assert!(
        stderr(&o).contains("read the bundle's own config b/registry-gen.yaml"),
        "{}",
        stderr(&o)
    );
    let second = tree(&dir.path().join("b"));
    assert_eq!(changed(&first, &second), Vec::<String>::new());
    let config = String::from_utf8(second["registry-gen.yaml"].clone()).unwrap();
    assert!(config.contains("namespace: prod"), "{config}");
    assert!(config.contains("host_path:"), "{config}");
    // The flags still override the recorded config.
    ok(&run(
        &["render", "--out", "b", "--image", "registry:2.8.3"],
        None,
    ));
    let third = tree(&dir.path().join("b"));
    let config = String::from_utf8(third["registry-gen.yaml"].clone()).unwrap();
    assert!(config.contains("namespace: prod") && config.contains("image: registry:2.8.3"));
}

#[test]
fn a_password_given_on_stdin_need_not_be_given_again() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.yaml"), CONFIG).unwrap();
    let run = |args: &[&str], stdin: Option<&str>| run_with(dir.path(), args, &[], stdin);
    ok(&run(
        &["render", "--user", "bob", "--password-stdin", "--out", "b"],
        Some("s3cret: #1\n"),
    ));
    let first = tree(&dir.path().join("b"));
    assert!(!first.contains_key("auth/bob.password"));
    ok(&run(&["render", "--out", "b"], None));
    assert_eq!(
        changed(&first, &tree(&dir.path().join("b"))),
        Vec::<String>::new()
    );
    // A changed password given again still wins.
    ok(&run(
        &["render", "--user", "bob", "--password-stdin", "--out", "b"],
        Some("another\n"),
    ));
    let third = tree(&dir.path().join("b"));
    assert!(changed(&first, &third).contains(&"auth/htpasswd".to_owned()));
    // A new bcrypt cost in the bundle's own config re-hashes the password
    // taken back, rather than asking for it again.
    let recorded = std::fs::read_to_string(dir.path().join("b/registry-gen.yaml")).unwrap();
    assert!(recorded.contains("bcrypt_cost: 5\n"), "{recorded}");
    let costlier = recorded.replace("bcrypt_cost: 5\n", "bcrypt_cost: 6\n");
    std::fs::write(dir.path().join("c.yaml"), costlier).unwrap();
    ok(&run(&["render", "--config", "c.yaml", "--out", "b"], None));
    let fourth = tree(&dir.path().join("b"));
    let htpasswd = String::from_utf8(fourth["auth/htpasswd"].clone()).unwrap();
    let hash = htpasswd.strip_prefix("bob:").unwrap().trim_end();
    assert!(hash.starts_with("$2y$06$"), "{htpasswd}");
    assert!(bcrypt::verify("another", hash).unwrap());
    assert!(!fourth.contains_key("auth/bob.password"));
}

#[test]
fn a_config_that_changes_the_bundles_identity_says_so_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.yaml"), CONFIG).unwrap();
    let run = |args: &[&str]| run_with(dir.path(), args, &[], None);
    ok(&run(&["render", "--out", "b"]));
    let o = run(&["render", "--config", "c.yaml", "--out", "b"]);
    ok(&o);
    let err = stderr(&o);
    let note = err.find("note: this config changes").expect(&err);
    assert!(note < err.find("wrote ").unwrap(), "{err}");
    for what in [
        "the name \"kube-registry\" -> \"reg\"",
        "the namespace \"kube-system\" -> \"prod\"",
        "the storage empty_dir -> host_path",
    ] {
        assert!(err.contains(what), "{what}: {err}");
    }
    // The same config again: nothing to say.
    let o = run(&["render", "--config", "c.yaml", "--out", "b"]);
    assert!(!stderr(&o).contains("note: this config changes"));
}

#[test]
fn every_rotation_next_line_works_when_pasted_as_printed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.yaml"), CONFIG).unwrap();
    let run = |args: &[&str]| run_with(dir.path(), args, &[], None);
    ok(&run(&[
        "render",
        "--config",
        "c.yaml",
        "--out",
        "my bundle",
    ]));
    let mut o = run(&["render", "--out", "my bundle", "--rotate-ca", "start"]);
    ok(&o);
    for _ in 0..2 {
        // The path with a space is quoted: a shell would hand it over as
        // one word; here the quotes are undone as a shell would.
        let argv: Vec<String> = next_command(&stderr(&o))
            .join(" ")
            .replace("'my bundle'", "my\u{0}bundle")
            .split(' ')
            .map(|w| w.replace('\u{0}', " "))
            .collect();
        let args: Vec<&str> = argv.iter().map(String::as_str).collect();
        o = run(&args);
        ok(&o);
    }
    let config = std::fs::read_to_string(dir.path().join("my bundle/registry-gen.yaml")).unwrap();
    assert!(config.contains("namespace: prod"), "{config}");
    assert!(!dir.path().join("my bundle/certs/ca-rotation.yaml").exists());
    // inspect's hint too.
    ok(&run(&[
        "render",
        "--out",
        "my bundle",
        "--rotate-ca",
        "start",
    ]));
    let o = run(&["inspect", "my bundle"]);
    let argv = next_command(&crate::common::text(&o));
    assert_eq!(
        argv,
        ["render", "--out", "'my", "bundle'", "--rotate-ca", "switch"]
    );
}
