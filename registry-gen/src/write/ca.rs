//! Which CA files a write may touch: an existing CA is kept, moved to
//! another CA path, or set aside under a stamped name, never lost.

use std::path::Path;

use time::{OffsetDateTime, UtcOffset};

use super::SetAside;
use crate::bundle::Bundle;
use crate::error::{Error, Result};
use crate::plan::paths;

impl Bundle {
    /// An existing CA file is never lost: it stays, or its bytes are still
    /// in the new bundle under another CA path (a rotation step moves them;
    /// returned, for the write to drop the old name), or it is set aside.
    /// Anything else is refused.
    pub(super) fn moved_cas(
        &self,
        dir: &Path,
        set_aside: &[SetAside],
    ) -> Result<Vec<&'static str>> {
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
        Ok(moved)
    }

    /// Whether one of the new bundle's CA files holds exactly `bytes`.
    pub(super) fn holds_ca(&self, bytes: &[u8]) -> bool {
        paths::CA_FILES
            .iter()
            .any(|p| self.get(p).is_some_and(|f| f.contents == bytes))
    }

    /// The CA files of the bundle in `dir` whose bytes this bundle no
    /// longer holds, and the names they are to be kept under.
    pub(super) fn set_aside_ca(&self, dir: &Path, stamp: &str) -> Result<Vec<SetAside>> {
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
    pub(super) fn is_stale(&self, path: &str) -> bool {
        self.get(path).is_none()
            && !paths::CA_FILES.iter().any(|ca| {
                path.strip_prefix(ca)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
            })
    }
}

/// `at` in UTC as `YYYYMMDDTHHMMSSZ`.
pub(super) fn stamp(at: OffsetDateTime) -> String {
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
pub(super) fn set_aside_suffix(
    stamp: &str,
    names: &[&str],
    taken: impl Fn(&str) -> bool,
) -> String {
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
