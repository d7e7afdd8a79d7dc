//! Garbage collection: the maintenance Job that runs `registry
//! garbage-collect` and how `scripts/gc.sh` keeps the registry from writing
//! while it runs. Part of the plan: every name, path and value here is used
//! by the Job manifest, gc.sh, the README and `check` alike.

use super::{ClaimPlan, DataSource, Plan, RedisPlan, SecretKeyRef, ROLLING_UPDATE};
use crate::config::{split_host_port, AccessMode};

/// The environment variable that puts the registry in read-only mode
/// (distribution's `storage.maintenance.readonly`). Distribution wants a
/// *map* there (`readonly: {enabled: true}`): its env override parser gives
/// `REGISTRY_STORAGE_MAINTENANCE_READONLY_ENABLED=true` a map it does not
/// accept (2.8.2 panics with "readonly config key must contain additional
/// keys"; 3.x refuses to start with the same words), so the whole map is
/// given as one YAML value. Tested with 2.8.2; 3.x checked in its source.
pub(crate) const READONLY_ENV: &str = "REGISTRY_STORAGE_MAINTENANCE_READONLY";
/// See [`READONLY_ENV`].
pub(crate) const READONLY_VALUE: &str = "{\"enabled\": true}";

/// How the Job's log begins the line that says the Redis cache was
/// flushed; gc.sh makes the registry writable again only after it saw it.
pub(crate) const CACHE_FLUSHED: &str = "registry-gen: flushed ";

/// The registry's own keys in Redis, in words (distribution's
/// `registry/storage/cache/redis/redis.go`, the same in 2.8 and 3.x): a
/// hash per blob, a set of the blobs of each repository and a hash per
/// blob of each repository. Nothing else in the database is touched.
pub(crate) const CACHE_KEYS: &str =
    "blobs::<digest>, repository::<name>::blobs, repository::<name>::blobs::<digest>";

/// After the collection, the Job removes the registry's blob descriptors
/// from the shared Redis cache: they outlive the pods, and a descriptor of
/// a deleted blob makes the registry answer that it has the blob, so a
/// client skips its upload and the image is broken (distribution #1803,
/// #4569, #4702). The Job's shell speaks RESP to Redis with busybox `nc`
/// (the registry image has no redis-cli).
#[derive(Debug, Clone)]
pub(crate) struct CacheFlushPlan {
    /// `host:port` as configured (for the log and the docs).
    pub address: String,
    /// The host for `nc`: IPv6 without its brackets.
    pub host: String,
    pub port: String,
    pub db: u32,
    /// The Redis Secret's raw password key, given to the Job as
    /// [`CacheFlushPlan::password_env`] (not a REGISTRY_* variable: the
    /// registry would take it for configuration).
    pub password: Option<SecretKeyRef>,
    pub password_env: &'static str,
}

impl CacheFlushPlan {
    fn new(r: &RedisPlan) -> CacheFlushPlan {
        // Validated: a host and a port (validate/backends.rs).
        let (host, port) = split_host_port(&r.address).unwrap_or((&r.address, None));
        let (host, port) = (host.to_owned(), port.unwrap_or_default().to_owned());
        CacheFlushPlan {
            address: r.address.clone(),
            host,
            port,
            db: r.db,
            // The raw password, whatever form the registry's env takes.
            password: r.password.as_ref().map(|p| SecretKeyRef {
                secret: p.secret.clone(),
                key: p.key,
            }),
            password_env: "GC_REDIS_PASSWORD",
        }
    }
}

/// How gc.sh stops the registry from writing while the Job runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Quiesce {
    /// Storage the Job can mount beside the running pods (ReadWriteMany, an
    /// S3 bucket, a hostPath directory on the pinned node): roll the pods to
    /// read-only mode; they keep serving pulls while the Job collects.
    ReadOnly,
    /// A claim only one node may mount (ReadWriteOnce, ReadWriteOncePod):
    /// scale the registry to 0, so the Job can mount it.
    ScaleToZero,
}

impl Quiesce {
    /// gc.sh's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Quiesce::ReadOnly => "read-only",
            Quiesce::ScaleToZero => "scale-to-zero",
        }
    }
}

/// The garbage-collection Job and gc.sh.
#[derive(Debug, Clone)]
pub(crate) struct GcPlan {
    /// The Job's name.
    pub job: String,
    pub container: &'static str,
    /// The helper label value (`registry-<helper>`) it carries.
    pub helper: &'static str,
    /// The Job's command: the registry binary, `garbage-collect` and the
    /// image's own config file (the REGISTRY_* env, the Deployment's,
    /// overrides it as it does for `serve`).
    pub command: Vec<String>,
    /// `None` for emptyDir: a Job cannot reach a pod's emptyDir.
    pub quiesce: Option<Quiesce>,
    /// Why gc.sh refuses to run, if it does (checked before any change).
    pub refusal: Option<String>,
    /// With `cache.redis`: the Job flushes the registry's keys there after
    /// collecting (counts them with `--dry-run`).
    pub cache_flush: Option<CacheFlushPlan>,
}

/// The config file inside the official images: 3.x keeps it at
/// `/etc/distribution/config.yml`, 2.x at `/etc/docker/registry/config.yml`
/// (distribution-library-image's Dockerfiles; both put the binary at
/// `/bin/registry`). Told apart by the tag: `2` or `2.*` is 2.x, anything
/// else (3.x, `latest`, a digest) 3.x.
pub(crate) fn image_config_file(image: &str) -> &'static str {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
    let tag = last.split_once(':').map(|(_, t)| t);
    match tag {
        Some(t) if t == "2" || t.starts_with("2.") => "/etc/docker/registry/config.yml",
        _ => "/etc/distribution/config.yml",
    }
}

impl GcPlan {
    pub(super) fn new(
        name: &str,
        image: &str,
        delete_enabled: bool,
        data: &DataSource,
        cache: Option<&RedisPlan>,
    ) -> GcPlan {
        let quiesce = match data {
            DataSource::Claim(ClaimPlan { access_modes, .. })
                if access_modes.contains(&AccessMode::ReadWriteMany) =>
            {
                Some(Quiesce::ReadOnly)
            }
            // Every replica reads the one bucket: all go read-only together.
            DataSource::S3(_) => Some(Quiesce::ReadOnly),
            // The Job is pinned to the directory's node, like the pods.
            DataSource::HostPath { .. } => Some(Quiesce::ReadOnly),
            DataSource::Claim(_) => Some(Quiesce::ScaleToZero),
            DataSource::EmptyDir => None,
        };
        let refusal = if quiesce.is_none() {
            Some("storage is empty_dir: the images live in the registry pod's own emptyDir, which no Job can mount and which is emptied whenever the pod goes; garbage collection there is pointless (re-create the pod to start empty) and gc.sh does not run; use nfs, host_path, pvc or s3 storage".to_owned())
        } else if !delete_enabled {
            Some("registry.delete_enabled is false in this bundle: the registry refuses every delete (since 3.1.1 tag deletes too), so no image can have been deleted and there is nothing to collect; set registry.delete_enabled: true, re-render, run scripts/start.sh, delete what you no longer need, then run gc.sh".to_owned())
        } else {
            None
        };
        GcPlan {
            job: format!("{name}-gc"),
            container: "garbage-collect",
            helper: "gc",
            command: vec![
                "registry".to_owned(),
                "garbage-collect".to_owned(),
                image_config_file(image).to_owned(),
            ],
            quiesce,
            refusal,
            cache_flush: cache.map(CacheFlushPlan::new),
        }
    }
}

impl Plan<'_> {
    /// One line for `check`: how gc.sh would run, or why it would not.
    pub fn gc_summary(&self) -> String {
        match (&self.gc.refusal, self.gc.quiesce) {
            (Some(_), None) => "none: a Job cannot reach an emptyDir (gc.sh refuses)".to_owned(),
            (Some(_), Some(_)) => "off: registry.delete_enabled is false, so the registry refuses deletes and gc.sh refuses to run".to_owned(),
            (None, Some(Quiesce::ReadOnly)) => format!(
                "scripts/gc.sh runs Job {} while the registry is read-only ({})",
                self.gc.job,
                self.gc_read_only_pulls()
            ),
            (None, _) => format!(
                "scripts/gc.sh runs Job {} while the registry is scaled to 0 (its claim is held by one node: pulls fail meanwhile)",
                self.gc.job
            ),
        }
    }

    /// What happens to pulls while gc.sh makes the registry read-only and
    /// writable again: nothing where pods overlap, a gap at each of the two
    /// rolls where they cannot (a hostPort).
    fn gc_read_only_pulls(&self) -> &'static str {
        if self.strategy == ROLLING_UPDATE {
            "pulls keep working"
        } else {
            "pulls fail while each of its two rolls replaces the pod (Recreate: a hostPort), about one pod start each"
        }
    }

    /// What gc.sh says before it changes anything.
    pub fn gc_before(&self) -> String {
        match self.gc.quiesce {
            Some(Quiesce::ReadOnly) => format!(
                "making the registry read-only ({READONLY_ENV}); {}",
                self.gc_read_only_pulls()
            ),
            _ => "stopping the registry (scale to 0): its claim is held by one node, so pulls fail until the Job is done and the registry is back".to_owned(),
        }
    }

    /// What gc.sh does to the registry while the Job runs, in words (its
    /// `--help`, the README and `check` say the same).
    pub fn gc_steps(&self) -> String {
        let gc = &self.gc;
        if let Some(r) = &gc.refusal {
            return format!("gc.sh refuses to run: {r}.");
        }
        let pin = match &self.data.source {
            DataSource::HostPath { node, .. } => {
                format!(", pinned to node {node}, which holds the hostPath directory")
            }
            _ => String::new(),
        };
        let (stopped, back) = match gc.quiesce {
            Some(Quiesce::ReadOnly) => ("read-only", "writable"),
            _ => ("stopped", "up"),
        };
        let flush = gc.cache_flush.as_ref().map_or(String::new(), |f| format!(
            " After collecting, the Job deletes the registry's blob descriptors from the shared Redis cache {address} (database {db}; the keys {CACHE_KEYS}, nothing else; with --dry-run it only counts them): they outlive the pods, and a descriptor of a deleted blob would make the registry skip the upload of that blob when the same image is pushed again, leaving an image that cannot be pulled. The registry comes {back} again only once the Job's log says the cache was flushed; if it does not (Redis unreachable, a wrong password, the Job killed), gc.sh leaves the registry {stopped} and says so: run gc.sh again once Redis answers.",
            address = f.address,
            db = f.db,
        ));
        match gc.quiesce {
            Some(Quiesce::ReadOnly) => format!(
                "The Job can mount the storage beside the registry's pods (ReadWriteMany, an S3 bucket, or a hostPath directory): gc.sh rolls the registry to read-only mode ({READONLY_ENV}), waits until every pod serves read-only ({pulls}, pushes are refused), runs Job {job}{pin}, shows its log, then removes the variable, which replaces every pod (no stale blob descriptor cache survives).{flush}",
                job = gc.job,
                pulls = self.gc_read_only_pulls()
            ),
            _ => format!(
                "The storage is a claim only one node may mount: gc.sh scales the registry to 0 and waits until its pods are gone (pulls fail meanwhile), runs Job {job}{pin}, shows its log, then scales it back to {replicas} fresh pods (no stale blob descriptor cache survives).{flush}",
                job = gc.job,
                replicas = self.replicas
            ),
        }
    }
}
