//! The rules of a mirror-only bundle (`registry.enabled: false`): at least
//! one mirror, and none of the settings only the private registry reads.

use super::{quoted, Errors};
use crate::config::{Config, Spread, Storage};

pub(super) fn check(c: &Config, e: &mut Errors) {
    if c.registry.enabled {
        return;
    }
    const OFF: &str = "with `registry.enabled: false` (a mirror-only bundle)";
    if c.mirrors.is_empty() {
        e.push(
            "registry.enabled",
            false,
            format!("`true`, or at least one entry in `mirrors`: {OFF} the bundle would hold nothing to run"),
        );
    }
    if c.replicas != 1 {
        e.push(
            "replicas",
            c.replicas,
            format!("1 {OFF}: replicas are the private registry's; each mirror runs one pod"),
        );
    }
    if c.spread != Spread::default() {
        e.push(
            "spread",
            quoted("strict"),
            format!("left out {OFF}: it places the private registry's replicas"),
        );
    }
    if c.cache.redis.is_some() {
        e.push(
            "cache.redis",
            quoted(c.cache.redis.as_ref().map_or("", |r| r.address.as_str())),
            format!("left out {OFF}: it is the private registry's shared cache"),
        );
    }
    if c.registry.delete_enabled {
        e.push("registry.delete_enabled", true, format!("`false` {OFF}: mirrors refuse deletes, and there is no private registry to delete from"));
    }
    if !matches!(c.storage, Storage::EmptyDir {}) {
        let kind = match &c.storage {
            Storage::Nfs(_) => "nfs",
            Storage::HostPath(_) => "host_path",
            Storage::Pvc(_) => "pvc",
            Storage::EmptyDir {} => "empty_dir",
            Storage::S3(_) => "s3",
        };
        e.push("storage", quoted(kind), format!("left out (the default `empty_dir: {{}}`) {OFF}: it is the private registry's; each mirror has its own `mirrors[i].storage`"));
    }
}
