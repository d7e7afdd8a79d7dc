//! `registry-gen check [--config FILE]`: parse and validate a config and
//! print the library's [`registry_gen::Summary`] of the plan. Writes nothing.

use std::io::Write;

use anyhow::{Context, Result};
use registry_gen::layout::CONFIG;
use registry_gen::Config;

use super::render::read_text;
use crate::cli::CheckArgs;

pub fn run(mut args: CheckArgs) -> Result<()> {
    if let (Some(dir), None) = (&args.bundle, &args.config) {
        args.config = Some(dir.join(CONFIG));
    }
    let config = match &args.config {
        Some(path) => Config::from_yaml(&read_text(path, "--config")?)
            .with_context(|| path.display().to_string())?,
        None => Config::embedded_default(),
    };
    let summary = registry_gen::summarize(&config).with_context(|| match &args.config {
        Some(path) => path.display().to_string(),
        None => "the embedded default".to_owned(),
    })?;
    let mut out = std::io::stdout().lock();
    write!(out, "{summary}")?;
    if let Some(dir) = &args.bundle {
        let files = super::inspect::bundle_certificates(dir)?;
        let named: Vec<(&str, &[u8])> = files
            .iter()
            .map(|(n, b)| (n.as_str(), b.as_slice()))
            .collect();
        let now = super::render::now()?;
        let report = registry_gen::inspect(&named, Some(&config), now)?;
        write!(
            out,
            "\ncertificates of {}:\n{}",
            dir.display(),
            report.expiry_table(now)
        )?;
        for p in &report.problems {
            writeln!(out, "problem: {p}")?;
        }
        for w in &report.warnings {
            writeln!(out, "warning: {w}")?;
        }
        match super::inspect::rotation_status(dir)? {
            Some(r) => writeln!(out, "{r}")?,
            None => writeln!(out, "CA rotation: none in progress")?,
        }
    }
    writeln!(out, "\nconfig is valid; nothing was written")?;
    out.flush()?;
    Ok(())
}
