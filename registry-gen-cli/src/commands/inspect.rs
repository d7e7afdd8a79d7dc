//! `registry-gen inspect DIR|FILE`: read the certificates (and a bundle's
//! config), let the library judge them, print the report.

use std::io::Write;

use anyhow::{bail, Context, Result};
use registry_gen::layout::{CA_CERT, CONFIG, SERVER_CERT};
use registry_gen::Config;

use super::render::{now, read_text};
use crate::cli::InspectArgs;

pub fn run(args: InspectArgs) -> Result<()> {
    let mut files = Vec::new();
    let mut config_path = args.config.clone();
    if args.path.is_dir() {
        for rel in [SERVER_CERT, CA_CERT] {
            let p = args.path.join(rel);
            let bytes = std::fs::read(&p).with_context(|| format!("reading {}", p.display()))?;
            files.push((rel.to_owned(), bytes));
        }
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
    let report = registry_gen::inspect(&named, config.as_ref(), now()?)?;
    let mut out = std::io::stdout().lock();
    write!(out, "{report}")?;
    if let Some(p) = config_path {
        writeln!(out, "names checked against {}", p.display())?;
    }
    out.flush()?;
    if !report.problems.is_empty() {
        bail!("{} problem(s) found", report.problems.len());
    }
    Ok(())
}
