//! What a write would change, without writing: `registry-gen render
//! --check`. Reads the bundle directory only, and decides as the write
//! does (the same CA guard, set-aside names, stale files and file list).

use std::collections::BTreeSet;
use std::path::Path;

use time::OffsetDateTime;

use super::{io, Prepared};
use crate::bundle::{is_safe_relative, Bundle, MODE_FILE};
use crate::error::{Error, Result};
use crate::plan::paths;

/// One path a write would change, relative to the bundle directory.
///
/// ```
/// use registry_gen::ChangeKind;
/// # let config = registry_gen::Config::embedded_default();
/// # let mut inputs = registry_gen::Inputs::new(time::OffsetDateTime::now_utc());
/// # inputs.fill_missing(&config)?;
/// let bundle = registry_gen::render(&config, &inputs)?;
/// # let dir = tempfile::tempdir().unwrap();
/// bundle.write_to(dir.path())?;
/// std::fs::write(dir.path().join("manifests/service.yaml"), "edited by hand\n").unwrap();
/// let changes = bundle.changes(dir.path(), None)?;
/// assert_eq!(changes.len(), 1);
/// assert_eq!(changes[0].path, "manifests/service.yaml");
/// assert_eq!(changes[0].kind, ChangeKind::Changed);
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Change {
    /// The bundle path, e.g. `certs/server.crt`.
    pub path: String,
    /// What would happen to it.
    pub kind: ChangeKind,
}

/// What a write would do to one path. Contents are never part of it: the
/// path may hold a key or a password.
///
/// ```
/// use std::os::unix::fs::PermissionsExt;
/// use registry_gen::ChangeKind;
/// # let config = registry_gen::Config::embedded_default();
/// # let mut inputs = registry_gen::Inputs::new(time::OffsetDateTime::now_utc());
/// # inputs.fill_missing(&config)?;
/// let bundle = registry_gen::render(&config, &inputs)?;
/// # let dir = tempfile::tempdir().unwrap();
/// bundle.write_to(dir.path())?;
/// let key = dir.path().join("certs/server.key");
/// std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
/// let changes = bundle.changes(dir.path(), None)?;
/// assert_eq!(changes[0].kind, ChangeKind::Mode(0o644, 0o600));
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChangeKind {
    /// Not there yet.
    Added,
    /// Other bytes (and maybe another mode).
    Changed,
    /// The same bytes with another mode: `(on disk, to be written)`.
    Mode(u32, u32),
    /// Dropped: an earlier write wrote it and the new bundle no longer has
    /// it, or a CA whose bytes move to another CA path.
    Removed,
    /// An old CA file kept under this other name.
    SetAside(String),
}

impl Bundle {
    /// What [`Bundle::write_to`] (or, with `replace_ca`,
    /// [`Bundle::write_replacing_ca`]) would change in `dir`, sorted by
    /// path: every file the write would add, change (bytes or mode) or
    /// remove, including its record of the paths it wrote. Empty when the
    /// write would leave every file as it is. Writes nothing; fails where
    /// the write would fail before writing (a CA it would not replace, a
    /// path that is not a directory, an unreadable file).
    ///
    /// ```
    /// # let config = registry_gen::Config::embedded_default();
    /// # let mut inputs = registry_gen::Inputs::new(time::OffsetDateTime::now_utc());
    /// # inputs.fill_missing(&config)?;
    /// let bundle = registry_gen::render(&config, &inputs)?;
    /// let dir = tempfile::tempdir().unwrap();
    /// let first = bundle.changes(dir.path(), None)?;
    /// assert!(first.iter().all(|c| c.kind == registry_gen::ChangeKind::Added));
    /// bundle.write_to(dir.path())?;
    /// assert!(bundle.changes(dir.path(), None)?.is_empty()); // up to date
    /// # Ok::<(), registry_gen::Error>(())
    /// ```
    pub fn changes(&self, dir: &Path, replace_ca: Option<OffsetDateTime>) -> Result<Vec<Change>> {
        let Prepared {
            set_aside,
            moved,
            previous,
        } = self.prepare(dir, replace_ca)?;
        let mut out: Vec<Change> = set_aside
            .iter()
            .map(|s| Change {
                path: s.path.clone(),
                kind: ChangeKind::SetAside(s.kept_as.clone()),
            })
            .collect();
        let list = self.file_list();
        let record = (paths::FILE_LIST, list.as_bytes(), MODE_FILE);
        let files = self
            .files()
            .map(|(p, f)| (p, f.contents.as_slice(), f.mode));
        for (path, contents, mode) in files.chain([record]) {
            if let Some(kind) = compare(&dir.join(path), contents, mode)? {
                out.push(Change {
                    path: path.to_owned(),
                    kind,
                });
            }
        }
        let previous: BTreeSet<&str> = previous.lines().filter(|p| is_safe_relative(p)).collect();
        let stale = previous.into_iter().filter(|p| self.is_stale(p));
        let gone = moved.into_iter().chain(stale);
        for path in gone.collect::<BTreeSet<_>>() {
            if dir.join(path).symlink_metadata().is_ok() {
                out.push(Change {
                    path: path.to_owned(),
                    kind: ChangeKind::Removed,
                });
            }
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }
}

/// How the file at `target` differs from `contents` with `mode`, if it does.
fn compare(target: &Path, contents: &[u8], mode: u32) -> Result<Option<ChangeKind>> {
    use std::os::unix::fs::PermissionsExt;
    let meta = match std::fs::symlink_metadata(target) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Some(ChangeKind::Added)),
        Err(source) => {
            return Err(Error::Io {
                path: target.to_owned(),
                source,
            })
        }
    };
    if !meta.is_file() {
        return Ok(Some(ChangeKind::Changed));
    }
    let on_disk = std::fs::read(target).map_err(io(target))?;
    let disk_mode = meta.permissions().mode() & 0o7777;
    Ok(if on_disk != contents {
        Some(ChangeKind::Changed)
    } else if disk_mode != mode {
        Some(ChangeKind::Mode(disk_mode, mode))
    } else {
        None
    })
}
