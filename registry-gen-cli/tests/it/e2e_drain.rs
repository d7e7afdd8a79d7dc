//! A stopping registry drains, with the real distribution server (Debian's
//! 2.8.2) played from the rendered Deployment (see e2e.rs): a large blob
//! pull in flight when SIGTERM arrives completes byte-exact, a new
//! connection after SIGTERM is refused (the server has stopped
//! listening, so a client retries another pod), and the registry exits
//! once the pull is done, well inside the pod's grace period. The control
//! is the registry without `REGISTRY_HTTP_DRAINTIMEOUT` (the bundle before
//! it drained): the same pull is cut at SIGTERM.
//!
//! The kubelet's side (the preStop sleep before SIGTERM, the grace period
//! after it) is checked on the manifests in the library's `rollout.rs`; a
//! stopping pod leaving the Service's endpoints is the cluster's part.

use std::fs;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::text;
use crate::e2e::{render, start_pod, start_pod_with, wait_for, Sandbox, Scenario, POD_IP};

const CONFIG: &str = "name: registry
namespace: registry
addresses:
  node_ips: [127.0.0.2]
ports:
  container: 5000
  node: 30500
storage:
  host_path: {path: /srv/registry, node: node-1}
auth: null
";

/// The blob: large enough that a pull at [`RATE`] takes a few seconds.
const BLOB_MIB: usize = 48;
/// The pulling client's rate, so the pull is in flight when SIGTERM comes.
const RATE: &str = "12M";

fn base() -> String {
    format!("https://{POD_IP}:5000/v2/drain/blob")
}

/// Push `blob` monolithically (POST, then PUT with the digest); its digest.
fn push_blob(sb: &Sandbox, blob: &std::path::Path) -> String {
    let o = sb.run(Command::new("sha256sum").arg(blob));
    let digest = format!("sha256:{}", text(&o).split_whitespace().next().unwrap());
    let o = sb.run(sb.cmd("curl").args([
        "--silent",
        "--show-error",
        "--insecure",
        "--request",
        "POST",
        "--dump-header",
        "-",
        "--output",
        "/dev/null",
        &format!("{}/blobs/uploads/", base()),
    ]));
    let headers = text(&o);
    let location = headers
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case("location"))
        })
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_else(|| panic!("no upload location: {headers}"));
    let sep = if location.contains('?') { '&' } else { '?' };
    let (code, o) = sb.curl(
        &[
            "--insecure",
            "--request",
            "PUT",
            "--header",
            "Content-Type: application/octet-stream",
            "--data-binary",
            &format!("@{}", blob.display()),
            &format!("{location}{sep}digest={digest}"),
        ],
        None,
    );
    assert_eq!(code, "201", "blob upload: {}", text(&o));
    digest
}

/// Start a rate-limited pull of `digest` into `to`; the running curl.
fn start_pull(sb: &Sandbox, digest: &str, to: &std::path::Path) -> std::process::Child {
    sb.cmd("curl")
        .args(["--silent", "--show-error", "--insecure", "--fail"])
        .args(["--limit-rate", RATE, "--output"])
        .arg(to)
        .arg(format!("{}/blobs/{digest}", base()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Wait until `to` has grown past a few MiB: the pull is in flight.
fn wait_in_flight(to: &std::path::Path) {
    wait_for("the pull to be in flight", Duration::from_secs(20), || {
        fs::metadata(to).is_ok_and(|m| m.len() > 4 << 20)
    });
}

#[test]
fn a_pull_in_flight_at_sigterm_completes_byte_exact() {
    let mut sb = Sandbox::new(&[]);
    let b = render(&sb, &Scenario::plain(CONFIG.to_owned(), vec![]));
    assert_eq!(b.env("REGISTRY_HTTP_DRAINTIMEOUT").as_deref(), Some("60s"));
    let grace = b.pod().termination_grace_period_seconds.unwrap();
    start_pod(&mut sb, &b);

    let blob = sb.path().join("blob");
    let o = sb.run(
        Command::new("head")
            .args(["-c", &format!("{}", BLOB_MIB << 20), "/dev/urandom"])
            .stdout(fs::File::create(&blob).unwrap()),
    );
    assert!(o.status.success());
    let digest = push_blob(&sb, &blob);

    let pulled = sb.path().join("pulled");
    let pull = start_pull(&sb, &digest, &pulled);
    wait_in_flight(&pulled);
    let term = Instant::now();
    sb.signal("registry", "TERM");
    // A new connection is refused at once: the server stopped listening.
    let refused_after = Instant::now();
    wait_for("the listener to close", Duration::from_secs(5), || {
        sb.curl(
            &[
                "--insecure",
                "--max-time",
                "2",
                &format!("https://{POD_IP}:5000/"),
            ],
            None,
        )
        .0 == "000"
    });
    let refused_in = refused_after.elapsed();
    let o = pull.wait_with_output().unwrap();
    let pulled_in = term.elapsed();
    assert!(
        o.status.success(),
        "the pull in flight failed: {}",
        text(&o)
    );
    assert_eq!(
        fs::read(&pulled).unwrap(),
        fs::read(&blob).unwrap(),
        "the pulled blob differs"
    );
    wait_for("the registry to exit", Duration::from_secs(10), || {
        sb.exited("registry").is_some()
    });
    let exited_in = term.elapsed();
    let status = sb.exited("registry").unwrap();
    assert!(status.success(), "the registry exited {status}");
    assert!(
        exited_in < Duration::from_secs(u64::try_from(grace).unwrap()),
        "the drain outlasted the grace period ({grace} s): {exited_in:?}"
    );
    eprintln!(
        "drain: {BLOB_MIB} MiB pull at {RATE}/s completed {pulled_in:.1?} after SIGTERM (listener closed within {refused_in:.1?}), registry exited {exited_in:.1?} after SIGTERM"
    );
}

/// The control: without the drain timeout the same pull is cut at SIGTERM.
#[test]
fn without_the_drain_timeout_the_pull_is_cut() {
    let mut sb = Sandbox::new(&[]);
    let b = render(&sb, &Scenario::plain(CONFIG.to_owned(), vec![]));
    // As the bundle was before: no REGISTRY_HTTP_DRAINTIMEOUT (0: none).
    start_pod_with(
        &mut sb,
        &b,
        &[("REGISTRY_HTTP_DRAINTIMEOUT".to_owned(), "0".to_owned())],
    );
    let blob = sb.path().join("blob");
    let o = sb.run(
        Command::new("head")
            .args(["-c", &format!("{}", BLOB_MIB << 20), "/dev/urandom"])
            .stdout(fs::File::create(&blob).unwrap()),
    );
    assert!(o.status.success());
    let digest = push_blob(&sb, &blob);
    let pulled = sb.path().join("pulled");
    let pull = start_pull(&sb, &digest, &pulled);
    wait_in_flight(&pulled);
    sb.signal("registry", "TERM");
    let o = pull.wait_with_output().unwrap();
    assert!(
        !o.status.success(),
        "the pull survived SIGTERM without a drain"
    );
    assert!(fs::metadata(&pulled).unwrap().len() < (BLOB_MIB << 20) as u64);
}
