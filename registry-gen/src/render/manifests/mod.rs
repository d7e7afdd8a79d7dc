//! Kubernetes manifests: typed k8s-openapi values, one small builder per
//! object, one file per object, and a `kustomization.yaml` listing them.
//! One module per object family:
//!
//! - `workload.rs`: a registry's Deployment (the main one's and each mirror's);
//! - `service.rs`: its Service;
//! - `mirrors.rs`: a mirror's upstream credentials Secret and upstream CA ConfigMap;
//! - `storage.rs`: the PersistentVolume, the claim, the data volume;
//! - `secrets.rs`: TLS, HTTP secret, htpasswd and pull Secrets;
//! - `discovery.rs`: KEP-1755's `local-registry-hosting` ConfigMap;
//! - `trust.rs`: the opt-in trust installer (ConfigMap + DaemonSet);
//! - `pull_test.rs`: the pull-test Pod (not in the kustomization);
//! - `maintenance.rs`: the garbage-collection Job (not in the
//!   kustomization; gc.sh runs it).
//! - `backends.rs`: the S3 key Secret, the S3 CA ConfigMap, the Redis Secret;
//! - `scale.rs`: the PodDisruptionBudget and the spread over the nodes;
//! - `monitoring.rs`: the PodMonitor, PrometheusRule and Probe (typed in
//!   `monitoring/crd.rs`), the Grafana dashboard, the blackbox module.
//!
//! Every name, label, port, path and Secret key comes from the plan; the
//! Secrets carry the very bytes of the bundle's `certs/` and `auth/` files.

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use serde::Serialize;

use crate::bundle::{Bundle, MODE_FILE, MODE_SECRET};
use crate::error::{Error, Result};
use crate::inputs::Inputs;
use crate::plan::{paths, ManifestKind, MirrorPlan, Plan, TrustInstallerPlan, Workload};

mod backends;
mod discovery;
mod exposure;
mod maintenance;
mod mirrors;
mod monitoring;
mod pull_test;
mod scale;
mod secrets;
mod service;
mod storage;
mod trust;
mod workload;

pub(crate) fn render(plan: &Plan, inputs: &Inputs, out: &mut Bundle) -> Result<()> {
    for m in &plan.manifests {
        let yaml = match m.kind {
            ManifestKind::Namespace => file(&m.path, &namespace(plan)),
            ManifestKind::PersistentVolume => file(
                &m.path,
                &storage::persistent_volume(plan, &plan.data, plan.labels()),
            ),
            ManifestKind::PersistentVolumeClaim => file(
                &m.path,
                &storage::persistent_volume_claim(plan, &plan.data, plan.labels()),
            ),
            ManifestKind::TlsSecret => file(&m.path, &secrets::tls(plan, out)?),
            ManifestKind::HttpSecret => file(&m.path, &secrets::http(plan, out)?),
            ManifestKind::HtpasswdSecret => file(&m.path, &secrets::htpasswd(plan, out)?),
            ManifestKind::PullSecret => file(&m.path, &secrets::pull(plan, inputs)?),
            ManifestKind::Deployment => file(
                &m.path,
                &workload::deployment(plan, &plan.workload(), inputs, out)?,
            ),
            ManifestKind::Service => file(&m.path, &service::service(plan, &plan.workload())),
            ManifestKind::LocalRegistryHosting => {
                file(&m.path, &discovery::local_registry_hosting(plan)?)
            }
            ManifestKind::TrustConfigMap => {
                file(&m.path, &trust::config_map(plan, installer(plan)?, out))
            }
            ManifestKind::TrustDaemonSet => {
                file(&m.path, &trust::daemon_set(plan, installer(plan)?, out))
            }
            ManifestKind::MirrorPersistentVolume(i) => {
                let mp = mirror(plan, i)?;
                file(
                    &m.path,
                    &storage::persistent_volume(plan, &mp.data, mp.labels(plan)),
                )
            }
            ManifestKind::MirrorPersistentVolumeClaim(i) => {
                let mp = mirror(plan, i)?;
                file(
                    &m.path,
                    &storage::persistent_volume_claim(plan, &mp.data, mp.labels(plan)),
                )
            }
            ManifestKind::MirrorUpstreamSecret(i) => {
                file(&m.path, &mirrors::upstream_secret(plan, i, inputs)?)
            }
            ManifestKind::MirrorUpstreamCa(i) => {
                file(&m.path, &mirrors::upstream_ca(plan, i, inputs)?)
            }
            ManifestKind::MirrorDeployment(i) => file(
                &m.path,
                &workload::deployment(plan, &mirror_workload(plan, i)?, inputs, out)?,
            ),
            ManifestKind::MirrorService(i) => {
                file(&m.path, &service::service(plan, &mirror_workload(plan, i)?))
            }
            ManifestKind::S3Secret => file(&m.path, &backends::s3_secret(plan, inputs)?),
            ManifestKind::S3CaConfigMap => {
                file(&m.path, &backends::s3_ca_config_map(plan, inputs)?)
            }
            ManifestKind::RedisSecret => file(&m.path, &backends::redis_secret(plan, inputs)?),
            ManifestKind::PodDisruptionBudget => file(&m.path, &scale::disruption_budget(plan)?),
            ManifestKind::TlsRoute => file(&m.path, &exposure::tls_route(plan)?),
            ManifestKind::Ingress => file(&m.path, &exposure::ingress(plan)?),
            ManifestKind::IngressCaSecret => file(&m.path, &exposure::ca_secret(plan, out)?),
            ManifestKind::PodMonitor => file(&m.path, &monitoring::pod_monitor(plan)?),
            ManifestKind::PrometheusRule => file(&m.path, &monitoring::prometheus_rule(plan)?),
            ManifestKind::Probe => file(&m.path, &monitoring::probe(plan)?),
            ManifestKind::GrafanaDashboard => {
                file(&m.path, &monitoring::dashboard_config_map(plan)?)
            }
        }?;
        let mode = if m.kind.is_secret() {
            MODE_SECRET
        } else {
            MODE_FILE
        };
        out.add_manifest(&m.path, yaml, mode);
    }
    out.add(
        paths::KUSTOMIZATION,
        file(paths::KUSTOMIZATION, &kustomization(plan))?,
        MODE_FILE,
    );
    if plan.private {
        out.add(
            paths::PULL_TEST_POD,
            file(paths::PULL_TEST_POD, &pull_test::pod(plan))?,
            MODE_FILE,
        );
    }
    monitoring::render_files(plan, out)?;
    // No Job can reach an emptyDir: there, gc.sh only explains why.
    if plan.gc.quiesce.is_some() {
        out.add(
            paths::GC_JOB,
            file(paths::GC_JOB, &maintenance::gc_job(plan))?,
            MODE_FILE,
        );
    }
    Ok(())
}

/// The plan's trust installer, which its manifests need.
fn installer<'p>(plan: &'p Plan) -> Result<&'p TrustInstallerPlan> {
    plan.trust_installer
        .as_ref()
        .ok_or_else(|| Error::Serialize {
            path: "trust installer".into(),
            message: "planned without trust.daemonset".into(),
        })
}

/// The plan's mirror `mirrors[i]`, which its manifests need.
fn mirror<'p>(plan: &'p Plan, i: usize) -> Result<&'p MirrorPlan> {
    plan.mirrors.get(i).ok_or_else(|| Error::Serialize {
        path: format!("mirrors[{i}]"),
        message: "not in the plan".into(),
    })
}

fn mirror_workload<'p>(plan: &'p Plan, i: usize) -> Result<Workload<'p>> {
    plan.mirror_workload(i).ok_or_else(|| Error::Serialize {
        path: format!("mirrors[{i}]"),
        message: "not in the plan".into(),
    })
}

fn file<T: Serialize>(path: &str, value: &T) -> Result<String> {
    crate::yaml::file(path, value)
}

/// Name, the registry's namespace when `namespaced`, and the common labels.
fn metadata(plan: &Plan, name: &str, namespaced: bool) -> meta::ObjectMeta {
    labeled(plan, name, namespaced, plan.labels())
}

/// [`metadata`] with other labels (a mirror's).
fn labeled(
    plan: &Plan,
    name: &str,
    namespaced: bool,
    labels: std::collections::BTreeMap<String, String>,
) -> meta::ObjectMeta {
    meta::ObjectMeta {
        name: Some(name.to_owned()),
        namespace: namespaced.then(|| plan.namespace.to_owned()),
        labels: Some(labels),
        ..Default::default()
    }
}

fn mount(name: &str, path: &str, read_only: bool) -> core::VolumeMount {
    core::VolumeMount {
        name: name.to_owned(),
        mount_path: path.to_owned(),
        read_only: read_only.then_some(true),
        ..Default::default()
    }
}

/// A pod's security context: the container runtime's default seccomp
/// profile, and `run_as` (uid = gid = fsGroup) when not root.
fn pod_security(run_as: Option<i64>) -> core::PodSecurityContext {
    core::PodSecurityContext {
        run_as_user: run_as,
        run_as_group: run_as,
        fs_group: run_as,
        fs_group_change_policy: run_as.map(|_| "OnRootMismatch".to_owned()),
        seccomp_profile: Some(core::SeccompProfile {
            type_: "RuntimeDefault".to_owned(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn namespace(plan: &Plan) -> core::Namespace {
    core::Namespace {
        metadata: metadata(plan, plan.namespace, false),
        ..Default::default()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Kustomization {
    api_version: &'static str,
    kind: &'static str,
    resources: Vec<String>,
}

fn kustomization(plan: &Plan) -> Kustomization {
    Kustomization {
        api_version: "kustomize.config.k8s.io/v1beta1",
        kind: "Kustomization",
        resources: plan
            .manifests
            .iter()
            .map(|m| m.path.trim_start_matches("manifests/").to_owned())
            .collect(),
    }
}
