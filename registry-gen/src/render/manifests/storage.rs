//! Where the data lives: the PersistentVolume (NFS) and the claim, and the
//! data volume of the registry's pod.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::metadata;
use crate::plan::{ClaimPlan, DataSource, Plan};

/// The plan's claim, if the data is on one.
fn claim<'p>(plan: &'p Plan) -> Option<&'p ClaimPlan> {
    match &plan.data.source {
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

pub(super) fn persistent_volume(plan: &Plan) -> core::PersistentVolume {
    let c = claim(plan);
    let pv = c.and_then(|c| c.pv.as_ref());
    core::PersistentVolume {
        metadata: metadata(plan, pv.map(|v| v.name.as_str()).unwrap_or_default(), false),
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

pub(super) fn persistent_volume_claim(plan: &Plan) -> core::PersistentVolumeClaim {
    let c = claim(plan);
    core::PersistentVolumeClaim {
        metadata: metadata(plan, c.map(|c| c.pvc.as_str()).unwrap_or_default(), true),
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

/// The registry pod's data volume; none for an S3 bucket.
pub(super) fn data_volume(plan: &Plan) -> Option<core::Volume> {
    let d = &plan.data;
    if matches!(d.source, DataSource::S3(_)) {
        return None;
    }
    Some(core::Volume {
        name: d.volume.to_owned(),
        persistent_volume_claim: claim(plan).map(|c| core::PersistentVolumeClaimVolumeSource {
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
pub(super) fn node_selector(plan: &Plan) -> Option<BTreeMap<String, String>> {
    match &plan.data.source {
        DataSource::HostPath { node, .. } => Some(BTreeMap::from([(
            "kubernetes.io/hostname".to_owned(),
            node.clone(),
        )])),
        _ => None,
    }
}
