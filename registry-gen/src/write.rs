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
//! 1. before the swap, all at once (on [`SYNC_THREADS`] threads, so that
//!    the fsyncs share journal commits and disk cache flushes): each file written,
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

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use time::{OffsetDateTime, UtcOffset};

use crate::bundle::{is_safe_relative, Bundle, MODE_FILE};
use crate::error::{Error, Result};
use crate::plan::paths;

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
    pub fn write_replacing_ca(&self, dir: &Path, at: OffsetDateTime) -> Result<Vec<SetAside>> {
        self.write(dir, Some(at))
    }

    fn write(&self, dir: &Path, replace_ca: Option<OffsetDateTime>) -> Result<Vec<SetAside>> {
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
        // An existing CA file is never lost: it stays, or its bytes are
        // still in the new bundle under another CA path (a rotation step
        // moves them), or it is set aside.
        let mut moved = Vec::new();
        for path in paths::CA_FILES {
            let target = dir.join(path);
            let old = match std::fs::read(&target) {
                Ok(old) => old,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(source) => {
                    return Err(Error::Io {
                        path: target,
                        source,
                    })
                }
            };
            let new = self.get(path);
            if new.is_some_and(|f| f.contents == old) || set_aside.iter().any(|s| s.path == path) {
                continue;
            }
            if self.holds_ca(&old) {
                if new.is_none() {
                    moved.push(path);
                }
                continue;
            }
            if new.is_some() {
                return Err(Error::Refused {
                    path: target,
                    reason: "an existing CA is never overwritten: clients trust it. Render with that CA (it is reused when both certs/ca.crt and certs/ca.key are there), replace it in steps with `registry-gen render --rotate-ca start` (no client fails in between), or at once with `registry-gen render --new-ca` (both keep the old files)".into(),
                });
            }
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
        let previous: BTreeSet<&str> = previous.lines().filter(|p| is_safe_relative(p)).collect();
        match self.write_staged(dir, &previous, &set_aside, &moved, None) {
            Staged::Done => {}
            Staged::Failed(e) => return Err(e),
            Staged::Unsupported => self.write_in_place(dir, &previous, &set_aside, &moved)?,
        }
        Ok(set_aside)
    }

    /// The staged write; `crash_after` stops it dead after that many files
    /// (tests: a kill mid-write), leaving what a killed process would.
    fn write_staged(
        &self,
        dir: &Path,
        previous: &BTreeSet<&str>,
        set_aside: &[SetAside],
        moved: &[&str],
        crash_after: Option<usize>,
    ) -> Staged {
        let (Some(parent), Some(name)) = (dir.parent(), dir.file_name()) else {
            return Staged::Unsupported;
        };
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        let name = name.to_string_lossy();
        let staging = parent.join(format!(".{name}.registry-gen-new"));
        // Leftovers of an interrupted write (never the bundle itself).
        let _ = std::fs::remove_dir_all(&staging);
        let above = entries_to_sync(parent);
        if let Err(e) = std::fs::create_dir_all(parent) {
            return Staged::Failed(Error::Io {
                path: parent.to_owned(),
                source: e,
            });
        }
        match std::fs::create_dir(&staging) {
            Ok(()) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
                ) =>
            {
                return Staged::Unsupported
            }
            Err(source) => {
                return Staged::Failed(Error::Io {
                    path: staging,
                    source,
                })
            }
        }
        let fail = |e: Error| {
            let _ = std::fs::remove_dir_all(&staging);
            Staged::Failed(e)
        };
        let exists = dir.exists();
        if let Err(e) = self.fill(
            &staging,
            dir,
            exists,
            previous,
            (set_aside, moved),
            crash_after,
        ) {
            if crash_after.is_some() {
                return Staged::Failed(e); // a "killed" write cleans nothing up
            }
            return fail(e);
        }
        let swapped = if exists {
            exchange(&staging, dir)
        } else {
            std::fs::rename(&staging, dir)
        };
        if let Err(source) = swapped {
            if exists {
                let _ = std::fs::remove_dir_all(&staging);
                return Staged::Unsupported;
            }
            return fail(Error::Io {
                path: dir.to_owned(),
                source,
            });
        }
        // `staging` now holds the old bundle, if any. The swap is durable
        // once the parent's entries are, and those of any directory above
        // that this write created.
        let _ = std::fs::remove_dir_all(&staging);
        for d in &above {
            if let Err(e) = sync_dir(d) {
                return Staged::Failed(io(d)(e));
            }
        }
        Staged::Done
    }

    /// Fill `staging` with the new bundle, then hard-link in what of `old`
    /// is kept: files registry-gen did not write, CAs, and CAs set aside.
    fn fill(
        &self,
        staging: &Path,
        old: &Path,
        old_exists: bool,
        previous: &BTreeSet<&str>,
        (set_aside, moved): (&[SetAside], &[&str]),
        crash_after: Option<usize>,
    ) -> Result<()> {
        if old_exists {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(old)
                .map_err(io(old))?
                .permissions()
                .mode();
            std::fs::set_permissions(staging, std::fs::Permissions::from_mode(mode & 0o7777))
                .map_err(io(staging))?;
        }
        // Every directory of the staged tree, by path relative to it.
        let mut dirs = BTreeSet::from([String::new()]);
        let mut written = Vec::new();
        for (n, (rel, file)) in self.files().enumerate() {
            if crash_after == Some(n) {
                return Err(Error::Io {
                    path: staging.join(rel),
                    source: std::io::Error::other("simulated crash"),
                });
            }
            let target = staging.join(rel);
            if let Some(parent) = target.parent() {
                create_dir(parent, self.dir_holds_secret(rel)).map_err(io(parent))?;
            }
            dirs.extend(ancestors(rel).map(str::to_owned));
            let f =
                write_new_file(&target, &file.contents, file.mode, false).map_err(io(&target))?;
            written.push((target, f));
        }
        if old_exists {
            let linked = self.carry_over(old, staging, previous, set_aside, moved)?;
            dirs.extend(linked.iter().flat_map(|p| ancestors(p)).map(str::to_owned));
        }
        let list = self.file_list();
        let record = staging.join(paths::FILE_LIST);
        let f = write_new_file(&record, list.as_bytes(), MODE_FILE, false).map_err(io(&record))?;
        written.push((record, f));
        // Every file and directory entry on disk before the swap makes them
        // the bundle: the files written (not the hard links: their data is
        // not this write's) and each directory.
        for rel in dirs {
            let d = staging.join(rel);
            let f = std::fs::File::open(&d).map_err(io(&d))?;
            written.push((d, f));
        }
        sync_all_at_once(&written)
    }

    /// Hard-link into `to` every file of `from` that the new bundle does
    /// not replace and that is not stale, and every old CA file that is set
    /// aside under its set-aside name; directories are made only where a
    /// kept file needs them, with the old directory's mode. Returns the
    /// paths linked in `to`.
    fn carry_over(
        &self,
        from: &Path,
        to: &Path,
        previous: &BTreeSet<&str>,
        set_aside: &[SetAside],
        moved: &[&str],
    ) -> Result<Vec<String>> {
        use std::os::unix::fs::PermissionsExt;
        let mut kept = Vec::new();
        let mut dirs = vec![String::new()];
        while let Some(rel) = dirs.pop() {
            let dir = from.join(&rel);
            for entry in std::fs::read_dir(&dir).map_err(io(&dir))? {
                let entry = entry.map_err(io(&dir))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                let path = if rel.is_empty() {
                    name.clone()
                } else {
                    format!("{rel}/{name}")
                };
                if entry.file_type().map_err(io(&dir))?.is_dir() {
                    dirs.push(path);
                    continue;
                }
                if let Some(s) = set_aside.iter().find(|s| s.path == path) {
                    kept.push((path, s.kept_as.clone()));
                    continue;
                }
                let replaced = self.get(&path).is_some()
                    || path == paths::FILE_LIST
                    || moved.contains(&path.as_str());
                let stale = previous.contains(path.as_str()) && self.is_stale(&path);
                if !(replaced || stale || name.ends_with(TMP_SUFFIX)) {
                    kept.push((path.clone(), path));
                }
            }
        }
        let mut linked = Vec::with_capacity(kept.len());
        for (path, dest) in kept {
            let mut at = String::new();
            for part in dest.split('/').collect::<Vec<_>>().split_last().unwrap().1 {
                at = if at.is_empty() {
                    (*part).to_owned()
                } else {
                    format!("{at}/{part}")
                };
                let d = to.join(&at);
                match std::fs::symlink_metadata(&d) {
                    Ok(m) if m.is_dir() => {}
                    Ok(_) => {
                        return Err(Error::Refused {
                            path: from.join(&path),
                            reason: "is a file registry-gen did not write, under a path where the new bundle has a file; move it away".into(),
                        })
                    }
                    Err(_) => {
                        let mode = std::fs::metadata(from.join(&at)).map_err(io(&d))?.permissions().mode();
                        std::fs::create_dir(&d).map_err(io(&d))?;
                        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(mode & 0o7777))
                            .map_err(io(&d))?;
                    }
                }
            }
            let (src, dst) = (from.join(&path), to.join(&dest));
            if dst.symlink_metadata().is_ok() {
                return Err(Error::Refused {
                    path: src,
                    reason: "is a file registry-gen did not write, where the new bundle puts a directory; move it away".into(),
                });
            }
            std::fs::hard_link(&src, &dst).map_err(io(&src))?;
            linked.push(dest);
        }
        Ok(linked)
    }

    /// The fallback: each file replaced atomically in place (synced before
    /// its rename), stale files removed afterwards, then every directory
    /// whose entries changed synced. An old CA that is set aside is first
    /// linked to its set-aside name, so that no moment lacks it.
    fn write_in_place(
        &self,
        dir: &Path,
        previous: &BTreeSet<&str>,
        set_aside: &[SetAside],
        moved: &[&str],
    ) -> Result<()> {
        let above = entries_to_sync(dir);
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        for s in set_aside {
            let kept = dir.join(&s.kept_as);
            std::fs::hard_link(dir.join(&s.path), &kept).map_err(io(&kept))?;
            if let Some(parent) = kept.parent() {
                sync_dir(parent).map_err(io(parent))?;
            }
        }
        for (rel, file) in self.files() {
            let target = dir.join(rel);
            if let Some(parent) = target.parent() {
                create_dir(parent, self.dir_holds_secret(rel)).map_err(io(parent))?;
            }
            write_file(&target, &file.contents, file.mode).map_err(io(&target))?;
        }
        // A set-aside CA file the new bundle does not replace (an external
        // CA has no key) leaves its old name.
        for s in set_aside.iter().filter(|s| self.get(&s.path).is_none()) {
            let old = dir.join(&s.path);
            std::fs::remove_file(&old).map_err(io(&old))?;
        }
        // CA files whose bytes the new bundle holds under another path.
        for path in moved {
            let old = dir.join(path);
            std::fs::remove_file(&old).map_err(io(&old))?;
        }
        for stale in previous.iter().filter(|p| self.is_stale(p)) {
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
        let record = dir.join(paths::FILE_LIST);
        let list = self.file_list();
        write_file(&record, list.as_bytes(), MODE_FILE).map_err(io(&record))?;
        // The renames, new directories and removals: every directory of the
        // bundle and of what was removed (where it is still there), then
        // the directories above `dir` that changed.
        let mut dirs = BTreeSet::from([String::new()]);
        let touched = self.files().map(|(p, _)| p).chain(previous.iter().copied());
        dirs.extend(touched.flat_map(ancestors).map(str::to_owned));
        for rel in deepest_first(dirs) {
            let d = dir.join(rel);
            match sync_dir(&d) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(&d)(e)),
            }
        }
        for d in above.iter().skip(1) {
            sync_dir(d).map_err(io(d))?;
        }
        Ok(())
    }

    /// Whether one of the new bundle's CA files holds exactly `bytes`.
    fn holds_ca(&self, bytes: &[u8]) -> bool {
        paths::CA_FILES
            .iter()
            .any(|p| self.get(p).is_some_and(|f| f.contents == bytes))
    }

    /// The CA files of the bundle in `dir` whose bytes this bundle no
    /// longer holds, and the names they are to be kept under.
    fn set_aside_ca(&self, dir: &Path, stamp: &str) -> Result<Vec<SetAside>> {
        let mut present = Vec::new();
        for path in paths::CA_FILES {
            let p = dir.join(path);
            match std::fs::read(&p) {
                Ok(old) if !self.holds_ca(&old) => present.push(path),
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(Error::Io { path: p, source }),
            }
        }
        if present.is_empty() {
            return Ok(Vec::new());
        }
        let suffix = set_aside_suffix(stamp, &present, |name| {
            dir.join(name).symlink_metadata().is_ok()
        });
        Ok(present
            .into_iter()
            .map(|path| SetAside {
                path: path.to_owned(),
                kept_as: format!("{path}{suffix}"),
            })
            .collect())
    }

    /// A path an earlier write recorded is stale when this bundle no longer
    /// has it; a CA, or a CA set aside, never is.
    fn is_stale(&self, path: &str) -> bool {
        self.get(path).is_none()
            && !paths::CA_FILES.iter().any(|ca| {
                path.strip_prefix(ca)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
            })
    }

    /// `.registry-gen-files`: one bundle path a line.
    fn file_list(&self) -> String {
        self.files().map(|(p, _)| format!("{p}\n")).collect()
    }
}

/// An old CA file that [`Bundle::write_replacing_ca`] kept under another name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetAside {
    /// Its bundle path, e.g. `certs/ca.crt`.
    pub path: String,
    /// Where the old file is now, relative to the bundle directory, e.g.
    /// `certs/ca.crt.20270115T080000Z`.
    pub kept_as: String,
}

/// `at` in UTC as `YYYYMMDDTHHMMSSZ`.
fn stamp(at: OffsetDateTime) -> String {
    let at = at.to_offset(UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// The suffix of this write's set-aside names: `.<stamp>`, or
/// `.<stamp>.<n>` with the smallest `n` for which neither the certificate's
/// nor the key's name is `taken`, so that a pair shares one suffix.
fn set_aside_suffix(stamp: &str, names: &[&str], taken: impl Fn(&str) -> bool) -> String {
    let free = |suffix: &str| {
        names
            .iter()
            .chain(&[paths::CA_CERT, paths::CA_KEY])
            .all(|ca| !taken(&format!("{ca}{suffix}")))
    };
    let first = format!(".{stamp}");
    if free(&first) {
        return first;
    }
    (1u64..)
        .map(|n| format!(".{stamp}.{n}"))
        .find(|s| free(s))
        .unwrap_or(first) // unreachable: the names are not all taken
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

/// Map an I/O error to [`Error::Io`] naming `path`.
fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let path: PathBuf = path.to_owned();
    move |source| Error::Io { path, source }
}

/// How a staged write ended.
enum Staged {
    Done,
    Failed(Error),
    /// Not possible here: fall back to writing in place.
    Unsupported,
}

const TMP_SUFFIX: &str = ".registry-gen-tmp";

/// Swap two directories atomically.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE)?;
    Ok(())
}

/// Without an atomic exchange: the old bundle is renamed aside, then the
/// new one into place (a crash between the two leaves both beside `b`).
#[cfg(not(target_os = "linux"))]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    let old = a.with_extension("old");
    std::fs::rename(b, &old)?;
    std::fs::rename(a, b)?;
    std::fs::rename(&old, a)
}

/// Make `dir`'s entries durable (fsync of the directory).
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(test)]
    tests::synced(dir);
    Ok(())
}

/// How many threads fsync a staged bundle (a typical one has about 70
/// files and directories: 2 or 3 each). fsyncs that are in flight together
/// share journal commits and disk cache flushes (ext4's fsync of a file
/// whose transaction is already committed still sends a flush of its own;
/// the block layer merges the flushes pending at one moment); one after
/// another, each waits for its own. Measured on ext4 (docs/performance.md,
/// "The durable write"): 8 threads 39.6 flushes a render, 16 24.6, 32 17.3,
/// 48 14.5, with the wall time flat from 24 to 48 and more threads costing
/// more to start than their flushes save.
const SYNC_THREADS: usize = 32;

/// The stack of a syncing thread: it only calls fsync.
const SYNC_STACK: usize = 64 * 1024;

fn sync_each(part: &[(PathBuf, std::fs::File)]) -> Result<()> {
    part.iter()
        .try_for_each(|(p, f)| f.sync_all().map_err(io(p)))
}

/// fsync each of `open` (files: data and inode; directories: entries), all
/// at once, on [`SYNC_THREADS`] threads.
fn sync_all_at_once(open: &[(PathBuf, std::fs::File)]) -> Result<()> {
    let chunk = open.len().div_ceil(SYNC_THREADS).max(1);
    std::thread::scope(|s| {
        // Every thread started before any is joined.
        let started: Vec<_> = open
            .chunks(chunk)
            .map(|part| {
                let t = std::thread::Builder::new()
                    .stack_size(SYNC_STACK)
                    .spawn_scoped(s, move || sync_each(part));
                (t, part)
            })
            .collect();
        started
            .into_iter()
            .map(|(t, part)| match t {
                Ok(t) => t.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
                // A thread that could not start: its part is synced here.
                Err(_) => sync_each(part),
            })
            .collect::<Vec<_>>()
            .into_iter()
            .collect::<Result<()>>()
    })?;
    #[cfg(test)]
    open.iter().for_each(|(p, _)| tests::synced(p));
    Ok(())
}

/// The directories above `rel` (a relative path), nearest last: `a`, `a/b`
/// for `a/b/c`.
fn ancestors(rel: &str) -> impl Iterator<Item = &str> {
    rel.match_indices('/').map(move |(i, _)| &rel[..i])
}

/// Relative directory paths, each after every directory below it (deeper
/// first; `""`, the root, last).
fn deepest_first(dirs: BTreeSet<String>) -> Vec<String> {
    let depth = |d: &str| {
        if d.is_empty() {
            0
        } else {
            d.matches('/').count() + 1
        }
    };
    let mut dirs: Vec<String> = dirs.into_iter().collect();
    dirs.sort_by_key(|d| std::cmp::Reverse(depth(d)));
    dirs
}

/// The directories whose entries change when `dir` is created or gets a
/// new entry: `dir` itself, and each one above it up to the first that
/// exists now (the rest are created along with `dir`), nearest first.
fn entries_to_sync(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for d in dir.ancestors() {
        let d = if d.as_os_str().is_empty() {
            Path::new(".")
        } else {
            d
        };
        out.push(d.to_owned());
        if d.exists() {
            break;
        }
    }
    out
}

/// Create a file that does not exist yet, with its final mode from the
/// start; `sync`: fsync it before returning. Returns it open, for a later
/// fsync.
fn write_new_file(
    target: &Path,
    contents: &[u8],
    mode: u32,
    sync: bool,
) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(target)?;
    f.write_all(contents)?;
    // The mode without the umask.
    f.set_permissions(std::fs::Permissions::from_mode(mode))?;
    if sync {
        f.sync_all()?;
    }
    Ok(f)
}

/// Write through a temporary file in the same directory, created with the
/// final mode (a key is never readable by others, not even briefly), then
/// rename it over the target.
fn write_file(target: &Path, contents: &[u8], mode: u32) -> std::io::Result<()> {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = target.with_file_name(format!(".{name}{TMP_SUFFIX}"));
    let _ = std::fs::remove_file(&tmp);
    write_new_file(&tmp, contents, mode, true)?;
    std::fs::rename(&tmp, target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::{MODE_EXEC, MODE_SECRET};
    use std::cell::RefCell;
    use std::collections::BTreeMap;

    thread_local! {
        /// What this test's thread synced, in order.
        static SYNCED: RefCell<Vec<PathBuf>> = const { RefCell::new(Vec::new()) };
    }

    /// The counting hook: `path` was fsynced.
    pub(super) fn synced(path: &Path) {
        SYNCED.with(|s| s.borrow_mut().push(path.to_owned()));
    }

    /// Run `f` and return what it synced.
    fn syncs(f: impl FnOnce()) -> Vec<PathBuf> {
        SYNCED.with(|s| s.borrow_mut().clear());
        f();
        SYNCED.with(|s| s.take())
    }

    /// Every directory under `dir` (`dir` itself as `""`) and every file,
    /// relative to it.
    fn entries(dir: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
        let (mut dirs, mut files) = (BTreeSet::from([String::new()]), BTreeSet::new());
        let mut todo = vec![dir.to_owned()];
        while let Some(d) = todo.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                if p.is_dir() {
                    dirs.insert(rel);
                    todo.push(p);
                } else {
                    files.insert(rel);
                }
            }
        }
        (dirs, files)
    }

    #[test]
    fn a_staged_write_syncs_what_it_wrote_and_each_directory_then_the_swap() {
        let (old, new) = old_and_new();
        for exists in [false, true] {
            let tmp = tempfile::tempdir().unwrap();
            // A parent that the write creates, too.
            let dir = tmp.path().join("new/parent/out");
            if exists {
                old.write_to(&dir).unwrap();
                // The user's files, kept by hard links, one in a directory
                // that the new bundle does not have.
                std::fs::create_dir_all(dir.join("mine/deeper")).unwrap();
                std::fs::write(dir.join("mine/deeper/notes.txt"), "mine").unwrap();
                std::fs::write(dir.join("trust/notes.txt"), "mine").unwrap();
            }
            let synced = syncs(|| new.write_to(&dir).unwrap());
            let staging = dir.with_file_name(".out.registry-gen-new");
            let rel = |p: &Path| {
                p.strip_prefix(&staging)
                    .ok()
                    .map(|r| r.display().to_string())
            };
            let (dirs, files) = entries(&dir);
            // 1. Before the swap (in the staged tree), in any order: each
            // file written and no hard link, and each directory, once.
            let n_staged = synced.iter().take_while(|p| rel(p).is_some()).count();
            let staged: Vec<String> = synced[..n_staged].iter().map(|p| rel(p).unwrap()).collect();
            let staged_set: BTreeSet<String> = staged.iter().cloned().collect();
            assert_eq!(staged.len(), staged_set.len(), "each once: {staged:?}");
            let mut expected: BTreeSet<String> = new.files().map(|(p, _)| p.to_owned()).collect();
            expected.insert(paths::FILE_LIST.into());
            expected.extend(dirs.iter().cloned());
            assert_eq!(staged_set, expected, "exists: {exists}");
            assert!(files.is_superset(&staged_set.difference(&dirs).cloned().collect()));
            if exists {
                assert!(dirs.contains("mine/deeper"));
            }
            // 2. After the swap, the parent and what the write created above.
            let mut after = vec![tmp.path().join("new/parent")];
            if !exists {
                after.extend([tmp.path().join("new"), tmp.path().to_owned()]);
            }
            assert_eq!(synced[n_staged..], after[..], "exists: {exists}");
        }
    }

    #[test]
    fn an_in_place_write_syncs_every_directory_it_changed() {
        let (old, new) = old_and_new();
        let tmp = tempfile::tempdir().unwrap();
        old.write_to(tmp.path()).unwrap();
        let previous = std::fs::read_to_string(tmp.path().join(paths::FILE_LIST)).unwrap();
        let previous: BTreeSet<&str> = previous.lines().collect();
        let synced = syncs(|| new.write_in_place(tmp.path(), &previous, &[], &[]).unwrap());
        let (dirs, _) = entries(tmp.path());
        let synced_dirs: BTreeSet<String> = synced
            .iter()
            .filter(|p| p.is_dir())
            .map(|p| p.strip_prefix(tmp.path()).unwrap().display().to_string())
            .collect();
        assert_eq!(synced_dirs, dirs);
        assert_eq!(synced.last().unwrap(), tmp.path(), "the root last");
    }

    fn bundle(files: &[(&str, &str, u32)]) -> Bundle {
        let mut b = Bundle::default();
        for (p, c, m) in files {
            b.add(*p, *c, *m);
        }
        b
    }

    /// Every file under `dir` with its contents and mode.
    fn tree(dir: &Path) -> BTreeMap<String, (String, u32)> {
        use std::os::unix::fs::PermissionsExt;
        let mut out = BTreeMap::new();
        let mut dirs = vec![dir.to_owned()];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    dirs.push(p);
                } else {
                    let rel = p.strip_prefix(dir).unwrap().display().to_string();
                    let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
                    out.insert(rel, (std::fs::read_to_string(&p).unwrap(), mode));
                }
            }
        }
        out
    }

    fn old_and_new() -> (Bundle, Bundle) {
        let old = bundle(&[
            (paths::CA_CERT, "CA", MODE_FILE),
            (paths::CA_KEY, "CA KEY", MODE_SECRET),
            ("trust/docker/certs.d/old.test:5000/ca.crt", "CA", MODE_FILE),
            ("auth/admin.password", "old password", MODE_SECRET),
            ("README.md", "old readme", MODE_FILE),
        ]);
        let new = bundle(&[
            (paths::CA_CERT, "CA", MODE_FILE),
            (paths::CA_KEY, "CA KEY", MODE_SECRET),
            ("trust/docker/certs.d/new.test:5000/ca.crt", "CA", MODE_FILE),
            ("auth/htpasswd", "admin:hash", MODE_SECRET),
            ("README.md", "new readme", MODE_FILE),
            ("scripts/start.sh", "#!/bin/sh", MODE_EXEC),
        ]);
        (old, new)
    }

    #[test]
    fn a_write_killed_at_any_file_leaves_the_old_bundle_whole() {
        let (old, new) = old_and_new();
        for crash_after in 0..=new.files().count() {
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path().join("out");
            old.write_to(&dir).unwrap();
            std::fs::write(dir.join("trust/notes.txt"), "mine").unwrap();
            let before = tree(&dir);
            let previous = std::fs::read_to_string(dir.join(paths::FILE_LIST)).unwrap();
            let previous: BTreeSet<&str> = previous.lines().collect();
            let r = new.write_staged(&dir, &previous, &[], &[], Some(crash_after));
            if crash_after < new.files().count() {
                assert!(matches!(r, Staged::Failed(_)));
                assert_eq!(tree(&dir), before, "killed after {crash_after} files");
            }
            // The next write cleans up and completes.
            new.write_to(&dir).unwrap();
            let after = tree(&dir);
            assert_eq!(after["README.md"].0, "new readme");
            assert_eq!(after["trust/notes.txt"].0, "mine", "a user's file");
            assert!(!after.contains_key("auth/admin.password"), "stale file");
            assert!(!dir.join("trust/docker/certs.d/old.test:5000").exists());
            assert_eq!(after["auth/htpasswd"].1, 0o600);
            assert_eq!(after["scripts/start.sh"].1, 0o755);
            let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert_eq!(leftovers, vec![std::ffi::OsString::from("out")]);
        }
    }

    #[test]
    fn a_kept_ca_outlives_a_bundle_that_no_longer_has_it() {
        // An external CA: the new bundle has ca.crt but no ca.key.
        let (old, _) = old_and_new();
        let new = bundle(&[(paths::CA_CERT, "CA", MODE_FILE)]);
        let tmp = tempfile::tempdir().unwrap();
        old.write_to(tmp.path()).unwrap();
        new.write_to(tmp.path()).unwrap();
        assert_eq!(tree(tmp.path())[paths::CA_KEY], ("CA KEY".into(), 0o600));
    }

    #[test]
    fn a_path_that_is_a_file_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("out");
        std::fs::write(&f, "x").unwrap();
        let e = old_and_new().0.write_to(&f).unwrap_err();
        assert!(
            e.to_string().contains("exists and is not a directory"),
            "{e}"
        );
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "x");
    }

    #[test]
    fn set_aside_names_take_a_counter_only_when_the_stamp_is_taken() {
        let taken = |names: &'static [&'static str]| move |n: &str| names.contains(&n);
        let s = "20270115T080000Z";
        assert_eq!(
            set_aside_suffix(s, &[paths::CA_CERT, paths::CA_KEY], taken(&[])),
            ".20270115T080000Z"
        );
        assert_eq!(
            set_aside_suffix(
                s,
                &[paths::CA_CERT, paths::CA_KEY],
                taken(&["certs/ca.crt.20270115T080000Z"])
            ),
            ".20270115T080000Z.1"
        );
        // The key's name alone taken: the pair still moves on together.
        assert_eq!(
            set_aside_suffix(
                s,
                &[paths::CA_CERT, paths::CA_KEY],
                taken(&["certs/ca.key.20270115T080000Z"])
            ),
            ".20270115T080000Z.1"
        );
        assert_eq!(
            set_aside_suffix(
                s,
                &[paths::CA_CERT, paths::CA_KEY],
                taken(&[
                    "certs/ca.crt.20270115T080000Z",
                    "certs/ca.key.20270115T080000Z",
                    "certs/ca.crt.20270115T080000Z.1",
                    "certs/ca.key.20270115T080000Z.2",
                ])
            ),
            ".20270115T080000Z.3"
        );
        // Another second's names do not count.
        assert_eq!(
            set_aside_suffix(
                s,
                &[paths::CA_CERT, paths::CA_KEY],
                taken(&["certs/ca.crt.20270115T075959Z"])
            ),
            ".20270115T080000Z"
        );
    }

    #[test]
    fn the_stamp_is_utc_whatever_the_offset() {
        let at = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        assert_eq!(stamp(at), "20270115T080000Z");
        let east = at.to_offset(UtcOffset::from_hms(5, 30, 0).unwrap());
        assert_eq!(stamp(east), "20270115T080000Z");
    }

    fn new_ca() -> Bundle {
        let (_, new) = old_and_new();
        let mut b = Bundle::default();
        for (p, f) in new.files() {
            let contents = match p {
                paths::CA_CERT => b"NEW CA".to_vec(),
                paths::CA_KEY => b"NEW CA KEY".to_vec(),
                _ => f.contents.clone(),
            };
            b.add(p, contents, f.mode);
        }
        b
    }

    const AT: i64 = 1_800_000_000;

    fn at() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(AT).unwrap()
    }

    #[test]
    fn a_changed_ca_is_refused_unless_it_is_replaced_on_purpose() {
        let tmp = tempfile::tempdir().unwrap();
        old_and_new().0.write_to(tmp.path()).unwrap();
        let before = tree(tmp.path());
        let e = new_ca().write_to(tmp.path()).unwrap_err();
        assert!(matches!(e, Error::Refused { .. }), "{e}");
        assert_eq!(tree(tmp.path()), before);
        let aside = new_ca().write_replacing_ca(tmp.path(), at()).unwrap();
        assert_eq!(
            aside,
            vec![
                SetAside {
                    path: paths::CA_CERT.into(),
                    kept_as: "certs/ca.crt.20270115T080000Z".into()
                },
                SetAside {
                    path: paths::CA_KEY.into(),
                    kept_as: "certs/ca.key.20270115T080000Z".into()
                },
            ]
        );
        let after = tree(tmp.path());
        assert_eq!(after[paths::CA_CERT].0, "NEW CA");
        assert_eq!(after[paths::CA_KEY], ("NEW CA KEY".into(), 0o600));
        assert_eq!(after["certs/ca.crt.20270115T080000Z"], ("CA".into(), 0o644));
        assert_eq!(
            after["certs/ca.key.20270115T080000Z"],
            ("CA KEY".into(), 0o600)
        );
    }

    #[test]
    fn replacing_the_ca_twice_in_one_second_keeps_both_old_ones() {
        let tmp = tempfile::tempdir().unwrap();
        old_and_new().0.write_to(tmp.path()).unwrap();
        new_ca().write_replacing_ca(tmp.path(), at()).unwrap();
        let third = bundle(&[
            (paths::CA_CERT, "THIRD CA", MODE_FILE),
            (paths::CA_KEY, "THIRD KEY", MODE_SECRET),
        ]);
        let aside = third.write_replacing_ca(tmp.path(), at()).unwrap();
        assert_eq!(aside[0].kept_as, "certs/ca.crt.20270115T080000Z.1");
        assert_eq!(aside[1].kept_as, "certs/ca.key.20270115T080000Z.1");
        // A later plain write (with a bundle that dropped other files)
        // never treats a set-aside file as stale.
        third.write_to(tmp.path()).unwrap();
        let after = tree(tmp.path());
        assert_eq!(after[paths::CA_CERT].0, "THIRD CA");
        assert_eq!(after["certs/ca.crt.20270115T080000Z"].0, "CA");
        assert_eq!(after["certs/ca.key.20270115T080000Z"].1, 0o600);
        assert_eq!(after["certs/ca.crt.20270115T080000Z.1"].0, "NEW CA");
        assert_eq!(
            after["certs/ca.key.20270115T080000Z.1"],
            ("NEW CA KEY".into(), 0o600)
        );
    }

    #[test]
    fn a_ca_replacement_killed_at_any_file_leaves_the_old_bundle_whole() {
        let (old, _) = old_and_new();
        let new = new_ca();
        for crash_after in 0..new.files().count() {
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path().join("out");
            old.write_to(&dir).unwrap();
            let before = tree(&dir);
            let aside = new.set_aside_ca(&dir, &stamp(at())).unwrap();
            let r = new.write_staged(&dir, &BTreeSet::new(), &aside, &[], Some(crash_after));
            assert!(matches!(r, Staged::Failed(_)));
            assert_eq!(tree(&dir), before, "killed after {crash_after} files");
            new.write_replacing_ca(&dir, at()).unwrap();
            assert_eq!(tree(&dir)["certs/ca.key.20270115T080000Z"].0, "CA KEY");
        }
    }

    #[test]
    fn an_old_ca_is_set_aside_staged_and_in_place() {
        // An external CA: the new bundle has a certificate and no key, so
        // the old key only leaves its name.
        let new = bundle(&[(paths::CA_CERT, "EXTERNAL CA", MODE_FILE)]);
        for in_place in [true, false] {
            let tmp = tempfile::tempdir().unwrap();
            old_and_new().0.write_to(tmp.path()).unwrap();
            if in_place {
                let aside = new.set_aside_ca(tmp.path(), &stamp(at())).unwrap();
                new.write_in_place(tmp.path(), &BTreeSet::new(), &aside, &[])
                    .unwrap();
            } else {
                new.write_replacing_ca(tmp.path(), at()).unwrap();
            }
            let after = tree(tmp.path());
            assert_eq!(after[paths::CA_CERT].0, "EXTERNAL CA");
            assert!(!after.contains_key(paths::CA_KEY), "in place: {in_place}");
            assert_eq!(after["certs/ca.crt.20270115T080000Z"].0, "CA");
            assert_eq!(
                after["certs/ca.key.20270115T080000Z"],
                ("CA KEY".into(), 0o600)
            );
        }
    }

    fn step(ca: (&str, Option<&str>), other: Option<(&str, &str, &str)>, readme: &str) -> Bundle {
        let mut files = vec![
            (paths::CA_CERT, ca.0, MODE_FILE),
            ("README.md", readme, MODE_FILE),
        ];
        if let Some(key) = ca.1 {
            files.push((paths::CA_KEY, key, MODE_SECRET));
        }
        let other_files;
        if let Some((which, cert, key)) = other {
            other_files = match which {
                "next" => [paths::CA_NEXT_CERT, paths::CA_NEXT_KEY],
                _ => [paths::CA_PREVIOUS_CERT, paths::CA_PREVIOUS_KEY],
            };
            files.push((other_files[0], cert, MODE_FILE));
            files.push((other_files[1], key, MODE_SECRET));
        }
        bundle(&files)
    }

    #[test]
    fn a_rotation_step_killed_at_any_file_leaves_the_step_before_whole() {
        let step1 = step(("A", Some("A KEY")), Some(("next", "B", "B KEY")), "1");
        let step2 = step(("B", Some("B KEY")), Some(("previous", "A", "A KEY")), "2");
        for crash_after in 0..step2.files().count() {
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path().join("out");
            step1.write_to(&dir).unwrap();
            let before = tree(&dir);
            let previous = std::fs::read_to_string(dir.join(paths::FILE_LIST)).unwrap();
            let previous: BTreeSet<&str> = previous.lines().collect();
            let r = step2.write_staged(&dir, &previous, &[], &[], Some(crash_after));
            assert!(matches!(r, Staged::Failed(_)));
            assert_eq!(tree(&dir), before, "killed after {crash_after} files");
            step2.write_to(&dir).unwrap();
            let after = tree(&dir);
            assert_eq!(after[paths::CA_CERT].0, "B");
            assert_eq!(after[paths::CA_PREVIOUS_KEY], ("A KEY".into(), 0o600));
            assert!(!after.contains_key(paths::CA_NEXT_CERT));
            assert!(!after.contains_key(paths::CA_NEXT_KEY));
        }
    }

    #[test]
    fn a_moved_ca_key_leaves_its_old_name_staged_and_in_place() {
        // Moving to a given CA C: step 2 has no certs/ca.key; the old key
        // lives on as ca-previous.key, so ca.key must not be carried over.
        let mut step1 = step(("A", Some("A KEY")), None, "1");
        step1.add(paths::CA_NEXT_CERT, "C", MODE_FILE);
        let step2 = step(("C", None), Some(("previous", "A", "A KEY")), "2");
        for in_place in [false, true] {
            let tmp = tempfile::tempdir().unwrap();
            step1.write_to(tmp.path()).unwrap();
            if in_place {
                let previous = std::fs::read_to_string(tmp.path().join(paths::FILE_LIST)).unwrap();
                let previous: BTreeSet<&str> = previous.lines().collect();
                step2
                    .write_in_place(tmp.path(), &previous, &[], &[paths::CA_KEY])
                    .unwrap();
            } else {
                step2.write_to(tmp.path()).unwrap();
            }
            let after = tree(tmp.path());
            assert_eq!(after[paths::CA_CERT].0, "C");
            assert!(!after.contains_key(paths::CA_KEY), "in place: {in_place}");
            assert_eq!(after[paths::CA_PREVIOUS_KEY].0, "A KEY");
        }
    }

    #[test]
    fn a_ca_whose_bytes_the_new_bundle_drops_is_refused_or_set_aside() {
        let step2 = step(("B", Some("B KEY")), Some(("previous", "A", "A KEY")), "2");
        let tmp = tempfile::tempdir().unwrap();
        step2.write_to(tmp.path()).unwrap();
        let before = tree(tmp.path());
        // A bundle with another CA at certs/ca.crt: B would be lost.
        let other = step(("X", Some("X KEY")), Some(("previous", "A", "A KEY")), "x");
        assert!(matches!(
            other.write_to(tmp.path()),
            Err(Error::Refused { .. })
        ));
        assert_eq!(tree(tmp.path()), before);
        // finish: the old CA leaves the bundle and is set aside.
        let finished = step(("B", Some("B KEY")), None, "3");
        let aside = finished.write_replacing_ca(tmp.path(), at()).unwrap();
        assert_eq!(
            aside.iter().map(|s| s.kept_as.as_str()).collect::<Vec<_>>(),
            [
                "certs/ca-previous.crt.20270115T080000Z",
                "certs/ca-previous.key.20270115T080000Z"
            ]
        );
        let after = tree(tmp.path());
        assert_eq!(after[paths::CA_CERT].0, "B");
        assert!(!after.contains_key(paths::CA_PREVIOUS_CERT));
        assert_eq!(
            after["certs/ca-previous.key.20270115T080000Z"],
            ("A KEY".into(), 0o600)
        );
    }
}
