//! The opt-in trust installer: a ConfigMap holding its script and a
//! DaemonSet that runs it on every node (control plane included), writing
//! the bundle's containerd and Docker trust files through hostPath volumes.

use std::collections::BTreeMap;

use k8s_openapi::api::{apps::v1 as apps, core::v1 as core};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;

use super::{metadata, mount, pod_security, secrets};
use crate::bundle::Bundle;
use crate::plan::{Plan, TrustInstallerPlan, CHECKSUM_TRUST_SCRIPT};

/// The installer's script: writes the bundle's containerd and Docker trust
/// files (their very bytes) under the node's /etc, then idles.
pub(super) fn config_map(plan: &Plan, t: &TrustInstallerPlan, out: &Bundle) -> core::ConfigMap {
    let script = crate::render::scripts::trust_installer(plan, t, out);
    core::ConfigMap {
        metadata: metadata(plan, &t.name, true),
        data: Some(BTreeMap::from([(t.script_key.to_owned(), script)])),
        ..Default::default()
    }
}

/// Runs the installer on every node with the registry's own image (already
/// pullable, and it has a shell). Its pod template carries the checksum of
/// the script's ConfigMap: the script runs once when the pod starts, so a
/// changed script (a new CA, new addresses) must roll the pods to reach
/// the nodes.
pub(super) fn daemon_set(plan: &Plan, t: &TrustInstallerPlan, out: &Bundle) -> apps::DaemonSet {
    let script = config_map(plan, t, out);
    let checksum = secrets::config_map_checksum(&script);
    let labels = plan.helper_labels(t.helper);
    let mut volumes = vec![core::Volume {
        name: t.script_volume.to_owned(),
        config_map: Some(core::ConfigMapVolumeSource {
            name: t.name.clone(),
            ..Default::default()
        }),
        ..Default::default()
    }];
    let mut mounts = vec![mount(t.script_volume, t.script_dir, true)];
    for (name, dir) in &t.host_dirs {
        volumes.push(core::Volume {
            name: (*name).to_owned(),
            host_path: Some(core::HostPathVolumeSource {
                path: (*dir).to_owned(),
                type_: Some("DirectoryOrCreate".to_owned()),
            }),
            ..Default::default()
        });
        mounts.push(mount(name, &format!("{}{dir}", t.host_root), false));
    }
    apps::DaemonSet {
        metadata: meta::ObjectMeta {
            labels: Some(labels.clone()),
            ..metadata(plan, &t.name, true)
        },
        spec: Some(apps::DaemonSetSpec {
            selector: meta::LabelSelector {
                match_labels: Some(labels.clone()),
                ..Default::default()
            },
            template: core::PodTemplateSpec {
                metadata: Some(meta::ObjectMeta {
                    labels: Some(labels),
                    annotations: Some(BTreeMap::from([(
                        CHECKSUM_TRUST_SCRIPT.to_owned(),
                        checksum,
                    )])),
                    ..Default::default()
                }),
                spec: Some(core::PodSpec {
                    containers: vec![core::Container {
                        name: t.container.to_owned(),
                        image: Some(plan.image.to_owned()),
                        image_pull_policy: Some("IfNotPresent".to_owned()),
                        command: Some(vec!["/bin/sh".to_owned(), t.script_path()]),
                        volume_mounts: Some(mounts),
                        resources: Some(core::ResourceRequirements {
                            requests: Some(BTreeMap::from([
                                ("cpu".to_owned(), Quantity("1m".to_owned())),
                                ("memory".to_owned(), Quantity("8Mi".to_owned())),
                            ])),
                            limits: Some(BTreeMap::from([(
                                "memory".to_owned(),
                                Quantity("32Mi".to_owned()),
                            )])),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }],
                    volumes: Some(volumes),
                    tolerations: Some(vec![core::Toleration {
                        operator: Some("Exists".to_owned()),
                        ..Default::default()
                    }]),
                    automount_service_account_token: Some(false),
                    // Root: it writes into the nodes' /etc through hostPath.
                    security_context: Some(pod_security(None)),
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}
