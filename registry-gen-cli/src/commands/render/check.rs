//! `render --out DIR --check`: render as a write would (reusing what DIR
//! holds), compare with DIR, write nothing. Lists every path a write would
//! add, change, remove or set aside, never contents (keys and passwords
//! are among them). Exit 0 when nothing would change, 1 when something
//! would ([`OutOfDate`]), 2 when the check itself could not be made
//! ([`CouldNotCheck`]: a bad config, an unreadable file, a CA the write
//! would refuse to replace), so that a pipeline can tell the three apart.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use registry_gen::ChangeKind;

use super::FromDir;

/// The bundle on disk differs from what a render would write: exit 1.
#[derive(Debug)]
pub struct OutOfDate {
    count: usize,
    dir: PathBuf,
}

impl std::fmt::Display for OutOfDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} path(s) in {} would change; render without --check to write them",
            self.count,
            self.dir.display()
        )
    }
}

impl std::error::Error for OutOfDate {}

/// Wraps any failure of `render --check` other than [`OutOfDate`]: exit 2.
#[derive(Debug)]
pub struct CouldNotCheck;

impl std::fmt::Display for CouldNotCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("render --check could not compare the bundle")
    }
}

/// Compare `r` with the bundle in `dir`; print what would change on
/// stdout, one path a line.
pub(super) fn run(r: &FromDir, dir: &Path) -> Result<()> {
    let replace_ca = r.replacing_ca.then_some(r.now);
    let changes = r.bundle.changes(dir, replace_ca)?;
    if changes.is_empty() {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    for c in &changes {
        let what = match &c.kind {
            ChangeKind::Added => "add".to_owned(),
            ChangeKind::Changed => "change".to_owned(),
            ChangeKind::Mode(from, to) => format!("change mode {from:04o} -> {to:04o}"),
            ChangeKind::Removed => "remove".to_owned(),
            ChangeKind::SetAside(kept_as) => format!("set aside as {kept_as}"),
            _ => "change".to_owned(),
        };
        writeln!(out, "would {what}: {}", c.path)?;
    }
    out.flush().context("writing to stdout")?;
    Err(OutOfDate {
        count: changes.len(),
        dir: dir.to_owned(),
    }
    .into())
}
