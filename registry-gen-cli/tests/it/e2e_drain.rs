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
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::text;
use crate::e2e::{
    node_port_registry, push_blob, random_blob, render, start_pod_with, wait_for, Bundle, Sandbox,
    Scenario, POD_IP,
};

/// The blob: large enough that a pull at [`RATE`] takes a few seconds.
const BLOB_MIB: usize = 48;
/// The pulling client's rate, so the pull is in flight when SIGTERM comes.
const RATE: &str = "12M";

fn base() -> String {
    format!("https://{POD_IP}:5000/v2/drain/blob")
}

/// A registry of the rendered bundle serving a [`BLOB_MIB`] MiB blob, with
/// `extra` variables added to its env; the blob's digest.
fn serving_a_large_blob(sb: &mut Sandbox, extra: &[(String, String)]) -> (Bundle, String) {
    let b = render(sb, &Scenario::plain(node_port_registry(), vec![]));
    start_pod_with(sb, &b, extra);
    let blob = sb.path().join("blob");
    let digest = random_blob(&blob, BLOB_MIB);
    let code = push_blob(sb, &base(), &["--insecure"], &blob, &digest);
    assert_eq!(code, "201", "the blob upload");
    (b, digest)
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
    let (b, digest) = serving_a_large_blob(&mut sb, &[]);
    assert_eq!(b.env("REGISTRY_HTTP_DRAINTIMEOUT").as_deref(), Some("60s"));
    let grace = b.pod().termination_grace_period_seconds.unwrap();
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
        fs::read(sb.path().join("blob")).unwrap(),
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
    // As the bundle was before: no REGISTRY_HTTP_DRAINTIMEOUT (0: none).
    let no_drain = [("REGISTRY_HTTP_DRAINTIMEOUT".to_owned(), "0".to_owned())];
    let (_, digest) = serving_a_large_blob(&mut sb, &no_drain);
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
