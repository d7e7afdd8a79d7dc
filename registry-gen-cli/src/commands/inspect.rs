//! `registry-gen inspect DIR|FILE`: read the certificates (and a bundle's
//! config), let the library judge them, print the report.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};
use registry_gen::layout::{
    CA_CERT, CA_NEXT_CERT, CA_PREVIOUS_CERT, CA_ROTATION, CONFIG, SERVER_CERT,
};
use registry_gen::{Config, RotationStep};

use super::render::{now, read_text};
use crate::cli::InspectArgs;

pub fn run(args: InspectArgs) -> Result<()> {
    let mut files = Vec::new();
    let mut config_path = args.config.clone();
    let mut rotation = None;
    if args.path.is_dir() {
        files = bundle_certificates(&args.path)?;
        rotation = rotation_status(&args.path)?;
        if config_path.is_none() && args.path.join(CONFIG).exists() {
            config_path = Some(args.path.join(CONFIG));
        }
    } else {
        let bytes = std::fs::read(&args.path)
            .with_context(|| format!("reading {}", args.path.display()))?;
        files.push((args.path.display().to_string(), bytes));
    }
    let config = match &config_path {
        Some(p) => Some(
            Config::from_yaml(&read_text(p, "--config")?)
                .with_context(|| p.display().to_string())?,
        ),
        None => None,
    };
    let named: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let now = now()?;
    let report = registry_gen::inspect(&named, config.as_ref(), now)?;
    let mut out = std::io::stdout().lock();
    write!(out, "{report}")?;
    if let Some(p) = config_path {
        writeln!(out, "names checked against {}", p.display())?;
    }
    write!(out, "\n{}", report.expiry_table(now))?;
    if let Some(r) = rotation {
        writeln!(out, "\n{r}")?;
    }
    out.flush()?;
    if !report.problems.is_empty() {
        bail!("{} problem(s) found", report.problems.len());
    }
    if let Some(within) = args.fail_within {
        let soon = report.expiring_within(now, within.0);
        if !soon.is_empty() {
            let names: Vec<String> = soon
                .iter()
                .map(|c| format!("{} (on {})", c.source, c.not_after.date()))
                .collect();
            bail!(
                "{} certificate(s) expire within {}: {}",
                soon.len(),
                within.1,
                names.join(", ")
            );
        }
    }
    Ok(())
}

/// A bundle's certificates: the server's, its CA, and during a CA
/// rotation the other CA (each with its bundle path).
pub(crate) fn bundle_certificates(dir: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    for rel in [SERVER_CERT, CA_CERT, CA_NEXT_CERT, CA_PREVIOUS_CERT] {
        let p = dir.join(rel);
        match std::fs::read(&p) {
            Ok(bytes) => files.push((rel.to_owned(), bytes)),
            Err(e)
                if e.kind() == std::io::ErrorKind::NotFound
                    && rel != SERVER_CERT
                    && rel != CA_CERT => {}
            Err(e) => return Err(e).with_context(|| format!("reading {}", p.display())),
        }
    }
    Ok(files)
}

/// What a bundle's CA rotation record says: where it is and what is next.
pub(crate) fn rotation_status(dir: &Path) -> Result<Option<String>> {
    let p = dir.join(CA_ROTATION);
    let text = match std::fs::read_to_string(&p) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", p.display())),
    };
    let step = RotationStep::from_record(&text)?;
    Ok(Some(format!(
        "CA rotation in progress, {}: {}.\nfirst: {}\nnext: registry-gen render --out {} --rotate-ca {}",
        step.taken(),
        step.describe(),
        step.before_next(),
        crate::term::shell_word(&dir.display().to_string()),
        step.next().as_str()
    )))
}
