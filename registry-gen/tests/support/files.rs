//! The workspace, its examples, and directory trees walked.

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// `examples/*.yaml`, sorted.
pub fn examples() -> Vec<PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(workspace().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    v.sort();
    assert!(v.len() >= 3, "examples/ lost its configs: {v:?}");
    v
}

/// Every directory and file below `dir`, relative to it, sorted (a
/// directory comes just before what it holds).
pub fn tree(dir: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            out.push(p.strip_prefix(root).unwrap().to_owned());
            if p.is_dir() {
                walk(root, &p, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Every file (not directory) below `dir`, with `dir` in front, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    tree(dir)
        .into_iter()
        .map(|p| dir.join(p))
        .filter(|p| !p.is_dir())
        .collect()
}
