//! `registry-gen check [--config FILE]`: parse and validate a config and
//! print the library's [`registry_gen::Summary`] of the plan. Writes nothing.

use std::io::Write;

use anyhow::{Context, Result};
use registry_gen::Config;

use super::render::read_text;
use crate::cli::CheckArgs;

pub fn run(args: CheckArgs) -> Result<()> {
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
    writeln!(out, "\nconfig is valid; nothing was written")?;
    out.flush()?;
    Ok(())
}
