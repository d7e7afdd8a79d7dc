//! docs/howto-ci.md's pipelines run (issue 23): the shell of every `run:`
//! step of docs/ci/github-actions.yml and every `script:` of
//! docs/ci/gitlab-ci.yml, in a temporary checkout with the built binary on
//! PATH and fake secrets in the environment (a CA made by registry-gen, a
//! password). The render job makes the artifact (twice: the same digest),
//! the scheduled job passes against a server (`openssl s_server`) serving
//! the rendered certificate and fails against one serving a certificate 10
//! days from expiry. `uses:` steps (checkout, artifacts) are GitHub's own.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use crate::common::{ok, run_in, workspace};

const CONFIG: &str = "name: registry\nnamespace: registry\naddresses:\n  node_ips: [127.0.0.1]\n  dns_names: [registry.ci.test]\nports:\n  node: 30443\nauth:\n  users: [{name: ci}]\n";
const PASSWORD: &str = "fake ci password, with spaces";

/// The shell of each job of a pipeline, by job name.
fn jobs(file: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(workspace().join("docs/ci").join(file)).unwrap();
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let lines = |v: Option<&serde_yaml::Value>| -> Vec<String> {
        match v {
            Some(serde_yaml::Value::Sequence(s)) => {
                s.iter().map(|l| l.as_str().unwrap().to_owned()).collect()
            }
            Some(v) => vec![v.as_str().unwrap().to_owned()],
            None => Vec::new(),
        }
    };
    let mut out = Vec::new();
    if let Some(jobs) = doc.get("jobs").and_then(|j| j.as_mapping()) {
        // GitHub Actions: the `run:` steps.
        for (name, job) in jobs {
            let steps = job["steps"].as_sequence().unwrap();
            let script: Vec<String> = steps.iter().flat_map(|s| lines(s.get("run"))).collect();
            out.push((name.as_str().unwrap().to_owned(), script.join("\n")));
        }
    } else {
        // GitLab CI: every top-level job's before_script (or the default's)
        // and script.
        let before = lines(doc.get("default").and_then(|d| d.get("before_script")));
        for (name, job) in doc.as_mapping().unwrap() {
            let Some(script) = job.get("script") else {
                continue;
            };
            let mut all = before.clone();
            all.extend(lines(Some(script)));
            out.push((name.as_str().unwrap().to_owned(), all.join("\n")));
        }
    }
    out
}

/// Run `script` as the CI runner would (bash -eo pipefail) in `dir`.
fn run_job(dir: &Path, script: &str, envs: &[(&str, String)]) -> Output {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_registry-gen"))
        .parent()
        .unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    Command::new("bash")
        .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
        .current_dir(dir)
        .env("PATH", path)
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("REGISTRY_GEN_CONFIG")
        .env_remove("REGISTRY_GEN_QUIET")
        .env_remove("REGISTRY_GEN_GIT")
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn job<'a>(jobs: &'a [(String, String)], name: &str) -> &'a str {
    &jobs.iter().find(|(n, _)| n == name).unwrap().1
}

/// `openssl s_server` on 127.0.0.1, serving the bundle in `bundle`'s
/// certificate; killed on drop.
struct Served(Child, u16);

impl Served {
    fn start(bundle: &Path) -> Served {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let served = Served(
            Command::new("openssl")
                .args(["s_server", "-quiet", "-accept"])
                .arg(format!("127.0.0.1:{port}"))
                .arg("-cert")
                .arg(bundle.join("certs/server.crt"))
                .arg("-key")
                .arg(bundle.join("certs/server.key"))
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("openssl"),
            port,
        );
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return served;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("openssl s_server did not listen on {port}");
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn now() -> i64 {
    let s = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    i64::try_from(s.unwrap().as_secs()).unwrap()
}

/// A checkout (registry-gen.yaml, ci/ca.crt) and the fake CA key.
fn checkout(tmp: &Path) -> (PathBuf, String) {
    // The organisation's CA, made 900 days ago by registry-gen itself.
    let ca_dir = tmp.join("ca");
    let epoch = (now() - 900 * 86400).to_string();
    ok(&run_in(
        tmp,
        &["-q", "render", "--out", "ca"],
        &[("SOURCE_DATE_EPOCH", &epoch)],
    ));
    let repo = tmp.join("repo");
    std::fs::create_dir_all(repo.join("ci")).unwrap();
    std::fs::write(repo.join("registry-gen.yaml"), CONFIG).unwrap();
    std::fs::copy(ca_dir.join("certs/ca.crt"), repo.join("ci/ca.crt")).unwrap();
    let key = std::fs::read_to_string(ca_dir.join("certs/ca.key")).unwrap();
    (repo, key)
}

/// Runs `render` twice and `expiry` against a fresh and an expiring
/// certificate, with `secrets` as the runner hands them over.
fn pipeline(file: &str, secrets: impl Fn(&Path, &str) -> Vec<(&'static str, String)>) {
    let tmp = tempfile::tempdir().unwrap();
    let (repo, key) = checkout(tmp.path());
    let jobs = jobs(file);
    let mut env = secrets(tmp.path(), &key);
    env.push(("REGISTRY_PASSWORD", PASSWORD.to_owned()));

    let render = job(&jobs, "render");
    let o = run_job(&repo, render, &env);
    assert!(
        o.status.success(),
        "{file} render:\n{}",
        crate::common::text(&o)
    );
    let digest = std::fs::read_to_string(repo.join("registry-bundle.tar.sha256")).unwrap();
    let tar = std::fs::read(repo.join("registry-bundle.tar")).unwrap();
    assert!(
        !tar.windows(11).any(|w| w == b"certs/ca.key"),
        "the CA key stays out"
    );
    let text = crate::common::text(&o);
    assert!(
        !text.contains(PASSWORD) && !text.contains(key.trim()),
        "{text}"
    );
    // Again on a runner that kept the bundle: the same artifact.
    let o = run_job(&repo, render, &env);
    assert!(
        o.status.success(),
        "{file} render again:\n{}",
        crate::common::text(&o)
    );
    let again = std::fs::read_to_string(repo.join("registry-bundle.tar.sha256")).unwrap();
    assert_eq!(again, digest, "{file}: the artifact's digest");
    // The password reached the htpasswd through stdin.
    let htpasswd = std::fs::read_to_string(repo.join("bundle/auth/htpasswd")).unwrap();
    let hash = htpasswd.trim().strip_prefix("ci:").unwrap();
    assert!(bcrypt::verify(PASSWORD, hash).unwrap());

    let expiry = job(&jobs, "expiry");
    let served = Served::start(&repo.join("bundle"));
    env.push(("REGISTRY_ADDRESS", format!("127.0.0.1:{}", served.1)));
    let o = run_job(&repo, expiry, &env);
    assert!(
        o.status.success(),
        "{file} expiry:\n{}",
        crate::common::text(&o)
    );
    drop(served);

    // A certificate issued 815 of its 825 days ago: 10 days left.
    let epoch = (now() - 815 * 86400).to_string();
    let old = tmp.path().join("old");
    let ca_key = tmp.path().join("ca/certs/ca.key");
    let o = run_in(
        &repo,
        &[
            "-q",
            "render",
            "--config",
            "registry-gen.yaml",
            "--out",
            old.to_str().unwrap(),
            "--ca-cert",
            "ci/ca.crt",
            "--ca-key",
            ca_key.to_str().unwrap(),
        ],
        &[("SOURCE_DATE_EPOCH", &epoch)],
    );
    ok(&o);
    let served = Served::start(&old);
    env.pop();
    env.push(("REGISTRY_ADDRESS", format!("127.0.0.1:{}", served.1)));
    let o = run_job(&repo, expiry, &env);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{file} expiry, 10 days left:\n{}",
        crate::common::text(&o)
    );
    assert!(
        crate::common::stderr(&o).contains("served.crt"),
        "{}",
        crate::common::text(&o)
    );
}

#[test]
fn the_github_actions_pipeline_runs() {
    pipeline("github-actions.yml", |tmp, key| {
        let runner = tmp.join("runner-temp");
        std::fs::create_dir_all(&runner).unwrap();
        // Secrets arrive as environment variables holding the text.
        vec![
            ("REGISTRY_CA_KEY", key.to_owned()),
            ("RUNNER_TEMP", runner.display().to_string()),
        ]
    });
}

#[test]
fn the_gitlab_ci_pipeline_runs() {
    pipeline("gitlab-ci.yml", |tmp, key| {
        // A variable of type File arrives as the path of a file holding it.
        let file = tmp.join("REGISTRY_CA_KEY");
        std::fs::write(&file, key).unwrap();
        vec![("REGISTRY_CA_KEY", file.display().to_string())]
    });
}

#[test]
fn the_how_to_shows_the_pipelines_the_tests_run() {
    let doc = std::fs::read_to_string(workspace().join("docs/howto-ci.md")).unwrap();
    for file in ["github-actions.yml", "gitlab-ci.yml"] {
        let text = std::fs::read_to_string(workspace().join("docs/ci").join(file)).unwrap();
        assert!(
            doc.contains(&format!("```yaml\n{text}```")),
            "docs/howto-ci.md does not show docs/ci/{file} as it is"
        );
    }
}
