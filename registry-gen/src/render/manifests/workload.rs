//! The registry's Deployment: its container (image, env, mounts, probes,
//! resources, hardening) and its pod (volumes, node pinning, security).

use std::collections::BTreeMap;

use k8s_openapi::api::{apps::v1 as apps, core::v1 as core};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{metadata, mount, pod_security, secrets, storage};
use crate::bundle::Bundle;
use crate::error::Result;
use crate::plan::{
    EnvValue, Plan, Quantities, CHECKSUM_HTTP_SECRET, CHECKSUM_TLS, PROBE_PATH, REGISTRY_CONTAINER,
};

fn secret_volume(name: &str, secret: &str) -> core::Volume {
    core::Volume {
        name: name.to_owned(),
        secret: Some(core::SecretVolumeSource {
            secret_name: Some(secret.to_owned()),
            default_mode: Some(0o400),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The registry's environment (also the garbage-collection Job's).
pub(super) fn env(plan: &Plan) -> Vec<core::EnvVar> {
    plan.env()
        .into_iter()
        .map(|(name, value)| match value {
            EnvValue::Plain(v) => core::EnvVar {
                name: name.to_owned(),
                value: Some(v),
                ..Default::default()
            },
            EnvValue::Secret(r) => core::EnvVar {
                name: name.to_owned(),
                value_from: Some(core::EnvVarSource {
                    secret_key_ref: Some(core::SecretKeySelector {
                        name: r.secret,
                        key: r.key.to_owned(),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            },
        })
        .collect()
}

fn probe(plan: &Plan, initial: i32, period: i32, failures: i32) -> core::Probe {
    core::Probe {
        http_get: Some(core::HTTPGetAction {
            path: Some(PROBE_PATH.to_owned()),
            port: IntOrString::String(plan.ports.name.to_owned()),
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

/// The registry container's hardening (also the garbage-collection Job's).
pub(super) fn container_security(plan: &Plan) -> core::SecurityContext {
    core::SecurityContext {
        allow_privilege_escalation: Some(false),
        privileged: Some(false),
        read_only_root_filesystem: Some(true),
        run_as_non_root: plan.security.run_as.map(|_| true),
        capabilities: Some(core::Capabilities {
            drop: Some(vec!["ALL".to_owned()]),
            add: plan
                .security
                .net_bind_service
                .then(|| vec!["NET_BIND_SERVICE".to_owned()]),
        }),
        ..Default::default()
    }
}

/// The registry pod's volumes and its container's mounts: data, TLS and
/// htpasswd (also the garbage-collection Job's, so both see the same files
/// at the same paths).
pub(super) fn volumes(plan: &Plan) -> (Vec<core::Volume>, Vec<core::VolumeMount>) {
    let d = &plan.data;
    let mut volumes = vec![
        storage::data_volume(plan),
        secret_volume(plan.tls.volume, &plan.tls.secret),
    ];
    let mut mounts = vec![
        mount(d.volume, &d.mount_path, false),
        mount(plan.tls.volume, plan.tls.mount_path, true),
    ];
    if let Some(a) = &plan.auth {
        volumes.push(secret_volume(a.volume, &a.secret));
        mounts.push(mount(a.volume, a.mount_path, true));
    }
    (volumes, mounts)
}

fn container(plan: &Plan, mounts: Vec<core::VolumeMount>) -> core::Container {
    core::Container {
        name: REGISTRY_CONTAINER.to_owned(),
        image: Some(plan.image.to_owned()),
        image_pull_policy: Some("IfNotPresent".to_owned()),
        ports: Some(
            std::iter::once(core::ContainerPort {
                name: Some(plan.ports.name.to_owned()),
                container_port: plan.ports.container.into(),
                host_port: plan.ports.host.map(Into::into),
                protocol: Some("TCP".to_owned()),
                ..Default::default()
            })
            .chain(plan.ports.debug.map(|d| core::ContainerPort {
                name: Some(d.name.to_owned()),
                container_port: d.port.into(),
                protocol: Some("TCP".to_owned()),
                ..Default::default()
            }))
            .collect(),
        ),
        env: Some(env(plan)),
        volume_mounts: Some(mounts),
        resources: Some(resources(plan)),
        readiness_probe: Some(probe(plan, 1, 5, 3)),
        liveness_probe: Some(probe(plan, 10, 10, 6)),
        security_context: Some(container_security(plan)),
        ..Default::default()
    }
}

/// The pod template's annotations: a checksum of each Secret the registry
/// reads only at start (see [`CHECKSUM_TLS`]), computed from the Secrets as
/// rendered, so the annotation changes exactly when their bytes do.
fn checksums(plan: &Plan, out: &Bundle) -> Result<BTreeMap<String, String>> {
    Ok(BTreeMap::from([
        (
            CHECKSUM_TLS.to_owned(),
            secrets::checksum(&secrets::tls(plan, out)?),
        ),
        (
            CHECKSUM_HTTP_SECRET.to_owned(),
            secrets::checksum(&secrets::http(plan, out)?),
        ),
    ]))
}

pub(super) fn deployment(plan: &Plan, out: &Bundle) -> Result<apps::Deployment> {
    let (volumes, mounts) = volumes(plan);
    Ok(apps::Deployment {
        metadata: metadata(plan, plan.name, true),
        spec: Some(apps::DeploymentSpec {
            replicas: Some(plan.replicas),
            selector: meta::LabelSelector {
                match_labels: Some(plan.selector()),
                ..Default::default()
            },
            strategy: Some(apps::DeploymentStrategy {
                type_: Some(plan.strategy.to_owned()),
                ..Default::default()
            }),
            template: core::PodTemplateSpec {
                metadata: Some(meta::ObjectMeta {
                    labels: Some(plan.labels()),
                    annotations: Some(checksums(plan, out)?),
                    ..Default::default()
                }),
                spec: Some(core::PodSpec {
                    containers: vec![container(plan, mounts)],
                    volumes: Some(volumes),
                    node_selector: storage::node_selector(plan),
                    automount_service_account_token: Some(false),
                    security_context: Some(pod_security(plan.security.run_as)),
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        ..Default::default()
    })
}
