//! The staged write: the new bundle whole in `.<dir>.registry-gen-new`
//! beside the target, the user's files and kept CAs hard-linked in, the
//! tree made durable, then one `renameat2(RENAME_EXCHANGE)` swaps it in.

use std::collections::BTreeSet;
use std::path::Path;

use super::files::{ancestors, create_dir, write_new_file};
use super::sync::{entries_to_sync, start_writeback, sync_all_at_once, sync_dir};
use super::{io, SetAside, Staged, TMP_SUFFIX};
use crate::bundle::{Bundle, MODE_FILE};
use crate::error::{Error, Result};
use crate::plan::paths;

impl Bundle {
    /// The staged write; `crash_after` stops it dead after that many files
    /// (tests: a kill mid-write), leaving what a killed process would.
    pub(super) fn write_staged(
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
            start_writeback(&f);
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
        sync_all_at_once(staging, &written)
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
}

/// Swap two directories atomically.
#[cfg(target_os = "linux")]
pub(super) fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE)?;
    Ok(())
}

/// Without an atomic exchange: the old bundle is renamed aside, then the
/// new one into place (a crash between the two leaves both beside `b`).
#[cfg(not(target_os = "linux"))]
pub(super) fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    let old = a.with_extension("old");
    std::fs::rename(b, &old)?;
    std::fs::rename(a, b)?;
    std::fs::rename(&old, a)
}
