//! The fallback where a staged swap is impossible (the parent is not
//! writable, the bundle directory is a mount point): each file replaced
//! atomically in place, then every directory whose entries changed synced.

use std::collections::BTreeSet;
use std::path::Path;

use super::files::{ancestors, create_dir, deepest_first, write_new_file};
use super::sync::{entries_to_sync, sync_dir};
use super::{io, SetAside, TMP_SUFFIX};
use crate::bundle::{Bundle, MODE_FILE};
use crate::error::{Error, Result};
use crate::plan::paths;

impl Bundle {
    /// The fallback: each file replaced atomically in place (synced before
    /// its rename), stale files removed afterwards, then every directory
    /// whose entries changed synced. An old CA that is set aside is first
    /// linked to its set-aside name, so that no moment lacks it.
    pub(super) fn write_in_place(
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
}

/// Remove the directories between `file` and `root` that became empty.
pub(super) fn remove_empty_parents(root: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == root || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

/// Write through a temporary file in the same directory, created with the
/// final mode (a key is never readable by others, not even briefly), then
/// rename it over the target.
pub(super) fn write_file(target: &Path, contents: &[u8], mode: u32) -> std::io::Result<()> {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = target.with_file_name(format!(".{name}{TMP_SUFFIX}"));
    let _ = std::fs::remove_file(&tmp);
    write_new_file(&tmp, contents, mode, true)?;
    std::fs::rename(&tmp, target)
}
