//! Writing a [`Bundle`] to a directory: the library's only filesystem I/O.
//!
//! The new bundle is staged whole beside the target, the user's own files
//! (and kept CAs) are hard-linked in, the tree is made durable, and one
//! `renameat2(RENAME_EXCHANGE)` swaps it in. Where that is impossible, each
//! file is replaced atomically in place.
//!
//! Durable means: once a write returns `Ok`, a power cut keeps the bundle
//! (the CA key and the passwords above all). Only what this write changed
//! is synced, so the cost follows the bundle, not the filesystem (a
//! `syncfs` here flushed every other process's dirty data too: 1.23 s
//! instead of ~15 ms beside a build; docs/performance.md):
//!
//! 1. before the swap, all at once (on 16 threads taking them from one
//!    counter, so that the fsyncs share journal commits and disk cache
//!    flushes; on one thread where the filesystem lives in memory, tmpfs
//!    or ramfs, whose fsync has nothing to write), each file's writeback
//!    started as soon as it is written (`sync::start_writeback`): each file written,
//!    and each staged directory, for the entries of the new files and of
//!    the hard links (a hard-linked file's data is already on disk, or is
//!    the user's own business; its new name is not). Their order does not
//!    matter: until the swap the staged tree is not the bundle;
//! 2. after the swap, the directory holding the bundle, and any directory
//!    above it that the write created.
//!
//! The in-place fallback fsyncs each temporary file before renaming it
//! over its target, then every directory whose entries it changed.
//!
//! Replacing the CA on purpose ([`Bundle::write_replacing_ca`]) happens in
//! the same staged tree: the old CA files are linked there under set-aside
//! names beside the new CA, so the one swap shows both or neither.

mod ca;
mod compare;
mod files;
mod in_place;
mod staged;
mod sync;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use crate::bundle::{is_safe_relative, Bundle};
use crate::error::{Error, Result};
use crate::plan::paths;
use ca::stamp;
pub use compare::{Change, ChangeKind};

impl Bundle {
    /// Write the bundle under `dir` (created if missing): directories 0755,
    /// or 0700 where they hold secrets; each file with its mode.
    ///
    /// All or nothing: the new bundle is first written whole into a
    /// directory beside `dir` (`.<name>.registry-gen-new`), then swapped in
    /// with one atomic `rename` (Linux `RENAME_EXCHANGE` when `dir` exists).
    /// A crash, a kill or a full disk at any moment leaves `dir` holding
    /// either the old bundle or the new one, never a mix; leftovers of an
    /// interrupted write are removed by the next one. Where that is not
    /// possible (the parent is not writable, `dir` is a mount point, the
    /// filesystem cannot exchange), each file is still replaced atomically
    /// in place.
    ///
    /// Durable when it returns `Ok`: every file written, every directory
    /// entry, and the swap itself are fsynced (only those: other data on the
    /// filesystem is not flushed), so a power cut keeps the new bundle.
    ///
    /// The paths written are recorded in `.registry-gen-files`. Files that
    /// registry-gen did not write are carried over untouched; files that an
    /// earlier write recorded and the new bundle no longer has (a trust
    /// directory of a dropped address, a stale password file) are dropped,
    /// but never a CA.
    ///
    /// Refuses, before writing anything, to replace an existing CA
    /// certificate or key with different contents, or to write into a path
    /// that is not a directory.
    ///
    /// ```
    /// # let config = registry_gen::Config::embedded_default();
    /// # let mut inputs = registry_gen::Inputs::new(time::OffsetDateTime::now_utc());
    /// # inputs.fill_missing(&config)?;
    /// let bundle = registry_gen::render(&config, &inputs)?;
    /// let dir = tempfile::tempdir().unwrap();
    /// bundle.write_to(dir.path())?;
    /// assert!(dir.path().join("manifests/deployment.yaml").is_file());
    /// bundle.write_to(dir.path())?; // again: nothing changes
    ///
    /// // A bundle with another CA is refused before anything is written.
    /// let mut other = registry_gen::Inputs::new(inputs.now);
    /// other.fill_missing(&config)?;
    /// let err = registry_gen::render(&config, &other)?.write_to(dir.path()).unwrap_err();
    /// assert!(matches!(err, registry_gen::Error::Refused { .. }), "{err}");
    /// # Ok::<(), registry_gen::Error>(())
    /// ```
    pub fn write_to(&self, dir: &Path) -> Result<()> {
        self.write(dir, None).map(drop)
    }

    /// Write the bundle under `dir` as [`Bundle::write_to`] does, replacing
    /// its CA on purpose (`registry-gen render --new-ca`): the old
    /// `certs/ca.crt` and `certs/ca.key`, where present, are kept under
    /// set-aside names and never deleted, not even by later writes.
    ///
    /// A set-aside name is the file's path plus the UTC time `at` (the
    /// caller's clock; the library reads none), e.g.
    /// `certs/ca.crt.20270115T080000Z`; where an earlier set-aside took that
    /// name, a counter follows (`.1`, `.2`, ...), the same for certificate
    /// and key, so two replacements within one second both succeed and a
    /// pair keeps one suffix. A set-aside key keeps its mode (0600).
    ///
    /// The set-aside happens inside the staged tree: a crash or a kill at
    /// any moment leaves `dir` with either the old bundle (its CA in place,
    /// nothing set aside) or the new one (the new CA, the old one set
    /// aside), never without a CA. In the in-place fallback the old files
    /// are linked to their set-aside names before anything is replaced.
    ///
    /// Returns what was set aside, in order (certificate, then key).
    ///
    /// ```
    /// use time::macros::datetime;
    /// # let config = registry_gen::Config::embedded_default();
    /// # let fresh = || -> registry_gen::Result<registry_gen::Bundle> {
    /// #     let mut inputs = registry_gen::Inputs::new(time::OffsetDateTime::now_utc());
    /// #     inputs.fill_missing(&config)?;
    /// #     registry_gen::render(&config, &inputs)
    /// # };
    /// let dir = tempfile::tempdir().unwrap();
    /// fresh()?.write_to(dir.path())?;
    /// // A second bundle with a CA of its own: the old CA is kept, not lost.
    /// let kept = fresh()?.write_replacing_ca(dir.path(), datetime!(2027-01-15 8:00 UTC))?;
    /// assert_eq!(kept[0].path, "certs/ca.crt");
    /// assert_eq!(kept[0].kept_as, "certs/ca.crt.20270115T080000Z");
    /// assert_eq!(kept[1].kept_as, "certs/ca.key.20270115T080000Z");
    /// assert!(dir.path().join(&kept[1].kept_as).is_file());
    /// # Ok::<(), registry_gen::Error>(())
    /// ```
    pub fn write_replacing_ca(&self, dir: &Path, at: OffsetDateTime) -> Result<Vec<SetAside>> {
        self.write(dir, Some(at))
    }

    fn write(&self, dir: &Path, replace_ca: Option<OffsetDateTime>) -> Result<Vec<SetAside>> {
        let Prepared {
            set_aside,
            moved,
            previous,
        } = self.prepare(dir, replace_ca)?;
        let previous: BTreeSet<&str> = previous.lines().filter(|p| is_safe_relative(p)).collect();
        match self.write_staged(dir, &previous, &set_aside, &moved, None) {
            Staged::Done => {}
            Staged::Failed(e) => return Err(e),
            Staged::Unsupported => self.write_in_place(dir, &previous, &set_aside, &moved)?,
        }
        Ok(set_aside)
    }

    /// What a write into `dir` decides before it writes anything, reading
    /// only: `dir` is a directory or missing; which old CA files are set
    /// aside (`replace_ca`), which moved to another CA path; the file list
    /// an earlier write recorded. Refuses to lose an existing CA.
    fn prepare(&self, dir: &Path, replace_ca: Option<OffsetDateTime>) -> Result<Prepared> {
        match std::fs::symlink_metadata(dir) {
            Ok(m) if !m.is_dir() => {
                return Err(Error::Refused {
                    path: dir.to_owned(),
                    reason:
                        "exists and is not a directory; give a directory (it is created if missing)"
                            .into(),
                })
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(Error::Io {
                    path: dir.to_owned(),
                    source,
                })
            }
        }
        let set_aside = match replace_ca {
            Some(at) => self.set_aside_ca(dir, &stamp(at))?,
            None => Vec::new(),
        };
        let moved = self.moved_cas(dir, &set_aside)?;
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
        Ok(Prepared {
            set_aside,
            moved,
            previous,
        })
    }
}

/// What [`Bundle::prepare`] found.
struct Prepared {
    set_aside: Vec<SetAside>,
    moved: Vec<&'static str>,
    /// `.registry-gen-files` as an earlier write left it (empty if none).
    previous: String,
}

/// An old CA file that [`Bundle::write_replacing_ca`] kept under another name.
///
/// ```
/// # let config = registry_gen::Config::embedded_default();
/// # let fresh = || -> registry_gen::Result<registry_gen::Bundle> {
/// #     let mut inputs = registry_gen::Inputs::new(time::OffsetDateTime::now_utc());
/// #     inputs.fill_missing(&config)?;
/// #     registry_gen::render(&config, &inputs)
/// # };
/// # let dir = tempfile::tempdir().unwrap();
/// # fresh()?.write_to(dir.path())?;
/// let now = time::OffsetDateTime::now_utc();
/// for aside in fresh()?.write_replacing_ca(dir.path(), now)? {
///     println!("{} is now {}", aside.path, aside.kept_as);
///     assert!(aside.kept_as.starts_with(&aside.path));
/// }
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SetAside {
    /// Its bundle path, e.g. `certs/ca.crt`.
    pub path: String,
    /// Where the old file is now, relative to the bundle directory, e.g.
    /// `certs/ca.crt.20270115T080000Z`.
    pub kept_as: String,
}

/// Map an I/O error to [`Error::Io`] naming `path`.
pub(super) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + use<> {
    let path: PathBuf = path.to_owned();
    move |source| Error::Io { path, source }
}

/// How a staged write ended.
pub(super) enum Staged {
    Done,
    Failed(Error),
    /// Not possible here: fall back to writing in place.
    Unsupported,
}

pub(super) const TMP_SUFFIX: &str = ".registry-gen-tmp";
