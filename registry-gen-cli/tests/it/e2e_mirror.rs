//! End to end for mirrors (pull-through caches), with real software only,
//! in the e2e suite's private network and mount namespaces (see `e2e.rs`):
//!
//! - a stand-in upstream: Debian's distribution server with TLS from a test
//!   CA, answering as `registry-1.docker.io` and as
//!   `upstream.e2e.test` through the namespace's /etc/hosts, holding a test
//!   image the test pushes with skopeo;
//! - the mirrors played from the rendered manifests (proxy env, upstream
//!   login from the rendered Secret, the test CA from the rendered
//!   ConfigMap through `SSL_CERT_FILE`; no verification disabled), exposed as
//!   the Service and the hostPort say;
//! - containerd (`ctr images pull --hosts-dir` with the rendered tree) pulls
//!   `docker.io/library/<image>` through the mirror, then from its cache
//!   with the upstream stopped; with `fallback: false` and the mirror
//!   stopped the pull fails and the upstream sees no request from
//!   containerd; with `fallback: true` containerd falls back to the upstream;
//! - containers/image (skopeo) with the rendered registries.conf.d, as
//!   trust-node.sh installs it, pulls through the mirror; `verify.sh
//!   --mirror` says which mirror served the image; trust-node.sh merges
//!   Docker's registry-mirrors into an existing daemon.json;
//! - a mirror restarted while its upstream is down (the container's
//!   command, `mirror-start.sh` under busybox, played as the kubelet runs
//!   it) serves its cache read-only, then proxies once the upstream is back.
//!
//! The mirror here is distribution 2.8.2, which ignores `REGISTRY_PROXY_TTL`
//! (a 3.x setting, checked in distribution's source): the test checks that
//! it says so and still serves. 2.8 sends an upstream login only to a token
//! (bearer) realm such as Docker Hub's, which the stand-in does not run: the
//! mirrors get the rendered login (a token with `: ` in it, which the
//! rendered Secret quotes so the registry's YAML reading of env values keeps
//! it a string) and start with it, and the stand-in needs none.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use crate::common::{bin, text};
use crate::e2e::{
    start_containerd, start_pod_as, start_proxies_as, use_node_containers_config, wait_for, Bundle,
    Sandbox,
};
use crate::support::{openssl_ca, sh};

pub(crate) const UPSTREAM_IP: &str = "127.0.0.20";
pub(crate) const HUB: &str = "registry-1.docker.io";
const OTHER: &str = "upstream.e2e.test";
const HUB_MIRROR_IP: &str = "127.0.0.11";
const OTHER_MIRROR_IP: &str = "127.0.0.12";
/// The mirrors' Services' cluster IPs (kube-proxy's).
const HUB_MIRROR_SVC_IP: &str = "127.0.0.13";
const OTHER_MIRROR_SVC_IP: &str = "127.0.0.14";
const UPSTREAM_USER: &str = "hubuser";
const UPSTREAM_TOKEN: &str = "hub token: e2e";
/// The test image, as the upstream holds it.
pub(crate) const HUB_REPO: &str = "library/e2e-mirror:1";
const OTHER_REPO: &str = "team/e2e-mirror:1";
/// Where nodes reach the mirrors (NodePort / hostPort of the config below).
const HUB_MIRROR: &str = "127.0.0.2:30521";
const OTHER_MIRROR: &str = "127.0.0.2:5022";

const CONFIG: &str = "name: kube-registry
namespace: registry
addresses:
  node_ips: [127.0.0.2]
ports:
  container: 5000
  node: 30500
storage: {empty_dir: {}}
auth: null
mirrors:
  - upstream: docker.io
    fallback: false
    ports: {node: 30521}
    storage: {empty_dir: {}}
    ttl: 168h
    username_file: hub/user
    password_file: hub/token
    ca_file: upstream/ca.crt
  - upstream: upstream.e2e.test
    fallback: true
    ports: {host: 5022}
    storage: {empty_dir: {}}
    username_file: hub/user
    password_file: hub/token
    ca_file: upstream/ca.crt
";

/// The stand-in upstream's files: a test CA and a server certificate for
/// both names; returns the CA file.
pub(crate) fn make_upstream(sb: &Sandbox) -> PathBuf {
    let dir = sb.path().join("upstream");
    fs::create_dir_all(dir.join("data")).unwrap();
    let (ca, _) = openssl_ca(
        &dir,
        "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256",
        "30",
    );
    sh(
        &dir,
        &format!(
            "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -subj /CN={HUB} -addext subjectAltName=DNS:{HUB},DNS:{OTHER} -out server.csr 2>/dev/null && openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -copy_extensions copy -out server.crt 2>/dev/null"
        ),
    );
    fs::write(
        dir.join("config.yml"),
        format!(
            "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: {d}/data\nhttp:\n  addr: {UPSTREAM_IP}:443\n  secret: e2e-upstream\n  tls:\n    certificate: {d}/server.crt\n    key: {d}/server.key\n",
            d = dir.display()
        ),
    )
    .unwrap();
    ca
}

pub(crate) fn start_upstream(sb: &mut Sandbox, ca: &Path) {
    let mut c = sb.cmd("docker-registry");
    c.arg("serve")
        .arg(sb.path().join("upstream/config.yml"))
        .env_clear();
    sb.spawn("upstream", c);
    let url = format!("https://{HUB}/v2/");
    wait_for("the stand-in upstream", Duration::from_secs(30), || {
        sb.curl(&["--cacert", ca.to_str().unwrap(), &url], None).0 == "200"
    });
}

/// Build the tiny test image (an OCI layout) and push it to `reference`
/// on the upstream with skopeo; returns its digest.
pub(crate) fn push(sb: &Sandbox, ca: &Path, reference: &str) -> String {
    push_image(
        sb,
        ca,
        reference,
        "image",
        "served through a registry-gen mirror",
    )
}

/// [`push`] an image of its own, built in `name/`, whose one layer holds
/// `content`.
fn push_image(sb: &Sandbox, ca: &Path, reference: &str, name: &str, content: &str) -> String {
    let work = sb.path().join(name);
    if !work.exists() {
        fs::create_dir(&work).unwrap();
        fs::write(work.join("text"), format!("{content}\n")).unwrap();
        sh(
            &work,
            r#"set -e
mkdir -p image/blobs/sha256 layer
printf '{"imageLayoutVersion":"1.0.0"}\n' > image/oci-layout
cp text layer/mirrored.txt
tar -C layer -cf - mirrored.txt | gzip -n > layer.tar.gz
blob() { d=$(sha256sum "$1" | cut -d ' ' -f 1); cp "$1" image/blobs/sha256/$d; printf '"digest":"sha256:%s","size":%s' $d $(wc -c < "$1"); }
layer=$(blob layer.tar.gz)
diff_id=$(gzip -dc layer.tar.gz | sha256sum | cut -d ' ' -f 1)
printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' $diff_id > config.json
config=$(blob config.json)
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json",%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip",%s}]}' "$config" "$layer" > manifest.json
manifest=$(blob manifest.json)
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json",%s}]}' "$manifest" > image/index.json
"#,
        );
    }
    let certs = sb.path().join("upstream-certs");
    fs::create_dir_all(&certs).unwrap();
    fs::copy(ca, certs.join("ca.crt")).unwrap();
    let digest = sb.path().join(format!("{name}-pushed-digest"));
    let o = sb.run(
        sb.cmd("skopeo")
            .args(["copy", "--quiet", "--dest-cert-dir"])
            .arg(&certs)
            .arg("--digestfile")
            .arg(&digest)
            .arg(format!("oci:{}", work.join("image").display()))
            .arg(format!("docker://{reference}")),
    );
    assert!(o.status.success(), "push {reference}: {}", text(&o));
    fs::read_to_string(digest).unwrap().trim().to_owned()
}

/// `ctr images pull` through `hosts_dir` into a fresh content store state:
/// the image and its blobs are removed first, so every blob is fetched
/// again. `upstream_ca`: the node trusts the stand-in upstream's CA as a
/// system CA (so a fallback to it could succeed); `None`: only what
/// `hosts_dir` says (and the system's public CAs).
fn pull(
    sb: &Sandbox,
    sock: &Path,
    hosts_dir: &Path,
    reference: &str,
    upstream_ca: Option<&Path>,
) -> Output {
    let ctr = |args: &[&str]| {
        let mut c = sb.cmd("ctr");
        c.arg("--address")
            .arg(sock)
            .args(["--namespace", "e2e"])
            .args(args);
        c
    };
    let _ = sb.run(&mut ctr(&["images", "rm", reference]));
    let listed = sb.run(&mut ctr(&["content", "ls", "--quiet"]));
    for digest in String::from_utf8_lossy(&listed.stdout).split_whitespace() {
        let _ = sb.run(&mut ctr(&["content", "rm", digest]));
    }
    let mut c = ctr(&["images", "pull", "--snapshotter", "native", "--hosts-dir"]);
    c.arg(hosts_dir);
    if let Some(ca) = upstream_ca {
        c.env("SSL_CERT_FILE", ca);
    }
    c.arg(reference);
    sb.run(&mut c)
}

fn listed_digest(sb: &Sandbox, sock: &Path, reference: &str) -> String {
    let o = sb.run(sb.cmd("ctr").arg("--address").arg(sock).args([
        "--namespace",
        "e2e",
        "images",
        "ls",
    ]));
    let said = text(&o);
    said.lines()
        .find(|l| l.starts_with(reference))
        .and_then(|l| l.split_whitespace().find(|w| w.starts_with("sha256:")))
        .unwrap_or_else(|| panic!("{reference} not listed: {said}"))
        .to_owned()
}

fn log(sb: &Sandbox, name: &str) -> String {
    fs::read_to_string(sb.log(name)).unwrap_or_default()
}

/// Requests the upstream got from containerd (its user agent).
fn containerd_requests(sb: &Sandbox) -> usize {
    log(sb, "upstream")
        .lines()
        .filter(|l| l.contains("http.request.useragent=\"containerd/"))
        .count()
}

pub(crate) fn mirror_bundle(dir: &Path, slug: &str) -> Bundle {
    Bundle::load_as(
        dir.to_owned(),
        &format!("mirror-{slug}-deployment.yaml"),
        &format!("mirror-{slug}-service.yaml"),
    )
}

/// Play a mirror's pod, then kube-proxy and the hostPort for it.
fn start_mirror(sb: &mut Sandbox, dir: &Path, slug: &str, name: &str, pod_ip: &str, svc: &str) {
    let b = mirror_bundle(dir, slug);
    start_pod_as(sb, &b, name, pod_ip);
    start_proxies_as(sb, &b, false, pod_ip, svc, &format!("{name}-proxy"));
}

/// [`start_mirror`] for the Docker Hub mirror.
fn start_hub_mirror(sb: &mut Sandbox, dir: &Path) {
    start_mirror(
        sb,
        dir,
        "docker-io",
        "mirror-hub",
        HUB_MIRROR_IP,
        HUB_MIRROR_SVC_IP,
    );
}

/// containerd pulls `docker.io/<HUB_REPO>` with the bundle's hosts tree:
/// the digest is the pushed one, the Docker Hub mirror's log shows the
/// request, and the upstream's shows none from containerd.
fn pull_through_hub_mirror(sb: &Sandbox, sock: &Path, hosts_dir: &Path, ca: &Path, digest: &str) {
    let hub_ref = format!("docker.io/{HUB_REPO}");
    let o = pull(sb, sock, hosts_dir, &hub_ref, Some(ca));
    assert!(o.status.success(), "ctr pull {hub_ref}: {}", text(&o));
    assert_eq!(listed_digest(sb, sock, &hub_ref), digest);
    assert!(
        log(sb, "mirror-hub").contains("/v2/library/e2e-mirror/manifests/1"),
        "the mirror's log shows no request: {}",
        log(sb, "mirror-hub")
    );
    assert_eq!(containerd_requests(sb), 0, "{}", log(sb, "upstream"));
}

/// Render `config` (written beside the bundle, so its `*_file`s resolve
/// there) into `bundle/` with the real binary.
fn render_config(sb: &Sandbox, config: &str) -> PathBuf {
    let file = sb.path().join("registry-gen.yaml");
    fs::write(&file, config).unwrap();
    let dir = sb.path().join("bundle");
    let o = bin()
        .arg("render")
        .arg("--config")
        .arg(&file)
        .arg("--out")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "render: {}", text(&o));
    dir
}

#[test]
fn mirrors_serve_every_runtime_from_their_cache_and_fallback_is_obeyed() {
    let mut sb = Sandbox::new(&[(UPSTREAM_IP, vec![HUB.to_owned(), OTHER.to_owned()])]);
    let ca = make_upstream(&sb);
    start_upstream(&mut sb, &ca);
    let hub_digest = push(&sb, &ca, &format!("{HUB}/{HUB_REPO}"));
    let other_digest = push(&sb, &ca, &format!("{OTHER}/{OTHER_REPO}"));

    // The upstream login in files beside the config, as a user keeps them.
    let hub = sb.path().join("hub");
    fs::create_dir(&hub).unwrap();
    fs::write(hub.join("user"), format!("{UPSTREAM_USER}\n")).unwrap();
    fs::write(hub.join("token"), format!("{UPSTREAM_TOKEN}\n")).unwrap();
    let dir = render_config(&sb, CONFIG);
    // The upstream login is in the Secret only: never in the Deployment.
    for f in [
        "mirror-docker-io-deployment.yaml",
        "mirror-upstream-e2e-test-deployment.yaml",
    ] {
        let d = fs::read_to_string(dir.join("manifests").join(f)).unwrap();
        assert!(
            !d.contains(UPSTREAM_TOKEN) && !d.contains(UPSTREAM_USER),
            "{f}"
        );
    }

    start_hub_mirror(&mut sb, &dir);
    start_mirror(
        &mut sb,
        &dir,
        "upstream-e2e-test",
        "mirror-other",
        OTHER_MIRROR_IP,
        OTHER_MIRROR_SVC_IP,
    );
    // Distribution 2.8 has no proxy TTL: it says so and serves anyway.
    assert!(
        log(&sb, "mirror-hub").contains("REGISTRY_PROXY_TTL"),
        "{}",
        log(&sb, "mirror-hub")
    );

    let sock = start_containerd(&mut sb);
    let hosts_dir = dir.join("trust/containerd/certs.d");
    let hub_ref = format!("docker.io/{HUB_REPO}");

    // 1. containerd pulls docker.io/... through the mirror.
    pull_through_hub_mirror(&sb, &sock, &hosts_dir, &ca, &hub_digest);

    // 2. With the upstream stopped, the mirror serves from its cache.
    sb.stop("upstream");
    let o = pull(&sb, &sock, &hosts_dir, &hub_ref, Some(&ca));
    assert!(
        o.status.success(),
        "ctr pull {hub_ref} from the cache: {}",
        text(&o)
    );
    assert_eq!(listed_digest(&sb, &sock, &hub_ref), hub_digest);

    // 3. fallback: false and the mirror down: the pull fails, and the
    // upstream (running, and trusted by the node) hears nothing from
    // containerd.
    start_upstream(&mut sb, &ca);
    sb.stop("mirror-hub");
    let o = pull(&sb, &sock, &hosts_dir, &hub_ref, Some(&ca));
    assert!(
        !o.status.success(),
        "pulled with the mirror down and fallback: false: {}",
        text(&o)
    );
    assert!(text(&o).contains(HUB_MIRROR), "{}", text(&o));
    assert_eq!(
        containerd_requests(&sb),
        0,
        "containerd reached the upstream: {}",
        log(&sb, "upstream")
    );

    // 4. fallback: true: through the mirror while it runs (the upstream
    // hears only the mirror), straight from the upstream once it is down.
    let other_ref = format!("{OTHER}/{OTHER_REPO}");
    let other_hosts = fs::read_to_string(hosts_dir.join(OTHER).join("hosts.toml")).unwrap();
    assert!(
        other_hosts.contains(&format!("[host.\"https://{OTHER_MIRROR}\"]"))
            && other_hosts.contains(&format!("server = \"https://{OTHER}\"")),
        "{other_hosts}"
    );
    let o = pull(&sb, &sock, &hosts_dir, &other_ref, Some(&ca));
    assert!(o.status.success(), "ctr pull {other_ref}: {}", text(&o));
    assert_eq!(listed_digest(&sb, &sock, &other_ref), other_digest);
    assert!(log(&sb, "mirror-other").contains("/v2/team/e2e-mirror/manifests/1"));
    assert_eq!(containerd_requests(&sb), 0, "{}", log(&sb, "upstream"));
    sb.stop("mirror-other");
    // The node knows the upstream's private CA only from the rendered
    // hosts.toml (`ca = "upstream-ca.crt"`, from ca_file), not as a
    // system CA: without it the fallback failed with x509.
    assert!(
        other_hosts.contains("ca = \"upstream-ca.crt\""),
        "{other_hosts}"
    );
    let o = pull(&sb, &sock, &hosts_dir, &other_ref, None);
    assert!(
        o.status.success(),
        "ctr pull {other_ref} falling back to the upstream: {}",
        text(&o)
    );
    assert_eq!(listed_digest(&sb, &sock, &other_ref), other_digest);
    assert!(
        containerd_requests(&sb) > 0,
        "containerd did not fall back: {}",
        log(&sb, "upstream")
    );

    // 5. A node as trust-node.sh sets it up: containers/image (skopeo, as
    // CRI-O and podman) reads the installed registries.conf.d and certs.d
    // and pulls docker.io/... through the mirror (fallback: false: its
    // location is the mirror), with the upstream stopped.
    // The same pod again (its cache volume kept), behind the same proxies.
    start_pod_as(
        &mut sb,
        &mirror_bundle(&dir, "docker-io"),
        "mirror-hub",
        HUB_MIRROR_IP,
    );
    sb.stop("upstream");
    let node = sb.path().join("node");
    let daemon_json = node.join("etc/docker/daemon.json");
    fs::create_dir_all(daemon_json.parent().unwrap()).unwrap();
    fs::write(
        &daemon_json,
        r#"{"log-driver": "journald", "registry-mirrors": ["https://other.example"]}"#,
    )
    .unwrap();
    let o = sb.run(
        sb.cmd("bash")
            .arg(dir.join("scripts/trust-node.sh"))
            .args(["--docker", "--crio", "--root"])
            .arg(&node),
    );
    assert!(o.status.success(), "trust-node.sh: {}", text(&o));
    assert!(text(&o).contains("systemctl reload docker"), "{}", text(&o));
    // Docker's daemon.json: ours first, the node's own mirror and keys kept.
    let merged: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&daemon_json).unwrap()).unwrap();
    assert_eq!(merged["log-driver"], "journald");
    assert_eq!(
        merged["registry-mirrors"],
        serde_json::json!([format!("https://{HUB_MIRROR}"), "https://other.example"])
    );
    use_node_containers_config(&sb, &node);
    let before = log(&sb, "mirror-hub")
        .matches("e2e-mirror/manifests")
        .count();
    let o = sb.run(
        sb.cmd("skopeo")
            .args(["inspect", "--no-tags", "--format", "{{.Digest}}"])
            .arg(format!("docker://{hub_ref}")),
    );
    assert!(
        o.status.success(),
        "containers/image via the installed registries.conf.d: {}",
        text(&o)
    );
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), hub_digest);
    assert!(
        log(&sb, "mirror-hub")
            .matches("e2e-mirror/manifests")
            .count()
            > before
    );

    // 6. verify.sh --mirror names the mirror that served the image.
    let o = sb.run(sb.cmd("bash").arg(dir.join("scripts/verify.sh")).args([
        "--mirror",
        "docker.io",
        "e2e-mirror:1",
    ]));
    assert!(o.status.success(), "verify.sh --mirror: {}", text(&o));
    assert!(
        text(&o).contains(&format!(
            "docker.io/library/e2e-mirror:1 is {hub_digest}, served by the mirror {HUB_MIRROR}"
        )),
        "{}",
        text(&o)
    );
    let o = sb.run(
        sb.cmd("bash")
            .arg(dir.join("scripts/verify.sh"))
            .args(["--mirror", "quay.io", "x:1"]),
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("no mirror of quay.io"), "{}", text(&o));
}

/// A mirror-only bundle (`registry.enabled: false`): no private registry
/// at all, and its one mirror, played from the rendered manifests, serves
/// containerd's `docker.io/...` pulls through the rendered hosts.toml.
const MIRROR_ONLY_CONFIG: &str = "name: kube-mirror
namespace: registry
addresses:
  node_ips: [127.0.0.2]
registry:
  enabled: false
mirrors:
  - upstream: docker.io
    fallback: false
    ports: {node: 30521}
    storage: {empty_dir: {}}
    ca_file: upstream/ca.crt
";

/// The stand-in Docker Hub running and holding the test image, and the
/// mirror-only bundle rendered: the sandbox, the stand-in's CA, the
/// image's digest and the bundle's directory.
fn mirror_only_before_its_start() -> (Sandbox, PathBuf, String, PathBuf) {
    let mut sb = Sandbox::new(&[(UPSTREAM_IP, vec![HUB.to_owned()])]);
    let ca = make_upstream(&sb);
    start_upstream(&mut sb, &ca);
    let hub_digest = push(&sb, &ca, &format!("{HUB}/{HUB_REPO}"));
    let dir = render_config(&sb, MIRROR_ONLY_CONFIG);
    (sb, ca, hub_digest, dir)
}

#[test]
fn a_mirror_only_bundle_serves_containerd_without_a_private_registry() {
    let (mut sb, ca, hub_digest, dir) = mirror_only_before_its_start();
    // Nothing of the private registry: no workload, storage, login, pull
    // test or garbage collection, and no trust for its addresses.
    for gone in [
        "manifests/deployment.yaml",
        "manifests/service.yaml",
        "manifests/secret-htpasswd.yaml",
        "manifests/secret-pull.yaml",
        "manifests/local-registry-hosting.yaml",
        "manifests/tests/pull-test-pod.yaml",
        "scripts/gc.sh",
        "trust/containerd/certs.d/127.0.0.2:30500",
    ] {
        assert!(!dir.join(gone).exists(), "{gone} in a mirror-only bundle");
    }

    start_hub_mirror(&mut sb, &dir);
    let sock = start_containerd(&mut sb);
    let hosts_dir = dir.join("trust/containerd/certs.d");
    pull_through_hub_mirror(&sb, &sock, &hosts_dir, &ca, &hub_digest);

    // verify.sh: only --mirror applies, and it works.
    let verify = dir.join("scripts/verify.sh");
    let o = sb.run(sb.cmd("bash").arg(&verify));
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("mirror-only bundle"), "{}", text(&o));
    let o = sb.run(
        sb.cmd("bash")
            .arg(&verify)
            .args(["--mirror", "docker.io", "e2e-mirror:1"]),
    );
    assert!(o.status.success(), "verify.sh --mirror: {}", text(&o));
    assert!(
        text(&o).contains(&format!(
            "is {hub_digest}, served by the mirror {HUB_MIRROR}"
        )),
        "{}",
        text(&o)
    );
}

/// The mirror's pod restarted while its upstream is unreachable (issue 21,
/// item 4): distribution panics at start in proxy mode when the upstream
/// does not answer (distribution#4038), so the old manifests crash-looped
/// here. Played as the kubelet would: the cache primed, the upstream
/// stopped, the pod stopped with SIGTERM and started again from the
/// rendered Deployment (the same data volume). The mirror must serve the
/// cached image to containerd through the bundle's hosts.toml and refuse
/// pushes; once the upstream answers again (with an image the mirror has
/// never seen), it must proxy it without anyone touching the pod.
#[test]
fn a_mirror_restarted_while_its_upstream_is_down_serves_its_cache_then_proxies_again() {
    let (mut sb, ca, hub_digest, dir) = mirror_only_before_its_start();
    let bundle_ca = dir.join("trust/ca.crt");
    start_hub_mirror(&mut sb, &dir);
    // (What the container said, checked at the end: the behaviour first.)
    let first_log = log(&sb, "mirror-hub");
    let sock = start_containerd(&mut sb);
    let hosts_dir = dir.join("trust/containerd/certs.d");
    let hub_ref = format!("docker.io/{HUB_REPO}");

    // 1. The cache primed through the mirror.
    pull_through_hub_mirror(&sb, &sock, &hosts_dir, &ca, &hub_digest);

    // 2. The upstream unreachable, the mirror's pod restarted.
    sb.stop("upstream");
    // What RegistryMirrorUpstreamFailing can see meanwhile (2.8 in proxy
    // mode): a tag it never cached is a 404, like a name that does not
    // exist; only a blob it must fetch is a 5xx (docs/howto-monitoring.md).
    let get = |path: &str| {
        let url = format!("https://{HUB_MIRROR}/v2/{path}");
        sb.curl(&["--cacert", bundle_ca.to_str().unwrap(), &url], None)
            .0
    };
    assert_eq!(get("library/never-pulled/manifests/latest"), "404");
    let zeros = "0".repeat(64);
    assert_eq!(
        get(&format!("library/never-pulled/blobs/sha256:{zeros}")),
        "500"
    );
    let stopped = sb.terminate("mirror-hub", Duration::from_secs(10));
    assert!(stopped.is_some(), "the mirror ignored SIGTERM");
    let started = Instant::now();
    start_pod_as(
        &mut sb,
        &mirror_bundle(&dir, "docker-io"),
        "mirror-hub",
        HUB_MIRROR_IP,
    );
    let cache_only_start = started.elapsed();

    // 3. containerd pulls the cached image through the bundle's hosts.toml
    // (fallback: false: only the mirror), and the mirror refuses a push.
    let o = pull(&sb, &sock, &hosts_dir, &hub_ref, Some(&ca));
    assert!(
        o.status.success(),
        "ctr pull {hub_ref} from the cache-only mirror: {}",
        text(&o)
    );
    assert_eq!(listed_digest(&sb, &sock, &hub_ref), hub_digest);
    let uploads = format!("https://{HUB_MIRROR}/v2/library/pushed/blobs/uploads/");
    let (status, _) = sb.curl(
        &[
            "--cacert",
            bundle_ca.to_str().unwrap(),
            "-X",
            "POST",
            &uploads,
        ],
        None,
    );
    assert_eq!(status, "405", "a push to the cache-only mirror");
    assert!(sb.exited("mirror-hub").is_none());
    assert!(
        first_log.contains("answers: starting the mirror in proxy mode"),
        "{first_log}"
    );
    assert!(
        log(&sb, "mirror-hub").contains("does not answer: serving the cache read-only"),
        "{}",
        log(&sb, "mirror-hub")
    );

    // 4. The upstream answers again, with an image the mirror never saw;
    // the mirror goes back to proxying by itself. Measured: how long after
    // the upstream answers the mirror proxies, and the longest time its
    // port did not answer meanwhile (the switch).
    start_upstream(&mut sb, &ca);
    let back = Instant::now();
    let fresh_repo = "library/e2e-fresh:1";
    let fresh_digest = push_image(
        &sb,
        &ca,
        &format!("{HUB}/{fresh_repo}"),
        "image-fresh",
        "pushed while the mirror served its cache alone",
    );
    let manifest = format!("https://{HUB_MIRROR}/v2/library/e2e-fresh/manifests/1");
    let health = format!("https://{HUB_MIRROR_IP}:5000/");
    let (mut gap, mut down_since) = (Duration::ZERO, None::<Instant>);
    wait_for(
        "the mirror to proxy the upstream again",
        Duration::from_secs(60),
        || {
            let up = sb.curl(&["--insecure", "--max-time", "2", &health], None).0 == "200";
            match (up, down_since) {
                (false, None) => down_since = Some(Instant::now()),
                (true, Some(t)) => {
                    gap = gap.max(t.elapsed());
                    down_since = None;
                }
                _ => {}
            }
            up && sb
                .curl(
                    &[
                        "--cacert",
                        bundle_ca.to_str().unwrap(),
                        "-H",
                        "Accept: application/vnd.oci.image.manifest.v1+json",
                        &manifest,
                    ],
                    None,
                )
                .0
                == "200"
        },
    );
    let resumed = back.elapsed();
    assert!(
        log(&sb, "mirror-hub").contains("answers: stopping the cache-only registry"),
        "{}",
        log(&sb, "mirror-hub")
    );
    assert!(
        sb.exited("mirror-hub").is_none(),
        "the mirror's container ended: {}",
        log(&sb, "mirror-hub")
    );

    // 5. containerd pulls the new image through the mirror, which fetched
    // it from the upstream (containerd never reached the upstream).
    let fresh_ref = format!("docker.io/{fresh_repo}");
    let o = pull(&sb, &sock, &hosts_dir, &fresh_ref, Some(&ca));
    assert!(
        o.status.success(),
        "ctr pull {fresh_ref} through the mirror: {}",
        text(&o)
    );
    assert_eq!(listed_digest(&sb, &sock, &fresh_ref), fresh_digest);
    assert_ne!(fresh_digest, hub_digest);
    assert!(
        log(&sb, "upstream").contains("/v2/library/e2e-fresh/manifests/1"),
        "{}",
        log(&sb, "upstream")
    );
    assert_eq!(containerd_requests(&sb), 0, "{}", log(&sb, "upstream"));
    // The kubelet's SIGTERM still stops it (the registry is the container's
    // first process again).
    assert!(sb
        .terminate("mirror-hub", Duration::from_secs(10))
        .is_some());
    eprintln!(
        "measured: cache-only start {:.1} s; proxying {:.1} s after the upstream answered; the port silent for at most {:.2} s",
        cache_only_start.as_secs_f64(),
        resumed.as_secs_f64(),
        gap.as_secs_f64()
    );
}
