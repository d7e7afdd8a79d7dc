//! Which config a render uses: the --config file, or the config an
//! existing bundle in --out recorded, or the embedded default; then the
//! flags on top, and what a newly given config changes of the bundle.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use registry_gen::{CaFiles, Config, HostPathStorage, NfsStorage, Storage, User};

use super::read_text;
use crate::cli::RenderArgs;

/// Where the settings of a render came from, for the line `render` prints
/// before it writes.
pub(super) enum ConfigSource {
    /// --config FILE; with --out, the config the bundle there recorded
    /// (to name what the new file changes).
    File {
        recorded: Option<(PathBuf, Box<Config>)>,
    },
    /// The effective config an existing bundle in --out recorded.
    Bundle(PathBuf),
    /// Neither: the embedded default.
    Default,
}

impl ConfigSource {
    /// What `render` says before writing: which file it read, and what a
    /// newly given config changes of the bundle's identity (name,
    /// namespace, storage kind): objects under the old names, or the data
    /// in the old storage, stay where they are.
    pub(super) fn describe(&self, new: &Config) -> Option<String> {
        match self {
            ConfigSource::Bundle(path) => Some(format!(
                "read the bundle's own config {} (give --config FILE to render from another)",
                path.display()
            )),
            ConfigSource::File {
                recorded: Some((path, old)),
            } => {
                let changes = identity_changes(old, new);
                (!changes.is_empty()).then(|| {
                    format!(
                        "note: this config changes {} of the bundle recorded in {}. scripts/start.sh will create new objects; the old ones ({} in namespace {}) stay on the cluster and the images stay in the old storage: nothing is moved or deleted. Delete the old objects with kubectl once you no longer need them.",
                        changes.join(", "),
                        path.display(),
                        old.name,
                        old.namespace
                    )
                })
            }
            ConfigSource::File { recorded: None } | ConfigSource::Default => None,
        }
    }
}

/// The settings that decide which objects and which data a bundle is,
/// each as "what: old -> new" when they differ.
fn identity_changes(old: &Config, new: &Config) -> Vec<String> {
    let mut changes = Vec::new();
    if old.name != new.name {
        changes.push(format!("the name {:?} -> {:?}", old.name, new.name));
    }
    if old.namespace != new.namespace {
        changes.push(format!(
            "the namespace {:?} -> {:?}",
            old.namespace, new.namespace
        ));
    }
    if old.storage.kind() != new.storage.kind() {
        changes.push(format!(
            "the storage {} -> {}",
            old.storage.kind(),
            new.storage.kind()
        ));
    }
    changes
}

/// The config an existing bundle in `dir` recorded (its effective
/// `registry-gen.yaml`), if there is one.
fn recorded_config(dir: &Path) -> Result<Option<(PathBuf, Box<Config>)>> {
    let path = dir.join(registry_gen::layout::CONFIG);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(e)
                .with_context(|| format!("reading the bundle's config {}", path.display()))
        }
    };
    let c = Config::from_yaml(&text).with_context(|| {
        format!(
            "{}: the config this bundle recorded does not read back; give the config to render from with --config FILE",
            path.display()
        )
    })?;
    Ok(Some((path, Box::new(c))))
}

/// The --config file (fields it leaves out take their documented
/// defaults); without one, the config the bundle in --out recorded when
/// there is one, else the embedded default; then the flags on top.
pub(super) fn effective_config(args: &RenderArgs) -> Result<(Config, ConfigSource)> {
    let recorded = match &args.out {
        Some(dir) if dir.is_dir() => recorded_config(dir)?,
        _ => None,
    };
    let (mut c, source) = match (&args.config, recorded) {
        (Some(path), recorded) => {
            let text = read_text(path, "--config")?;
            let mut c = Config::from_yaml(&text).with_context(|| format!("{}", path.display()))?;
            resolve_paths(&mut c, path.parent().unwrap_or(Path::new(".")));
            (c, ConfigSource::File { recorded })
        }
        (None, Some((path, c))) => (*c, ConfigSource::Bundle(path)),
        (None, None) => (Config::embedded_default(), ConfigSource::Default),
    };
    if let Some(v) = &args.name {
        c.name = v.clone();
    }
    if let Some(v) = &args.namespace {
        c.namespace = v.clone();
    }
    if let Some(v) = &args.image {
        c.image = v.clone();
    }
    if !args.node_ips.is_empty() {
        c.addresses.node_ips = args.node_ips.clone();
    }
    if !args.dns_names.is_empty() {
        c.addresses.dns_names = args.dns_names.clone();
    }
    if let Some(v) = args.container_port {
        c.ports.container = v;
    }
    if let Some(v) = args.host_port {
        c.ports.host = Some(v);
    }
    if let Some(v) = args.node_port {
        c.ports.node = Some(v);
    }
    if let (Some(server), Some(path)) = (&args.nfs_server, &args.nfs_path) {
        let mut nfs = match &c.storage {
            Storage::Nfs(n) => n.clone(),
            _ => NfsStorage::default(),
        };
        nfs.server = server.clone();
        nfs.path = path.clone();
        c.storage = Storage::Nfs(nfs);
    }
    if let Some(path) = &args.host_path {
        let node = match (&args.host_path_node, &c.storage) {
            (Some(n), _) => n.clone(),
            (None, Storage::HostPath(h)) => h.node.clone(),
            (None, _) => bail!("--host-path needs --host-path-node NODE: the pod must be pinned to the node that holds the directory"),
        };
        let mut host_path = HostPathStorage::default();
        host_path.path = path.clone();
        host_path.node = node;
        c.storage = Storage::HostPath(host_path);
    }
    if let Some(size) = &args.storage_size {
        match &mut c.storage {
            Storage::Nfs(n) => n.size = size.clone(),
            Storage::Pvc(p) => p.size = size.clone(),
            _ => bail!("--storage-size applies to nfs or pvc storage only"),
        }
    }
    if let Some(user) = &args.user {
        let auth = c.auth.get_or_insert_with(Default::default);
        let mut only = User::default();
        only.name = user.clone();
        auth.users = vec![only];
    }
    if let (Some(cert), Some(key)) = (&args.ca_cert, &args.ca_key) {
        c.tls.ca = Some(CaFiles::new(absolute(cert)?, absolute(key)?));
    }
    if let Some(alg) = args.key_algorithm {
        c.tls.key_algorithm = alg;
    }
    Ok((c, source))
}

/// Paths in a config file are relative to the file's directory; they are
/// made absolute so the bundle's effective `registry-gen.yaml` still finds
/// them when re-rendered from anywhere.
fn resolve_paths(c: &mut Config, base: &Path) {
    let join = |p: &mut PathBuf| {
        if p.is_relative() && !p.as_os_str().is_empty() {
            let joined = base.join(&*p);
            *p = std::path::absolute(&joined).unwrap_or(joined);
        }
    };
    if let Some(ca) = &mut c.tls.ca {
        join(&mut ca.cert_file);
        join(&mut ca.key_file);
    }
    if let Some(auth) = &mut c.auth {
        for u in &mut auth.users {
            if let Some(f) = &mut u.password_file {
                join(f);
            }
        }
    }
    for m in &mut c.mirrors {
        for f in [&mut m.username_file, &mut m.password_file, &mut m.ca_file]
            .into_iter()
            .flatten()
        {
            join(f);
        }
    }
    if let Storage::S3(s3) = &mut c.storage {
        for f in [
            &mut s3.access_key_file,
            &mut s3.secret_key_file,
            &mut s3.ca_file,
        ]
        .into_iter()
        .flatten()
        {
            join(f);
        }
    }
    if let Some(f) = c
        .cache
        .redis
        .as_mut()
        .and_then(|r| r.password_file.as_mut())
    {
        join(f);
    }
}

fn absolute(p: &Path) -> Result<PathBuf> {
    std::path::absolute(p).with_context(|| format!("{}", p.display()))
}
