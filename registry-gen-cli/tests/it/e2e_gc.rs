//! Garbage collection end to end, with the real distribution server
//! (Debian's 2.8.2) played from the rendered Deployment and its real
//! `garbage-collect` played from the rendered Job (command, env, volumes
//! and security context read from `manifests/maintenance/gc-job.yaml`), in
//! the sandbox of e2e.rs. The steps are gc.sh's for shared storage, the
//! read-only variable and its value read from the rendered gc.sh: the pod
//! replaced by one with the variable (the rollout), the Job run on the same
//! data volume, the pod replaced by the Deployment's own (the variable
//! removed). gc.sh's own kubectl calls are checked against a fake kubectl
//! in the library's tests (gc_script.rs): no cluster here.
//!
//! Shown: the blobs only a deleted image used are gone from the data
//! directory and nothing else is; the other images still pull, with the
//! same digests; a push during the read-only phase is refused with the
//! registry's read-only answer (2.8.2: 405 "Method not allowed" to the
//! upload) and succeeds
//! afterwards; a second collection deletes nothing; the old manifest of an
//! overwritten tag survives a plain collection and goes with
//! `--delete-untagged`.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use k8s_openapi::api::batch::v1 as batch;

use crate::common::text;
use crate::e2e::{
    play_container, pod_dirs, render, reroot, start_pod, start_pod_with, start_proxies, Bundle,
    Sandbox, Scenario, CLUSTER_IP, NODE_IP, POD_IP,
};

/// Shared (ReadWriteMany) storage, delete on, no auth, hostPort 5000.
const CONFIG: &str = "name: registry\nnamespace: registry\naddresses:\n  node_ips: [127.0.0.2]\nports:\n  container: 5000\n  host: 5000\nstorage:\n  pvc:\n    size: 1Gi\n    access_modes: [ReadWriteMany]\nauth: null\nregistry:\n  delete_enabled: true\n";
const ENDPOINT: &str = "127.0.0.2:5000";

/// Builds an OCI image layout in `$1` with one gzipped layer per further
/// argument (a file holding that text; the same text gives the same layer),
/// as verify.sh does; prints the digests of every blob (layers, config,
/// manifest).
const MAKE_IMAGE: &str = r#"set -euo pipefail
dir=$1; shift
mkdir -p "$dir/blobs/sha256"
printf '{"imageLayoutVersion":"1.0.0"}\n' >"$dir/oci-layout"
blob() {
    local h
    h=$(sha256sum "$1" | cut -d' ' -f1)
    cp "$1" "$dir/blobs/sha256/$h"
    printf '"digest":"sha256:%s","size":%s' "$h" "$(stat -c %s "$1")"
}
layers= diffs= n=0
for text in "$@"; do
    n=$((n + 1))
    t="$dir/layer-$n"
    mkdir "$t"
    echo "$text" >"$t/content.txt"
    tar --mtime=@0 --owner=0 --group=0 --numeric-owner --mode=0644 -C "$t" -cf "$t.tar" content.txt
    gzip -n -c "$t.tar" >"$t.tgz"
    layers+="{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",$(blob "$t.tgz")},"
    diffs+="\"sha256:$(sha256sum "$t.tar" | cut -d' ' -f1)\","
done
printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[%s]}}' "${diffs%,}" >"$dir/config.json"
config=$(blob "$dir/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json",%s},"layers":[%s]}' "$config" "${layers%,}" >"$dir/manifest.json"
manifest=$(blob "$dir/manifest.json")
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json",%s,"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}\n' "$manifest" >"$dir/index.json"
ls "$dir/blobs/sha256"
"#;

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// An image built by [`MAKE_IMAGE`]: its layout and its blobs' digests.
pub(crate) struct Image {
    pub(crate) layout: PathBuf,
    blobs: BTreeSet<String>,
}

pub(crate) fn make_image(sb: &Sandbox, name: &str, layers: &[&str]) -> Image {
    let layout = sb.path().join("images").join(name);
    let o = Command::new("bash")
        .arg("-c")
        .arg(MAKE_IMAGE)
        .arg("make-image")
        .arg(&layout)
        .args(layers)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let blobs = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|h| format!("sha256:{h}"))
        .collect();
    Image { layout, blobs }
}

fn certs(b: &Bundle) -> PathBuf {
    b.dir.join("trust/docker/certs.d").join(ENDPOINT)
}

fn push(sb: &Sandbox, b: &Bundle, image: &Image, reference: &str) -> Output {
    sb.run(
        sb.cmd("skopeo")
            .args(["copy", "--dest-cert-dir"])
            .arg(certs(b))
            .arg(format!("oci:{}:latest", image.layout.display()))
            .arg(format!("docker://{ENDPOINT}/{reference}")),
    )
}

/// The digest the registry serves for `reference`, after pulling every
/// blob of it (skopeo copy to a fresh layout).
fn pull(sb: &Sandbox, b: &Bundle, reference: &str) -> String {
    let o = sb.run(
        sb.cmd("skopeo")
            .args(["inspect", "--format", "{{.Digest}}", "--cert-dir"])
            .arg(certs(b))
            .arg(format!("docker://{ENDPOINT}/{reference}")),
    );
    assert!(o.status.success(), "inspect {reference}: {}", text(&o));
    let dest = sb
        .path()
        .join("pulled")
        .join(reference.replace([':', '/'], "-"));
    let _ = fs::remove_dir_all(&dest);
    fs::create_dir_all(&dest).unwrap();
    let p = sb.run(
        sb.cmd("skopeo")
            .args(["copy", "--src-cert-dir"])
            .arg(certs(b))
            .arg(format!("docker://{ENDPOINT}/{reference}"))
            .arg(format!("oci:{}:latest", dest.display())),
    );
    assert!(p.status.success(), "pull {reference}: {}", text(&p));
    String::from_utf8(o.stdout).unwrap().trim().to_owned()
}

/// The blobs in the registry's data directory (the data volume).
fn blobs_on_disk(sb: &Sandbox, b: &Bundle) -> BTreeSet<String> {
    let data = b.env("REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY").unwrap();
    assert_eq!(
        b.container().volume_mounts.as_ref().unwrap()[0].mount_path,
        data
    );
    let root = sb
        .path()
        .join("volumes/data/docker/registry/v2/blobs/sha256");
    let mut found = BTreeSet::new();
    for prefix in fs::read_dir(&root).unwrap() {
        for d in fs::read_dir(prefix.unwrap().path()).unwrap() {
            let d = d.unwrap().path();
            if d.join("data").exists() {
                found.insert(format!(
                    "sha256:{}",
                    d.file_name().unwrap().to_str().unwrap()
                ));
            }
        }
    }
    found
}

/// A shell variable of the rendered gc.sh's header.
pub(crate) fn gc_var(b: &Bundle, name: &str) -> String {
    let o = Command::new("bash")
        .arg("-c")
        .arg(format!(
            r#"eval "$(grep -E '^[A-Z_]+=' "$1")"; printf %s "${name}""#
        ))
        .arg("gc-var")
        .arg(b.dir.join("scripts/gc.sh"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    String::from_utf8(o.stdout).unwrap()
}

/// The rendered Job, checked to run the registry's container as the
/// Deployment does (image, env, volumes, security), with a command.
pub(crate) fn gc_job(b: &Bundle) -> batch::Job {
    let job: batch::Job = serde_yaml::from_str(
        &fs::read_to_string(b.dir.join("manifests/maintenance/gc-job.yaml")).unwrap(),
    )
    .unwrap();
    let pod = job.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
    let c = &pod.containers[0];
    let registry = b.container();
    assert_eq!(c.image, registry.image);
    // The registry's env, and with a Redis cache the raw password for the
    // Job's flush under a name the registry does not read.
    let (env, ours) = (c.env.as_ref().unwrap(), registry.env.as_ref().unwrap());
    assert_eq!(env[..ours.len()], ours[..]);
    for extra in &env[ours.len()..] {
        assert!(!extra.name.starts_with("REGISTRY_"), "{extra:?}");
    }
    assert_eq!(c.volume_mounts, registry.volume_mounts);
    assert_eq!(c.security_context, registry.security_context);
    assert_eq!(pod.volumes, b.pod().volumes);
    assert_eq!(pod.security_context, b.pod().security_context);
    assert_eq!(pod.node_selector, b.pod().node_selector);
    job
}

/// Append a container's `command` to `c` as the image runs it: with the
/// image's PATH ([`image_path`]), `registry` or the image's `/bin/sh`, and
/// the image's own files (`/etc/...`) under the container's `root`.
pub(crate) fn image_command(sb: &Sandbox, c: &mut Command, root: &Path, command: &[String]) {
    let bin = image_path(sb);
    // (`env`, not Command::env: that PATH would be searched for nsenter.)
    c.arg("/usr/bin/env").arg(format!("PATH={}", bin.display()));
    let program = match command[0].as_str() {
        "registry" => bin.join("registry"),
        "/bin/sh" => bin.join("sh"),
        other => panic!("unexpected command {other}: {command:?}"),
    };
    c.arg(program);
    for a in &command[1..] {
        if a.starts_with("/etc/") {
            c.arg(reroot(root, a));
        } else {
            c.arg(a);
        }
    }
}

/// The image's `PATH` as the played Job sees it: busybox's applets (the
/// registry image is Alpine: its shell and tools are busybox) and
/// `registry`, the image's binary, which Debian names `docker-registry`.
pub(crate) fn image_path(sb: &Sandbox) -> PathBuf {
    let dir = sb.path().join("image-bin");
    if !dir.exists() {
        fs::create_dir(&dir).unwrap();
        let which = |tool: &str| {
            let o = Command::new("which").arg(tool).output().unwrap();
            assert!(o.status.success(), "{tool} is not installed");
            PathBuf::from(String::from_utf8(o.stdout).unwrap().trim())
        };
        let busybox = which("busybox");
        for applet in [
            "sh", "cat", "grep", "head", "nc", "printf", "sed", "tr", "wc", "wget", "timeout",
            "sleep", "kill",
        ] {
            std::os::unix::fs::symlink(&busybox, dir.join(applet)).unwrap();
        }
        std::os::unix::fs::symlink(which("docker-registry"), dir.join("registry")).unwrap();
    }
    dir
}

/// Run the Job's container to completion as the played pod `pod` would
/// see its volumes (the same backing directories): its output. `flags`
/// are appended to the command, as gc.sh appends its
/// `--dry-run`/`--delete-untagged` (gc_script.rs checks that it does).
/// The command runs with the image's PATH ([`image_path`]): `registry`
/// itself, or the image's `/bin/sh` (busybox) running a script around it.
pub(crate) fn play_job(
    sb: &Sandbox,
    b: &Bundle,
    job: &batch::Job,
    pod: &str,
    flags: &[&str],
) -> Output {
    let spec = job.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
    let container = &spec.containers[0];
    let command = container.command.as_ref().unwrap();
    let config = command
        .iter()
        .find(|a| a.starts_with("/etc/"))
        .expect("the image's config file");
    let root = sb.path().join("gc-pod");
    let (_, volumes) = pod_dirs(sb, pod);
    let mut c = play_container(sb, b, &root, &volumes, POD_IP, spec, container, config);
    image_command(sb, &mut c, &root, command);
    c.args(flags);
    sb.run(&mut c)
}

/// [`play_job`] on the volumes of the pod `registry`; it must succeed.
fn run_job(sb: &Sandbox, b: &Bundle, job: &batch::Job, flags: &[&str]) -> String {
    let o = play_job(sb, b, job, "registry", flags);
    let log = text(&o);
    assert!(o.status.success(), "garbage-collect failed: {log}");
    log
}

/// gc.sh's sequence for shared storage, as the cluster would play it.
/// `during` runs while the registry is read-only.
fn collect(sb: &mut Sandbox, b: &Bundle, flags: &[&str], during: impl FnOnce(&Sandbox)) -> String {
    assert_eq!(gc_var(b, "QUIESCE"), "read-only");
    let read_only = (gc_var(b, "READONLY_ENV"), gc_var(b, "READONLY_VALUE"));
    // The rollout to read-only: the pod replaced by one with the variable.
    sb.stop("registry");
    start_pod_with(sb, b, &[read_only]);
    during(sb);
    let log = run_job(sb, b, &gc_job(b), flags);
    // The variable removed: the Deployment's own pod again, a fresh one.
    sb.stop("registry");
    start_pod(sb, b);
    log
}

#[test]
fn gc_frees_the_blobs_of_a_deleted_image_and_nothing_else() {
    let mut sb = Sandbox::new(&[(CLUSTER_IP, vec!["registry.registry.svc".to_owned()])]);
    let b = render(&sb, &Scenario::plain(CONFIG.to_owned(), vec![]));
    assert!(b.dir.join("scripts/gc.sh").exists());
    start_pod(&mut sb, &b);
    start_proxies(&mut sb, &b, false);
    assert!(ENDPOINT.starts_with(NODE_IP));

    // Two images sharing a layer, one sharing nothing.
    let a = make_image(&sb, "a", &["shared base layer", "only in a"]);
    let bb = make_image(&sb, "b", &["shared base layer", "only in b"]);
    let c = make_image(&sb, "c", &["only in c"]);
    let shared: BTreeSet<String> = a.blobs.intersection(&bb.blobs).cloned().collect();
    assert_eq!(shared.len(), 1, "one shared layer");
    for (image, reference) in [(&a, "app:a"), (&bb, "app:b"), (&c, "other:c")] {
        let o = push(&sb, &b, image, reference);
        assert!(o.status.success(), "push {reference}: {}", text(&o));
    }
    let digest_a = pull(&sb, &b, "app:a");
    let digest_c = pull(&sb, &b, "other:c");
    let pushed: BTreeSet<String> = a
        .blobs
        .iter()
        .chain(&bb.blobs)
        .chain(&c.blobs)
        .cloned()
        .collect();
    assert_eq!(
        blobs_on_disk(&sb, &b),
        pushed,
        "the registry stored the layouts' blobs"
    );

    // Delete app:b through the API: its digest, then DELETE by digest
    // (2.8.2 deletes manifests by digest only; every tag on it goes).
    let o = sb.run(
        sb.cmd("curl")
            .args(["--silent", "--show-error", "--head", "--cacert"])
            .arg(b.dir.join("certs/ca.crt"))
            .args(["-H", &format!("Accept: {OCI_MANIFEST}")])
            .arg(format!("https://{ENDPOINT}/v2/app/manifests/b")),
    );
    let headers = String::from_utf8_lossy(&o.stdout).to_lowercase();
    let digest_b = headers
        .lines()
        .find_map(|l| l.strip_prefix("docker-content-digest: "))
        .unwrap_or_else(|| panic!("no digest: {headers}"))
        .trim()
        .to_owned();
    let ca = b.dir.join("certs/ca.crt");
    let url = format!("https://{ENDPOINT}/v2/app/manifests/{digest_b}");
    let (code, o) = sb.curl(
        &["--cacert", ca.to_str().unwrap(), "-X", "DELETE", &url],
        None,
    );
    assert_eq!(code, "202", "DELETE {url}: {}", text(&o));
    // Deleting frees nothing by itself.
    assert_eq!(blobs_on_disk(&sb, &b), pushed);

    // The collection; a push while the registry is read-only is refused.
    let d = make_image(&sb, "d", &["pushed during the collection"]);
    let log = collect(&mut sb, &b, &[], |sb| {
        let o = push(sb, &b, &d, "app:d");
        let said = text(&o);
        assert!(
            !o.status.success(),
            "pushed to a read-only registry: {said}"
        );
        assert!(
            said.contains("initiating layer upload")
                && said.contains("StatusCode: 405, Method not allowed"),
            "{said}"
        );
        // Pulls keep working.
        assert_eq!(pull(sb, &b, "app:a"), digest_a);
    });
    let gone: BTreeSet<String> = bb.blobs.difference(&a.blobs).cloned().collect();
    assert_eq!(gone.len(), 3, "b's own layer, config and manifest");
    for blob in &gone {
        assert!(
            log.contains(&format!("blob eligible for deletion: {blob}")),
            "{blob}: {log}"
        );
    }
    let after = blobs_on_disk(&sb, &b);
    let expected: BTreeSet<String> = pushed.difference(&gone).cloned().collect();
    assert_eq!(after, expected, "exactly the unshared blobs of b are gone");
    assert!(after.is_superset(&shared));

    // The other images still pull, with the same digests; b is gone.
    assert_eq!(pull(&sb, &b, "app:a"), digest_a);
    assert_eq!(pull(&sb, &b, "other:c"), digest_c);
    let o = sb.run(
        sb.cmd("skopeo")
            .args(["inspect", "--cert-dir"])
            .arg(certs(&b))
            .arg(format!("docker://{ENDPOINT}/app:b")),
    );
    assert!(!o.status.success(), "app:b still served");
    // Writable again: the refused push succeeds.
    let o = push(&sb, &b, &d, "app:d");
    assert!(
        o.status.success(),
        "push after the collection: {}",
        text(&o)
    );
    pull(&sb, &b, "app:d");

    // A second collection deletes nothing.
    let before = blobs_on_disk(&sb, &b);
    let log = collect(&mut sb, &b, &[], |_| {});
    assert!(!log.contains("blob eligible for deletion"), "{log}");
    assert_eq!(blobs_on_disk(&sb, &b), before);
    assert_eq!(pull(&sb, &b, "app:a"), digest_a);

    // An overwritten tag leaves its old manifest untagged: a plain
    // collection keeps it, `--delete-untagged` frees its own blobs.
    let a2 = make_image(&sb, "a2", &["shared base layer", "only in a2"]);
    let o = push(&sb, &b, &a2, "app:a");
    assert!(o.status.success(), "push app:a again: {}", text(&o));
    let digest_a2 = pull(&sb, &b, "app:a");
    assert_ne!(digest_a2, digest_a);
    let before = blobs_on_disk(&sb, &b);
    collect(&mut sb, &b, &[], |_| {});
    assert_eq!(
        blobs_on_disk(&sb, &b),
        before,
        "a plain collection kept a's old manifest"
    );
    let log = collect(&mut sb, &b, &["--delete-untagged"], |_| {});
    let untagged: BTreeSet<String> = a.blobs.difference(&a2.blobs).cloned().collect();
    assert_eq!(untagged.len(), 3, "a's own layer, config and manifest");
    let expected: BTreeSet<String> = before.difference(&untagged).cloned().collect();
    assert_eq!(blobs_on_disk(&sb, &b), expected, "{log}");
    assert_eq!(pull(&sb, &b, "app:a"), digest_a2);
    assert_eq!(pull(&sb, &b, "other:c"), digest_c);
}
