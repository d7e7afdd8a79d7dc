//! One module per subcommand (`meta` holds the three that only print:
//! schema, completions, man).

pub mod check;
pub mod init;
pub mod inspect;
pub mod meta;
pub mod render;
