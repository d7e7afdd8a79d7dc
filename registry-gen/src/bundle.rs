//! The bundle: an in-memory tree of files with their unix modes.
//!
//! Renderers add files; nothing touches the filesystem until
//! [`Bundle::write_to`], the library's only I/O. The same value gives the
//! stdout YAML stream ([`Bundle::manifest_stream`]) and the snapshots.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::plan::paths;

/// Mode of ordinary files.
pub const MODE_FILE: u32 = 0o644;
/// Mode of scripts.
pub const MODE_EXEC: u32 = 0o755;
/// Mode of private keys, password files and manifests holding Secret data.
pub const MODE_SECRET: u32 = 0o600;

/// One file of the bundle.
#[derive(Clone, PartialEq, Eq)]
pub struct File {
    /// The file's bytes.
    pub contents: Vec<u8>,
    /// Its unix permission bits.
    pub mode: u32,
}

impl std::fmt::Debug for File {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Contents may be secret: show only their size.
        write!(f, "File({} bytes, {:o})", self.contents.len(), self.mode)
    }
}

/// A rendered bundle: relative path → file, in stable (sorted) order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bundle {
    files: BTreeMap<String, File>,
    manifests: Vec<String>,
    warnings: Vec<String>,
    notices: Vec<String>,
}

impl Bundle {
    pub(crate) fn add(&mut self, path: impl Into<String>, contents: impl Into<Vec<u8>>, mode: u32) {
        let path = path.into();
        debug_assert!(is_safe_relative(&path), "bundle path {path:?}");
        self.files.insert(
            path,
            File {
                contents: contents.into(),
                mode,
            },
        );
    }

    /// Record a Kubernetes manifest (already added as a file), in apply order.
    pub(crate) fn add_manifest(&mut self, path: &str, yaml: String, mode: u32) {
        self.manifests.push(path.to_owned());
        self.add(path, yaml, mode);
    }

    pub(crate) fn warn(&mut self, warning: String) {
        self.warnings.push(warning);
    }

    pub(crate) fn notice(&mut self, notice: String) {
        self.notices.push(notice);
    }

    /// Every file, sorted by path.
    pub fn files(&self) -> impl Iterator<Item = (&str, &File)> {
        self.files.iter().map(|(p, f)| (p.as_str(), f))
    }

    /// One file by its bundle path, e.g. `manifests/deployment.yaml`.
    pub fn get(&self, path: &str) -> Option<&File> {
        self.files.get(path)
    }

    /// Things the user should know (e.g. storage that loses data).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// What the render decided that a user may want to know (a certificate
    /// kept or renewed, and why).
    pub fn notices(&self) -> &[String] {
        &self.notices
    }

    /// Paths of files whose contents registry-gen generated a secret for
    /// this render (a new CA key, generated passwords): the CLI tells the user where they are.
    pub fn generated_secrets(&self) -> impl Iterator<Item = &str> {
        self.files
            .keys()
            .map(String::as_str)
            .filter(|p| *p == paths::CA_KEY || (p.starts_with("auth/") && p.ends_with(".password")))
    }

    /// Every Kubernetes manifest as one multi-document YAML stream, in apply
    /// order, for `kubectl apply -f -`.
    pub fn manifest_stream(&self) -> String {
        crate::yaml::stream(self.manifests.iter().filter_map(|p| {
            self.files
                .get(p)
                .and_then(|f| std::str::from_utf8(&f.contents).ok())
        }))
    }

    /// Write the bundle under `dir` (created if missing): directories 0755,
    /// or 0700 where they hold secrets; each file with its mode.
    ///
    /// The paths written are recorded in `.registry-gen-files`; a later
    /// write removes the files that an earlier one recorded and the new
    /// bundle no longer has (a trust directory of a dropped address, a
    /// stale password file), but never a CA, and never a file that
    /// registry-gen did not write.
    ///
    /// Refuses, before writing anything, to replace an existing CA
    /// certificate or key with different contents.
    pub fn write_to(&self, dir: &Path) -> Result<()> {
        for path in [paths::CA_CERT, paths::CA_KEY] {
            let target = dir.join(path);
            let Some(new) = self.files.get(path) else {
                continue;
            };
            match std::fs::read(&target) {
                Ok(old) if old == new.contents => {}
                Ok(_) => {
                    return Err(Error::Refused {
                        path: target,
                        reason: "an existing CA is never overwritten: clients trust it. Render with that CA (it is reused when both certs/ca.crt and certs/ca.key are there), or move the old certs/ aside to start a new CA".into(),
                    })
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(Error::Io { path: target, source }),
            }
        }
        let io = |path: &Path| {
            let path: PathBuf = path.to_owned();
            move |source| Error::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        for (rel, file) in &self.files {
            let target = dir.join(rel);
            if let Some(parent) = target.parent() {
                create_dir(parent, self.dir_holds_secret(rel)).map_err(io(parent))?;
            }
            write_file(&target, &file.contents, file.mode).map_err(io(&target))?;
        }

        let record = dir.join(paths::FILE_LIST);
        let previous = match std::fs::read_to_string(&record) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => {
                return Err(Error::Io {
                    path: record,
                    source,
                })
            }
        };
        for stale in previous.lines().filter(|p| {
            is_safe_relative(p)
                && !self.files.contains_key(*p)
                && *p != paths::CA_CERT
                && *p != paths::CA_KEY
        }) {
            let target = dir.join(stale);
            match std::fs::remove_file(&target) {
                Ok(()) => remove_empty_parents(dir, &target),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(Error::Io {
                        path: target,
                        source,
                    })
                }
            }
        }
        let list: String = self.files.keys().map(|p| format!("{p}\n")).collect();
        write_file(&record, list.as_bytes(), MODE_FILE).map_err(io(&record))?;
        Ok(())
    }

    fn dir_holds_secret(&self, rel: &str) -> bool {
        let dir = rel.rsplit_once('/').map_or("", |(d, _)| d);
        self.files
            .iter()
            .any(|(p, f)| f.mode == MODE_SECRET && p.rsplit_once('/').map_or("", |(d, _)| d) == dir)
    }
}

/// Remove the directories between `file` and `root` that became empty.
fn remove_empty_parents(root: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == root || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

fn create_dir(dir: &Path, secret: bool) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(dir)?;
    if secret {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Write through a temporary file in the same directory, created with the
/// final mode (a key is never readable by others, not even briefly), then
/// rename it over the target.
fn write_file(target: &Path, contents: &[u8], mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = target.with_file_name(format!(".{name}.registry-gen-tmp"));
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)?;
    f.write_all(contents)?;
    f.sync_all()?;
    drop(f);
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode))?;
    std::fs::rename(&tmp, target)
}

fn is_safe_relative(p: &str) -> bool {
    !p.is_empty()
        && !p.starts_with('/')
        && p.split('/').all(|s| !s.is_empty() && s != "." && s != "..")
}
