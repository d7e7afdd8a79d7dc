//! Where data lives: the data volume of a registry (the main one and each
//! mirror) and where it comes from (a claim, with the NFS volume the bundle
//! makes for it; a node's directory; an emptyDir; an S3 bucket, planned in
//! `backends.rs`), the registry's root directory, and what `delete.sh`
//! does to it.

use super::{Plan, S3Plan};
use crate::config::{AccessMode, Storage};

/// The data volume.
#[derive(Debug)]
pub(crate) struct DataPlan {
    pub volume: &'static str,
    /// The registry's root directory and the volume's mountPath: one value.
    pub mount_path: String,
    pub source: DataSource,
}

impl DataPlan {
    /// Where the data volume is mounted; `None` for an S3 bucket (no volume).
    pub fn mount_path(&self) -> Option<&str> {
        (!matches!(self.source, DataSource::S3(_))).then_some(self.mount_path.as_str())
    }
}

/// Where the data volume comes from.
#[derive(Debug)]
pub(crate) enum DataSource {
    /// A PersistentVolumeClaim.
    Claim(ClaimPlan),
    HostPath {
        path: String,
        node: String,
    },
    EmptyDir,
    /// An S3-compatible bucket: no volume at all.
    S3(S3Plan),
}

/// A PersistentVolumeClaim; `pv` is set when the bundle also creates the
/// volume (NFS).
#[derive(Debug)]
pub(crate) struct ClaimPlan {
    pub pvc: String,
    pub pv: Option<NfsVolume>,
    pub size: String,
    pub access_modes: Vec<AccessMode>,
    pub storage_class: Option<String>,
}

/// A PersistentVolume on NFS that the bundle creates for its claim.
#[derive(Debug)]
pub(crate) struct NfsVolume {
    pub name: String,
    pub server: String,
    pub path: String,
}

/// The data volume of a registry whose objects are named `name`.
pub(super) fn data_plan(
    storage: &Storage,
    name: &str,
    namespace: &str,
    data_path: &str,
) -> DataPlan {
    let source = match storage {
        Storage::Nfs(n) => DataSource::Claim(ClaimPlan {
            pvc: format!("{name}-data"),
            pv: Some(NfsVolume {
                name: format!("{namespace}-{name}-data"),
                server: n.server.clone(),
                path: n.path.clone(),
            }),
            size: n.size.clone(),
            access_modes: n.access_modes.clone(),
            storage_class: Some(n.storage_class_name.clone()),
        }),
        Storage::Pvc(c) => DataSource::Claim(ClaimPlan {
            pvc: format!("{name}-data"),
            pv: None,
            size: c.size.clone(),
            access_modes: c.access_modes.clone(),
            storage_class: c.storage_class_name.clone(),
        }),
        Storage::HostPath(h) => DataSource::HostPath {
            path: h.path.clone(),
            node: h.node.clone(),
        },
        Storage::EmptyDir {} => DataSource::EmptyDir,
        Storage::S3(s3) => DataSource::S3(S3Plan::new(name, s3)),
    };
    DataPlan {
        volume: "data",
        mount_path: data_path.to_owned(),
        source,
    }
}

/// The private registry's data source, or in a mirror-only bundle
/// (`private` false) an emptyDir: nothing to claim, collect or keep.
pub(super) fn main_data(private: bool, data: &DataPlan) -> &DataSource {
    if private {
        &data.source
    } else {
        &DataSource::EmptyDir
    }
}

impl Plan<'_> {
    /// [`main_data`] of this plan.
    pub(super) fn main_data(&self) -> &DataSource {
        main_data(self.private, &self.data)
    }

    /// What `delete.sh` does to the data, for its `--help` and the
    /// bundle's README (one text, so they cannot disagree).
    pub fn data_on_delete(&self) -> &'static str {
        if !self.private {
            return "The mirrors' caches stay: the PersistentVolumeClaims and PersistentVolumes of mirrors with pvc, nfs or host_path storage (and a namespace the bundle created) are kept unless --purge-data is given; an empty_dir cache goes with its pod.";
        }
        match &self.data.source {
            DataSource::Claim(ClaimPlan { pv: Some(_), .. }) => {
                "The data stays: the PersistentVolumeClaim and the PersistentVolume (and a namespace the bundle created) are kept unless --purge-data is given; even then the volume's reclaim policy Retain leaves the files on the NFS export."
            }
            DataSource::Claim(ClaimPlan { pv: None, .. }) => {
                "The data stays: the PersistentVolumeClaim (and a namespace the bundle created) is kept unless --purge-data is given; deleting the claim deletes the data if its StorageClass's reclaim policy is Delete, the default of most provisioners."
            }
            DataSource::HostPath { .. } => {
                "The data stays: the images are in a directory of the node, which delete.sh never touches (--purge-data deletes only a namespace the bundle created)."
            }
            DataSource::EmptyDir => {
                "The data is lost: storage is emptyDir, which goes with the pod (as on every pod restart)."
            }
            DataSource::S3(_) => {
                "The data stays: the images are in the S3 bucket, which delete.sh never touches (it deletes the Secret with the bucket's keys like every other object; --purge-data deletes only a namespace the bundle created)."
            }
        }
    }
}
