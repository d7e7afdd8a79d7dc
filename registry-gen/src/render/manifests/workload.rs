//! The registry's Deployment: its container (image, env, mounts, probes,
//! resources, hardening) and its pod (volumes, node pinning, security).

use std::collections::BTreeMap;

use k8s_openapi::api::{apps::v1 as apps, core::v1 as core};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{backends, metadata, mount, pod_security, scale, secrets, storage};
use crate::bundle::Bundle;
use crate::error::Result;
use crate::inputs::Inputs;
use crate::plan::{
    DataSource, EnvValue, Plan, Quantities, CHECKSUM_HTTP_SECRET, CHECKSUM_REDIS, CHECKSUM_S3,
    CHECKSUM_S3_CA, CHECKSUM_TLS, PROBE_PATH,
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

fn env(plan: &Plan) -> Vec<core::EnvVar> {
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

fn container(plan: &Plan, mounts: Vec<core::VolumeMount>) -> core::Container {
    let r = &plan.resources;
    core::Container {
        name: "registry".to_owned(),
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
        resources: Some(core::ResourceRequirements {
            requests: Some(quantities(&r.requests)),
            limits: Some(quantities(&r.limits)),
            ..Default::default()
        }),
        readiness_probe: Some(probe(plan, 1, 5, 3)),
        liveness_probe: Some(probe(plan, 10, 10, 6)),
        security_context: Some(core::SecurityContext {
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
        }),
        ..Default::default()
    }
}

/// The pod template's annotations: a checksum of each Secret the registry
/// reads only at start (see [`CHECKSUM_TLS`]), computed from the Secrets as
/// rendered, so the annotation changes exactly when their bytes do.
fn checksums(plan: &Plan, inputs: &Inputs, out: &Bundle) -> Result<BTreeMap<String, String>> {
    let mut sums = BTreeMap::from([
        (
            CHECKSUM_TLS.to_owned(),
            secrets::checksum(&secrets::tls(plan, out)?),
        ),
        (
            CHECKSUM_HTTP_SECRET.to_owned(),
            secrets::checksum(&secrets::http(plan, out)?),
        ),
    ]);
    if let DataSource::S3(s3) = &plan.data.source {
        if s3.credentials.is_some() {
            sums.insert(
                CHECKSUM_S3.to_owned(),
                secrets::checksum(&backends::s3_secret(plan, inputs)?),
            );
        }
        if s3.ca.is_some() {
            let cm = backends::s3_ca_config_map(plan, inputs)?;
            sums.insert(
                CHECKSUM_S3_CA.to_owned(),
                secrets::data_checksum(
                    cm.data
                        .iter()
                        .flatten()
                        .map(|(k, v)| (k.as_str(), v.as_bytes())),
                ),
            );
        }
    }
    if plan.cache.as_ref().is_some_and(|c| c.password.is_some()) {
        sums.insert(
            CHECKSUM_REDIS.to_owned(),
            secrets::checksum(&backends::redis_secret(plan, inputs)?),
        );
    }
    Ok(sums)
}

/// The Deployment's strategy: with `RollingUpdate`, a new pod is up and
/// ready before an old one is taken down (maxUnavailable 0, maxSurge 1).
fn strategy(plan: &Plan) -> apps::DeploymentStrategy {
    let rolling = plan.strategy == "RollingUpdate";
    apps::DeploymentStrategy {
        type_: Some(plan.strategy.to_owned()),
        rolling_update: rolling.then_some(apps::RollingUpdateDeployment {
            max_unavailable: Some(IntOrString::Int(0)),
            max_surge: Some(IntOrString::Int(1)),
        }),
    }
}

pub(super) fn deployment(plan: &Plan, inputs: &Inputs, out: &Bundle) -> Result<apps::Deployment> {
    let d = &plan.data;
    let mut volumes = Vec::new();
    let mut mounts = Vec::new();
    if let Some(v) = storage::data_volume(plan) {
        volumes.push(v);
        mounts.push(mount(d.volume, &d.mount_path, false));
    }
    volumes.push(secret_volume(plan.tls.volume, &plan.tls.secret));
    mounts.push(mount(plan.tls.volume, plan.tls.mount_path, true));
    if let Some(a) = &plan.auth {
        volumes.push(secret_volume(a.volume, &a.secret));
        mounts.push(mount(a.volume, a.mount_path, true));
    }
    if let DataSource::S3(s3) = &d.source {
        if let Some(ca) = &s3.ca {
            volumes.push(core::Volume {
                name: ca.volume.to_owned(),
                config_map: Some(core::ConfigMapVolumeSource {
                    name: ca.config_map.clone(),
                    ..Default::default()
                }),
                ..Default::default()
            });
            mounts.push(mount(ca.volume, ca.mount_dir, true));
        }
    }
    Ok(apps::Deployment {
        metadata: metadata(plan, plan.name, true),
        spec: Some(apps::DeploymentSpec {
            replicas: Some(plan.replicas),
            selector: meta::LabelSelector {
                match_labels: Some(plan.selector()),
                ..Default::default()
            },
            strategy: Some(strategy(plan)),
            template: core::PodTemplateSpec {
                metadata: Some(meta::ObjectMeta {
                    labels: Some(plan.labels()),
                    annotations: Some(checksums(plan, inputs, out)?),
                    ..Default::default()
                }),
                spec: Some(core::PodSpec {
                    containers: vec![container(plan, mounts)],
                    volumes: Some(volumes),
                    node_selector: storage::node_selector(plan),
                    topology_spread_constraints: scale::spread(plan),
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
