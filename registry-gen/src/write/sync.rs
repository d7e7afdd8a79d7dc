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

/// How many threads, this one included, fsync a staged bundle on a
/// filesystem that keeps data on a disk (a typical bundle has about 70
/// files and directories). fsyncs in flight together share journal
/// commits and disk cache flushes: an fsync that arrives while the
/// transaction holding its inode is being committed waits for that commit
/// and sends no flush of its own; one that arrives after it sends a flush,
/// and the block layer merges the flushes pending at one moment. One after
/// another, each waits for its own. Measured on ext4 (docs/performance.md,
/// "The durable write"): 8 threads 39.6 flushes a render, 16 24.6, 32
/// 17.3, with the wall time within 1 ms from 16 to 48; each thread costs
/// a `clone3` and its stack, so 16 instead of 32, taking work from one
/// counter so that none idles while another has a queue.
const SYNC_THREADS: usize = 16;

/// The stack of a syncing thread: it only calls fsync.
const SYNC_STACK: usize = 64 * 1024;

/// Start writing `f`'s data back now, without waiting: on Linux,
/// `posix_fadvise(DONTNEED)` queues a file's dirty pages for writeback as
/// `sync_file_range(SYNC_FILE_RANGE_WRITE)` does (which rustix lacks), so
/// the disk writes a file's data while the next files are being made, and
/// its fsync later finds little or nothing left to wait for. Only a hint:
/// the fsync is what makes the data durable.
pub(super) fn start_writeback(f: &std::fs::File) {
    let _ = rustix::fs::fadvise(f, 0, None, rustix::fs::Advice::DontNeed);
}

/// Whether `dir` is on a filesystem that keeps everything in memory
/// (tmpfs, ramfs), where fsync returns at once having nothing to write:
/// there threads would only cost their start.
fn in_memory(dir: &Path) -> bool {
    // linux/magic.h; `f_type`'s width differs between architectures.
    const IN_MEMORY: [u64; 2] = [0x0102_1994, 0x8584_58f6]; // TMPFS_MAGIC, RAMFS_MAGIC
    rustix::fs::statfs(dir).is_ok_and(|s| {
        #[allow(clippy::useless_conversion, clippy::unnecessary_cast)]
        let kind = s.f_type as u64;
        IN_MEMORY.contains(&kind)
    })
}

/// fsync each of `open` (files: data and inode; directories: entries),
/// which all lie on the filesystem of `dir`: all at once on
/// [`SYNC_THREADS`] threads, or on this one where that filesystem lives in
/// memory. Every one is fsynced either way.
pub(super) fn sync_all_at_once(dir: &Path, open: &[(PathBuf, std::fs::File)]) -> Result<()> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let work = || -> Result<()> {
        loop {
            let Some((p, f)) = open.get(next.fetch_add(1, Ordering::Relaxed)) else {
                return Ok(());
            };
            f.sync_all().map_err(io(p))?;
        }
    };
    let helpers = if in_memory(dir) {
        0
    } else {
        (SYNC_THREADS - 1).min(open.len().saturating_sub(1))
    };
    std::thread::scope(|s| {
        // A thread that cannot start leaves its share to the others.
        let started: Vec<_> = (0..helpers)
            .map_while(|_| {
                std::thread::Builder::new()
                    .stack_size(SYNC_STACK)
                    .spawn_scoped(s, work)
                    .ok()
            })
            .collect();
        let mine = work();
        started
            .into_iter()
            .map(|t| t.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .chain([mine])
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
