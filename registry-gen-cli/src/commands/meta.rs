//! The subcommands that only print: `schema` (the config's JSON Schema,
//! from the library), `completions` (clap_complete) and `man` (clap_mangen).

use std::io::Write;

use anyhow::{Context, Result};
use clap::CommandFactory;

use crate::cli::Cli;

pub fn schema() -> Result<()> {
    print(registry_gen::Config::json_schema().as_bytes())
}

pub fn completions(shell: clap_complete::Shell) -> Result<()> {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "registry-gen", &mut buf);
    print(&buf)
}

pub fn man() -> Result<()> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut buf)
        .context("rendering the man page")?;
    print(&buf)
}

fn print(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .context("writing to stdout")
}
