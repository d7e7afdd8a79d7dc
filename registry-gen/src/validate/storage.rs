//! The rules of `storage` (of the registry and of each mirror): one kind,
//! its fields, and whether several replicas can share it. S3's own rules
//! are in `backends.rs`.

use std::collections::BTreeSet;
use std::net::IpAddr;

use super::{
    backends, is_clean_absolute, is_dns_name, is_label_value, is_positive_quantity, quoted, Errors,
};
use crate::config::{AccessMode, Config, Storage};

pub(super) fn check_storage(c: &Config, e: &mut Errors) {
    let shared = check_storage_kind(&c.storage, "storage", e);
    // (A mirror-only bundle has its own rule for replicas: validate/mirror_only.rs.)
    if c.replicas > 1 && !shared && c.registry.enabled {
        e.push(
            "replicas",
            c.replicas,
            "1 with this storage: several registry pods must share their images, which needs s3 storage, or nfs or pvc storage with access_modes [ReadWriteMany] (they already share the generated REGISTRY_HTTP_SECRET)",
        );
    }
    backends::check_cache(c, e);
}

/// The rules of one storage kind, its fields under `prefix`; whether the
/// volume can be shared by several pods.
pub(super) fn check_storage_kind(storage: &Storage, prefix: &str, e: &mut Errors) -> bool {
    let rwx = |modes: &[AccessMode]| modes.contains(&AccessMode::ReadWriteMany);
    let check_modes = |e: &mut Errors, path: &str, modes: &[AccessMode]| {
        let set: BTreeSet<_> = modes.iter().collect();
        if modes.is_empty() || set.len() != modes.len() {
            let list: Vec<_> = modes.iter().map(|m| m.as_str()).collect();
            e.push(
                path,
                format!("[{}]", list.join(", ")),
                "one or more distinct access modes: ReadWriteOnce, ReadWriteMany, ReadWriteOncePod",
            );
        }
    };
    let size = |e: &mut Errors, path: &str, q: &str| {
        if !is_positive_quantity(q) {
            e.push(
                path,
                quoted(q),
                "a positive Kubernetes quantity such as `10Gi` or `23Gi`",
            );
        }
    };
    match storage {
        Storage::Nfs(n) => {
            if n.server.is_empty()
                || (n.server.parse::<IpAddr>().is_err() && !is_dns_name(&n.server))
                || n.server.contains('*')
            {
                e.push(
                    format!("{prefix}.nfs.server"),
                    quoted(&n.server),
                    "the NFS server's host name or IP address",
                );
            }
            if !is_clean_absolute(&n.path) {
                e.push(
                    format!("{prefix}.nfs.path"),
                    quoted(&n.path),
                    "the exported directory as an absolute path, e.g. `/home/mine/nfs`",
                );
            }
            size(e, &format!("{prefix}.nfs.size"), &n.size);
            check_modes(e, &format!("{prefix}.nfs.access_modes"), &n.access_modes);
            if !n.storage_class_name.is_empty() && !is_dns_name(&n.storage_class_name) {
                e.push(
                    format!("{prefix}.nfs.storage_class_name"),
                    quoted(&n.storage_class_name),
                    "a DNS-1123 subdomain, or empty for no class",
                );
            }
            rwx(&n.access_modes)
        }
        Storage::HostPath(h) => {
            if !is_clean_absolute(&h.path) || h.path == "/" {
                e.push(
                    format!("{prefix}.host_path.path"),
                    quoted(&h.path),
                    "an absolute directory on the node other than `/`, e.g. `/data/registry`",
                );
            }
            if !is_label_value(&h.node) || h.node.is_empty() {
                e.push(
                    format!("{prefix}.host_path.node"),
                    quoted(&h.node),
                    "the node's kubernetes.io/hostname label (see `kubectl get nodes -L kubernetes.io/hostname`)",
                );
            }
            false
        }
        Storage::Pvc(p) => {
            if let Some(class) = &p.storage_class_name {
                if !is_dns_name(class) {
                    e.push(
                        format!("{prefix}.pvc.storage_class_name"),
                        quoted(class),
                        "an existing StorageClass name (a DNS-1123 subdomain); leave it out for the default class",
                    );
                }
            }
            size(e, &format!("{prefix}.pvc.size"), &p.size);
            check_modes(e, &format!("{prefix}.pvc.access_modes"), &p.access_modes);
            rwx(&p.access_modes)
        }
        Storage::EmptyDir {} => false,
        Storage::S3(s3) => {
            if prefix == "storage" {
                backends::check_s3(s3, e);
            } else {
                e.push(
                    format!("{prefix}.s3"),
                    quoted(&s3.bucket),
                    "a volume for a mirror's cache (pvc, nfs, host_path or empty_dir): s3 storage is for the main registry only",
                );
            }
            true
        }
    }
}
