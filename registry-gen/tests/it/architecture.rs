//! ARCHITECTURE.md's invariants, checked on the source text where a machine
//! can check them: the modules form no circle, renderers never read the
//! config, only `inputs.rs` draws randomness and nothing reads the clock,
//! only `write/` touches the filesystem, and the CLI's main.rs stays
//! short.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, relative to `src/`, with its code lines
/// (comment lines dropped: a doc link is no dependency).
fn sources(dir: &Path) -> BTreeMap<String, Vec<String>> {
    crate::support::files_under(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .map(|p| {
            let rel = p.strip_prefix(src()).unwrap().display().to_string();
            let code = std::fs::read_to_string(&p)
                .unwrap()
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .map(str::to_owned)
                .collect();
            (rel, code)
        })
        .collect()
}

/// The top-level module a source file belongs to (`render/trust.rs` → `render`).
fn module(rel: &str) -> String {
    let first = rel.split('/').next().unwrap();
    first.strip_suffix(".rs").unwrap_or(first).to_owned()
}

/// The lines whose code (string literals left out) contains any of
/// `needles`, as `file: line`.
fn offenders(files: &BTreeMap<String, Vec<String>>, needles: &[&str]) -> Vec<String> {
    files
        .iter()
        .flat_map(|(f, lines)| {
            lines
                .iter()
                .filter(|l| {
                    let code: String = l.split('"').step_by(2).collect();
                    needles.iter().any(|n| code.contains(n))
                })
                .map(move |l| format!("{f}: {}", l.trim()))
        })
        .collect()
}

#[test]
fn the_library_modules_form_no_circle() {
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, lines) in sources(&src()) {
        let from = module(&file);
        if from == "lib" {
            continue; // the crate root wires every module
        }
        for line in &lines {
            for part in line.split("crate::").skip(1) {
                let to: String = part
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let is_module = src().join(format!("{to}.rs")).exists() || src().join(&to).is_dir();
                if !to.is_empty() && to != from && is_module {
                    deps.entry(from.clone()).or_default().insert(to);
                }
            }
        }
    }
    // Depth-first search for a back edge.
    fn visit(
        m: &str,
        deps: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if done.contains(m) {
            return;
        }
        if let Some(i) = path.iter().position(|p| p == m) {
            panic!("module circle: {} -> {m}", path[i..].join(" -> "));
        }
        path.push(m.to_owned());
        for d in deps.get(m).into_iter().flatten() {
            visit(d, deps, path, done);
        }
        path.pop();
        done.insert(m.to_owned());
    }
    let mut done = BTreeSet::new();
    for m in deps.keys() {
        visit(m, &deps, &mut Vec::new(), &mut done);
    }
}

#[test]
fn renderers_and_describers_never_read_the_config() {
    let mut files = sources(&src().join("render"));
    for f in ["summary.rs", "describe.rs"] {
        let one = sources(&src())
            .remove(f)
            .unwrap_or_else(|| panic!("{f} is gone"));
        files.insert(f.to_owned(), one);
    }
    // `grep 'plan.config\|\.config\.'` on the code (a string such as
    // kustomize's apiVersion `kustomize.config.k8s.io` is no read).
    let bad = offenders(&files, &["plan.config", ".config."]);
    assert!(bad.is_empty(), "read the config, not the plan:\n{bad:#?}");
    files.remove("summary.rs"); // summarize(config) builds the plan from it
    let names_config = |f: &String, l: &String| {
        let code: String = l.split('"').step_by(2).collect();
        code.split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .any(|word| word == "Config")
            .then(|| format!("{f}: {}", l.trim()))
    };
    let bad: Vec<String> = files
        .iter()
        .flat_map(|(f, lines)| lines.iter().filter_map(move |l| names_config(f, l)))
        .collect();
    assert!(bad.is_empty(), "a renderer names Config:\n{bad:#?}");
}

#[test]
fn only_inputs_draws_randomness_and_nothing_reads_the_clock() {
    let mut files = sources(&src());
    let bad = offenders(&files, &["now_utc", "SystemTime", "Instant::now"]);
    assert!(bad.is_empty(), "the clock is injected:\n{bad:#?}");
    files.remove("inputs.rs");
    files.remove("lib.rs"); // its `bench` hook makes keys for the benches only
    let bad = offenders(&files, &["getrandom", "rand::", "keys::generate"]);
    assert!(
        bad.is_empty(),
        "randomness is drawn in inputs.rs only:\n{bad:#?}"
    );
}

#[test]
fn only_the_write_module_touches_the_filesystem() {
    let mut files = sources(&src());
    files.retain(|f, _| module(f) != "write");
    let bad = offenders(&files, &["std::fs", "rustix", "File::open", "OpenOptions"]);
    assert!(bad.is_empty(), "filesystem I/O outside write/:\n{bad:#?}");
}

#[test]
fn the_cli_main_stays_thin() {
    let main = Path::new(env!("CARGO_MANIFEST_DIR")).join("../registry-gen-cli/src/main.rs");
    let lines = std::fs::read_to_string(main).unwrap().lines().count();
    assert!(
        lines <= 40,
        "registry-gen-cli/src/main.rs has {lines} lines"
    );
}
