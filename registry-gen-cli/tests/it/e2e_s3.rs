//! End to end, several replicas on object storage, with real software only:
//! `moto_server` (PyPI `moto[server]`) as the S3-compatible endpoint, over
//! TLS from a private CA that only the bundle's `storage.s3.ca_file` names;
//! the bucket created by the test with boto3; two real distribution
//! registries (Debian's `docker-registry` 2.8.2) played from the rendered
//! two-replica Deployment, each with the same env, Secrets and ConfigMap
//! (e2e.rs's `start_pod_as`); HAProxy (Debian) as the Service in front of
//! them; skopeo as the client; and, with `cache.redis`, a real
//! `redis-server` (Debian).
//!
//! HAProxy balances **each HTTP request** round robin (TLS terminated with
//! the bundle's server certificate, re-encrypted to the pods, verified
//! against the bundle's CA), where a Service balances connections: an
//! upload's POST, PATCH and PUT land on different replicas, the case
//! distribution #1176 and #2225 report as "blob upload unknown" when the
//! replicas share neither storage nor the HTTP secret. If it works per
//! request it works per connection. Two more HAProxy frontends on the node
//! address reach one replica each, for the "directly through each replica"
//! pulls.
//!
//! The rendered REGISTRY_REDIS_* variables come in two spellings (2.x's
//! `redis.addr`, 3.x's `redis.addrs`); the 2.8.2 that runs here reads the
//! first and logs that it ignores the second, which the test checks: the
//! 3.x spelling is checked against distribution's source only
//! (docs/design.md).
//!
//! Time: about 10 to 20 s per test once built (the GC one about 30 s)
//! (`cargo test -p registry-gen-cli --test it e2e_s3::`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::common::{bin, text};
use crate::e2e::{start_pod_as, start_pod_as_with, wait_for, Bundle, Sandbox, CLUSTER_IP, NODE_IP};
use crate::e2e_gc::{gc_job, gc_var, play_job};
use crate::support::{openssl_ca, sh};

/// moto_server's address and the name its certificate carries.
pub(crate) const S3_IP: &str = "127.0.0.20";
pub(crate) const S3_HOST: &str = "s3.test";
pub(crate) const S3_PORT: u16 = 9000;
/// redis-server's address.
pub(crate) const REDIS_IP: &str = "127.0.0.21";
/// The pods' IPs, one per replica.
const PODS: [(&str, &str); 2] = [("replica-a", "127.0.0.11"), ("replica-b", "127.0.0.12")];
/// The node ports of the two "directly to one replica" frontends.
const DIRECT_PORTS: [u16; 2] = [15001, 15002];
const BUCKET: &str = "e2e-registry";
const REPO: &str = "e2e/multi";
/// The in-cluster Service name the certificate and trust files carry.
const SERVICE: &str = "registry.registry.svc";

/// Fake keys: moto accepts any. They reach the registry only through the
/// rendered Secret.
const ACCESS_KEY: &str = "e2eaccesskey";
const SECRET_KEY: &str = "e2e-secret-key";
/// Not ASCII: the GC Job counts its length in bytes, as Redis does.
const REDIS_PASSWORD: &str = "e2e-rédis-pässword";

/// A three-layer OCI image (random bytes per layer, 1 MiB or argv[2]
/// bytes, gzip'd tars) written as an OCI layout at argv[1], tag `v1`.
pub(crate) const MAKE_IMAGE: &str = r#"
import gzip, hashlib, io, json, os, sys, tarfile
out = sys.argv[1]
size = int(sys.argv[2]) if len(sys.argv) > 2 else 1 << 20
os.makedirs(f"{out}/blobs/sha256", exist_ok=True)
def blob(data):
    d = hashlib.sha256(data).hexdigest()
    open(f"{out}/blobs/sha256/{d}", "wb").write(data)
    return "sha256:" + d
layers, diffs = [], []
for i in range(3):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as t:
        data = os.urandom(size)
        info = tarfile.TarInfo(f"layer{i}.bin"); info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    diffs.append("sha256:" + hashlib.sha256(raw.getvalue()).hexdigest())
    gz = gzip.compress(raw.getvalue(), mtime=0)
    layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": blob(gz), "size": len(gz)})
config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": diffs}, "config": {}}).encode()
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": blob(config), "size": len(config)},
    "layers": layers}).encode()
index = {"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": blob(manifest), "size": len(manifest), "annotations": {"org.opencontainers.image.ref.name": "v1"}}]}
json.dump(index, open(f"{out}/index.json", "w"))
json.dump({"imageLayoutVersion": "1.0.0"}, open(f"{out}/oci-layout", "w"))
"#;

/// boto3 against moto: `create` the bucket, or `count` the objects under
/// the registry's root directory. Keys from the environment.
const S3_CLIENT: &str = r#"
import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[2], region_name="us-east-1", verify=sys.argv[3])
if sys.argv[1] == "create":
    s3.create_bucket(Bucket=sys.argv[4])
else:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=sys.argv[4], Prefix=sys.argv[5])
    print(sum(len(p.get("Contents", [])) for p in pages))
"#;

fn config(redis: bool, delete: bool) -> String {
    let mut c = format!(
        "name: registry\nnamespace: registry\nreplicas: 2\naddresses: {{node_ips: [{NODE_IP}]}}\nports: {{container: 5000, node: 30500}}\nstorage:\n  s3:\n    bucket: {BUCKET}\n    region: us-east-1\n    endpoint: https://{S3_HOST}:{S3_PORT}\n    path_style: true\n    root_directory: /registry\n    access_key_file: s3/access-key\n    secret_key_file: s3/secret-key\n    ca_file: s3/ca.crt\nauth:\n  users: [{{name: ci}}]\n"
    );
    if delete {
        c.push_str("registry:\n  delete_enabled: true\n");
    }
    if redis {
        c.push_str(&format!(
            "cache:\n  redis: {{address: \"{REDIS_IP}:6379\", password_file: redis/password, db: 2}}\n"
        ));
    }
    c
}

/// The S3 endpoint's private CA and moto's certificate for `s3.test`.
pub(crate) fn s3_certs(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    fs::create_dir_all(dir).unwrap();
    let (ca, _) = openssl_ca(
        dir,
        "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256",
        "2",
    );
    sh(
        dir,
        &format!(
            "printf 'subjectAltName=DNS:{S3_HOST}\\nextendedKeyUsage=serverAuth\\n' > ext.cnf && \
             openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout s3.key -subj /CN={S3_HOST} -out s3.csr && \
             openssl x509 -req -in s3.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile ext.cnf -out s3.crt"
        ),
    );
    (ca, dir.join("s3.crt"), dir.join("s3.key"))
}

fn s3_client(sb: &Sandbox, ca: &Path, args: &[&str]) -> String {
    let mut c = sb.cmd("python3");
    c.args(["-c", S3_CLIENT])
        .arg(args[0])
        .arg(format!("https://{S3_HOST}:{S3_PORT}"))
        .arg(ca)
        .args(&args[1..])
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY);
    let o = sb.run(&mut c);
    assert!(o.status.success(), "boto3 {args:?}: {}", text(&o));
    String::from_utf8(o.stdout).unwrap().trim().to_owned()
}

/// HAProxy as the Service (round robin per request over every replica) and
/// one frontend per replica on the node address.
fn start_haproxy(sb: &mut Sandbox, b: &Bundle) {
    let pem = sb.path().join("haproxy.pem");
    let mut both = fs::read(b.dir.join("certs/server.crt")).unwrap();
    both.extend(fs::read(b.dir.join("certs/server.key")).unwrap());
    fs::write(&pem, both).unwrap();
    let ca = b.dir.join("certs/ca.crt");
    let port = b.env("REGISTRY_HTTP_ADDR").unwrap()[1..].to_owned();
    let svc_port = b.service.spec.as_ref().unwrap().ports.as_ref().unwrap()[0].port;
    let server = |name: &str, ip: &str| {
        format!(
            "  server {name} {ip}:{port} ssl verify required ca-file {} verifyhost {SERVICE} check inter 300ms fall 1 rise 2\n",
            ca.display()
        )
    };
    let mut cfg = format!(
        "global\n  maxconn 512\ndefaults\n  mode http\n  timeout connect 2s\n  timeout client 60s\n  timeout server 60s\n  option http-server-close\n  http-reuse never\n  retries 2\n  option redispatch\n  option httpchk GET /\n\
         frontend service\n  bind {CLUSTER_IP}:{svc_port} ssl crt {pem}\n  default_backend all\nbackend all\n  balance roundrobin\n",
        pem = pem.display()
    );
    for (name, ip) in PODS {
        cfg.push_str(&server(name, ip));
    }
    for ((name, ip), direct) in PODS.iter().zip(DIRECT_PORTS) {
        cfg.push_str(&format!(
            "frontend direct-{name}\n  bind {NODE_IP}:{direct} ssl crt {}\n  default_backend only-{name}\nbackend only-{name}\n",
            pem.display()
        ));
        cfg.push_str(&server(name, ip));
    }
    let file = sb.path().join("haproxy.cfg");
    fs::write(&file, cfg).unwrap();
    let mut c = sb.cmd("haproxy");
    c.arg("-db").arg("-f").arg(&file);
    sb.spawn("haproxy", c);
    let ca = ca.to_str().unwrap().to_owned();
    let mut urls = vec![format!("https://{SERVICE}:{svc_port}/")];
    urls.extend(DIRECT_PORTS.map(|p| format!("https://{NODE_IP}:{p}/")));
    for url in urls {
        wait_for(&url, Duration::from_secs(20), || {
            sb.curl(&["--cacert", &ca, &url], None).0 == "200"
        });
    }
}

/// skopeo with the bundle's CA and the pull user's credentials. skopeo
/// reads credentials from argv or an authfile; this is a throwaway
/// password in a namespace with no network.
fn skopeo(sb: &Sandbox, b: &Bundle, args: &[&str]) -> std::process::Output {
    let (user, pw) = b.login(None).unwrap();
    // The bundle's trust directory for the Service (its ca.crt alone); the
    // same CA signs for every endpoint.
    let certs = b
        .dir
        .join("trust/docker/certs.d")
        .join(format!("{SERVICE}:5000"));
    let creds = format!("{user}:{pw}");
    let mut c = sb.cmd("skopeo");
    match args[0] {
        "copy" => {
            c.args(["copy", "--src-cert-dir"])
                .arg(&certs)
                .arg("--dest-cert-dir")
                .arg(&certs);
            if args[1].starts_with("docker://") {
                c.args(["--src-creds", &creds]);
            }
            if args[2].starts_with("docker://") {
                c.args(["--dest-creds", &creds]);
            }
            c.args(&args[1..]);
        }
        _ => {
            c.args([args[0], "--cert-dir"])
                .arg(&certs)
                .args(["--creds", &creds])
                .args(&args[1..]);
        }
    }
    sb.run(&mut c)
}

fn digest(sb: &Sandbox, b: &Bundle, endpoint: &str, when: &str) -> String {
    let o = skopeo(
        sb,
        b,
        &[
            "inspect",
            "--format",
            "{{.Digest}}",
            &format!("docker://{endpoint}/{REPO}:v1"),
        ],
    );
    assert!(
        o.status.success(),
        "inspect via {endpoint} {when}: {}",
        text(&o)
    );
    String::from_utf8(o.stdout).unwrap().trim().to_owned()
}

/// Pull the whole image (manifest and every blob, digests verified by
/// skopeo) through `endpoint`.
fn pull(sb: &Sandbox, b: &Bundle, endpoint: &str, when: &str) {
    let out = sb
        .path()
        .join(format!("pulled-{}", endpoint.replace([':', '.'], "-")));
    let _ = fs::remove_dir_all(&out);
    let o = skopeo(
        sb,
        b,
        &[
            "copy",
            &format!("docker://{endpoint}/{REPO}:v1"),
            &format!("oci:{}:v1", out.display()),
        ],
    );
    assert!(
        o.status.success(),
        "pull via {endpoint} {when}: {}",
        text(&o)
    );
}

/// What [`setup`] started: the sandbox (moto, Redis if asked, both
/// replicas, HAProxy), the bundle, the S3 endpoint's CA and the Service's
/// `host:port`.
struct Setup {
    sb: Sandbox,
    b: Bundle,
    s3_ca: PathBuf,
    service: String,
}

/// moto with the bucket, Redis (with `redis`), the bundle rendered with
/// the real binary (deletes on with `delete`), both replicas and HAProxy
/// as the Service.
fn setup(redis: bool, delete: bool) -> Setup {
    let mut sb = Sandbox::new(&[
        (S3_IP, vec![S3_HOST.to_owned()]),
        (CLUSTER_IP, vec![SERVICE.to_owned()]),
    ]);
    let dir = sb.path().to_owned();

    // The S3 endpoint: moto over TLS from a CA the registry knows only
    // through storage.s3.ca_file; the bucket made with boto3.
    let (s3_ca, s3_crt, s3_key) = s3_certs(&dir.join("s3-pki"));
    let mut moto = sb.cmd("moto_server");
    moto.args(["-H", S3_IP, "-p", &S3_PORT.to_string(), "-c"])
        .arg(&s3_crt)
        .arg("-k")
        .arg(&s3_key)
        // Path-style buckets on this host name, as MinIO serves them.
        .env(
            "MOTO_S3_CUSTOM_ENDPOINTS",
            format!("https://{S3_HOST}:{S3_PORT}"),
        );
    sb.spawn("moto", moto);
    wait_for_moto(&sb, &s3_ca);
    s3_client(&sb, &s3_ca, &["create", BUCKET]);

    if redis {
        let auth = format!("requirepass {REDIS_PASSWORD}");
        start_redis(&mut sb, &auth, None, REDIS_PASSWORD);
    }

    // Render with the real binary, the keys and CA in files beside the config.
    let cfg_dir = dir.join("config");
    fs::create_dir_all(cfg_dir.join("s3")).unwrap();
    fs::create_dir_all(cfg_dir.join("redis")).unwrap();
    fs::write(cfg_dir.join("s3/access-key"), format!("{ACCESS_KEY}\n")).unwrap();
    fs::write(cfg_dir.join("s3/secret-key"), format!("{SECRET_KEY}\n")).unwrap();
    fs::copy(&s3_ca, cfg_dir.join("s3/ca.crt")).unwrap();
    fs::write(
        cfg_dir.join("redis/password"),
        format!("{REDIS_PASSWORD}\n"),
    )
    .unwrap();
    let cfg = cfg_dir.join("registry-gen.yaml");
    fs::write(&cfg, config(redis, delete)).unwrap();
    let out = dir.join("bundle");
    let o = bin()
        .arg("render")
        .arg("--config")
        .arg(&cfg)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "render: {}", text(&o));
    let said = text(&o);
    for secret in [ACCESS_KEY, SECRET_KEY, REDIS_PASSWORD] {
        assert!(!said.contains(secret), "render printed a secret: {said}");
    }
    let b = Bundle::load(out);
    let deployment = b.deployment.spec.as_ref().unwrap();
    assert_eq!(deployment.replicas, Some(2));
    assert!(b.dir.join("manifests/poddisruptionbudget.yaml").exists());

    // One process per replica, each from the same rendered pod template.
    for (name, ip) in PODS {
        start_pod_as(&mut sb, &b, name, ip);
    }
    start_haproxy(&mut sb, &b);
    let svc_port = b.service.spec.as_ref().unwrap().ports.as_ref().unwrap()[0].port;
    let service = format!("{SERVICE}:{svc_port}");
    Setup {
        sb,
        b,
        s3_ca,
        service,
    }
}

/// A three-layer image (random bytes) as an OCI layout `name` under the
/// sandbox, tag `v1`.
fn make_image(sb: &Sandbox, name: &str) -> PathBuf {
    let image = sb.path().join(name);
    let o = Command::new("python3")
        .args(["-c", MAKE_IMAGE])
        .arg(&image)
        .output()
        .unwrap();
    assert!(o.status.success(), "making the image: {}", text(&o));
    image
}

fn scenario(redis: bool) {
    let Setup {
        mut sb,
        b,
        s3_ca,
        service,
    } = setup(redis, false);

    // Push a three-layer image through the Service.
    let image = make_image(&sb, "image");
    let o = skopeo(
        &sb,
        &b,
        &[
            "copy",
            &format!("oci:{}:v1", image.display()),
            &format!("docker://{service}/{REPO}:v1"),
        ],
    );
    assert!(o.status.success(), "push via the Service: {}", text(&o));

    // Its upload requests landed on both replicas.
    for (name, _) in PODS {
        let log = fs::read_to_string(sb.log(name)).unwrap();
        let uploads = log
            .lines()
            .filter(|l| l.contains(&format!("/v2/{REPO}/blobs/uploads/")))
            .count();
        assert!(uploads > 0, "no upload request reached {name}:\n{log}");
    }
    // The data is in the bucket, under the root directory.
    let objects: usize = s3_client(&sb, &s3_ca, &["count", BUCKET, "registry/"])
        .parse()
        .unwrap();
    assert!(
        objects >= 5,
        "{objects} objects under registry/ in the bucket"
    );

    // The same digest through the Service and through each replica alone,
    // and the whole image pulls through each (blobs through the registry:
    // redirect is off, and the client does not trust the bucket's CA).
    let pushed = digest(&sb, &b, &service, "after the push");
    for direct in DIRECT_PORTS {
        let endpoint = format!("{NODE_IP}:{direct}");
        assert_eq!(digest(&sb, &b, &endpoint, "after the push"), pushed);
        pull(&sb, &b, &endpoint, "after the push");
    }
    pull(&sb, &b, &service, "after the push");

    // A replica goes away; the next pull through the Service still works.
    sb.stop(PODS[0].0);
    pull(&sb, &b, &service, "with one replica stopped");
    assert_eq!(
        digest(&sb, &b, &service, "with one replica stopped"),
        pushed
    );

    if redis {
        // The blob descriptors are in the shared Redis, in the configured db.
        let o = sb.run(
            sb.cmd("redis-cli")
                .args(["-h", REDIS_IP, "-n", "2", "--scan"])
                .env("REDISCLI_AUTH", REDIS_PASSWORD),
        );
        let keys = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            keys.contains("blobs::sha256:"),
            "no blob descriptor in Redis db 2: {keys}"
        );
        // 2.8.2 reads REGISTRY_REDIS_ADDR and says it ignores 3.x's spelling.
        let log = fs::read_to_string(sb.log(PODS[1].0)).unwrap();
        assert!(
            log.contains("Ignoring unrecognized environment variable REGISTRY_REDIS_ADDRS"),
            "{log}"
        );
    }
    for (name, _) in &PODS[1..] {
        let log = fs::read_to_string(sb.log(name)).unwrap();
        assert!(
            !log.contains(SECRET_KEY) && !log.contains(REDIS_PASSWORD),
            "{name} logged a secret"
        );
    }
}

#[test]
fn two_replicas_on_s3_behind_a_round_robin_balancer() {
    scenario(false);
}

#[test]
fn two_replicas_on_s3_sharing_a_redis_cache() {
    scenario(true);
}

/// `redis-cli` against the test's Redis, database `db`: its stdout.
fn redis(sb: &Sandbox, db: u32, args: &[&str]) -> String {
    let o = sb.run(
        sb.cmd("redis-cli")
            .args(["-h", REDIS_IP, "-n", &db.to_string()])
            .args(args)
            .env("REDISCLI_AUTH", REDIS_PASSWORD),
    );
    assert!(o.status.success(), "redis-cli {args:?}: {}", text(&o));
    String::from_utf8(o.stdout).unwrap()
}

/// Every key of database `db`, sorted.
fn redis_keys(sb: &Sandbox, db: u32) -> Vec<String> {
    let mut keys: Vec<String> = redis(sb, db, &["--scan"])
        .lines()
        .map(str::to_owned)
        .collect();
    keys.sort();
    keys
}

/// The registry's own blob-descriptor keys among `keys` (distribution's
/// `registry/storage/cache/redis/redis.go`, 2.8 and 3.x alike).
fn descriptor_keys(keys: &[String]) -> Vec<&String> {
    keys.iter()
        .filter(|k| k.starts_with("blobs::sha256:") || k.starts_with("repository::"))
        .collect()
}

/// Replace both replicas (a rollout), with `extra` variables, and wait
/// until HAProxy sends requests to the new ones.
fn roll(sb: &mut Sandbox, b: &Bundle, extra: &[(String, String)]) {
    for (name, ip) in PODS {
        sb.stop(name);
        start_pod_as_with(sb, b, name, ip, extra);
    }
    let ca = b.dir.join("certs/ca.crt");
    let ca = ca.to_str().unwrap();
    for direct in DIRECT_PORTS {
        let url = format!("https://{NODE_IP}:{direct}/");
        wait_for(&url, Duration::from_secs(20), || {
            sb.curl(&["--cacert", ca, &url], None).0 == "200"
        });
    }
}

/// The issue's data loss, played with the real 2.8 registry, redis-server
/// and moto: two replicas on S3 sharing a Redis cache; push, delete,
/// collect as gc.sh does (read-only rollout, the rendered Job, writable
/// rollout), push the same image again, pull it byte-exact. Before the
/// Job flushed Redis, the re-push was skipped blob by blob (`HEAD` 200 from
/// the stale descriptors) and every pull failed. The Job touches only the
/// registry's keys in the configured database: another key there, a key
/// there that only looks like one, and a key in another database survive.
#[test]
fn gc_with_a_shared_redis_cache_then_the_same_image_pushed_again_pulls() {
    let Setup {
        mut sb,
        b,
        s3_ca,
        service,
    } = setup(true, true);
    assert_eq!(gc_var(&b, "QUIESCE"), "read-only");
    // Someone else's data in the same Redis.
    redis(&sb, 2, &["SET", "unrelated", "keep me"]);
    redis(&sb, 2, &["SET", "blobs::notes", "not a descriptor"]);
    redis(&sb, 0, &["SET", "blobs::sha256:0000", "another database"]);

    let image = make_image(&sb, "image");
    let reference = format!("docker://{service}/{REPO}:v1");
    let layout = format!("oci:{}:v1", image.display());
    let o = skopeo(&sb, &b, &["copy", &layout, &reference]);
    assert!(o.status.success(), "push: {}", text(&o));
    pull(&sb, &b, &service, "after the push");
    let cached = redis_keys(&sb, 2);
    assert!(
        descriptor_keys(&cached).len() >= 5,
        "the push left blob descriptors in Redis db 2: {cached:?}"
    );
    let blobs = |sb: &Sandbox| {
        s3_client(
            sb,
            &s3_ca,
            &["count", BUCKET, "registry/docker/registry/v2/blobs/"],
        )
        .parse::<usize>()
        .unwrap()
    };
    assert!(blobs(&sb) >= 5, "the blobs are in the bucket");

    // Delete the image (skopeo resolves the tag and deletes the manifest).
    let o = skopeo(&sb, &b, &["delete", &reference]);
    assert!(o.status.success(), "delete: {}", text(&o));

    // gc.sh's sequence for shared storage: read-only, the Job, writable.
    let read_only = (gc_var(&b, "READONLY_ENV"), gc_var(&b, "READONLY_VALUE"));
    roll(&mut sb, &b, &[read_only]);
    let job = gc_job(&b);
    let dry = play_job(&sb, &b, &job, PODS[0].0, &["--dry-run"]);
    let dry_log = text(&dry);
    assert!(dry.status.success(), "the dry run failed: {dry_log}");
    assert_eq!(redis_keys(&sb, 2), cached, "a dry run flushed: {dry_log}");
    let o = play_job(&sb, &b, &job, PODS[0].0, &[]);
    let log = text(&o);
    assert!(o.status.success(), "the Job failed: {log}");
    // Still read-only: what the cache holds now is what the writable
    // registry starts with.
    let after_job = redis_keys(&sb, 2);
    let other_db = redis_keys(&sb, 0);
    roll(&mut sb, &b, &[]);
    assert_eq!(
        blobs(&sb),
        0,
        "every blob of the deleted image is gone: {log}"
    );

    // The same image again: every blob must be uploaded again, and the
    // image pulls with every blob's bytes as pushed.
    let o = skopeo(&sb, &b, &["copy", &layout, &reference]);
    assert!(o.status.success(), "push again: {}", text(&o));
    let pulled = sb.path().join("pulled-again");
    let o = skopeo(
        &sb,
        &b,
        &["copy", &reference, &format!("oci:{}:v1", pulled.display())],
    );
    assert!(
        o.status.success(),
        "pull after the collection and the re-push: {}",
        text(&o)
    );
    let files = |dir: &Path| -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<(String, Vec<u8>)> = fs::read_dir(dir.join("blobs/sha256"))
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().into_string().unwrap(),
                    fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    };
    assert!(
        files(&pulled) == files(&image),
        "the pulled blobs differ from the pushed ones"
    );
    assert!(blobs(&sb) >= 5, "the re-push stored the blobs again");

    // What the Job flushed, and only that.
    assert!(
        descriptor_keys(&after_job).is_empty(),
        "blob descriptors survived the Job: {after_job:?}\n{log}"
    );
    assert_eq!(
        after_job,
        vec!["blobs::notes".to_owned(), "unrelated".to_owned()],
        "{log}"
    );
    assert_eq!(redis(&sb, 2, &["GET", "unrelated"]).trim(), "keep me");
    assert_eq!(other_db, vec!["blobs::sha256:0000".to_owned()]);
    let flushed = descriptor_keys(&cached).len();
    assert!(
        log.contains(&format!(
            "flushed {flushed} blob descriptor keys from Redis {REDIS_IP}:6379 db 2"
        )),
        "{log}"
    );
    assert!(
        dry_log.contains(&format!(
            "dry run: would flush {flushed} blob descriptor keys from Redis {REDIS_IP}:6379 db 2"
        )),
        "{dry_log}"
    );
    assert!(!log.contains(REDIS_PASSWORD) && !dry_log.contains(REDIS_PASSWORD));

    // The bug itself, and its repair: the same cycle with the collection
    // alone (the Job's command without its shell: what the Job was before,
    // or `registry garbage-collect` by hand) breaks the re-pushed image;
    // a collection with the flush, then one more push, repairs it.
    // (Another image stays: 2.8's collector fails on a bucket without any
    // blob, `error enumerating blobs: s3aws: Path not found`.)
    let other = make_image(&sb, "other");
    let o = skopeo(
        &sb,
        &b,
        &[
            "copy",
            &format!("oci:{}:v1", other.display()),
            &format!("docker://{service}/e2e/other:v1"),
        ],
    );
    assert!(o.status.success(), "push another image: {}", text(&o));
    let o = skopeo(&sb, &b, &["delete", &reference]);
    assert!(o.status.success(), "delete: {}", text(&o));
    let mut plain = job.clone();
    let c = &mut plain
        .spec
        .as_mut()
        .unwrap()
        .template
        .spec
        .as_mut()
        .unwrap()
        .containers[0];
    let command = c.command.take().unwrap();
    c.command = Some(command[4..].to_vec());
    let read_only = (gc_var(&b, "READONLY_ENV"), gc_var(&b, "READONLY_VALUE"));
    roll(&mut sb, &b, std::slice::from_ref(&read_only));
    let o = play_job(&sb, &b, &plain, PODS[0].0, &[]);
    assert!(o.status.success(), "{}", text(&o));
    roll(&mut sb, &b, &[]);
    let o = skopeo(&sb, &b, &["copy", &layout, &reference]);
    assert!(o.status.success(), "push again: {}", text(&o));
    let broken = sb.path().join("pulled-broken");
    let o = skopeo(
        &sb,
        &b,
        &["copy", &reference, &format!("oci:{}:v1", broken.display())],
    );
    assert!(
        !o.status.success() && text(&o).contains("manifest unknown"),
        "without the flush the re-pushed image pulled after all: {}",
        text(&o)
    );
    roll(&mut sb, &b, &[read_only]);
    let o = play_job(&sb, &b, &job, PODS[0].0, &[]);
    assert!(o.status.success(), "{}", text(&o));
    roll(&mut sb, &b, &[]);
    let o = skopeo(&sb, &b, &["copy", &layout, &reference]);
    assert!(o.status.success(), "push after the repair: {}", text(&o));
    let repaired = sb.path().join("pulled-repaired");
    let o = skopeo(
        &sb,
        &b,
        &[
            "copy",
            &reference,
            &format!("oci:{}:v1", repaired.display()),
        ],
    );
    assert!(o.status.success(), "pull after the repair: {}", text(&o));
    assert!(files(&repaired) == files(&image), "repaired blobs differ");

    // A wrong password in the Secret: Redis refuses, the Job fails and
    // says why (gc.sh then keeps the registry read-only: gc_script.rs).
    let mut wrong = Bundle::load(b.dir.clone());
    let secret = wrong.secrets.get_mut("registry-redis").unwrap();
    secret.data.as_mut().unwrap().insert(
        "password".to_owned(),
        k8s_openapi::ByteString(b"not-the-password".to_vec()),
    );
    let o = play_job(&sb, &wrong, &job, PODS[0].0, &[]);
    let said = text(&o);
    assert!(
        !o.status.success(),
        "the Job succeeded with a wrong password: {said}"
    );
    assert!(
        said.contains("could not flush") && said.contains("WRONGPASS"),
        "{said}"
    );
    // Redis down: the collection runs, the flush cannot, the Job fails.
    sb.stop("redis");
    let o = play_job(&sb, &b, &job, PODS[0].0, &[]);
    let said = text(&o);
    assert!(
        !o.status.success(),
        "the Job succeeded without Redis: {said}"
    );
    assert!(
        said.contains(&format!(
            "registry-gen: could not flush the blob descriptor cache in Redis {REDIS_IP}:6379 db 2"
        )) && !said.contains("registry-gen: flushed"),
        "{said}"
    );
}

/// Wait until moto_server answers over a TLS handshake verified with
/// `s3_ca` (any HTTP answer: moto says 404 at /).
pub(crate) fn wait_for_moto(sb: &Sandbox, s3_ca: &Path) {
    let s3_url = format!("https://{S3_HOST}:{S3_PORT}/");
    let ca = s3_ca.to_str().unwrap().to_owned();
    wait_for("moto_server", Duration::from_secs(60), || {
        sb.curl(&["--cacert", &ca, &s3_url], None).0 != "000"
    });
}

/// redis-server on [`REDIS_IP`]:6379, in memory, its data directory in the
/// sandbox, with the config lines `extra` (users, `requirepass`); ready
/// when `redis-cli` (as `user`, else the default user) with `password`
/// gets its PONG.
pub(crate) fn start_redis(sb: &mut Sandbox, extra: &str, user: Option<&str>, password: &str) {
    let rdir = sb.path().join("redis-data");
    fs::create_dir(&rdir).unwrap();
    let conf = sb.path().join("redis.conf");
    fs::write(
        &conf,
        format!(
            "bind {REDIS_IP}\nport 6379\nsave \"\"\nappendonly no\ndir {}\n{extra}\n",
            rdir.display()
        ),
    )
    .unwrap();
    let mut c = sb.cmd("redis-server");
    c.arg(&conf);
    sb.spawn("redis", c);
    wait_for("redis-server", Duration::from_secs(10), || {
        let mut cli = sb.cmd("redis-cli");
        cli.args(["-h", REDIS_IP, "--no-auth-warning"]);
        if let Some(u) = user {
            cli.args(["--user", u]);
        }
        let o = sb.run(cli.arg("ping").env("REDISCLI_AUTH", password));
        String::from_utf8_lossy(&o.stdout).trim() == "PONG"
    });
}
