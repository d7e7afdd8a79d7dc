//! A mirror's container command (`scripts/mirror-start.sh` around the
//! registry; see `plan/mirrors.rs`, `MirrorStart`): what it names agrees
//! with the Deployment's env and image, and the script, run as the
//! registry image runs it (busybox's shell and applets; a stand-in
//! `registry` that prints what it was started with), takes a 401 for an
//! answer, serves the cache without the proxy variables and read-only
//! while nothing answers, switches to proxy mode once something does, and
//! passes the kubelet's SIGTERM on. The real registry and containerd play
//! it end to end in the CLI's `e2e_mirror.rs`.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::{apps::v1 as apps, core::v1 as core};
use registry_gen::Config;

use crate::common;
// Two mirrors: docker.io with a login behind a NodePort and `fallback:
// false`, ghcr.io with its own CA on a hostPort.
use crate::mirrors::CONFIG;

fn container(config: &str, upstream: &str) -> core::Container {
    let b = common::render(&Config::from_yaml(config).unwrap());
    let d: apps::Deployment =
        common::yaml(&b, &format!("manifests/mirror-{upstream}-deployment.yaml"));
    d.spec.unwrap().template.spec.unwrap().containers[0].clone()
}

/// The script's header variables (`NAME='value'`).
fn header(script: &str) -> BTreeMap<String, String> {
    script
        .lines()
        .take_while(|l| !l.starts_with("# \"$@\""))
        .filter_map(|l| l.split_once("='"))
        .map(|(k, v)| (k.to_owned(), v.trim_end_matches('\'').to_owned()))
        .collect()
}

#[test]
fn the_command_wraps_the_image_registry_and_names_what_the_env_holds() {
    for (upstream, image, config_file) in [
        ("docker-io", None, "/etc/distribution/config.yml"),
        ("ghcr-io", None, "/etc/distribution/config.yml"),
        (
            "docker-io",
            Some("registry:2.8.3"),
            "/etc/docker/registry/config.yml",
        ),
    ] {
        let config = match image {
            Some(i) => format!("image: {i}\n{CONFIG}"),
            None => CONFIG.to_owned(),
        };
        let c = container(&config, upstream);
        let command = c.command.unwrap();
        assert_eq!(command[..2], ["/bin/sh", "-c"]);
        assert_eq!(
            command[3..],
            ["mirror-start", "registry", "serve", config_file]
        );
        let vars = header(&command[2]);
        let env: BTreeMap<String, core::EnvVar> = c
            .env
            .unwrap()
            .into_iter()
            .map(|e| (e.name.clone(), e))
            .collect();
        // What the registry asks at start: its remote URL's /v2/.
        let remote =
            common::registry_reads(env["REGISTRY_PROXY_REMOTEURL"].value.as_deref().unwrap());
        assert_eq!(vars["PROBE_URL"], format!("{remote}/v2/"));
        // Every proxy variable of the Deployment is unset in cache-only mode.
        let proxy: Vec<&str> = env
            .keys()
            .map(String::as_str)
            .filter(|k| k.starts_with("REGISTRY_PROXY_"))
            .collect();
        let mut unset: Vec<&str> = vars["PROXY_VARS"].split(' ').collect();
        unset.sort_unstable();
        assert_eq!(unset, proxy, "{upstream}");
        assert_eq!(
            vars["READONLY_ENV"],
            "REGISTRY_STORAGE_MAINTENANCE_READONLY"
        );
        assert_eq!(vars["READONLY_VALUE"], r#"{"enabled": true}"#);
        // The readiness and liveness probes ask the registry, whichever
        // mode it runs in: the same port, path and scheme as before.
        let ready = c.readiness_probe.unwrap().http_get.unwrap();
        assert_eq!(ready.path.as_deref(), Some("/"));
    }
}

fn which(tool: &str) -> String {
    let o = Command::new("which").arg(tool).output().unwrap();
    assert!(o.status.success(), "{tool} is not installed");
    String::from_utf8(o.stdout).unwrap().trim().to_owned()
}

/// A TLS server on `port` that answers every request 401 with a bearer
/// challenge, as Docker Hub answers `/v2/`. Its cipher list is opened up
/// for Debian's busybox `wget`, which without `openssl` on PATH speaks its
/// own small TLS (CBC suites that Python's defaults leave out: handshake
/// failure, alert 40); Alpine's busybox, in the registry image, hands TLS
/// to `ssl_client` (OpenSSL).
fn upstream_401(dir: &Path, port: u16) -> Child {
    let cert = dir.join("upstream.crt");
    if !cert.exists() {
        let o = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
            .args(["ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=upstream"])
            .args(["-days", "2", "-keyout"])
            .arg(dir.join("upstream.key"))
            .arg("-out")
            .arg(&cert)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let server = r#"
import http.server, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Bearer realm="https://auth.test/token",service="registry.test"')
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
s = http.server.HTTPServer(("127.0.0.1", int(sys.argv[3])), H)
c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
c.set_ciphers("ALL:@SECLEVEL=0")
c.load_cert_chain(sys.argv[1], sys.argv[2])
s.socket = c.wrap_socket(s.socket, server_side=True)
print("ready", flush=True)
s.serve_forever()
"#;
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(server)
        .arg(&cert)
        .arg(dir.join("upstream.key"))
        .arg(port.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready");
    child
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The script of the docker.io mirror, asking `https://127.0.0.1:port/v2/`
/// instead, started with the Deployment's env (the upstream login as a
/// Secret would give it) and the image's PATH: busybox's applets and a
/// stand-in `registry` that prints its arguments and the variables the
/// modes differ in, then sleeps. Its output goes to `out`.
fn start_script(dir: &Path, port: u16, out: &Path) -> Child {
    let c = container(CONFIG, "docker-io");
    let command = c.command.unwrap();
    let script = command[2].replace(
        "PROBE_URL='https://registry-1.docker.io/v2/'",
        &format!("PROBE_URL='https://127.0.0.1:{port}/v2/'"),
    );
    assert_ne!(script, command[2]);
    let bin = dir.join("bin");
    if !bin.exists() {
        fs::create_dir(&bin).unwrap();
        let busybox = which("busybox");
        for applet in ["sh", "wget", "timeout", "grep", "sleep", "kill"] {
            symlink(&busybox, bin.join(applet)).unwrap();
        }
        let registry = bin.join("registry");
        fs::write(
            &registry,
            format!(
                "#!{busybox} sh\necho \"registry $* pid=$$ proxy=${{REGISTRY_PROXY_REMOTEURL-unset}} user=${{REGISTRY_PROXY_USERNAME-unset}} ttl=${{REGISTRY_PROXY_TTL-unset}} readonly=${{REGISTRY_STORAGE_MAINTENANCE_READONLY-unset}}\"\nexec sleep 60\n"
            ),
        )
        .unwrap();
        fs::set_permissions(&registry, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut cmd = Command::new(bin.join("sh"));
    cmd.env_clear().env("PATH", &bin);
    for e in c.env.unwrap() {
        cmd.env(
            &e.name,
            e.value.unwrap_or_else(|| "\"from-a-secret\"".into()),
        );
    }
    cmd.arg("-c")
        .arg(script)
        .args(&command[3..])
        .stdout(fs::File::create(out).unwrap())
        .stderr(fs::File::create(out.with_extension("err")).unwrap())
        .spawn()
        .unwrap()
}

/// Wait until `out` holds `n` lines from the stand-in registry; they.
fn registry_lines(out: &Path, n: usize, within: Duration) -> Vec<String> {
    let start = Instant::now();
    loop {
        let lines: Vec<String> = fs::read_to_string(out)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with("registry "))
            .map(str::to_owned)
            .collect();
        if lines.len() >= n {
            return lines;
        }
        assert!(
            start.elapsed() < within,
            "{n} registry starts within {within:?}: {lines:?}; stderr: {}",
            fs::read_to_string(out.with_extension("err")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn pid_of(line: &str) -> u32 {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix("pid="))
        .unwrap()
        .parse()
        .unwrap()
}

fn alive(pid: u32) -> bool {
    Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success()
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "SIGTERM was not obeyed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

const PROXY: &str = "registry serve /etc/distribution/config.yml pid=";

#[test]
fn a_401_is_an_answer_and_silence_serves_the_cache_until_the_upstream_answers() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();

    // An upstream that answers 401 (Docker Hub's /v2/): proxy mode, the
    // registry in the shell's place, every proxy variable kept.
    let port = free_port();
    let mut upstream = upstream_401(dir, port);
    let out = dir.join("answered.out");
    let mut script = start_script(dir, port, &out);
    let lines = registry_lines(&out, 1, Duration::from_secs(15));
    assert!(lines[0].starts_with(PROXY), "{lines:?}");
    assert!(
        lines[0].ends_with(
            r#"proxy="https://registry-1.docker.io" user="from-a-secret" ttl="72h" readonly=unset"#
        ),
        "{lines:?}"
    );
    assert_eq!(
        pid_of(&lines[0]),
        script.id(),
        "exec'd in the shell's place"
    );
    terminate(&mut script);
    let _ = upstream.kill();
    let _ = upstream.wait();

    // Nothing listens: the cache, read-only, without the proxy; then the
    // upstream answers and the registry is started again in proxy mode,
    // the cache-only one stopped.
    let port = free_port();
    let out = dir.join("silent.out");
    let mut script = start_script(dir, port, &out);
    let lines = registry_lines(&out, 1, Duration::from_secs(15));
    assert!(
        lines[0].ends_with(r#"proxy=unset user=unset ttl=unset readonly={"enabled": true}"#),
        "{lines:?}"
    );
    let cache = pid_of(&lines[0]);
    assert_ne!(cache, script.id());
    let mut upstream = upstream_401(dir, port);
    let lines = registry_lines(&out, 2, Duration::from_secs(25));
    assert!(lines[1].starts_with(PROXY), "{lines:?}");
    assert!(lines[1].contains(r#"proxy="https://registry-1.docker.io""#));
    assert_eq!(pid_of(&lines[1]), script.id());
    assert!(!alive(cache), "the cache-only registry still runs");
    terminate(&mut script);
    let _ = upstream.kill();
    let _ = upstream.wait();

    // The kubelet stops it while it serves the cache: SIGTERM reaches the
    // registry and the container ends at once.
    let out = dir.join("stopped.out");
    let mut script = start_script(dir, free_port(), &out);
    let lines = registry_lines(&out, 1, Duration::from_secs(15));
    let cache = pid_of(&lines[0]);
    terminate(&mut script);
    assert!(
        !alive(cache),
        "the cache-only registry outlived the container"
    );
}
