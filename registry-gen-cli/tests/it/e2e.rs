//! End to end, with real software only: each test renders a bundle with the
//! real `registry-gen` binary, plays the pod from the rendered manifests
//! (every Secret written where its volume is mounted, every env var taken
//! from the Deployment), starts the real distribution registry (Debian's
//! `docker-registry`) with them, plays kube-proxy with socat (hostPort,
//! NodePort and ClusterIP forwarded to the pod exactly as the Deployment
//! and the Service say), and then uses real clients through the bundle's
//! trust files only: curl, the bundle's own `verify.sh` (which pushes with
//! skopeo), skopeo pulling with the rendered pull Secret as its authfile,
//! and a private containerd whose `ctr images pull --hosts-dir` goes
//! through every `hosts.toml`, the port-less alias included.
//!
//! Every test runs in a network namespace of its own that holds only
//! loopback, and a mount namespace of its own whose `/etc/hosts` names the
//! test's addresses (`unshare --net --mount`, as root): nothing reaches a
//! real network or touches the machine's files, and tests cannot collide on
//! ports, so they use the real ones (443, 5000, 30443 ...). Node addresses
//! are 127.0.0.2 and `::1`, the Service's cluster IP 127.0.0.3, the pod's IP
//! 127.0.0.10; DNS names end in `.test`.
//!
//! Time: about 5 to 10 s per test on the 2-core CI machine once built
//! (`cargo test -p registry-gen-cli --test it e2e::`); they run in parallel.
//! A missing tool or missing root fails the test; nothing is skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::{apps::v1 as apps, core::v1 as core};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::common::{bin, text, workspace};
use crate::support::{openssl_ca, self_signed};

pub(crate) const NODE_IP: &str = "127.0.0.2";
const NODE_IP6: &str = "::1";
pub(crate) const CLUSTER_IP: &str = "127.0.0.3";
pub(crate) const POD_IP: &str = "127.0.0.10";
/// The config of a registry the node reaches by NodePort, over hostPath and
/// without login: the topology whose pods roll over (e2e_drain), and the
/// base of e2e_exposure's. A test appends its own sections.
pub(crate) fn node_port_registry() -> String {
    format!(
        "name: registry
namespace: registry
addresses:
  node_ips: [{NODE_IP}]
ports:
  container: 5000
  node: 30500
storage:
  host_path: {{path: /srv/registry, node: node-1}}
auth: null
"
    )
}

/// The image `verify.sh` builds and pushes.
pub(crate) const IMAGE: &str = "registry-gen-verify:latest";

/// The registry's config file inside the image: the official 3.x image's
/// (distribution-library-image `config-example.yml`, at
/// `/etc/distribution/config.yml`), with its debug listener on `:5001`, log
/// level debug and delete on, so the rendered env must override each of
/// them. Only its `storage.tag` section is left out: 2.8.2 would take it for
/// a second storage driver and refuse to start.
pub(crate) const IMAGE_CONFIG: &str = "version: 0.1\nlog:\n  level: debug\n  fields:\n    service: registry\n    environment: development\nstorage:\n  delete:\n    enabled: true\n  cache:\n    blobdescriptor: inmemory\n  filesystem:\n    rootdirectory: /var/lib/registry\nhttp:\n  addr: :5000\n  debug:\n    addr: :5001\n    prometheus:\n      enabled: true\n      path: /metrics\nhealth:\n  storagedriver:\n    enabled: true\n    interval: 10s\n    threshold: 3\n";
/// The image config's debug port, which the rendered env must switch off or move.
const IMAGE_DEBUG_PORT: u16 = 5001;

pub(crate) fn wait_for(what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A loopback-only network namespace plus a private mount namespace with
/// our own /etc/hosts, held open by a `sleep`; commands enter it with
/// nsenter. Every process started in it leads a process group of its own
/// (as a container's processes go together), killed as a group on drop.
pub(crate) struct Sandbox {
    dir: tempfile::TempDir,
    holder: Child,
    procs: Vec<(String, Child)>,
}

impl Sandbox {
    pub(crate) fn new(hosts: &[(&str, Vec<String>)]) -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        let mut h = String::from("127.0.0.1 localhost\n::1 localhost ip6-localhost\n");
        for (ip, names) in hosts {
            h.push_str(&format!("{ip} {}\n", names.join(" ")));
        }
        let hosts_file = dir.path().join("hosts");
        fs::write(&hosts_file, h).unwrap();
        let mut holder = Command::new("unshare")
            .args(["--net", "--mount", "--propagation", "private", "--"])
            .args(["sh", "-c"])
            .arg(r#"ip link set lo up && mount --bind "$1" /etc/hosts && echo ready && exec sleep 600"#)
            .arg("sh")
            .arg(&hosts_file)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("unshare (util-linux)");
        let mut line = String::new();
        BufReader::new(holder.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        if line.trim() != "ready" {
            let o = holder.wait_with_output().unwrap();
            panic!(
                "could not make a private network namespace (the e2e tests run as root): {}",
                text(&o)
            );
        }
        Sandbox {
            dir,
            holder,
            procs: Vec::new(),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A command that runs inside the namespaces.
    pub(crate) fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new("nsenter");
        c.arg("--target")
            .arg(self.holder.id().to_string())
            .args(["--net", "--mount", "--", program]);
        c
    }

    pub(crate) fn run(&self, c: &mut Command) -> Output {
        c.stdin(Stdio::null()).output().unwrap()
    }

    /// Start a long-running process, its output in `<name>.log`.
    pub(crate) fn spawn(&mut self, name: &str, mut c: Command) {
        use std::os::unix::process::CommandExt;
        let log = fs::File::create(self.log(name)).unwrap();
        let child = c
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        self.procs.push((name.to_owned(), child));
    }

    /// How the process `name` ended, if it has.
    pub(crate) fn exited(&mut self, name: &str) -> Option<std::process::ExitStatus> {
        self.procs
            .iter_mut()
            .find(|(n, _)| n == name)
            .and_then(|(_, c)| c.try_wait().unwrap())
    }

    /// Send `signal` (`TERM`, ...) to the process `name`, as the kubelet's
    /// runtime does to a container's first process.
    pub(crate) fn signal(&self, name: &str, signal: &str) {
        let (_, child) = self
            .procs
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no process {name}"));
        let o = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .output()
            .unwrap();
        assert!(o.status.success(), "kill -{signal} {name}: {}", text(&o));
    }

    pub(crate) fn log(&self, name: &str) -> PathBuf {
        self.path().join(format!("{name}.log"))
    }

    /// Stop the processes named `name` and what they started (their
    /// process groups, SIGKILL) and wait for them.
    pub(crate) fn stop(&mut self, name: &str) {
        for (n, c) in self.procs.iter_mut() {
            if n == name {
                kill_group(c);
                let _ = c.wait();
            }
        }
        self.procs.retain(|(n, _)| n != name);
    }

    /// Stop `name` as the kubelet stops a container: SIGTERM to its first
    /// process only, then, after `grace`, SIGKILL to all of them. Returns
    /// how the first process ended, `None` if it had to be killed.
    pub(crate) fn terminate(
        &mut self,
        name: &str,
        grace: Duration,
    ) -> Option<std::process::ExitStatus> {
        let (_, c) = self.procs.iter_mut().find(|(n, _)| n == name)?;
        let _ = Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status();
        let start = Instant::now();
        let mut status = None;
        while start.elapsed() < grace {
            if let Some(s) = c.try_wait().unwrap() {
                status = Some(s);
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.stop(name);
        status
    }

    /// HTTP status of a GET (`000` when there is no answer).
    pub(crate) fn curl(&self, args: &[&str], stdin: Option<String>) -> (String, Output) {
        let mut c = self.cmd("curl");
        c.args(["--silent", "--show-error", "--max-time", "10"])
            .args(["--output", "/dev/null", "--write-out", "%{http_code}"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let o = match stdin {
            Some(s) => {
                let mut child = c
                    .args(["--config", "-"])
                    .stdin(Stdio::piped())
                    .spawn()
                    .unwrap();
                child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
                child.wait_with_output().unwrap()
            }
            None => c.stdin(Stdio::null()).output().unwrap(),
        };
        (String::from_utf8_lossy(&o.stdout).into_owned(), o)
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // What the servers said, for the failure's report.
            for (name, _) in &self.procs {
                let log = fs::read_to_string(self.log(name)).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(15).collect();
                eprintln!("--- {name}.log (last lines) ---");
                for l in tail.iter().rev() {
                    eprintln!("{l}");
                }
            }
        }
        for (_, c) in self.procs.iter_mut() {
            kill_group(c);
            let _ = c.wait();
        }
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

/// SIGKILL to the process group `c` leads (see [`Sandbox::spawn`]).
fn kill_group(c: &mut Child) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", c.id())])
        .stderr(Stdio::null())
        .status();
    let _ = c.kill();
}

/// One scenario: a config, the flags on top of it, and what we expect.
pub(crate) struct Scenario {
    /// Config file contents (an example's or inline).
    pub(crate) config: String,
    pub(crate) flags: Vec<&'static str>,
    /// Sign with a CA that openssl made, as a cluster CA would be given.
    pub(crate) own_ca: bool,
    /// A password given on stdin for `--user`.
    pub(crate) password_stdin: Option<&'static str>,
    /// Every `host[:port]` clients may put in image references.
    pub(crate) endpoints: &'static [&'static str],
    /// The port-less aliases among them.
    pub(crate) aliases: &'static [&'static str],
    /// DNS names that resolve to the node.
    pub(crate) dns_names: &'static [&'static str],
    /// `<svc>.<ns>.svc` names that resolve to the cluster IP.
    pub(crate) service_names: &'static [&'static str],
}

impl Scenario {
    /// Just a config and flags: no CA of openssl's, no password on stdin,
    /// no client-side endpoint checks.
    pub(crate) fn plain(config: String, flags: Vec<&'static str>) -> Scenario {
        Scenario {
            config,
            flags,
            own_ca: false,
            password_stdin: None,
            endpoints: &[],
            aliases: &[],
            dns_names: &[],
            service_names: &[],
        }
    }
}

/// The rendered bundle, parsed.
pub(crate) struct Bundle {
    pub(crate) dir: PathBuf,
    pub(crate) deployment: apps::Deployment,
    pub(crate) service: core::Service,
    pub(crate) secrets: BTreeMap<String, core::Secret>,
    pub(crate) config_maps: BTreeMap<String, core::ConfigMap>,
}

impl Bundle {
    pub(crate) fn load(dir: PathBuf) -> Bundle {
        Bundle::load_as(dir, "deployment.yaml", "service.yaml")
    }

    /// The bundle with the Deployment and Service of the given manifest
    /// files (a mirror's), and every Secret and ConfigMap of the bundle.
    pub(crate) fn load_as(dir: PathBuf, deployment: &str, service: &str) -> Bundle {
        let read = |f: &str| fs::read_to_string(dir.join("manifests").join(f)).unwrap();
        let mut secrets = BTreeMap::new();
        let mut config_maps = BTreeMap::new();
        for e in fs::read_dir(dir.join("manifests")).unwrap() {
            let p = e.unwrap().path();
            if !p.is_file() {
                continue;
            }
            let text = fs::read_to_string(&p).unwrap();
            let v: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
            match v.get("kind").and_then(|k| k.as_str()) {
                Some("Secret") => {
                    let s: core::Secret = serde_yaml::from_str(&text).unwrap();
                    secrets.insert(s.metadata.name.clone().unwrap(), s);
                }
                Some("ConfigMap") => {
                    let c: core::ConfigMap = serde_yaml::from_str(&text).unwrap();
                    config_maps.insert(c.metadata.name.clone().unwrap(), c);
                }
                _ => {}
            }
        }
        Bundle {
            deployment: serde_yaml::from_str(&read(deployment)).unwrap(),
            service: serde_yaml::from_str(&read(service)).unwrap(),
            secrets,
            config_maps,
            dir,
        }
    }

    pub(crate) fn pod(&self) -> &core::PodSpec {
        self.deployment
            .spec
            .as_ref()
            .unwrap()
            .template
            .spec
            .as_ref()
            .unwrap()
    }

    pub(crate) fn container(&self) -> &core::Container {
        &self.pod().containers[0]
    }

    pub(crate) fn secret_data(&self, secret: &str, key: &str) -> Vec<u8> {
        let s = self
            .secrets
            .get(secret)
            .unwrap_or_else(|| panic!("the pod refers to Secret {secret}, which the bundle lacks"));
        s.data
            .as_ref()
            .unwrap()
            .get(key)
            .unwrap_or_else(|| panic!("Secret {secret} has no key {key}"))
            .0
            .clone()
    }

    /// The container's variable `name`, as the registry reads it (a value
    /// from the config is a YAML double-quoted scalar in the manifest).
    pub(crate) fn env(&self, name: &str) -> Option<String> {
        self.container()
            .env
            .as_ref()
            .unwrap()
            .iter()
            .find(|e| e.name == name)
            .and_then(|e| e.value.clone())
            .map(|v| match serde_yaml::from_str(&v) {
                Ok(serde_yaml::Value::String(s)) => s,
                _ => v,
            })
    }

    /// The container port a Service targetPort names.
    fn target_port(&self, target: &IntOrString) -> u16 {
        let ports = self.container().ports.as_ref().unwrap();
        let p = match target {
            IntOrString::Int(i) => *i,
            IntOrString::String(name) => {
                ports
                    .iter()
                    .find(|p| p.name.as_deref() == Some(name))
                    .unwrap_or_else(|| panic!("targetPort {name} names no container port"))
                    .container_port
            }
        };
        u16::try_from(p).unwrap()
    }

    /// The first user and the password it was given or generated.
    pub(crate) fn login(&self, given: Option<&str>) -> Option<(String, String)> {
        let htpasswd = self.dir.join("auth/htpasswd");
        if !htpasswd.exists() {
            return None;
        }
        let first = fs::read_to_string(htpasswd).unwrap();
        let user = first.split(':').next().unwrap().to_owned();
        let password = match given {
            Some(p) => p.to_owned(),
            None => fs::read_to_string(self.dir.join(format!("auth/{user}.password")))
                .unwrap()
                .lines()
                .next()
                .unwrap()
                .to_owned(),
        };
        Some((user, password))
    }

    /// The directory names under the bundle's containerd and Docker trees.
    pub(crate) fn trust_dirs(&self, tree: &str) -> BTreeSet<String> {
        fs::read_dir(self.dir.join("trust").join(tree).join("certs.d"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect()
    }
}

/// Run `c`, with `--password-stdin` and the password on its standard input
/// when there is one.
pub(crate) fn with_password_stdin(c: &mut Command, password: Option<&str>) -> Output {
    let Some(p) = password else {
        return c.stdin(Stdio::null()).output().unwrap();
    };
    let mut child = c
        .arg("--password-stdin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{p}").unwrap();
    child.wait_with_output().unwrap()
}

/// Render with the real binary.
pub(crate) fn render(sb: &Sandbox, s: &Scenario) -> Bundle {
    let config = sb.path().join("registry-gen.yaml");
    fs::write(&config, &s.config).unwrap();
    let out = sb.path().join("bundle");
    let mut c = bin();
    c.arg("render")
        .arg("--config")
        .arg(&config)
        .args(&s.flags)
        .arg("--out")
        .arg(&out);
    if s.own_ca {
        // A CA made by openssl, as kubeadm's /etc/kubernetes/pki/ca.{crt,key}.
        let ca = sb.path().join("cluster-ca");
        fs::create_dir(&ca).unwrap();
        let (crt, key) = openssl_ca(
            &ca,
            "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048",
            "30",
        );
        c.arg("--ca-cert").arg(crt).arg("--ca-key").arg(key);
    }
    let o = with_password_stdin(&mut c, s.password_stdin);
    assert!(o.status.success(), "registry-gen render: {}", text(&o));
    Bundle::load(out)
}

/// Play the pod as the kubelet and the container runtime would: a fresh
/// container filesystem under `pod/`, each Secret volume's data written at
/// its mountPath with its defaultMode (group-readable and owned by the
/// pod's fsGroup when it has one), every other volume (the data) a
/// directory under `volumes/` that outlives the pod, linked at its
/// mountPath (given to fsGroup, setgid, when there is one); the root
/// filesystem bind-mounted read-only when the container asks for that;
/// then the registry started with the Deployment's env (paths re-rooted
/// into `pod/`), as its runAsUser/runAsGroup, with no capabilities beyond
/// those the container adds, no new privileges, on the pod's IP.
pub(crate) fn start_pod(sb: &mut Sandbox, b: &Bundle) {
    start_pod_with(sb, b, &[]);
}

/// [`start_pod`], with `extra` variables added to the Deployment's env (as
/// `kubectl set env` does).
pub(crate) fn start_pod_with(sb: &mut Sandbox, b: &Bundle, extra: &[(String, String)]) {
    start_pod_full(sb, b, "registry", POD_IP, extra);
}

/// [`start_pod`] for the pod of another Deployment (a mirror's) or another
/// replica, as the process `name`, on its own pod IP, with its own
/// `pod-<name>/` and `volumes-<name>/`.
pub(crate) fn start_pod_as(sb: &mut Sandbox, b: &Bundle, name: &str, pod_ip: &str) {
    start_pod_full(sb, b, name, pod_ip, &[]);
}

/// [`start_pod_as`] with `extra` variables (see [`start_pod_with`]).
pub(crate) fn start_pod_as_with(
    sb: &mut Sandbox,
    b: &Bundle,
    name: &str,
    pod_ip: &str,
    extra: &[(String, String)],
) {
    start_pod_full(sb, b, name, pod_ip, extra);
}

/// The container root and the volumes' backing directory of the played pod `name`.
pub(crate) fn pod_dirs(sb: &Sandbox, name: &str) -> (PathBuf, PathBuf) {
    if name == "registry" {
        (sb.path().join("pod"), sb.path().join("volumes"))
    } else {
        (
            sb.path().join(format!("pod-{name}")),
            sb.path().join(format!("volumes-{name}")),
        )
    }
}

fn start_pod_full(
    sb: &mut Sandbox,
    b: &Bundle,
    name: &str,
    pod_ip: &str,
    extra: &[(String, String)],
) {
    let (root, volumes) = pod_dirs(sb, name);
    // The image's entrypoint (`registry serve <its config file>`), or the
    // container's command (a mirror's shell around the registry), run with
    // the image's PATH: busybox's applets and `registry` (see image_path).
    let command = b.container().command.clone();
    let config = command
        .as_ref()
        .and_then(|c| c.iter().find(|a| a.starts_with("/etc/")))
        .map_or("/etc/docker/registry/config.yml", String::as_str);
    let mut c = play_container(
        sb,
        b,
        &root,
        &volumes,
        pod_ip,
        b.pod(),
        b.container(),
        config,
    );
    match &command {
        None => {
            c.args(["docker-registry", "serve"])
                .arg(reroot(&root, config));
        }
        Some(command) => crate::e2e_gc::image_command(sb, &mut c, &root, command),
    }
    for (name, value) in extra {
        c.env(name, value);
    }
    sb.spawn(name, c);
    check_pod(sb, b, pod_ip);
}

/// `p`, an absolute path in a container, under the container's `root`.
pub(crate) fn reroot(root: &Path, p: &str) -> PathBuf {
    root.join(p.trim_start_matches('/'))
}

/// Set up a container of `pod` as the kubelet would (see [`start_pod`])
/// under `root`, its non-Secret volumes backed by directories under
/// `volumes`, the image's config file (the official 3.x image's, see
/// [`IMAGE_CONFIG`]) at `config`, and return `setpriv ... --` with the
/// container's env (paths re-rooted, listening on `pod_ip`): the caller
/// adds the program.
#[allow(clippy::too_many_arguments)]
pub(crate) fn play_container(
    sb: &Sandbox,
    b: &Bundle,
    root: &Path,
    volumes: &Path,
    pod_ip: &str,
    pod: &core::PodSpec,
    container: &core::Container,
    config: &str,
) -> Command {
    use std::os::unix::fs::{chown, PermissionsExt};
    let _ = sb.run(sb.cmd("umount").arg(root));
    let _ = fs::remove_dir_all(root);
    let reroot = |p: &str| reroot(root, p);
    let pod_sc = pod.security_context.clone().unwrap_or_default();
    let sc = container.security_context.clone().unwrap_or_default();
    let fs_group = pod_sc.fs_group.map(|g| u32::try_from(g).unwrap());
    if pod_sc.run_as_user.is_some() {
        // The user must be able to reach its files at all.
        fs::set_permissions(sb.path(), fs::Permissions::from_mode(0o755)).unwrap();
    }
    for m in container.volume_mounts.as_ref().unwrap() {
        let v = pod
            .volumes
            .as_ref()
            .unwrap()
            .iter()
            .find(|v| v.name == m.name)
            .unwrap_or_else(|| panic!("volumeMount {} has no volume", m.name));
        let at = reroot(&m.mount_path);
        fs::create_dir_all(at.parent().unwrap()).unwrap();
        if let Some(cm) = &v.config_map {
            fs::create_dir(&at).unwrap();
            let data = b.config_maps[&cm.name].data.clone().unwrap_or_default();
            for (k, value) in data {
                fs::write(at.join(k), value).unwrap();
            }
        } else if let Some(s) = &v.secret {
            fs::create_dir(&at).unwrap();
            let secret = s.secret_name.as_deref().unwrap();
            let mode = u32::try_from(s.default_mode.unwrap_or(0o644)).unwrap();
            for k in b.secrets[secret].data.as_ref().unwrap().keys() {
                let f = at.join(k);
                fs::write(&f, b.secret_data(secret, k)).unwrap();
                let mode = match fs_group {
                    Some(g) => {
                        chown(&f, Some(0), Some(g)).unwrap();
                        mode | 0o440
                    }
                    None => mode,
                };
                fs::set_permissions(&f, fs::Permissions::from_mode(mode)).unwrap();
            }
        } else {
            let backing = volumes.join(&v.name);
            // The kubelet gives emptyDir and (most) provisioned claims to
            // fsGroup; a hostPath or an NFS volume stays as it is: a
            // directory of root's, 0755, as the kubelet or a fresh export
            // makes it.
            let nfs = b.dir.join("manifests/persistentvolume.yaml").exists();
            let owned = v.empty_dir.is_some() || (v.persistent_volume_claim.is_some() && !nfs);
            if !backing.exists() {
                fs::create_dir_all(&backing).unwrap();
                fs::set_permissions(&backing, fs::Permissions::from_mode(0o755)).unwrap();
                if let Some(g) = fs_group.filter(|_| owned) {
                    chown(&backing, Some(0), Some(g)).unwrap();
                    fs::set_permissions(&backing, fs::Permissions::from_mode(0o2775)).unwrap();
                }
            }
            symlink(&backing, &at).unwrap();
        }
    }
    let config_file = reroot(config);
    fs::create_dir_all(config_file.parent().unwrap()).unwrap();
    fs::write(&config_file, IMAGE_CONFIG).unwrap();
    if sc.read_only_root_filesystem == Some(true) {
        for args in [vec!["--bind"], vec!["-o", "remount,bind,ro"]] {
            let o = sb.run(sb.cmd("mount").args(&args).arg(root).arg(root));
            assert!(o.status.success(), "{}", text(&o));
        }
    }

    assert_eq!(sc.allow_privilege_escalation, Some(false));
    let caps = sc.capabilities.clone().unwrap_or_default();
    assert_eq!(
        caps.drop,
        Some(vec!["ALL".to_owned()]),
        "capabilities are dropped"
    );
    let mut bounding = String::from("-all");
    for add in caps.add.unwrap_or_default() {
        bounding.push_str(&format!(",+{}", add.to_lowercase()));
    }
    let mut c = sb.cmd("setpriv");
    c.args(["--no-new-privs", "--inh-caps=-all"])
        .arg(format!("--bounding-set={bounding}"));
    if let Some(uid) = pod_sc.run_as_user {
        let gid = pod_sc.run_as_group.unwrap_or(uid);
        let groups = fs_group.map_or(gid.to_string(), |g| format!("{gid},{g}"));
        c.arg(format!("--reuid={uid}"))
            .arg(format!("--regid={gid}"))
            .arg(format!("--groups={groups}"));
    }
    c.arg("--").env_clear();
    for e in container.env.as_ref().unwrap() {
        let mut value = match (&e.value, &e.value_from) {
            (Some(v), _) => v.clone(),
            (None, Some(from)) => {
                let r = from.secret_key_ref.as_ref().unwrap();
                String::from_utf8(b.secret_data(&r.name, &r.key)).unwrap()
            }
            _ => panic!("env {} has no value", e.name),
        };
        // A path in the container, re-rooted; an S3 root directory is a
        // key prefix in the bucket, not a path. A path from the config
        // comes as a YAML double-quoted scalar (the plan's `env` module),
        // and is re-rooted inside it.
        let key_prefix = e.name.starts_with("REGISTRY_STORAGE_S3_");
        if !key_prefix && value.starts_with('/') {
            value = reroot(&value).display().to_string();
        } else if !key_prefix && value.starts_with("\"/") {
            let path: String = serde_yaml::from_str(&value).unwrap();
            value = serde_json::to_string(&reroot(&path).display().to_string()).unwrap();
        }
        if e.name == "REGISTRY_HTTP_ADDR"
            || (e.name == "REGISTRY_HTTP_DEBUG_ADDR" && value.starts_with(':'))
        {
            // `:port` binds every address of the pod: here, the pod's IP
            // (two pods played in one namespace each have their own).
            assert!(value.starts_with(':'), "{}={value}", e.name);
            value = format!("{pod_ip}{value}");
        }
        c.env(&e.name, value);
    }
    c
}

/// The running pod at `pod_ip` answers as the Deployment says: readiness,
/// TLS 1.2 at least, the debug listener where it is configured and nowhere
/// else.
fn check_pod(sb: &Sandbox, b: &Bundle, pod_ip: &str) {
    let port = b.env("REGISTRY_HTTP_ADDR").unwrap()[1..].to_owned();
    // The readiness probe: GET / over HTTPS on the container port (the
    // kubelet does not verify the certificate either).
    let url = format!("https://{pod_ip}:{port}/");
    wait_for("the registry to be ready", Duration::from_secs(30), || {
        sb.curl(&["--insecure", &url], None).0 == "200"
    });
    // TLS 1.1 is refused (REGISTRY_HTTP_TLS_MINIMUMTLS), whatever the client allows.
    let o = sb.run(
        sb.cmd("openssl")
            .args([
                "s_client",
                "-tls1_1",
                "-cipher",
                "DEFAULT@SECLEVEL=0",
                "-connect",
            ])
            .arg(format!("{pod_ip}:{port}")),
    );
    assert!(!o.status.success(), "TLS 1.1 was accepted: {}", text(&o));
    // The debug listener is where the Deployment says, and the image
    // config's one on :5001 is gone unless the Deployment put it there.
    let debug = b
        .container()
        .ports
        .as_ref()
        .unwrap()
        .iter()
        .find(|p| p.name.as_deref() == Some("debug"))
        .map(|p| u16::try_from(p.container_port).unwrap());
    if let Some(d) = debug {
        let url = format!("http://{pod_ip}:{d}/metrics");
        assert_eq!(sb.curl(&[&url], None).0, "200", "{url}");
    }
    if debug != Some(IMAGE_DEBUG_PORT) && port != IMAGE_DEBUG_PORT.to_string() {
        let url = format!("http://{pod_ip}:{IMAGE_DEBUG_PORT}/metrics");
        assert_eq!(
            sb.curl(&[&url], None).0,
            "000",
            "the image's debug listener still runs: {url}"
        );
    }
}

/// Make the sandbox's `/etc/containers` the played node's (as trust-node.sh
/// installed it), with an empty `registries.conf` and a policy that
/// accepts any image: skopeo (containers/image) then reads the node's
/// `registries.conf.d` and `certs.d`.
pub(crate) fn use_node_containers_config(sb: &Sandbox, node: &Path) {
    let etc = node.join("etc/containers");
    fs::write(etc.join("registries.conf"), "").unwrap();
    fs::write(
        etc.join("policy.json"),
        r#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
    )
    .unwrap();
    let o = sb.run(
        sb.cmd("mount")
            .arg("--bind")
            .arg(&etc)
            .arg("/etc/containers"),
    );
    assert!(o.status.success(), "{}", text(&o));
}

/// Play kube-proxy and the hostPort: forward the node's ports and the
/// Service's cluster IP to the pod, as the rendered objects say.
pub(crate) fn start_proxies(sb: &mut Sandbox, b: &Bundle, ipv6: bool) {
    start_proxies_as(sb, b, ipv6, POD_IP, CLUSTER_IP, "proxy");
}

/// [`start_proxies`] to the pod at `pod_ip`, the Service on `cluster_ip`,
/// the socat processes named `<name>-<i>`.
pub(crate) fn start_proxies_as(
    sb: &mut Sandbox,
    b: &Bundle,
    ipv6: bool,
    pod_ip: &str,
    cluster_ip: &str,
    name: &str,
) {
    let mut forwards: Vec<(String, u16, u16)> = Vec::new();
    for p in b.container().ports.as_ref().unwrap() {
        if let Some(host_port) = p.host_port {
            let hp = u16::try_from(host_port).unwrap();
            let cp = u16::try_from(p.container_port).unwrap();
            forwards.push((NODE_IP.into(), hp, cp));
            if ipv6 {
                forwards.push((NODE_IP6.into(), hp, cp));
            }
        }
    }
    for p in b.service.spec.as_ref().unwrap().ports.as_ref().unwrap() {
        let target = b.target_port(p.target_port.as_ref().unwrap_or(&IntOrString::Int(p.port)));
        forwards.push((cluster_ip.into(), u16::try_from(p.port).unwrap(), target));
        if let Some(np) = p.node_port {
            let np = u16::try_from(np).unwrap();
            forwards.push((NODE_IP.into(), np, target));
            if ipv6 {
                forwards.push((NODE_IP6.into(), np, target));
            }
        }
    }
    for (i, (ip, port, target)) in forwards.iter().enumerate() {
        let listen = if ip.contains(':') {
            format!("TCP6-LISTEN:{port},bind=[{ip}],fork,reuseaddr")
        } else {
            format!("TCP4-LISTEN:{port},bind={ip},fork,reuseaddr")
        };
        let mut c = sb.cmd("socat");
        c.arg(listen).arg(format!("TCP4:{pod_ip}:{target}"));
        sb.spawn(&format!("{name}-{i}"), c);
    }
    for (ip, port, _) in &forwards {
        let host = if ip.contains(':') {
            format!("[{ip}]")
        } else {
            ip.clone()
        };
        let url = format!("https://{host}:{port}/");
        wait_for(&format!("{host}:{port}"), Duration::from_secs(10), || {
            sb.curl(&["--insecure", &url], None).0 == "200"
        });
    }
}

/// A private containerd: its own root, state and socket in the sandbox.
pub(crate) fn start_containerd(sb: &mut Sandbox) -> PathBuf {
    let d = sb.path().join("containerd");
    fs::create_dir(&d).unwrap();
    let sock = d.join("c.sock");
    let config = d.join("config.toml");
    fs::write(
        &config,
        format!(
            r#"version = 2
root = "{root}"
state = "{state}"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "{sock}"
[ttrpc]
  address = "{sock}.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "{opt}"
"#,
            root = d.join("root").display(),
            state = d.join("state").display(),
            opt = d.join("opt").display(),
            sock = sock.display(),
        ),
    )
    .unwrap();
    let mut c = sb.cmd("containerd");
    c.arg("--config").arg(&config);
    sb.spawn("containerd", c);
    wait_for("containerd", Duration::from_secs(20), || {
        sb.run(sb.cmd("ctr").arg("--address").arg(&sock).arg("version"))
            .status
            .success()
    });
    sock
}

/// `ctr images pull` of `reference` through `hosts_dir`, as a node would.
pub(crate) fn ctr_pull(
    sb: &Sandbox,
    sock: &Path,
    hosts_dir: &Path,
    reference: &str,
    login: Option<&(String, String)>,
) -> Output {
    let mut c = sb.cmd("ctr");
    c.arg("--address")
        .arg(sock)
        .args([
            "--namespace",
            "e2e",
            "images",
            "pull",
            "--snapshotter",
            "native",
            "--hosts-dir",
        ])
        .arg(hosts_dir);
    if let Some((u, p)) = login {
        // ctr reads a password only from argv or a terminal; this one is a
        // throwaway in a namespace with no network.
        c.args(["--user", &format!("{u}:{p}")]);
    }
    c.arg(reference);
    sb.run(&mut c)
}

pub(crate) fn digest_of(
    sb: &Sandbox,
    b: &Bundle,
    endpoint: &str,
    authfile: Option<&Path>,
    when: &str,
) -> String {
    let mut c = sb.cmd("skopeo");
    c.arg("inspect");
    if let Some(a) = authfile {
        c.arg("--authfile").arg(a);
    }
    let o = sb.run(
        c.arg("--cert-dir")
            .arg(b.dir.join("trust/docker/certs.d").join(endpoint))
            .args(["--format", "{{.Digest}}"])
            .arg(format!("docker://{endpoint}/{IMAGE}")),
    );
    assert!(
        o.status.success(),
        "skopeo inspect {endpoint} {when}: {}",
        text(&o)
    );
    String::from_utf8(o.stdout).unwrap().trim().to_owned()
}

fn e2e(s: Scenario) {
    let ipv6 = s.endpoints.iter().any(|e| e.starts_with('['));
    let mut hosts = Vec::new();
    if !s.dns_names.is_empty() {
        hosts.push((NODE_IP, s.dns_names.iter().map(|n| n.to_string()).collect()));
    }
    hosts.push((
        CLUSTER_IP,
        s.service_names.iter().map(|n| n.to_string()).collect(),
    ));
    let mut sb = Sandbox::new(&hosts);
    let b = render(&sb, &s);

    // The trust trees name exactly the endpoints (Docker's has no
    // port-less alias: Docker cannot redirect one).
    let all: BTreeSet<String> = s.endpoints.iter().map(|e| e.to_string()).collect();
    let direct: BTreeSet<String> = all
        .iter()
        .filter(|e| !s.aliases.contains(&e.as_str()))
        .cloned()
        .collect();
    assert_eq!(b.trust_dirs("containerd"), all, "containerd certs.d");
    assert_eq!(b.trust_dirs("docker"), direct, "docker certs.d");

    start_pod(&mut sb, &b);
    start_proxies(&mut sb, &b, ipv6);
    let login = b.login(s.password_stdin);

    // curl: TLS verifies through each endpoint's ca.crt alone; 401 without
    // credentials and 200 with them (200 without auth).
    for e in &direct {
        let ca = b.dir.join("trust/docker/certs.d").join(e).join("ca.crt");
        let ca = ca.to_str().unwrap();
        let url = format!("https://{e}/v2/");
        let (code, o) = sb.curl(&["--cacert", ca, &url], None);
        match &login {
            Some((u, p)) => {
                assert_eq!(code, "401", "{url} without credentials: {}", text(&o));
                // curl's config syntax: backslash escapes inside quotes.
                let quoted = format!("{u}:{p}")
                    .replace('\\', "\\\\")
                    .replace('"', "\\\"");
                let (code, o) = sb.curl(
                    &["--cacert", ca, &url],
                    Some(format!("user = \"{quoted}\"\n")),
                );
                assert_eq!(code, "200", "{url} as {u}: {}", text(&o));
            }
            None => assert_eq!(code, "200", "{url}: {}", text(&o)),
        }
        // Without the bundle's CA the handshake fails.
        let (code, o) = sb.curl(&[&url], None);
        assert_eq!(code, "000", "{url} was trusted without the CA");
        assert!(text(&o).contains("certificate"), "{}", text(&o));
    }

    // The bundle's verify.sh: handshake, login, and a push and pull of the
    // image it builds, with skopeo, at every node address.
    let mut verify = sb.cmd("bash");
    verify.arg(b.dir.join("scripts/verify.sh"));
    let o = with_password_stdin(&mut verify, s.password_stdin);
    let said = text(&o);
    if let Some((u, _)) = &login {
        assert!(said.contains(&format!("ok: {u} can log in")), "{said}");
    }
    assert!(o.status.success(), "verify.sh: {said}");
    // ... and it fails when certs/ca.crt is not the CA that signed.
    let ca_file = b.dir.join("certs/ca.crt");
    let ca = fs::read(&ca_file).unwrap();
    self_signed(&ca_file, "foreign", "1", &[]);
    let o = sb.run(sb.cmd("bash").arg(b.dir.join("scripts/verify.sh")));
    assert!(
        !o.status.success(),
        "verify.sh trusted a foreign CA: {}",
        text(&o)
    );
    assert!(
        text(&o).contains("does not verify against certs/ca.crt"),
        "{}",
        text(&o)
    );
    fs::write(&ca_file, ca).unwrap();
    let pushed = said
        .lines()
        .filter_map(|l| l.strip_suffix(") with skopeo"))
        .filter_map(|l| l.rsplit_once(" (").map(|(_, d)| d.to_owned()))
        .collect::<Vec<_>>();
    assert!(!pushed.is_empty(), "verify.sh pushed nothing: {said}");
    let digest = pushed[0].clone();

    // skopeo pulls through every Docker certs.d endpoint, the Service's
    // included, logged in with the rendered pull Secret as its authfile:
    // its `auths` keys must be spelled as the references are.
    let authfile = login.as_ref().map(|_| {
        let pull = b
            .secrets
            .values()
            .find(|s| s.type_.as_deref() == Some("kubernetes.io/dockerconfigjson"))
            .expect("a pull Secret when auth is on");
        let f = sb.path().join("auth.json");
        fs::write(&f, &pull.data.as_ref().unwrap()[".dockerconfigjson"].0).unwrap();
        f
    });
    // (skopeo 1.9 cannot parse IPv6 image references; containerd below can.)
    for e in direct.iter().filter(|e| !e.starts_with('[')) {
        assert_eq!(
            digest_of(&sb, &b, e, authfile.as_deref(), "after verify.sh pushed"),
            digest,
            "{e}"
        );
    }

    // containerd pulls every name through its hosts.toml, the port-less
    // alias included (the second write-up's failure: port 443).
    let sock = start_containerd(&mut sb);
    let hosts_dir = b.dir.join("trust/containerd/certs.d");
    for e in &all {
        let reference = format!("{e}/{IMAGE}");
        let o = ctr_pull(&sb, &sock, &hosts_dir, &reference, login.as_ref());
        assert!(
            o.status.success(),
            "ctr images pull {reference}: {}",
            text(&o)
        );
        let o = sb.run(sb.cmd("ctr").arg("--address").arg(&sock).args([
            "--namespace",
            "e2e",
            "images",
            "ls",
        ]));
        let listed = text(&o);
        assert!(
            listed
                .lines()
                .any(|l| l.starts_with(&reference) && l.contains(&digest)),
            "{reference} not listed with {digest}: {listed}"
        );
    }
    // Without the trust files containerd refuses the certificate, and a
    // port-less name goes to port 443. (Names, not IPs: containerd tries
    // plain HTTP first for loopback addresses, which these tests use.)
    let is_name = |e: &str| {
        !e.starts_with('[')
            && e.split(':')
                .next()
                .unwrap()
                .parse::<std::net::Ipv4Addr>()
                .is_err()
    };
    let empty = sb.path().join("no-trust");
    fs::create_dir(&empty).unwrap();
    let with_port = direct
        .iter()
        .find(|e| is_name(e) && e.contains(':'))
        .unwrap();
    let o = ctr_pull(
        &sb,
        &sock,
        &empty,
        &format!("{with_port}/{IMAGE}"),
        login.as_ref(),
    );
    assert!(!o.status.success());
    assert!(
        text(&o).contains("x509: certificate signed by unknown authority"),
        "{}",
        text(&o)
    );
    for alias in s.aliases.iter().filter(|a| is_name(a)) {
        let o = ctr_pull(
            &sb,
            &sock,
            &empty,
            &format!("{alias}/{IMAGE}"),
            login.as_ref(),
        );
        assert!(!o.status.success());
        let said = text(&o);
        assert!(
            said.contains(&format!("https://{alias}/v2/"))
                && said.contains(":443: connect: connection refused"),
            "{said}"
        );
    }

    // An image that is not there is "not found", through every hosts.toml
    // (the CA also serves `server`, which containerd tries last).
    for e in &all {
        let o = ctr_pull(
            &sb,
            &sock,
            &hosts_dir,
            &format!("{e}/no-such-image:1"),
            login.as_ref(),
        );
        assert!(!o.status.success());
        let said = text(&o);
        assert!(
            said.contains("not found") && !said.contains("x509"),
            "{e}: {said}"
        );
    }

    // A node as the bundle's trust-node.sh sets it up (under a root here):
    // containerd pulls through the installed tree, and containers/image
    // (the library of CRI-O and podman, here in skopeo) reads the installed
    // /etc/containers: port-less names are rewritten to the NodePort, names
    // that carry the port are left alone, and the CA is found by location.
    let node = sb.path().join("node");
    let o = sb.run(
        sb.cmd("bash")
            .arg(b.dir.join("scripts/trust-node.sh"))
            .args(["--docker", "--containerd", "--crio", "--root"])
            .arg(&node),
    );
    assert!(o.status.success(), "trust-node.sh: {}", text(&o));
    for e in &all {
        let reference = format!("{e}/{IMAGE}");
        let o = ctr_pull(
            &sb,
            &sock,
            &node.join("etc/containerd/certs.d"),
            &reference,
            login.as_ref(),
        );
        assert!(
            o.status.success(),
            "installed tree: ctr images pull {reference}: {}",
            text(&o)
        );
    }
    use_node_containers_config(&sb, &node);
    for e in all.iter().filter(|e| !e.starts_with('[')) {
        let mut c = sb.cmd("skopeo");
        c.arg("inspect");
        if let Some(a) = &authfile {
            c.arg("--authfile").arg(a);
        }
        // --no-tags: listing tags ignores registries.conf (pulls do not).
        let o = sb.run(
            c.args(["--no-tags", "--format", "{{.Digest}}"])
                .arg(format!("docker://{e}/{IMAGE}")),
        );
        assert!(
            o.status.success(),
            "containers/image via /etc/containers, {e}: {}",
            text(&o)
        );
        assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), digest, "{e}");
    }

    // The data outlives the pod: a new pod (fresh container filesystem,
    // same data volume) still serves the image. A data mountPath that
    // differs from REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY fails here.
    sb.stop("registry");
    start_pod(&mut sb, &b);
    let first = direct.iter().next().unwrap();
    assert_eq!(
        digest_of(
            &sb,
            &b,
            first,
            authfile.as_deref(),
            "after the pod was replaced (is the data volume mounted at REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY?)"
        ),
        digest,
        "after the pod was replaced"
    );
}

pub(crate) fn example(name: &str) -> String {
    fs::read_to_string(workspace().join("examples").join(name)).unwrap()
}

/// The first write-up: hostPort 5000, NFS claim, no auth, ECDSA P-256.
#[test]
fn minikube_nfs_hostport_without_auth() {
    e2e(Scenario {
        config: example("minikube-nfs.yaml"),
        flags: vec!["--node-ip", NODE_IP],
        own_ca: false,
        password_stdin: None,
        endpoints: &["127.0.0.2:5000", "kube-registry.kube-system.svc:5000"],
        aliases: &[],
        dns_names: &[],
        service_names: &["kube-registry.kube-system.svc"],
    });
}

/// The second write-up: NodePort 30443 with htpasswd (generated password),
/// an IP and a DNS name, and port-less names redirected to the NodePort.
#[test]
fn nodeport_htpasswd_with_portless_alias() {
    e2e(Scenario {
        config: example("nodeport-htpasswd.yaml"),
        flags: vec!["--node-ip", NODE_IP, "--dns-name", "registry.e2e.test"],
        own_ca: false,
        password_stdin: None,
        endpoints: &[
            "127.0.0.2",
            "127.0.0.2:30443",
            "docker-registry.default.svc:8443",
            "registry.e2e.test",
            "registry.e2e.test:30443",
        ],
        aliases: &["127.0.0.2", "registry.e2e.test"],
        dns_names: &["registry.e2e.test"],
        service_names: &["docker-registry.default.svc"],
    });
}

/// RSA keys, two users, a shared claim, IPv4 and IPv6 node addresses and a
/// DNS name on NodePort 30500.
#[test]
fn shared_pvc_rsa_ipv4_ipv6_nodeport() {
    e2e(Scenario {
        config: example("shared-pvc-rsa.yaml"),
        flags: vec![
            "--node-ip",
            NODE_IP,
            "--node-ip",
            NODE_IP6,
            "--dns-name",
            "registry.e2e.test",
        ],
        own_ca: false,
        password_stdin: None,
        endpoints: &[
            "127.0.0.2",
            "127.0.0.2:30500",
            "[::1]",
            "[::1]:30500",
            "registry.e2e.test",
            "registry.e2e.test:30500",
            "registry.registry.svc:5000",
        ],
        aliases: &["127.0.0.2", "[::1]", "registry.e2e.test"],
        dns_names: &["registry.e2e.test"],
        service_names: &["registry.registry.svc"],
    });
}

/// hostPort 443 (references without a port), a CA of the cluster's made by
/// openssl (bring your own CA), ECDSA P-384 server key, a password given on
/// stdin; container port 5001, where the official 3.x image's config file
/// puts its debug listener (moved to 5002, with metrics).
#[test]
fn hostport_443_with_own_ca_and_given_password() {
    e2e(Scenario {
        config: "name: registry\nnamespace: registry\naddresses:\n  node_ips: [127.0.0.2]\n  dns_names: [registry.e2e.test]\nports:\n  container: 5001\n  host: 443\nstorage:\n  host_path: {path: /srv/registry, node: node1}\nauth:\n  users: [{name: alice}]\ntls:\n  key_algorithm: ecdsa-p384\nregistry:\n  debug: {port: 5002}\n".into(),
        flags: vec!["--user", "alice"],
        own_ca: true,
        password_stdin: Some("e2e pass: with spaces & \"quotes\""),
        endpoints: &["127.0.0.2", "registry.e2e.test", "registry.registry.svc:5001"],
        aliases: &[],
        dns_names: &["registry.e2e.test"],
        service_names: &["registry.registry.svc"],
    });
}

/// The pod-template annotations of a rendered Deployment.
pub(crate) fn pod_annotations(b: &Bundle) -> BTreeMap<String, String> {
    b.deployment
        .spec
        .as_ref()
        .and_then(|s| s.template.metadata.as_ref())
        .and_then(|m| m.annotations.clone())
        .unwrap_or_default()
}

/// Play the kubelet's update of mounted Secrets in a running pod: each
/// Secret volume's files replaced (atomically) by the bundle's new data,
/// the process left running.
fn update_mounted_secrets(sb: &Sandbox, b: &Bundle) {
    let root = sb.path().join("pod");
    let pod = b.pod();
    for m in b.container().volume_mounts.as_ref().unwrap() {
        let v = pod
            .volumes
            .as_ref()
            .unwrap()
            .iter()
            .find(|v| v.name == m.name)
            .unwrap();
        let Some(s) = &v.secret else { continue };
        let secret = s.secret_name.as_deref().unwrap();
        let at = root.join(m.mount_path.trim_start_matches('/'));
        for k in b.secrets[secret].data.as_ref().unwrap().keys() {
            let tmp = at.join(format!("..{k}.new"));
            fs::write(&tmp, b.secret_data(secret, k)).unwrap();
            fs::rename(&tmp, at.join(k)).unwrap();
        }
    }
}

/// A rollout: re-rendering with one more DNS name re-issues the server
/// certificate, which changes the pod template's checksum-tls annotation
/// (so `kubectl apply` replaces the pod) and nothing the registry re-reads.
/// The kubelet's update of the mounted Secret alone does not help (the
/// distribution server never reloads its certificate: the new name still
/// fails); once the pod is replaced, as the changed template makes the
/// Deployment do, the new name verifies and the old one still does.
#[test]
fn a_new_dns_name_rolls_the_pod_and_the_new_certificate_is_served() {
    const OLD: &str = "registry.e2e.test";
    const NEW: &str = "new.e2e.test";
    let mut sb = Sandbox::new(&[
        (NODE_IP, vec![OLD.to_owned(), NEW.to_owned()]),
        (CLUSTER_IP, vec!["docker-registry.default.svc".to_owned()]),
    ]);
    let scenario = |flags| Scenario::plain(example("nodeport-htpasswd.yaml"), flags);
    let first = render(
        &sb,
        &scenario(vec!["--node-ip", NODE_IP, "--dns-name", OLD]),
    );
    start_pod(&mut sb, &first);
    start_proxies(&mut sb, &first, false);
    // 401: TLS verified under the bundle's CA, then the login is asked for.
    fn status(sb: &Sandbox, b: &Bundle, name: &str) -> (String, String) {
        let url = format!("https://{name}:30443/v2/");
        let ca = b.dir.join("certs/ca.crt");
        let (code, o) = sb.curl(&["--cacert", ca.to_str().unwrap(), &url], None);
        (code, text(&o))
    }
    assert_eq!(status(&sb, &first, OLD).0, "401");
    assert_eq!(
        status(&sb, &first, NEW).0,
        "000",
        "{NEW} verified before it was added"
    );

    let second = render(
        &sb,
        &scenario(vec![
            "--node-ip",
            NODE_IP,
            "--dns-name",
            OLD,
            "--dns-name",
            NEW,
        ]),
    );
    let (before, after) = (pod_annotations(&first), pod_annotations(&second));
    assert_ne!(
        before["registry-gen/checksum-tls"], after["registry-gen/checksum-tls"],
        "a re-issued certificate must change the pod template"
    );
    assert_eq!(
        before["registry-gen/checksum-http-secret"],
        after["registry-gen/checksum-http-secret"]
    );
    let kept: Vec<&String> = first
        .secrets
        .keys()
        .filter(|n| n.ends_with("-htpasswd") || n.ends_with("-http"))
        .collect();
    assert_eq!(kept.len(), 2, "{kept:?}");
    for name in kept {
        assert_eq!(
            first.secrets[name], second.secrets[name],
            "Secret {name} changed"
        );
    }

    // The kubelet updates the mounted files; the running registry keeps
    // serving the certificate it read at start.
    update_mounted_secrets(&sb, &second);
    let (code, said) = status(&sb, &second, NEW);
    assert_eq!(
        code, "000",
        "the registry reloaded its certificate after all: {said}"
    );

    // The rollout: the changed template replaces the pod.
    sb.stop("registry");
    start_pod(&mut sb, &second);
    for name in [NEW, OLD] {
        let (code, said) = status(&sb, &second, name);
        assert_eq!(code, "401", "{name} after the rollout: {said}");
    }
}

/// A file of `mib` MiB of random bytes at `path`, and its digest
/// (`sha256:<hex>`), as a layer pushed as a blob.
pub(crate) fn random_blob(path: &Path, mib: usize) -> String {
    let o = Command::new("head")
        .args(["-c", &(mib << 20).to_string(), "/dev/urandom"])
        .stdout(fs::File::create(path).unwrap())
        .status()
        .unwrap();
    assert!(o.success());
    let o = Command::new("sha256sum").arg(path).output().unwrap();
    format!("sha256:{}", text(&o).split_whitespace().next().unwrap())
}

/// Push `blob` of digest `digest` to the repository at `repo_url`
/// (`https://host/v2/<name>`) as a client pushes a layer in one request:
/// POST for an upload, then one PUT with the whole body; `tls`: curl's
/// trust flags. The PUT's HTTP status.
pub(crate) fn push_blob(
    sb: &Sandbox,
    repo_url: &str,
    tls: &[&str],
    blob: &Path,
    digest: &str,
) -> String {
    let o = sb.run(
        sb.cmd("curl")
            .args(["--silent", "--show-error"])
            .args(tls)
            .args(["--request", "POST", "--dump-header", "-"])
            .args(["--output", "/dev/null"])
            .arg(format!("{repo_url}/blobs/uploads/")),
    );
    let headers = text(&o);
    let location = (headers.lines())
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case("location"))
        })
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_else(|| panic!("no upload location: {headers}"));
    // A relative Location is against the registry's origin.
    let location = match location.strip_prefix('/') {
        Some(path) => {
            let origin = repo_url.split("/v2/").next().unwrap();
            format!("{origin}/{path}")
        }
        None => location,
    };
    let sep = if location.contains('?') { '&' } else { '?' };
    let mut args: Vec<String> = tls.iter().map(|s| (*s).to_owned()).collect();
    args.extend(
        [
            "--max-time",
            "300",
            "--request",
            "PUT",
            "--header",
            "Content-Type: application/octet-stream",
            "--data-binary",
        ]
        .map(str::to_owned),
    );
    args.push(format!("@{}", blob.display()));
    args.push(format!("{location}{sep}digest={digest}"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    sb.curl(&args, None).0
}
