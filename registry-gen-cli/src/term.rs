//! stderr messages: `registry-gen: error: ...` and `registry-gen: warning:
//! ...`, coloured only on a terminal that wants colour. anstream honours
//! `NO_COLOR` (which wins), `CLICOLOR` and `CLICOLOR_FORCE`, as clap does for
//! the help.

use anstyle::{AnsiColor, Style};

const ERROR: Style = AnsiColor::Red.on_default().bold();
const WARNING: Style = AnsiColor::Yellow.on_default().bold();

/// `registry-gen: error: {message}` on stderr.
pub fn error(message: &str) {
    anstream::eprintln!("registry-gen: {ERROR}error:{ERROR:#} {message}");
}

/// `registry-gen: warning: {message}` on stderr.
pub fn warning(message: &str) {
    anstream::eprintln!("registry-gen: {WARNING}warning:{WARNING:#} {message}");
}

/// `word` as one shell word: as it is when it needs no quoting, else in
/// single quotes, so a printed `next:` command works when pasted.
pub fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}
