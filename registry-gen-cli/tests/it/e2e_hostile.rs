//! End to end: secrets that YAML would read as something else reach the
//! S3 endpoint and Redis as exactly the bytes the user gave (issue 19,
//! item 3). The registry YAML-decodes every `REGISTRY_*` variable, so
//! before the bundle quoted them an S3 secret key `@x: y #z` stopped it at
//! start and `yes`, `0x1F`, `null` or `  padded  ` reached the driver
//! changed.
//!
//! Real software only, as in e2e_s3.rs: moto's own server (its WSGI app
//! and werkzeug's `run_simple`, as `moto_server` runs them, but in-process
//! so the test can give each IAM access key its secret: moto generates
//! them) with IAM authentication on from the first request
//! (`INITIAL_NO_AUTH_ACTION_COUNT=0`, moto's documented switch), so every
//! S3 request's SigV4 signature is checked against the key; `redis-server`
//! with `requirepass`, whose `INFO commandstats` shows whether the
//! registry's cache commands got through; Debian's `docker-registry` 2.8
//! played from the rendered Deployment (env, Secrets resolved) once per
//! table row, with the row's value as both the S3 secret key and the Redis
//! password; skopeo pushes a fresh image through it and pulls it back
//! byte-exact. Then the same run with a wrong secret key must fail, and one
//! with a wrong Redis password must show refused logins, so the checks are
//! real.
//!
//! Registry 3.x uses the same parser and the same yaml.v2 (checked in
//! source, docs/design.md).
//!
//! Time: about 1 to 2 s per row once built
//! (`cargo test -p registry-gen-cli --test it e2e_hostile`).

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{bin, text};
use crate::e2e::{play_container, reroot, Bundle, Sandbox, POD_IP};
use crate::e2e_s3::{
    s3_certs, start_redis, wait_for_moto, MAKE_IMAGE, REDIS_IP, S3_HOST, S3_IP, S3_PORT,
};
use crate::support::YAML_SPECIAL;

const BUCKET: &str = "e2e-hostile";
/// The Service name the certificate carries; resolves to the pod here.
const SERVICE: &str = "registry.registry.svc";
/// Redis's own administrator, which sets the row's password.
const REDIS_ADMIN: &str = "e2e-admin-password";

/// The rows: what YAML reads as something else (the shared table), and a
/// long key.
fn table() -> Vec<String> {
    let mut v: Vec<String> = YAML_SPECIAL.map(str::to_owned).into();
    v.push("k/+=".repeat(32));
    v
}

/// moto's server with IAM authentication from the first request: one IAM
/// user per access key of argv[5] (a JSON list of [id, secret]), allowed
/// `s3:*`; the bucket argv[6]; TLS with argv[3] and argv[4].
///
/// moto 5.2 rebuilds the signed request from the URL's *decoded* query, so
/// a query value with `/` (every prefix the registry lists) never matched
/// (boto3's own `list_objects_v2(Prefix="a/b")` fails the same way). The
/// script re-encodes the query as SigV4 says (RFC 3986, only `-_.~` left
/// as is) before moto's check, which is otherwise moto's own: the run with
/// a wrong secret key shows it still refuses.
const MOTO_IAM: &str = r#"
import json, os, sys
host, port, cert, key, keys_file, bucket = sys.argv[1:7]
os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "0"
from moto import settings
settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
from moto.core import DEFAULT_ACCOUNT_ID
from moto.iam import access_control
from moto.iam.models import iam_backends
from moto.s3.models import s3_backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple
from urllib.parse import parse_qsl, quote, urlsplit
checked = access_control.IAMRequestBase.__init__
def reencoded(path):
    p = urlsplit(path)
    if not p.query:
        return path
    q = lambda s: quote(s, safe="-_.~")
    pairs = parse_qsl(p.query, keep_blank_values=True)
    return p.path + "?" + "&".join(f"{q(k)}={q(v)}" for k, v in pairs)
def init(self, *args, **kwargs):
    kwargs["path"] = reencoded(kwargs["path"])
    checked(self, *args, **kwargs)
access_control.IAMRequestBase.__init__ = init
iam = iam_backends[DEFAULT_ACCOUNT_ID]["aws"]
allow = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
for i, (key_id, secret) in enumerate(json.load(open(keys_file))):
    user = f"registry-{i}"
    iam.create_user(region_name="us-east-1", user_name=user)
    iam.put_user_policy(user, "s3", allow)
    k = iam.create_access_key(user)
    del iam.access_keys[k.physical_resource_id]
    k.access_key_id, k.secret_access_key = key_id, secret
    iam.access_keys[k.physical_resource_id] = k
s3_backends[DEFAULT_ACCOUNT_ID]["aws"].create_bucket(bucket, "us-east-1")
print("ready", flush=True)
run_simple(host, int(port), DomainDispatcherApplication(create_backend_app), threaded=True, ssl_context=(cert, key))
"#;

fn access_key_id(row: usize) -> String {
    format!("AKIAE2EHOSTILE{row:06}")
}

fn config(row: usize) -> String {
    format!(
        "name: registry\nnamespace: registry\naddresses: {{node_ips: [127.0.0.2]}}\nports: {{container: 5000}}\nstorage:\n  s3:\n    bucket: {BUCKET}\n    region: us-east-1\n    endpoint: https://{S3_HOST}:{S3_PORT}\n    path_style: true\n    root_directory: /row-{row}\n    access_key_file: s3/access-key\n    secret_key_file: s3/secret-key\n    ca_file: s3/ca.crt\ncache:\n  redis: {{address: \"{REDIS_IP}:6379\", password_file: redis/password}}\nauth: null\n"
    )
}

/// `redis-cli` as Redis's administrator.
fn redis_admin(sb: &Sandbox, args: &[&str]) -> String {
    let o = sb.run(
        sb.cmd("redis-cli")
            .args(["-h", REDIS_IP, "--user", "admin", "--no-auth-warning"])
            .args(args)
            .env("REDISCLI_AUTH", REDIS_ADMIN),
    );
    assert!(o.status.success(), "redis-cli {args:?}: {}", text(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `name:calls=3,...` lines of an INFO section, as name -> fields.
fn info(sb: &Sandbox, section: &str) -> BTreeMap<String, String> {
    redis_admin(sb, &["INFO", section])
        .lines()
        .filter_map(|l| l.trim().split_once(':'))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// Render the bundle of `row` with these keys into `bundle-<label>`.
fn render(sb: &Sandbox, s3_ca: &Path, row: usize, label: &str, secret: &str, pw: &str) -> Bundle {
    let dir = sb.path().join(format!("config-{label}"));
    fs::create_dir_all(dir.join("s3")).unwrap();
    fs::create_dir_all(dir.join("redis")).unwrap();
    fs::write(
        dir.join("s3/access-key"),
        format!("{}\n", access_key_id(row)),
    )
    .unwrap();
    fs::write(dir.join("s3/secret-key"), format!("{secret}\n")).unwrap();
    fs::write(dir.join("redis/password"), format!("{pw}\n")).unwrap();
    fs::copy(s3_ca, dir.join("s3/ca.crt")).unwrap();
    fs::write(dir.join("registry-gen.yaml"), config(row)).unwrap();
    let out = sb.path().join(format!("bundle-{label}"));
    let o = bin()
        .arg("render")
        .arg("--config")
        .arg(dir.join("registry-gen.yaml"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "render ({label}): {}", text(&o));
    Bundle::load(out)
}

/// Start the registry from the rendered pod; `Err` with its log if it
/// exits instead of becoming ready.
fn start(sb: &mut Sandbox, b: &Bundle) -> Result<(), String> {
    sb.stop("registry");
    let (root, volumes) = crate::e2e::pod_dirs(sb, "registry");
    let config = "/etc/docker/registry/config.yml";
    let mut c = play_container(
        sb,
        b,
        &root,
        &volumes,
        POD_IP,
        b.pod(),
        b.container(),
        config,
    );
    c.args(["docker-registry", "serve"])
        .arg(reroot(&root, config));
    sb.spawn("registry", c);
    let url = format!("https://{POD_IP}:5000/");
    let begin = Instant::now();
    loop {
        if sb.curl(&["--insecure", &url], None).0 == "200" {
            return Ok(());
        }
        if let Some(status) = sb.exited("registry") {
            let log = fs::read_to_string(sb.log("registry")).unwrap_or_default();
            let why = log.lines().find(|l| l.contains("error")).unwrap_or("");
            return Err(format!("the registry exited ({status}): {why}"));
        }
        if begin.elapsed() > Duration::from_secs(30) {
            return Err("the registry never became ready".to_owned());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn skopeo(sb: &Sandbox, b: &Bundle, from: &str, to: &str) -> Result<(), String> {
    let certs = b
        .dir
        .join("trust/docker/certs.d")
        .join(format!("{SERVICE}:5000"));
    let o = sb.run(
        sb.cmd("skopeo")
            .args(["copy", "--retry-times", "0", "--src-cert-dir"])
            .arg(&certs)
            .arg("--dest-cert-dir")
            .arg(&certs)
            .args([from, to]),
    );
    if o.status.success() {
        Ok(())
    } else {
        Err(format!("skopeo copy {from} {to}: {}", text(&o).trim()))
    }
}

/// Every blob of an OCI layout, by name.
fn blobs(layout: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(layout.join("blobs/sha256"))
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                fs::read(p).unwrap(),
            )
        })
        .collect()
}

/// Push a fresh image through the registry and pull it back; `Err` on any
/// failure or difference.
fn push_and_pull(sb: &Sandbox, b: &Bundle, label: &str) -> Result<(), String> {
    let image = sb.path().join(format!("image-{label}"));
    let o = std::process::Command::new("python3")
        .args(["-c", MAKE_IMAGE])
        .arg(&image)
        .arg("65536")
        .output()
        .unwrap();
    assert!(o.status.success(), "making the image: {}", text(&o));
    let reference = format!("docker://{SERVICE}:5000/hostile/{label}:v1");
    skopeo(sb, b, &format!("oci:{}:v1", image.display()), &reference)?;
    let pulled = sb.path().join(format!("pulled-{label}"));
    skopeo(sb, b, &reference, &format!("oci:{}:v1", pulled.display()))?;
    if blobs(&image) != blobs(&pulled) {
        return Err("the pulled image differs from the pushed one".to_owned());
    }
    Ok(())
}

/// The registry's Redis commands since the last reset (`cmdstat_<name>` ->
/// calls), leaving out the administrator's.
fn cache_calls(sb: &Sandbox) -> BTreeMap<String, u64> {
    info(sb, "commandstats")
        .into_iter()
        .filter_map(|(k, v)| {
            let name = k.strip_prefix("cmdstat_")?.to_owned();
            let calls = v
                .split(',')
                .find_map(|f| f.strip_prefix("calls="))?
                .parse()
                .ok()?;
            let admin = ["info", "config|set", "config|resetstat", "flushall", "auth"];
            (!admin.contains(&name.as_str())).then_some((name, calls))
        })
        .collect()
}

fn refused_logins(sb: &Sandbox) -> u64 {
    info(sb, "errorstats")
        .iter()
        .filter(|(k, _)| k.as_str() == "errorstat_WRONGPASS" || k.as_str() == "errorstat_NOAUTH")
        .map(|(_, v)| {
            v.strip_prefix("count=")
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0)
        })
        .sum()
}

/// Give Redis's default user `pw` and forget the last row's data and counts.
fn reset_redis(sb: &Sandbox, pw: &str) {
    redis_admin(sb, &["CONFIG", "SET", "requirepass", pw]);
    redis_admin(sb, &["FLUSHALL"]);
    redis_admin(sb, &["CONFIG", "RESETSTAT"]);
}

/// One row: `Err` says what went wrong.
fn run_row(sb: &mut Sandbox, s3_ca: &Path, row: usize, value: &str) -> Result<(), String> {
    reset_redis(sb, value);
    let label = format!("row{row}");
    let b = render(sb, s3_ca, row, &label, value, value);
    start(sb, &b)?;
    push_and_pull(sb, &b, &label)?;
    let calls = cache_calls(sb);
    let refused = refused_logins(sb);
    let cache: u64 = [
        "hget",
        "hmget",
        "hset",
        "hsetnx",
        "hmset",
        "sismember",
        "sadd",
    ]
    .iter()
    .filter_map(|c| calls.get(*c))
    .sum();
    if refused > 0 || cache == 0 {
        return Err(format!(
            "Redis: {refused} refused logins, cache commands {calls:?}"
        ));
    }
    Ok(())
}

#[test]
fn hostile_secrets_reach_s3_and_redis_as_given() {
    let mut sb = Sandbox::new(&[
        (S3_IP, vec![S3_HOST.to_owned()]),
        (POD_IP, vec![SERVICE.to_owned()]),
    ]);
    let dir = sb.path().to_owned();
    let rows = table();

    // moto, every access key with its row's secret.
    let (s3_ca, s3_crt, s3_key) = s3_certs(&dir.join("s3-pki"));
    let keys: Vec<(String, String)> = rows
        .iter()
        .enumerate()
        .map(|(i, v)| (access_key_id(i), v.clone()))
        .collect();
    let keys_file = dir.join("keys.json");
    fs::write(&keys_file, serde_json::to_vec(&keys).unwrap()).unwrap();
    let mut moto = sb.cmd("python3");
    moto.args(["-c", MOTO_IAM, S3_IP, &S3_PORT.to_string()])
        .arg(&s3_crt)
        .arg(&s3_key)
        .arg(&keys_file)
        .arg(BUCKET)
        .env(
            "MOTO_S3_CUSTOM_ENDPOINTS",
            format!("https://{S3_HOST}:{S3_PORT}"),
        );
    sb.spawn("moto", moto);
    wait_for_moto(&sb, &s3_ca);

    // Redis, with an administrator of the test's own besides the default user.
    let admin = format!("user admin on >{REDIS_ADMIN} ~* &* +@all");
    start_redis(&mut sb, &admin, Some("admin"), REDIS_ADMIN);

    let mut failed = Vec::new();
    for (i, value) in rows.iter().enumerate() {
        if let Err(e) = run_row(&mut sb, &s3_ca, i, value) {
            failed.push(format!("{value:?}: {e}"));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} rows failed:\n{}",
        failed.len(),
        rows.len(),
        failed.join("\n")
    );

    // The checks are real: a wrong secret key fails the push ...
    reset_redis(&sb, &rows[0]);
    let b = render(&sb, &s3_ca, 0, "wrong-s3", "not-the-secret", &rows[0]);
    let served = start(&mut sb, &b).and_then(|()| push_and_pull(&sb, &b, "wrong-s3"));
    assert!(served.is_err(), "a wrong S3 secret key was accepted");
    // ... and a wrong Redis password gets no cache command through.
    reset_redis(&sb, &rows[0]);
    let b = render(&sb, &s3_ca, 0, "wrong-redis", &rows[0], "not-the-password");
    if start(&mut sb, &b).is_ok() {
        let _ = push_and_pull(&sb, &b, "wrong-redis");
    }
    assert!(refused_logins(&sb) > 0, "Redis refused no login");
    let calls = cache_calls(&sb);
    assert!(
        ["hget", "hset", "hsetnx", "hmset", "sadd"]
            .iter()
            .all(|c| !calls.contains_key(*c)),
        "{calls:?}"
    );
}
