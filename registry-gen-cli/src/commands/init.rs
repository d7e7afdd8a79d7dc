//! `registry-gen init [FILE]`: write the commented starting config (and the
//! JSON Schema its `$schema` line names), never over an existing file.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};
use registry_gen::Config;

use crate::cli::InitArgs;

/// The commented config: every field, its value in the embedded default and
/// one line on what it does. Tested to parse to `Config::embedded_default()`
/// and to name every field of the schema.
pub const TEMPLATE: &str = include_str!("init.yaml");

/// The file the template's `# yaml-language-server: $schema=` line names.
pub const SCHEMA_FILE: &str = "registry-gen.schema.json";

pub fn run(args: InitArgs, quiet: bool) -> Result<()> {
    if args.path == Path::new("-") {
        let mut out = std::io::stdout().lock();
        out.write_all(TEMPLATE.as_bytes())
            .and_then(|()| out.flush())
            .context("writing to stdout")?;
        return Ok(());
    }
    match write_new(&args.path, TEMPLATE) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => bail!(
            "{}: exists already; init never overwrites a config: edit it, check it with `registry-gen check --config {}`, or move it away first",
            args.path.display(),
            args.path.display()
        ),
        Err(e) => return Err(e).with_context(|| format!("writing {}", args.path.display())),
    }
    let schema = args
        .path
        .parent()
        .unwrap_or(Path::new(""))
        .join(SCHEMA_FILE);
    let schema_written = match write_new(&schema, &Config::json_schema()) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
        Err(e) => return Err(e).with_context(|| format!("writing {}", schema.display())),
    };
    if !quiet {
        let mut err = std::io::stderr().lock();
        writeln!(err, "wrote {}", args.path.display())?;
        if schema_written {
            writeln!(err, "wrote {} (for editors)", schema.display())?;
        } else {
            writeln!(err, "kept the existing {}", schema.display())?;
        }
        writeln!(
            err,
            "first: edit it (your node IPs, DNS names, storage, users)\nnext: registry-gen check --config {}",
            crate::term::shell_word(&args.path.display().to_string())
        )?;
    }
    Ok(())
}

/// Create `path` with `text`; fails with `AlreadyExists` if it is there.
fn write_new(path: &Path, text: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}
