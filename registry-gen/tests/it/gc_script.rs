//! scripts/gc.sh against a fake `kubectl` (no cluster here) that records
//! every call and plays the state gc.sh reads back: the Deployment's
//! replicas and read-only variable, its pods (an old one left at the
//! first look), the Job and its outcome. `kubectl patch --local` (gc.sh's
//! client-side edit of the Job manifest) is the real kubectl's, and so is
//! the evaluation of gc.sh's jsonpath over the pods. The end-to-end test (registry-gen-cli's e2e_gc.rs) runs
//! the real registry and `garbage-collect` from the rendered objects; this
//! one checks the script's order, its refusals and its clean-up.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use registry_gen::Config;

use crate::common;

/// The fake: state files under `$FAKE_DIR`, one line per call in `calls`.
/// `FAKE_GC=fail` makes the Job fail, `FAKE_GC=hang` keeps it running;
/// `FAKE_FLUSHED` is one more line of the Job's log.
const FAKE_KUBECTL: &str = r#"#!/usr/bin/env bash
set -eu
d=$FAKE_DIR
orig=("$@")
args=()
while [ $# -gt 0 ]; do
    case $1 in
        --context=* | --kubeconfig=*) shift ;;
        --namespace) shift 2 ;;
        *) args+=("$1"); shift ;;
    esac
done
set -- "${args[@]}"
echo "$*" >>"$d/calls"
replicas=$(cat "$d/replicas")
case "$1 $2" in
    "get deployment/"*) echo "deployment.apps/${2#deployment/}" ;;
    "delete job/"*) rm -f "$d/job.yaml" "$d/job-polls" ;;
    "set env")
        case $5 in
            *-) rm -f "$d/readonly" ;;
            *=*) printf '%s' "${5#*=}" >"$d/readonly"; printf '%s' "${5%%=*}" >"$d/readonly-name" ;;
        esac ;;
    "rollout status") ;;
    "scale deployment/"*) echo "${3#--replicas=}" >"$d/replicas" ;;
    "get pods")
        # The first look still finds an old pod (writable, terminating).
        echo x >>"$d/pod-polls"
        old=0
        [ "$(wc -l <"$d/pod-polls")" -gt 1 ] || old=1
        {
            echo "apiVersion: v1"
            echo "kind: List"
            echo "items:"
            for ((i = 0; i < replicas + old; i++)); do
                printf -- '- {apiVersion: v1, kind: Pod, metadata: {name: registry-%s}, spec: {containers: [{name: registry, image: registry, env: [{name: OTHER, value: x}' "$i"
                if [ -f "$d/readonly" ] && [ "$i" -lt "$replicas" ]; then
                    printf ", {name: %s, value: '%s'}" "$(cat "$d/readonly-name")" "$(cat "$d/readonly")"
                fi
                echo "]}]}}"
            done
        } >"$d/pods.yaml"
        case $6 in
            name) for ((i = 0; i < replicas + old; i++)); do echo "pod/registry-$i"; done ;;
            jsonpath=*)
                # gc.sh's own jsonpath, evaluated by the real kubectl on each
                # pod (a client-side no-op patch prints it per item).
                expr=${6#jsonpath=}
                expr=${expr#'{range .items[*]}'}
                expr=${expr%'{end}'}
                if [ $((replicas + old)) -gt 0 ]; then
                    KUBECONFIG=/dev/null kubectl patch --local -f "$d/pods.yaml" --type=merge -p '{}' -o "jsonpath=$expr"
                fi ;;
        esac ;;
    # As given: a --context here would fail (no such context).
    "patch --local") KUBECONFIG=/dev/null exec kubectl "${orig[@]}" ;;
    "create -f")
        if [ "$3" = - ]; then cat >"$d/job.yaml"; else cp "$3" "$d/job.yaml"; fi
        echo "job created: replicas=$replicas readonly=$(cat "$d/readonly" 2>/dev/null || true)" >>"$d/calls" ;;
    "get job/"*)
        [ -f "$d/job.yaml" ] || { echo "job not found" >&2; exit 1; }
        echo x >>"$d/job-polls"
        if [ "$(wc -l <"$d/job-polls")" -lt 2 ] || [ "${FAKE_GC:-}" = hang ]; then
            echo "/"
        elif [ "${FAKE_GC:-}" = fail ]; then
            echo "/1"
        else
            echo "1/"
        fi ;;
    "logs job/"*)
        echo "fake log: blob eligible for deletion: sha256:abc"
        [ -z "${FAKE_FLUSHED:-}" ] || echo "$FAKE_FLUSHED" ;;
    *) echo "fake kubectl: unexpected: $*" >&2; exit 1 ;;
esac
"#;

struct Fake {
    _tmp: tempfile::TempDir,
    bundle: PathBuf,
    dir: PathBuf,
    kubectl: PathBuf,
}

impl Fake {
    fn new(config: &Config, replicas: u32) -> Fake {
        let tmp = tempfile::tempdir().unwrap();
        let bundle = tmp.path().join("bundle");
        common::render(config).write_to(&bundle).unwrap();
        let dir = tmp.path().join("state");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("replicas"), format!("{replicas}\n")).unwrap();
        let kubectl = tmp.path().join("kubectl-fake");
        std::fs::write(&kubectl, FAKE_KUBECTL).unwrap();
        std::fs::set_permissions(
            &kubectl,
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        Fake {
            _tmp: tmp,
            bundle,
            dir,
            kubectl,
        }
    }

    fn gc(&self, args: &[&str], fake_gc: &str) -> Command {
        let mut c = Command::new("bash");
        c.arg(self.bundle.join("scripts/gc.sh"))
            .args(["--timeout", "20"])
            .args(args)
            .env("KUBECTL", &self.kubectl)
            .env("FAKE_DIR", &self.dir)
            .env("FAKE_GC", fake_gc)
            .current_dir("/");
        c
    }

    fn run(&self, args: &[&str], fake_gc: &str) -> Output {
        self.gc(args, fake_gc)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("calls"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn state(&self, file: &str) -> Option<String> {
        std::fs::read_to_string(self.dir.join(file)).ok()
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn example(name: &str) -> Config {
    common::load(&common::workspace().join("examples").join(name))
}

/// The position of the first call starting with `prefix`.
fn at(calls: &[String], prefix: &str) -> usize {
    calls
        .iter()
        .position(|c| c.starts_with(prefix))
        .unwrap_or_else(|| panic!("no call {prefix:?} in {calls:#?}"))
}

fn shared_storage() -> Config {
    let c = example("shared-pvc-rsa.yaml");
    assert!(c.registry.delete_enabled);
    c
}

fn host_path_with_delete() -> Config {
    let mut c = example("nodeport-htpasswd.yaml");
    c.registry.delete_enabled = true;
    c
}

/// Shared storage: read-only before the Job, the Job only once every pod
/// is read-only, writable (new pods) after it, the log shown.
#[test]
fn shared_storage_goes_read_only_around_the_job() {
    let f = Fake::new(&shared_storage(), 2);
    let o = f.run(&["--context", "c"], "");
    let said = text(&o);
    assert!(o.status.success(), "{said}");
    let calls = f.calls();
    let read_only = at(&calls, "set env deployment/registry --containers=registry REGISTRY_STORAGE_MAINTENANCE_READONLY={\"enabled\": true}");
    let created = at(&calls, "job created:");
    let writable = at(
        &calls,
        "set env deployment/registry --containers=registry REGISTRY_STORAGE_MAINTENANCE_READONLY-",
    );
    assert!(
        at(&calls, "delete job/registry-gc") < read_only,
        "{calls:#?}"
    );
    assert!(read_only < at(&calls, "get pods") && at(&calls, "get pods") < created);
    // The first look found a writable pod left: gc.sh looked again.
    let polls = calls[..created]
        .iter()
        .filter(|c| c.starts_with("get pods"))
        .count();
    assert_eq!(polls, 2, "{calls:#?}");
    assert_eq!(
        calls[created],
        "job created: replicas=2 readonly={\"enabled\": true}"
    );
    assert!(created < writable, "{calls:#?}");
    assert!(
        calls[writable + 1].starts_with("rollout status deployment/registry"),
        "{calls:#?}"
    );
    assert!(!calls.iter().any(|c| c.starts_with("scale")), "{calls:#?}");
    assert_eq!(f.state("readonly"), None, "left read-only");
    assert!(
        said.contains("fake log: blob eligible for deletion"),
        "{said}"
    );
    assert!(said.contains("writable again, on fresh pods"), "{said}");
    // The Job is the rendered one, unchanged without flags.
    assert_eq!(
        f.state("job.yaml").unwrap(),
        std::fs::read_to_string(f.bundle.join("manifests/maintenance/gc-job.yaml")).unwrap()
    );
}

/// A failed collection: non-zero exit, the Job's log shown, the Job
/// deleted, and the registry writable again.
#[test]
fn a_failed_job_leaves_the_registry_writable() {
    let f = Fake::new(&shared_storage(), 2);
    let o = f.run(&[], "fail");
    let said = text(&o);
    assert!(!o.status.success(), "{said}");
    assert!(said.contains("Job registry-gc failed"), "{said}");
    assert!(said.contains("fake log"), "{said}");
    assert!(said.contains("the registry is writable"), "{said}");
    let calls = f.calls();
    let created = at(&calls, "job created:");
    let deleted = calls
        .iter()
        .rposition(|c| c.starts_with("delete job/registry-gc"))
        .unwrap();
    assert!(created < deleted, "{calls:#?}");
    assert_eq!(f.state("readonly"), None, "left read-only");
}

/// A ReadWriteOnce claim: scaled to 0 (pods gone) before the Job, back to
/// the plan's replicas after; the flags reach the Job's command; gc.sh says
/// beforehand that pulls fail meanwhile.
#[test]
fn a_read_write_once_claim_is_stopped_and_the_flags_reach_the_job() {
    let mut config = host_path_with_delete();
    config.storage = serde_yaml::from_str("pvc: {size: 1Gi}").unwrap();
    let f = Fake::new(&config, 1);
    let o = f.run(&["--context", "c", "--dry-run", "--delete-untagged"], "");
    let said = text(&o);
    assert!(o.status.success(), "{said}");
    assert!(
        said.contains("scale to 0): its claim is held by one node, so pulls fail until"),
        "{said}"
    );
    let calls = f.calls();
    let stopped = at(&calls, "scale deployment/docker-registry --replicas=0");
    let created = at(&calls, "job created:");
    let restored = at(&calls, "scale deployment/docker-registry --replicas=1");
    assert!(stopped < at(&calls, "get pods") && at(&calls, "get pods") < created);
    let polls = calls[..created]
        .iter()
        .filter(|c| c.starts_with("get pods"))
        .count();
    assert_eq!(polls, 2, "a pod was left at the first look: {calls:#?}");
    assert_eq!(calls[created], "job created: replicas=0 readonly=");
    assert!(created < restored, "{calls:#?}");
    assert_eq!(f.state("replicas").unwrap().trim(), "1");
    assert!(
        !calls.iter().any(|c| c.starts_with("set env")),
        "{calls:#?}"
    );
    let job: k8s_openapi::api::batch::v1::Job =
        serde_yaml::from_str(&f.state("job.yaml").unwrap()).unwrap();
    let pod = job.spec.unwrap().template.spec.unwrap();
    assert_eq!(
        pod.containers[0].command.as_deref().unwrap(),
        [
            "registry",
            "garbage-collect",
            // registry:2.8.3 keeps its config file where 2.x images do.
            "/etc/docker/registry/config.yml",
            "--dry-run",
            "--delete-untagged"
        ]
    );
    assert!(said.contains("dry run: nothing was deleted"), "{said}");
}

/// hostPath storage behind a NodePort: the pods and the Job share the
/// pinned node's directory, so the registry goes read-only (pulls keep
/// working) instead of stopping, and the Job runs on that node.
#[test]
fn host_path_storage_stays_readable_and_the_job_runs_on_its_node() {
    let f = Fake::new(&host_path_with_delete(), 1);
    let o = f.run(&["--context", "c"], "");
    let said = text(&o);
    assert!(o.status.success(), "{said}");
    assert!(
        said.contains("read-only (REGISTRY_STORAGE_MAINTENANCE_READONLY); pulls keep working"),
        "{said}"
    );
    let calls = f.calls();
    let read_only = at(&calls, "set env deployment/docker-registry");
    let created = at(&calls, "job created:");
    assert!(read_only < created, "{calls:#?}");
    assert_eq!(
        calls[created],
        "job created: replicas=1 readonly={\"enabled\": true}"
    );
    assert!(!calls.iter().any(|c| c.starts_with("scale")), "{calls:#?}");
    assert_eq!(f.state("readonly"), None, "left read-only");
    let job: k8s_openapi::api::batch::v1::Job =
        serde_yaml::from_str(&f.state("job.yaml").unwrap()).unwrap();
    let pod = job.spec.unwrap().template.spec.unwrap();
    assert_eq!(
        pod.node_selector.unwrap()["kubernetes.io/hostname"],
        "master1"
    );
}

/// Without registry.delete_enabled, or on emptyDir storage, gc.sh says why
/// and exits non-zero before calling kubectl at all.
#[test]
fn gc_refuses_without_delete_enabled_or_on_empty_dir() {
    let mut empty_dir = Config::embedded_default();
    empty_dir.registry.delete_enabled = true;
    for (config, why) in [
        (
            example("nodeport-htpasswd.yaml"),
            "registry.delete_enabled is false in this bundle",
        ),
        (
            example("minikube-nfs.yaml"),
            "registry.delete_enabled is false in this bundle",
        ),
        (empty_dir, "storage is empty_dir"),
    ] {
        let f = Fake::new(&config, 1);
        let o = f.run(&[], "");
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(text(&o).contains(why), "{}", text(&o));
        assert_eq!(f.calls(), Vec::<String>::new(), "kubectl was called");
    }
}

/// Interrupted while the Job runs (SIGTERM, as a CI runner's cancel): the
/// Job and its pod are deleted, the registry made writable, exit 143; the
/// next run does the whole job.
#[test]
fn an_interrupted_run_leaves_the_registry_writable_and_a_rerun_finishes() {
    let f = Fake::new(&shared_storage(), 2);
    let child = f
        .gc(&[], "hang")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !f.calls().iter().any(|c| c.starts_with("get job/")) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{:#?}",
            f.calls()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(f.state("readonly").as_deref(), Some("{\"enabled\": true}"));
    let o = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .output()
        .unwrap();
    assert!(o.status.success());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(143), "{}", text(&o));
    assert_eq!(f.state("readonly"), None, "left read-only: {}", text(&o));
    assert_eq!(f.state("job.yaml"), None, "the Job was left running");

    let o = f.run(&[], "");
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("fake log"));
    assert_eq!(f.state("readonly"), None);
}

/// gc.sh passes shellcheck in every bundle that has it (with the other
/// scripts, in interop.rs) and answers --help even where it refuses.
#[test]
fn gc_help_describes_what_it_does_to_this_registry() {
    for (config, says) in [
        (shared_storage(), "rolls the registry to read-only mode"),
        (host_path_with_delete(), "pinned to node master1"),
        (
            example("minikube-nfs.yaml"),
            "gc.sh refuses to run: registry.delete_enabled is false",
        ),
    ] {
        let f = Fake::new(&config, 1);
        let o = f.run(&["--help"], "");
        assert!(o.status.success(), "{}", text(&o));
        let help = text(&o).replace('\n', " ");
        assert!(help.contains(says), "{help}");
        assert_eq!(f.calls(), Vec::<String>::new());
    }
}

/// With `cache.redis` (two replicas on S3): the Job's command is the
/// registry image's shell around the collection, the flags after it; the
/// raw password reaches the Job's flush through the Redis Secret's
/// `password` key. gc.sh makes the registry writable again only once the
/// Job's log says the cache was flushed: without that line (Redis down,
/// the flush failed) it stays read-only, says why and how to finish, and
/// exits non-zero; the next run, flushed, makes it writable. A dry run
/// flushes nothing and needs no flush.
#[test]
fn with_redis_the_registry_stays_read_only_until_the_job_flushed_the_cache() {
    let config = example("s3-replicas.yaml");
    assert!(config.registry.delete_enabled);
    let f = Fake::new(&config, 2);
    let run = |args: &[&str], flushed: &str| {
        f.gc(args, "")
            .env("FAKE_FLUSHED", flushed)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };

    let o = run(&["--dry-run"], "");
    let said = text(&o);
    assert!(o.status.success(), "{said}");
    assert!(
        said.contains("then counting the blob descriptors in the shared cache (Redis redis.registry.svc:6379 db 0) it would flush"),
        "{said}"
    );
    assert!(
        said.contains("dry run: nothing was deleted or flushed"),
        "{said}"
    );
    assert_eq!(f.state("readonly"), None, "a dry run left it read-only");
    let job: k8s_openapi::api::batch::v1::Job =
        serde_yaml::from_str(&f.state("job.yaml").unwrap()).unwrap();
    let c = &job.spec.unwrap().template.spec.unwrap().containers[0];
    let command = c.command.as_deref().unwrap();
    assert_eq!(command[..2], ["/bin/sh", "-c"]);
    assert!(command[2].contains("resp EVAL"), "{}", command[2]);
    assert_eq!(
        command[3..],
        [
            "gc-job",
            "registry",
            "garbage-collect",
            "/etc/distribution/config.yml",
            "--dry-run"
        ]
    );
    let password = c
        .env
        .as_ref()
        .unwrap()
        .iter()
        .find(|e| e.name == "GC_REDIS_PASSWORD")
        .expect("the flush's password");
    let from = password
        .value_from
        .as_ref()
        .unwrap()
        .secret_key_ref
        .as_ref()
        .unwrap();
    assert_eq!(
        (from.name.as_str(), from.key.as_str()),
        ("registry-redis", "password")
    );

    // The flush did not happen: read-only it stays.
    let before = f.calls().len();
    let o = run(&[], "");
    let said = text(&o);
    assert_eq!(o.status.code(), Some(1), "{said}");
    assert!(
        said.contains("then flushing the blob descriptors from the shared cache (Redis redis.registry.svc:6379 db 0)"),
        "{said}"
    );
    assert!(
        said.contains("does not say that the blob descriptor cache (Redis redis.registry.svc:6379 db 0) was flushed")
            && said.contains("The registry stays read-only or stopped")
            && said.contains("run gc.sh again"),
        "{said}"
    );
    assert!(!said.contains("writable again"), "{said}");
    assert_eq!(f.state("readonly").as_deref(), Some("{\"enabled\": true}"));
    let calls = f.calls()[before..].to_vec();
    assert!(
        !calls
            .iter()
            .any(|c| c.ends_with("REGISTRY_STORAGE_MAINTENANCE_READONLY-")),
        "{calls:#?}"
    );

    // Run again once Redis answers: flushed, writable.
    let o = run(
        &[],
        "registry-gen: flushed 12 blob descriptor keys from Redis redis.registry.svc:6379 db 0 (...)",
    );
    let said = text(&o);
    assert!(o.status.success(), "{said}");
    assert!(
        said.contains("registry-gen: flushed 12 blob descriptor keys"),
        "{said}"
    );
    assert!(said.contains("writable again, on fresh pods"), "{said}");
    assert_eq!(f.state("readonly"), None);
}
