//! What the CLI's tests share: the binary as a command, its output read
//! back, and its snapshots (under the workspace's `snapshots/cli/`).

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

pub use crate::support::workspace;

/// The `registry-gen` binary, without the environment variables it reads.
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_registry-gen"));
    c.env_remove("SOURCE_DATE_EPOCH")
        .env_remove("REGISTRY_GEN_CONFIG")
        .env_remove("REGISTRY_GEN_QUIET")
        .env_remove("REGISTRY_GEN_KEY_ALGORITHM");
    c
}

/// Run the binary in the workspace with `args`, `stdin` on its standard
/// input (closed at once when `None`).
pub fn run(args: &[&str], stdin: Option<&str>) -> Output {
    run_with(&workspace(), args, &[], stdin)
}

/// Run the binary in `dir` with `args` and the environment variables `envs`.
pub fn run_in(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    run_with(dir, args, envs, None)
}

/// Run the binary in `dir` with `args`, the environment variables `envs`
/// and `stdin` on its standard input (closed at once when `None`).
pub fn run_with(dir: &Path, args: &[&str], envs: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let mut child = bin()
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Standard output, then standard error.
pub fn text(o: &Output) -> String {
    stdout(o) + &stderr(o)
}

/// The run succeeded (else: what it said on stderr).
#[track_caller]
pub fn ok(o: &Output) {
    assert!(o.status.success(), "{}", stderr(o));
}

/// The run exited with `code` and its stderr says `says`.
#[track_caller]
pub fn fails(o: &Output, code: i32, says: &str) {
    assert_eq!(o.status.code(), Some(code), "{}", stderr(o));
    self::says(o, says);
}

/// The run's stderr says `what`.
#[track_caller]
pub fn says(o: &Output, what: &str) {
    assert!(
        stderr(o).contains(what),
        "{what:?} missing from: {}",
        stderr(o)
    );
}

/// `text` as the snapshot `snapshots/cli/<name>.snap`.
pub fn snapshot(name: &str, text: &str) {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(workspace().join("snapshots/cli"));
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    s.bind(|| insta::assert_snapshot!(name, text));
}

/// The permission bits of `p`.
pub fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}
