//! Where images are stored: the `storage` section (of the registry and of
//! each mirror), one kind of NFS, a claim, a node's directory, an
//! emptyDir or an S3-compatible bucket.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where images are stored. Exactly one kind; in YAML a map with one key,
/// e.g. `storage: {nfs: {server: ..., path: ...}}`.
///
/// ```
/// use registry_gen::{Config, PvcStorage, Storage};
///
/// let config = Config::from_yaml("storage: {pvc: {}}\n")?;
/// let Storage::Pvc(PvcStorage { size, .. }) = &config.storage else { panic!() };
/// assert_eq!(size, "10Gi");
/// assert_eq!(Storage::default(), Storage::EmptyDir {}); // `empty_dir: {}`
///
/// let err = Config::from_yaml("storage: {empty_dir: {}, pvc: {}}\n").unwrap_err();
/// assert!(err.to_string().contains("exactly one of `nfs`, `host_path`, `pvc`, `empty_dir` or `s3`"));
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "StorageRepr", into = "StorageRepr")]
#[non_exhaustive]
pub enum Storage {
    /// A PersistentVolume on NFS and a PersistentVolumeClaim bound to it.
    Nfs(NfsStorage),
    /// A directory on one node, the pod pinned there with a nodeSelector.
    HostPath(HostPathStorage),
    /// A PersistentVolumeClaim on an existing StorageClass (dynamic provisioning).
    Pvc(PvcStorage),
    /// The pod's own scratch space: every image is lost when the pod goes away.
    EmptyDir {},
    /// An S3-compatible bucket (AWS S3, MinIO, Ceph RGW...), shared by every replica.
    S3(S3Storage),
}

impl Storage {
    /// The kind's key in the config (`nfs`, `host_path`, `pvc`,
    /// `empty_dir`, `s3`).
    ///
    /// ```
    /// let c = registry_gen::Config::embedded_default();
    /// assert_eq!(c.storage.kind(), "empty_dir");
    /// ```
    pub fn kind(&self) -> &'static str {
        match self {
            Storage::Nfs(_) => "nfs",
            Storage::HostPath(_) => "host_path",
            Storage::Pvc(_) => "pvc",
            Storage::EmptyDir {} => "empty_dir",
            Storage::S3(_) => "s3",
        }
    }
}

/// The YAML shape of [`Storage`]: one optional key per kind, exactly one set.
#[derive(Serialize, Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("minProperties" = 1, "maxProperties" = 1))]
struct StorageRepr {
    /// A PersistentVolume on NFS and a PersistentVolumeClaim bound to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nfs: Option<NfsStorage>,
    /// A directory on one node, the pod pinned there with a nodeSelector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    host_path: Option<HostPathStorage>,
    /// A PersistentVolumeClaim on an existing StorageClass (dynamic provisioning).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pvc: Option<PvcStorage>,
    /// The pod's own scratch space (`empty_dir: {}`): every image is lost when the pod goes away.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    empty_dir: Option<EmptyDirStorage>,
    /// An S3-compatible bucket (AWS S3, MinIO, Ceph RGW...), shared by every replica.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    s3: Option<S3Storage>,
}

/// `empty_dir: {}` takes no settings.
#[derive(Serialize, Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
struct EmptyDirStorage {}

impl TryFrom<StorageRepr> for Storage {
    type Error = String;
    fn try_from(r: StorageRepr) -> std::result::Result<Storage, String> {
        let mut kinds: Vec<Storage> = [
            r.nfs.map(Storage::Nfs),
            r.host_path.map(Storage::HostPath),
            r.pvc.map(Storage::Pvc),
            r.empty_dir.map(|_| Storage::EmptyDir {}),
            r.s3.map(Storage::S3),
        ]
        .into_iter()
        .flatten()
        .collect();
        match kinds.len() {
            1 => Ok(kinds.remove(0)),
            n => Err(format!(
                "storage: exactly one of `nfs`, `host_path`, `pvc`, `empty_dir` or `s3` is accepted, found {n}"
            )),
        }
    }
}

impl From<Storage> for StorageRepr {
    fn from(s: Storage) -> StorageRepr {
        let mut r = StorageRepr::default();
        match s {
            Storage::Nfs(n) => r.nfs = Some(n),
            Storage::HostPath(h) => r.host_path = Some(h),
            Storage::Pvc(p) => r.pvc = Some(p),
            Storage::EmptyDir {} => r.empty_dir = Some(EmptyDirStorage {}),
            Storage::S3(s) => r.s3 = Some(s),
        }
        r
    }
}

/// NFS storage.
///
/// ```
/// use registry_gen::{AccessMode, Config, Storage};
///
/// let config = Config::from_yaml("
/// addresses: {dns_names: [registry.example.com]}
/// storage:
///   nfs: {server: nfs.example.com, path: /srv/registry}
/// ")?;
/// let Storage::Nfs(nfs) = &config.storage else { panic!() };
/// assert_eq!((nfs.size.as_str(), &nfs.access_modes[..]), ("10Gi", &[AccessMode::ReadWriteOnce][..]));
/// let summary = registry_gen::summarize(&config)?.to_string();
/// assert!(summary.contains("PersistentVolume kube-system-kube-registry-data (reclaim policy Retain) on NFS nfs.example.com:/srv/registry"));
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct NfsStorage {
    /// NFS server, host name or IP.
    pub server: String,
    /// Exported path on the server.
    pub path: String,
    /// Capacity, a Kubernetes quantity.
    #[serde(default = "default_size")]
    pub size: String,
    /// Access modes of the PV and PVC.
    #[serde(default = "default_access_modes")]
    pub access_modes: Vec<AccessMode>,
    /// storageClassName shared by PV and PVC; empty means none (static binding).
    #[serde(default)]
    pub storage_class_name: String,
}

impl Default for NfsStorage {
    /// As YAML reads `{server: "", path: ""}`: set both.
    fn default() -> Self {
        NfsStorage {
            server: String::new(),
            path: String::new(),
            size: default_size(),
            access_modes: default_access_modes(),
            storage_class_name: String::new(),
        }
    }
}

/// An S3-compatible bucket.
///
/// ```
/// use registry_gen::{Config, Storage};
///
/// let config = Config::from_yaml("
/// addresses: {dns_names: [registry.example.com]}
/// replicas: 3
/// storage:
///   s3:
///     bucket: registry-images
///     region: us-east-1
///     endpoint: https://minio.example.com:9000
///     path_style: true
/// ")?;
/// let Storage::S3(s3) = &config.storage else { panic!() };
/// assert!(!s3.redirect && s3.secure.is_none()); // blobs go through the registry; https from the URL
/// let summary = registry_gen::summarize(&config)?.to_string();
/// assert!(summary.contains("S3 bucket registry-images in region us-east-1 at https://minio.example.com:9000 (path-style)"));
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct S3Storage {
    /// The bucket, which must exist (S3 bucket naming rules).
    pub bucket: String,
    /// The bucket's region, e.g. `us-east-1` (S3-compatible servers accept
    /// any name; MinIO's default is `us-east-1`).
    pub region: String,
    /// URL of an S3-compatible server, `https://...` (or `http://...` for an
    /// endpoint inside the cluster); absent: AWS S3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Path-style addressing (`https://host/bucket/key`), which MinIO and
    /// Ceph RGW usually need; false: virtual-hosted style (`bucket.host`).
    #[serde(default)]
    pub path_style: bool,
    /// Talk HTTPS to the bucket. Absent: from the endpoint's scheme (true for AWS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secure: Option<bool>,
    /// Prefix of every object the registry writes, e.g. `/registry`; absent:
    /// the bucket's root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_directory: Option<String>,
    /// Redirect clients to pre-signed bucket URLs for blob downloads. Off by
    /// default: clients fetch blobs through the registry and need not reach
    /// (nor trust) the bucket's endpoint.
    #[serde(default)]
    pub redirect: bool,
    /// File holding the access key ID (first line), relative to the config
    /// file. Absent together with `secret_key_file`: the registry uses the
    /// AWS default credential chain (instance role, IRSA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_file: Option<PathBuf>,
    /// File holding the secret access key (first line), relative to the config file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key_file: Option<PathBuf>,
    /// PEM file of the CA that signed the endpoint's certificate, for a
    /// private endpoint; it is added to the registry's trusted roots
    /// (verification stays on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
}

/// hostPath storage.
///
/// ```
/// use registry_gen::{validate, Config, Error, HostPathStorage, Storage};
///
/// let mut config = Config::embedded_default();
/// let mut dir = HostPathStorage::default();
/// dir.path = "/data/registry".into();
/// dir.node = "worker-1".into();
/// config.storage = Storage::HostPath(dir); // `host_path: {path: ..., node: ...}`
/// let summary = registry_gen::summarize(&config)?.to_string();
/// assert!(summary.contains("hostPath /data/registry on node worker-1 (the pod is pinned there)"));
///
/// config.replicas = 2; // one node's directory can't be shared by several pods
/// let Err(Error::Invalid(problems)) = validate(&config) else { panic!() };
/// assert_eq!(problems[0].path, "replicas");
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct HostPathStorage {
    /// Absolute directory on the node.
    pub path: String,
    /// The node's `kubernetes.io/hostname` label; the pod is pinned there.
    pub node: String,
}

/// A claim on an existing StorageClass.
///
/// ```
/// use registry_gen::{AccessMode, Config, PvcStorage, Storage};
///
/// let mut config = Config::embedded_default();
/// let mut claim = PvcStorage::default(); // as `pvc: {}` reads
/// assert_eq!((claim.size.as_str(), &claim.access_modes[..]), ("10Gi", &[AccessMode::ReadWriteOnce][..]));
/// claim.storage_class_name = Some("longhorn".into());
/// claim.size = "50Gi".into();
/// config.storage = Storage::Pvc(claim);
/// let summary = registry_gen::summarize(&config)?.to_string();
/// assert!(summary.contains("PersistentVolumeClaim kube-registry-data (50Gi, ReadWriteOnce, StorageClass longhorn)"));
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PvcStorage {
    /// StorageClass name; absent means the cluster's default class.
    #[serde(default)]
    pub storage_class_name: Option<String>,
    /// Requested size, a Kubernetes quantity.
    #[serde(default = "default_size")]
    pub size: String,
    /// Access modes of the claim.
    #[serde(default = "default_access_modes")]
    pub access_modes: Vec<AccessMode>,
}

impl Default for PvcStorage {
    /// As YAML reads `{}`.
    fn default() -> Self {
        PvcStorage {
            storage_class_name: None,
            size: default_size(),
            access_modes: default_access_modes(),
        }
    }
}

/// A Kubernetes volume access mode.
///
/// ```
/// use registry_gen::{AccessMode, Config, Storage};
///
/// let mut config = Config::from_yaml("
/// addresses: {dns_names: [registry.example.com]}
/// replicas: 3
/// storage:
///   pvc: {access_modes: [ReadWriteMany]}
/// ")?;
/// registry_gen::validate(&config)?; // several pods may share a ReadWriteMany claim...
/// let Storage::Pvc(pvc) = &mut config.storage else { panic!() };
/// pvc.access_modes = vec![AccessMode::ReadWriteOnce];
/// assert!(registry_gen::validate(&config).is_err()); // ...but not a ReadWriteOnce one
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[non_exhaustive]
pub enum AccessMode {
    /// Mounted read-write by one node.
    ReadWriteOnce,
    /// Mounted read-write by many nodes.
    ReadWriteMany,
    /// Mounted read-write by one pod.
    ReadWriteOncePod,
}

impl AccessMode {
    /// The Kubernetes spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            AccessMode::ReadWriteOnce => "ReadWriteOnce",
            AccessMode::ReadWriteMany => "ReadWriteMany",
            AccessMode::ReadWriteOncePod => "ReadWriteOncePod",
        }
    }
}

fn default_size() -> String {
    "10Gi".to_owned()
}

fn default_access_modes() -> Vec<AccessMode> {
    vec![AccessMode::ReadWriteOnce]
}

impl Default for Storage {
    fn default() -> Self {
        Storage::EmptyDir {}
    }
}
