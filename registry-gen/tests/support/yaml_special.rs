//! Strings YAML would read as something else than themselves (issue 19's
//! table): a map, an alias, an anchor, a tag, a quoted string, a sequence,
//! a flow sequence and map, a directive, padded text, a boolean, a null, a
//! hex number, a number, and a key with a comment. Shared by the encoder's
//! unit test (`plan/env/tests.rs`, by `#[path]`) and the end-to-end test of
//! secrets that carry them (`e2e_hostile.rs`).

pub const YAML_SPECIAL: [&str; 17] = [
    "@x: y #z",
    "*a",
    "&b",
    "!t",
    "'q'",
    "\"q\"",
    "- x",
    "[1]",
    "{a: b}",
    "%s",
    "  padded both ends  ",
    "yes",
    "null",
    "~",
    "0x1F",
    "123",
    "redis: pass#1",
];
