//! The `registry-gen` command: parses flags, runs one subcommand, prints an
//! error once (`registry-gen: error: ...` with its causes) and owns the exit
//! codes: 0 success, 1 bad config or failed write, 2 usage (clap).

use std::process::ExitCode;

use clap::Parser;

mod cli;
mod commands;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Render(args) => commands::render::run(*args),
        cli::Command::Inspect(args) => commands::inspect::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("registry-gen: error: {e:#}");
            ExitCode::from(1)
        }
    }
}
