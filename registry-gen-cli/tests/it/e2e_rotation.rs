//! CA rotation end to end, with the real distribution registry played from
//! each step's rendered Deployment and Secrets (see `e2e.rs`), and real
//! clients pulling through trust trees installed at different times:
//! skopeo with the Docker `certs.d` tree and a private containerd with
//! `ctr images pull --hosts-dir`.
//!
//! - A client that installed the trust files of step 1 (both CAs) pulls
//!   before step 2, after step 2 (the new server certificate) and after
//!   step 3, with no certificate error at any point; re-trusted after
//!   step 3 (the new CA alone) it pulls too.
//! - A client that still holds only the old trust pulls until step 3 (at
//!   step 2 through the new CA cross-signed by the old one, which the
//!   registry serves after its certificate) and fails after step 3 with a
//!   certificate error.

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::text;
use crate::e2e::{
    ctr_pull, example, pod_annotations, render, start_containerd, start_pod, start_proxies, Bundle,
    Sandbox, Scenario, CLUSTER_IP, IMAGE, NODE_IP,
};

const DNS: &str = "registry.e2e.test";
/// The endpoint both clients use (the NodePort).
const ENDPOINT: &str = "registry.e2e.test:30443";

fn scenario(step: Option<&'static str>) -> Scenario {
    let mut flags = vec!["--node-ip", NODE_IP, "--dns-name", DNS];
    if let Some(step) = step {
        flags.extend(["--rotate-ca", step]);
    }
    Scenario::plain(example("nodeport-htpasswd.yaml"), flags)
}

/// A client's installed trust: copies of the bundle's Docker and
/// containerd trees as they were at one moment.
struct Trust {
    docker: PathBuf,
    containerd: PathBuf,
}

fn install_trust(sb: &Sandbox, b: &Bundle, name: &str) -> Trust {
    let root = sb.path().join(name);
    let _ = fs::remove_dir_all(&root);
    fs::create_dir_all(&root).unwrap();
    for tree in ["docker", "containerd"] {
        let o = std::process::Command::new("cp")
            .arg("-a")
            .arg(b.dir.join("trust").join(tree).join("certs.d"))
            .arg(root.join(tree))
            .output()
            .unwrap();
        assert!(o.status.success(), "cp: {}", text(&o));
    }
    Trust {
        docker: root.join("docker"),
        containerd: root.join("containerd"),
    }
}

/// Pull the pushed image as a client with `trust` would: skopeo (the
/// digest) and containerd. `Ok(digest)`, or what the failing client said.
fn pull(
    sb: &Sandbox,
    sock: &Path,
    trust: &Trust,
    authfile: &Path,
    login: &(String, String),
) -> Result<String, String> {
    let o = sb.run(
        sb.cmd("skopeo")
            .arg("inspect")
            .arg("--authfile")
            .arg(authfile)
            .arg("--cert-dir")
            .arg(trust.docker.join(ENDPOINT))
            .args(["--format", "{{.Digest}}"])
            .arg(format!("docker://{ENDPOINT}/{IMAGE}")),
    );
    if !o.status.success() {
        return Err(format!("skopeo: {}", text(&o)));
    }
    let digest = String::from_utf8(o.stdout).unwrap().trim().to_owned();
    let o = ctr_pull(
        sb,
        sock,
        &trust.containerd,
        &format!("{ENDPOINT}/{IMAGE}"),
        Some(login),
    );
    if !o.status.success() {
        return Err(format!("ctr: {}", text(&o)));
    }
    Ok(digest)
}

#[test]
fn rotation_never_fails_a_pull_for_a_client_trusted_at_step_one() {
    let mut sb = Sandbox::new(&[
        (NODE_IP, vec![DNS.to_owned()]),
        (CLUSTER_IP, vec!["docker-registry.default.svc".to_owned()]),
    ]);
    let b0 = render(&sb, &scenario(None));
    start_pod(&mut sb, &b0);
    start_proxies(&mut sb, &b0, false);
    let login = b0.login(None).expect("the example has auth");

    // Push the image verify.sh builds, through the bundle's own script.
    let o = sb.run(sb.cmd("bash").arg(b0.dir.join("scripts/verify.sh")));
    assert!(o.status.success(), "verify.sh: {}", text(&o));
    let authfile = sb.path().join("auth.json");
    let pull_secret = b0
        .secrets
        .values()
        .find(|s| s.type_.as_deref() == Some("kubernetes.io/dockerconfigjson"))
        .unwrap();
    fs::write(
        &authfile,
        &pull_secret.data.as_ref().unwrap()[".dockerconfigjson"].0,
    )
    .unwrap();
    let sock = start_containerd(&mut sb);
    let old = install_trust(&sb, &b0, "old-trust");
    let digest = pull(&sb, &sock, &old, &authfile, &login).expect("before the rotation");

    // Step 1: both CAs trusted; the registry keeps its certificate, so the
    // pod template does not change and the pod keeps running.
    let b1 = render(&sb, &scenario(Some("start")));
    assert_eq!(
        pod_annotations(&b0)["registry-gen/checksum-tls"],
        pod_annotations(&b1)["registry-gen/checksum-tls"],
        "step 1 must not roll the registry"
    );
    let step1 = install_trust(&sb, &b1, "step1-trust");
    for (who, trust) in [("step-1 trust", &step1), ("old trust", &old)] {
        let got = pull(&sb, &sock, trust, &authfile, &login);
        assert_eq!(got.as_deref(), Ok(digest.as_str()), "{who} after step 1");
    }

    // Step 2: the new CA signs; the template changes, the pod is replaced.
    let b2 = render(&sb, &scenario(Some("switch")));
    assert_ne!(
        pod_annotations(&b1)["registry-gen/checksum-tls"],
        pod_annotations(&b2)["registry-gen/checksum-tls"],
        "step 2 must roll the registry"
    );
    sb.stop("registry");
    start_pod(&mut sb, &b2);
    for (who, trust) in [("step-1 trust", &step1), ("old trust", &old)] {
        let got = pull(&sb, &sock, trust, &authfile, &login);
        assert_eq!(got.as_deref(), Ok(digest.as_str()), "{who} after step 2");
    }

    // Step 3: the old CA is dropped; the chain loses the cross-signed CA.
    let b3 = render(&sb, &scenario(Some("finish")));
    assert_ne!(
        pod_annotations(&b2)["registry-gen/checksum-tls"],
        pod_annotations(&b3)["registry-gen/checksum-tls"],
        "step 3 must roll the registry"
    );
    sb.stop("registry");
    start_pod(&mut sb, &b3);
    let retrusted = install_trust(&sb, &b3, "step3-trust");
    for (who, trust) in [("step-1 trust", &step1), ("re-trusted", &retrusted)] {
        let got = pull(&sb, &sock, trust, &authfile, &login);
        assert_eq!(got.as_deref(), Ok(digest.as_str()), "{who} after step 3");
    }
    let failed = pull(&sb, &sock, &old, &authfile, &login)
        .expect_err("a client that trusts only the old CA still pulls after step 3");
    assert!(
        failed.contains("x509") || failed.contains("certificate"),
        "{failed}"
    );
}
