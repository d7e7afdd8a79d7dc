//! Durability: which fsyncs a write issues and how (see the module
//! documentation of `write` for what is promised).

use std::path::{Path, PathBuf};

use super::io;
use crate::error::Result;

/// Make `dir`'s entries durable (fsync of the directory).
pub(super) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(test)]
    super::tests::synced(dir);
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
pub(super) fn sync_all_at_once(open: &[(PathBuf, std::fs::File)]) -> Result<()> {
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
    open.iter().for_each(|(p, _)| super::tests::synced(p));
    Ok(())
}

/// The directories whose entries change when `dir` is created or gets a
/// new entry: `dir` itself, and each one above it up to the first that
/// exists now (the rest are created along with `dir`), nearest first.
pub(super) fn entries_to_sync(dir: &Path) -> Vec<PathBuf> {
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
