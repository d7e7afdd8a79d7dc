//! Where the data lives: the PersistentVolume (NFS) and the claim, and the
//! data volume of the registry's pod.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::metadata;
use crate::plan::{DataSource, NfsVolume, Plan};

/// The claim's fields, present exactly when the plan has a claim.
struct Claim<'a> {
    pvc: &'a str,
    pv: Option<&'a NfsVolume>,
    size: &'a str,
    access_modes: Vec<String>,
    storage_class: Option<&'a str>,
}

fn claim<'a>(plan: &'a Plan) -> Option<Claim<'a>> {
    match &plan.data.source {
        DataSource::Claim {
            pvc,
            pv,
            size,
            access_modes,
            storage_class,
        } => Some(Claim {
            pvc,
            pv: pv.as_ref(),
            size,
            access_modes: access_modes.iter().map(|m| m.as_str().to_owned()).collect(),
            storage_class: storage_class.as_deref(),
        }),
        _ => None,
    }
}

pub(super) fn persistent_volume(plan: &Plan) -> core::PersistentVolume {
    let c = claim(plan);
    let pv = c.as_ref().and_then(|c| c.pv);
    core::PersistentVolume {
        metadata: metadata(plan, pv.map(|v| v.name.as_str()).unwrap_or_default(), false),
        spec: Some(core::PersistentVolumeSpec {
            capacity: c
                .as_ref()
                .map(|c| BTreeMap::from([("storage".to_owned(), Quantity(c.size.to_owned()))])),
            access_modes: c.as_ref().map(|c| c.access_modes.clone()),
            persistent_volume_reclaim_policy: Some("Retain".to_owned()),
            storage_class_name: c.as_ref().and_then(|c| c.storage_class).map(str::to_owned),
            // Reserved for this claim, so no other claim can bind (and later lose) it.
            claim_ref: c.as_ref().map(|c| core::ObjectReference {
                kind: Some("PersistentVolumeClaim".to_owned()),
                api_version: Some("v1".to_owned()),
                namespace: Some(plan.namespace.to_owned()),
                name: Some(c.pvc.to_owned()),
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
        metadata: metadata(plan, c.as_ref().map(|c| c.pvc).unwrap_or_default(), true),
        spec: Some(core::PersistentVolumeClaimSpec {
            access_modes: c.as_ref().map(|c| c.access_modes.clone()),
            resources: c.as_ref().map(|c| core::VolumeResourceRequirements {
                requests: Some(BTreeMap::from([(
                    "storage".to_owned(),
                    Quantity(c.size.to_owned()),
                )])),
                ..Default::default()
            }),
            storage_class_name: c.as_ref().and_then(|c| c.storage_class).map(str::to_owned),
            volume_name: c.as_ref().and_then(|c| c.pv).map(|v| v.name.clone()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The registry pod's data volume.
pub(super) fn data_volume(plan: &Plan) -> core::Volume {
    let d = &plan.data;
    core::Volume {
        name: d.volume.to_owned(),
        persistent_volume_claim: claim(plan).map(|c| core::PersistentVolumeClaimVolumeSource {
            claim_name: c.pvc.to_owned(),
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
    }
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
