//! A registry's Deployment (the main registry's and each mirror's, from a
//! [`Workload`] of the plan): its container (image, env, mounts, probes,
//! resources, hardening) and its pod (volumes, node pinning, security).

use std::collections::BTreeMap;

use k8s_openapi::api::{apps::v1 as apps, core::v1 as core};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{backends, labeled, mirrors, mount, pod_security, scale, secrets, storage};
use crate::bundle::Bundle;
use crate::error::Result;
use crate::inputs::Inputs;
use crate::plan::{
    Checksum, MountSource, Plan, Quantities, SecurityPlan, Workload, WorkloadMount, PROBE_PATH,
    REGISTRY_CONTAINER, ROLLING_UPDATE,
};

fn volume(m: &WorkloadMount) -> core::Volume {
    match &m.source {
        MountSource::Secret(secret) => core::Volume {
            name: m.volume.to_owned(),
            secret: Some(core::SecretVolumeSource {
                secret_name: Some(secret.clone()),
                default_mode: Some(0o400),
                ..Default::default()
            }),
            ..Default::default()
        },
        MountSource::ConfigMap(name) => core::Volume {
            name: m.volume.to_owned(),
            config_map: Some(core::ConfigMapVolumeSource {
                name: name.clone(),
                default_mode: Some(0o444),
                ..Default::default()
            }),
            ..Default::default()
        },
    }
}

/// A registry's environment (the main one's is also the
/// garbage-collection Job's): each value as [`EnvValue::value`] renders it,
/// or a `secretKeyRef` (see the plan's `env` module for the rule).
pub(super) fn env(w: &Workload) -> Vec<core::EnvVar> {
    w.env
        .iter()
        .map(|(name, value)| core::EnvVar {
            name: (*name).to_owned(),
            value: value.value(),
            value_from: value
                .secret_key_ref()
                .map(|(secret, key)| secret_key_ref(secret, key)),
        })
        .collect()
}

/// An env var's source: `key` of the Secret `secret`.
pub(super) fn secret_key_ref(secret: &str, key: &str) -> core::EnvVarSource {
    core::EnvVarSource {
        secret_key_ref: Some(core::SecretKeySelector {
            name: secret.to_owned(),
            key: key.to_owned(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn probe(w: &Workload, initial: i32, period: i32, failures: i32) -> core::Probe {
    core::Probe {
        http_get: Some(core::HTTPGetAction {
            path: Some(PROBE_PATH.to_owned()),
            port: IntOrString::String(w.ports.name.to_owned()),
            scheme: Some("HTTPS".to_owned()),
            ..Default::default()
        }),
        initial_delay_seconds: Some(initial),
        period_seconds: Some(period),
        failure_threshold: Some(failures),
        timeout_seconds: Some(3),
        ..Default::default()
    }
}

fn quantities(q: &Quantities) -> BTreeMap<String, Quantity> {
    let mut m = BTreeMap::from([("memory".to_owned(), Quantity(q.memory.clone()))]);
    if let Some(cpu) = &q.cpu {
        m.insert("cpu".to_owned(), Quantity(cpu.clone()));
    }
    m
}

/// The registry's resources (also the garbage-collection Job's).
pub(super) fn resources(plan: &Plan) -> core::ResourceRequirements {
    let r = &plan.resources;
    core::ResourceRequirements {
        requests: Some(quantities(&r.requests)),
        limits: Some(quantities(&r.limits)),
        ..Default::default()
    }
}

/// A registry container's hardening (the main one's is also the
/// garbage-collection Job's).
pub(super) fn container_security(security: SecurityPlan) -> core::SecurityContext {
    core::SecurityContext {
        allow_privilege_escalation: Some(false),
        privileged: Some(false),
        read_only_root_filesystem: Some(true),
        run_as_non_root: security.run_as.map(|_| true),
        capabilities: Some(core::Capabilities {
            drop: Some(vec!["ALL".to_owned()]),
            add: security
                .net_bind_service
                .then(|| vec!["NET_BIND_SERVICE".to_owned()]),
        }),
        ..Default::default()
    }
}

/// A registry pod's volumes and its container's mounts: data, then the
/// read-only Secrets and ConfigMaps (the main registry's are also the
/// garbage-collection Job's, so both see the same files at the same paths).
pub(super) fn volumes(w: &Workload) -> (Vec<core::Volume>, Vec<core::VolumeMount>) {
    let d = w.data;
    let (mut volumes, mut mounts) = (Vec::new(), Vec::new());
    if let Some(v) = storage::data_volume(d) {
        volumes.push(v);
        mounts.push(mount(d.volume, &d.mount_path, false));
    }
    for m in &w.mounts {
        volumes.push(volume(m));
        mounts.push(mount(m.volume, m.mount_path, true));
    }
    (volumes, mounts)
}

fn container(plan: &Plan, w: &Workload, mounts: Vec<core::VolumeMount>) -> core::Container {
    core::Container {
        name: REGISTRY_CONTAINER.to_owned(),
        image: Some(plan.image.to_owned()),
        image_pull_policy: Some("IfNotPresent".to_owned()),
        ports: Some(
            std::iter::once(core::ContainerPort {
                name: Some(w.ports.name.to_owned()),
                container_port: w.ports.container.into(),
                host_port: w.ports.host.map(Into::into),
                protocol: Some("TCP".to_owned()),
                ..Default::default()
            })
            .chain(w.ports.debug.map(|d| core::ContainerPort {
                name: Some(d.name.to_owned()),
                container_port: d.port.into(),
                protocol: Some("TCP".to_owned()),
                ..Default::default()
            }))
            .collect(),
        ),
        command: w
            .start
            .as_ref()
            .map(crate::render::scripts::mirror_start_command),
        env: Some(env(w)),
        volume_mounts: Some(mounts),
        resources: Some(resources(plan)),
        lifecycle: pre_stop(w),
        readiness_probe: Some(probe(w, 1, 5, 3)),
        liveness_probe: Some(probe(w, 10, 10, 6)),
        security_context: Some(container_security(w.security)),
        ..Default::default()
    }
}

/// The pod template's annotations: the workload's own (scrape
/// annotations), then a checksum of each Secret (or
/// ConfigMap) the registry reads only at start (see
/// [`crate::plan::CHECKSUM_TLS`]), computed from the objects as rendered, so
/// the annotation changes exactly when their bytes do.
fn checksums(
    plan: &Plan,
    w: &Workload,
    inputs: &Inputs,
    out: &Bundle,
) -> Result<BTreeMap<String, String>> {
    let mut m = w.annotations.clone();
    for (key, of) in &w.checksums {
        let sum = match *of {
            Checksum::TlsSecret => secrets::checksum(&secrets::tls(plan, out)?),
            Checksum::HttpSecret => secrets::checksum(&secrets::http(plan, out)?),
            Checksum::UpstreamSecret(i) => {
                secrets::checksum(&mirrors::upstream_secret(plan, i, inputs)?)
            }
            Checksum::UpstreamCa(i) => {
                secrets::config_map_checksum(&mirrors::upstream_ca(plan, i, inputs)?)
            }
            Checksum::S3Secret => secrets::checksum(&backends::s3_secret(plan, inputs)?),
            Checksum::S3Ca => {
                secrets::config_map_checksum(&backends::s3_ca_config_map(plan, inputs)?)
            }
            Checksum::RedisSecret => secrets::checksum(&backends::redis_secret(plan, inputs)?),
        };
        m.insert((*key).to_owned(), sum);
    }
    Ok(m)
}

/// The preStop hook of pods that overlap: the pod keeps serving while it
/// leaves the Service's endpoints, then the registry gets SIGTERM and
/// drains (`REGISTRY_HTTP_DRAINTIMEOUT`). A `sleep` command rather than
/// the kubelet's sleep action, which needs Kubernetes 1.30; the official
/// images (Alpine) have one.
fn pre_stop(w: &Workload) -> Option<core::Lifecycle> {
    let seconds = w.drain().pre_stop_seconds?;
    Some(core::Lifecycle {
        pre_stop: Some(core::LifecycleHandler {
            exec: Some(core::ExecAction {
                command: Some(vec!["sleep".to_owned(), seconds.to_string()]),
            }),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// The Deployment's strategy: with `RollingUpdate`, a new pod is up and
/// ready before an old one is taken down (maxUnavailable 0, maxSurge 1).
fn strategy(w: &Workload) -> apps::DeploymentStrategy {
    let rolling = w.strategy == ROLLING_UPDATE;
    apps::DeploymentStrategy {
        type_: Some(w.strategy.to_owned()),
        rolling_update: rolling.then_some(apps::RollingUpdateDeployment {
            max_unavailable: Some(IntOrString::Int(0)),
            max_surge: Some(IntOrString::Int(1)),
        }),
    }
}

pub(super) fn deployment(
    plan: &Plan,
    w: &Workload,
    inputs: &Inputs,
    out: &Bundle,
) -> Result<apps::Deployment> {
    let (volumes, mounts) = volumes(w);
    Ok(apps::Deployment {
        metadata: labeled(plan, w.name, true, w.labels.clone()),
        spec: Some(apps::DeploymentSpec {
            replicas: Some(w.replicas),
            selector: meta::LabelSelector {
                match_labels: Some(w.selector.clone()),
                ..Default::default()
            },
            strategy: Some(strategy(w)),
            template: core::PodTemplateSpec {
                metadata: Some(meta::ObjectMeta {
                    labels: Some(w.labels.clone()),
                    annotations: Some(checksums(plan, w, inputs, out)?),
                    ..Default::default()
                }),
                spec: Some(core::PodSpec {
                    containers: vec![container(plan, w, mounts)],
                    volumes: Some(volumes),
                    node_selector: storage::node_selector(w.data),
                    topology_spread_constraints: w.scaled.then(|| scale::spread(plan)).flatten(),
                    automount_service_account_token: Some(false),
                    termination_grace_period_seconds: Some(w.drain().grace_seconds),
                    security_context: Some(pod_security(w.security.run_as)),
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        ..Default::default()
    })
}
