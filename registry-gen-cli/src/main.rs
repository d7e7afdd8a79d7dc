//! The `registry-gen` command: parses flags, runs one subcommand, prints an
//! error once (`registry-gen: error: ...` with its causes) and owns the exit
//! codes: 0 success, 1 failure, 2 usage (clap) or a config that does not
//! parse or validate.

use std::process::ExitCode;

use clap::Parser;

mod cli;
mod commands;
mod tarball;
mod term;

fn main() -> ExitCode {
    match commands::run(cli::Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            term::error(&format!("{e:#}"));
            ExitCode::from(commands::exit_code(&e))
        }
    }
}
