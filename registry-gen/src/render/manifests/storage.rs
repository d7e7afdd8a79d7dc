//! Where the data lives: the PersistentVolume (NFS) and the claim, and the
//! data volume of a registry's pod (the main registry's or a mirror's).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::labeled;
use crate::plan::{ClaimPlan, DataPlan, DataSource, Plan};

/// The claim, if the data is on one.
fn claim(data: &DataPlan) -> Option<&ClaimPlan> {
    match &data.source {
        DataSource::Claim(c) => Some(c),
        _ => None,
    }
}

fn access_modes(c: &ClaimPlan) -> Vec<String> {
    c.access_modes
        .iter()
        .map(|m| m.as_str().to_owned())
        .collect()
}

pub(super) fn persistent_volume(
    plan: &Plan,
    data: &DataPlan,
    labels: BTreeMap<String, String>,
) -> core::PersistentVolume {
    let c = claim(data);
    let pv = c.and_then(|c| c.pv.as_ref());
    core::PersistentVolume {
        metadata: labeled(
            plan,
            pv.map(|v| v.name.as_str()).unwrap_or_default(),
            false,
            labels,
        ),
        spec: Some(core::PersistentVolumeSpec {
            capacity: c.map(|c| BTreeMap::from([("storage".to_owned(), Quantity(c.size.clone()))])),
            access_modes: c.map(access_modes),
            persistent_volume_reclaim_policy: Some("Retain".to_owned()),
            storage_class_name: c.and_then(|c| c.storage_class.clone()),
            // Reserved for this claim, so no other claim can bind (and later lose) it.
            claim_ref: c.map(|c| core::ObjectReference {
                kind: Some("PersistentVolumeClaim".to_owned()),
                api_version: Some("v1".to_owned()),
                namespace: Some(plan.namespace.to_owned()),
                name: Some(c.pvc.clone()),
                ..Default::default()
            }),
            nfs: pv.map(|v| core::NFSVolumeSource {
                server: v.server.clone(),
                path: v.path.clone(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub(super) fn persistent_volume_claim(
    plan: &Plan,
    data: &DataPlan,
    labels: BTreeMap<String, String>,
) -> core::PersistentVolumeClaim {
    let c = claim(data);
    core::PersistentVolumeClaim {
        metadata: labeled(
            plan,
            c.map(|c| c.pvc.as_str()).unwrap_or_default(),
            true,
            labels,
        ),
        spec: Some(core::PersistentVolumeClaimSpec {
            access_modes: c.map(access_modes),
            resources: c.map(|c| core::VolumeResourceRequirements {
                requests: Some(BTreeMap::from([(
                    "storage".to_owned(),
                    Quantity(c.size.clone()),
                )])),
                ..Default::default()
            }),
            storage_class_name: c.and_then(|c| c.storage_class.clone()),
            volume_name: c.and_then(|c| c.pv.as_ref()).map(|v| v.name.clone()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A registry pod's data volume; none for an S3 bucket.
pub(super) fn data_volume(d: &DataPlan) -> Option<core::Volume> {
    if matches!(d.source, DataSource::S3(_)) {
        return None;
    }
    Some(core::Volume {
        name: d.volume.to_owned(),
        persistent_volume_claim: claim(d).map(|c| core::PersistentVolumeClaimVolumeSource {
            claim_name: c.pvc.clone(),
            ..Default::default()
        }),
        host_path: match &d.source {
            DataSource::HostPath { path, .. } => Some(core::HostPathVolumeSource {
                path: path.clone(),
                type_: Some("DirectoryOrCreate".to_owned()),
            }),
            _ => None,
        },
        empty_dir: matches!(d.source, DataSource::EmptyDir)
            .then(core::EmptyDirVolumeSource::default),
        ..Default::default()
    })
}

/// Pins the pod to the node that holds a hostPath directory.
pub(super) fn node_selector(data: &DataPlan) -> Option<BTreeMap<String, String>> {
    match &data.source {
        DataSource::HostPath { node, .. } => Some(BTreeMap::from([(
            "kubernetes.io/hostname".to_owned(),
            node.clone(),
        )])),
        _ => None,
    }
}
