//! Small filesystem helpers of the write: directories with their modes,
//! new files created with their final mode, relative-path arithmetic.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;

use crate::bundle::Bundle;

impl Bundle {
    /// `.registry-gen-files`: one bundle path a line.
    pub(super) fn file_list(&self) -> String {
        self.files().map(|(p, _)| format!("{p}\n")).collect()
    }
}

pub(super) fn create_dir(dir: &Path, secret: bool) -> std::io::Result<()> {
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

/// The directories above `rel` (a relative path), nearest last: `a`, `a/b`
/// for `a/b/c`.
pub(super) fn ancestors(rel: &str) -> impl Iterator<Item = &str> {
    rel.match_indices('/').map(move |(i, _)| &rel[..i])
}

/// Relative directory paths, each after every directory below it (deeper
/// first; `""`, the root, last).
pub(super) fn deepest_first(dirs: BTreeSet<String>) -> Vec<String> {
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

/// Create a file that does not exist yet, with its final mode from the
/// start; `sync`: fsync it before returning. Returns it open, for a later
/// fsync.
pub(super) fn write_new_file(
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
