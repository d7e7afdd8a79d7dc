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

/// Largest non-test source file, in lines (a file's `#[cfg(test)]` tail is
/// a test and not counted).
const MAX_FILE_LINES: usize = 600;
/// Longest function, in lines from its `fn` line to its closing brace.
const MAX_FN_LINES: usize = 120;
/// Functions that may be longer: data tables, each with why.
const LONG_FN_TABLES: &[(&str, &str)] = &[];

/// Every non-test `.rs` file of both crates' `src/`, as (path from the
/// workspace root, its lines before any `#[cfg(test)]`).
fn non_test_sources() -> Vec<(String, Vec<String>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut out = Vec::new();
    for krate in ["registry-gen", "registry-gen-cli"] {
        let dir = root.join(krate).join("src");
        for p in crate::support::files_under(&dir) {
            let is_test = p.file_name().is_some_and(|n| n == "tests.rs")
                || p.components().any(|c| c.as_os_str() == "tests");
            if p.extension().is_none_or(|x| x != "rs") || is_test {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            let lines = text
                .lines()
                .take_while(|l| l.trim() != "#[cfg(test)]")
                .map(str::to_owned)
                .collect();
            let rel = p.strip_prefix(&root).unwrap().display().to_string();
            out.push((rel, lines));
        }
    }
    out
}

/// The functions of a rustfmt-formatted file longer than `max` lines, as
/// `name (lines)`: a function runs from its `fn` line to the first line
/// that is its closing brace at the same indentation.
fn long_functions(lines: &[String], max: usize) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let code = line.trim_start();
        let indent = &line[..line.len() - code.len()];
        let after_vis = code
            .strip_prefix("pub(crate) ")
            .or_else(|| code.strip_prefix("pub(super) "))
            .or_else(|| code.strip_prefix("pub "))
            .unwrap_or(code);
        let after_kw = after_vis
            .strip_prefix("const ")
            .or_else(|| after_vis.strip_prefix("async "))
            .unwrap_or(after_vis);
        let Some(sig) = after_kw.strip_prefix("fn ") else {
            continue;
        };
        let name: String = sig
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let close = format!("{indent}}}");
        if let Some(len) = lines[i..].iter().position(|l| *l == close) {
            if len + 1 > max {
                out.push((name, len + 1));
            }
        }
    }
    out
}

#[test]
fn no_source_file_is_over_600_lines() {
    let big: Vec<String> = non_test_sources()
        .into_iter()
        .filter(|(_, lines)| lines.len() > MAX_FILE_LINES)
        .map(|(f, lines)| format!("{f}: {} lines", lines.len()))
        .collect();
    assert!(
        big.is_empty(),
        "split these by concern (at most {MAX_FILE_LINES} non-test lines a file):\n{big:#?}"
    );
}

#[test]
fn no_function_is_over_120_lines_unless_a_data_table() {
    let long: Vec<String> = non_test_sources()
        .into_iter()
        .flat_map(|(f, lines)| {
            long_functions(&lines, MAX_FN_LINES)
                .into_iter()
                .filter(|(name, _)| !LONG_FN_TABLES.iter().any(|(t, _)| t == name))
                .map(move |(name, n)| format!("{f}: fn {name}, {n} lines"))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(
        long.is_empty(),
        "make these a list of small named steps (at most {MAX_FN_LINES} lines a function):\n{long:#?}"
    );
}

#[test]
fn the_size_rules_see_a_planted_breach() {
    let long_fn: Vec<String> = std::iter::once("    pub(crate) fn planted() {".to_owned())
        .chain((0..MAX_FN_LINES).map(|i| format!("        let _x{i} = {i};")))
        .chain([
            "    }".to_owned(),
            "fn short() {".to_owned(),
            "}".to_owned(),
        ])
        .collect();
    assert_eq!(
        long_functions(&long_fn, MAX_FN_LINES),
        [("planted".to_owned(), MAX_FN_LINES + 2)]
    );
    assert!(long_functions(&long_fn[..MAX_FN_LINES - 2], MAX_FN_LINES).is_empty());
}
