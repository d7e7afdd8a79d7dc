//! One module per subcommand (`meta` holds the three that only print:
//! schema, completions, man), the dispatch, and the exit code of a failure.

pub mod check;
pub mod init;
pub mod inspect;
pub mod meta;
pub mod render;

use crate::cli::{Cli, Command};

/// Run the subcommand `cli` names.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let quiet = cli.quiet;
    match cli.command {
        Command::Init(args) => init::run(args, quiet),
        Command::Check(args) => check::run(args),
        Command::Render(args) => render::run(*args, quiet),
        Command::Inspect(args) => inspect::run(args),
        Command::Schema => meta::schema(),
        Command::Completions(args) => meta::completions(args.shell),
        Command::Man => meta::man(),
    }
}

/// 2 for a config that does not parse or validate (like a usage error, the
/// user's input is wrong and nothing was attempted), 1 for everything else.
/// `render --check`: 1 only when the bundle would change, 2 for any error.
pub fn exit_code(e: &anyhow::Error) -> u8 {
    if e.is::<render::check::OutOfDate>() {
        return 1;
    }
    if e.downcast_ref::<render::check::CouldNotCheck>().is_some() {
        return 2;
    }
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
