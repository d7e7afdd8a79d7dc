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
    let cli = cli::Cli::parse();
    let quiet = cli.quiet;
    let result = match cli.command {
        cli::Command::Init(args) => commands::init::run(args, quiet),
        cli::Command::Check(args) => commands::check::run(args),
        cli::Command::Render(args) => commands::render::run(*args, quiet),
        cli::Command::Inspect(args) => commands::inspect::run(args),
        cli::Command::Schema => commands::meta::schema(),
        cli::Command::Completions(args) => commands::meta::completions(args.shell),
        cli::Command::Man => commands::meta::man(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            term::error(&format!("{e:#}"));
            ExitCode::from(exit_code(&e))
        }
    }
}

/// 2 for a config that does not parse or validate (like a usage error, the
/// user's input is wrong and nothing was attempted), 1 for everything else.
fn exit_code(e: &anyhow::Error) -> u8 {
    let bad_config = e.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<registry_gen::Error>(),
            Some(registry_gen::Error::Parse { .. } | registry_gen::Error::Invalid(_))
        )
    });
    if bad_config {
        2
    } else {
        1
    }
}
