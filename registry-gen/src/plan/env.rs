//! The registry's environment as the plan writes it, and the one rule by
//! which a user's string reaches the registry.
//!
//! Distribution (2.x and 3.x alike) YAML-decodes every `REGISTRY_*`
//! variable into its config field (`configuration/parser.go`, with
//! yaml.v2): `@x: y #z` stops it at start, `redis: pass#1` becomes a map,
//! `yes`, `0x1F` or `null` become a boolean, a number or nothing, and
//! leading or trailing spaces vanish. So every value is one of:
//!
//! - a [`Literal`]: text the plan itself wrote and means as YAML (a port,
//!   a boolean, a number, a fixed word or path, the read-only map). Its
//!   constructors take only `&'static str`, numbers and booleans, so no
//!   user input can become one;
//! - [`EnvValue::Text`] / [`EnvValue::TextList`]: a string that carries
//!   user input, always rendered through [`yaml_scalar`];
//! - [`EnvValue::Secret`]: a user's secret, read from its Secret's
//!   [`SecretText::yaml_key`], whose data [`SecretText::entries`] writes
//!   through the same [`yaml_scalar`];
//! - [`EnvValue::GeneratedSecret`]: a token registry-gen generated itself
//!   (the HTTP secret: URL-safe base64, which YAML reads as itself).
//!
//! Variables that are not `REGISTRY_*` (`SSL_CERT_DIR`, ...) are not
//! parsed as YAML and take only literals.

use std::fmt::Write as _;

/// Text the plan itself wrote, handed to the container as is. Built only
/// from static text, numbers and booleans (the field is private).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Literal(String);

impl Literal {
    /// A fixed word, path or YAML text of the plan's own.
    pub fn word(w: &'static str) -> Literal {
        Literal(w.to_owned())
    }
    /// `dir/file`, both the plan's own.
    pub fn path(dir: &'static str, file: &'static str) -> Literal {
        Literal(format!("{dir}/{file}"))
    }
    /// A listen address on every interface: `:port`.
    pub fn port(port: u16) -> Literal {
        Literal(format!(":{port}"))
    }
    pub fn number(n: u64) -> Literal {
        Literal(n.to_string())
    }
    pub fn boolean(b: bool) -> Literal {
        Literal(b.to_string())
    }
}

/// The value of one environment variable.
#[derive(Debug, Clone)]
pub(crate) enum EnvValue {
    /// See [`Literal`].
    Literal(Literal),
    /// A string that carries user input: given as [`yaml_scalar`] of it.
    Text(String),
    /// A list of such strings: a YAML flow sequence of [`yaml_scalar`]s.
    TextList(Vec<String>),
    /// A user's secret: a `secretKeyRef` to its YAML-encoded key.
    Secret(SecretText),
    /// A secret registry-gen generated (URL-safe base64): a `secretKeyRef`
    /// to the key that holds it as is.
    GeneratedSecret(super::SecretKeyRef),
}

impl EnvValue {
    pub fn literal(w: &'static str) -> EnvValue {
        EnvValue::Literal(Literal::word(w))
    }

    /// The variable's value, `None` for one read from a Secret.
    pub fn value(&self) -> Option<String> {
        match self {
            EnvValue::Literal(l) => Some(l.0.clone()),
            EnvValue::Text(s) => Some(yaml_scalar(s)),
            EnvValue::TextList(v) => Some(format!(
                "[{}]",
                v.iter()
                    .map(|s| yaml_scalar(s))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            EnvValue::Secret(_) | EnvValue::GeneratedSecret(_) => None,
        }
    }

    /// The Secret and key the variable is read from, if it is.
    pub fn secret_key_ref(&self) -> Option<(&str, &str)> {
        match self {
            EnvValue::Secret(s) => Some((&s.secret, &s.yaml_key)),
            EnvValue::GeneratedSecret(r) => Some((&r.secret, r.key)),
            _ => None,
        }
    }
}

/// A user's secret string (a key, a password, a login) in a Secret, under
/// two keys: `key` holds it as given, for anything that reads it raw (the
/// garbage-collection Job's Redis client); `yaml_key` holds
/// [`yaml_scalar`] of it, which only the `REGISTRY_*` variable references.
#[derive(Debug, Clone)]
pub(crate) struct SecretText {
    pub secret: String,
    pub key: &'static str,
    pub yaml_key: String,
}

impl SecretText {
    /// `<secret>`'s `key` and `key.yaml`.
    pub fn new(secret: String, key: &'static str) -> SecretText {
        SecretText {
            secret,
            key,
            yaml_key: format!("{key}.yaml"),
        }
    }

    /// The Secret's data entries for `value`: as given, and as YAML.
    pub fn entries(&self, value: &str) -> [(String, Vec<u8>); 2] {
        [
            (self.key.to_owned(), value.as_bytes().to_vec()),
            (self.yaml_key.clone(), yaml_scalar(value).into_bytes()),
        ]
    }
}

/// `s` as a YAML double-quoted scalar that every YAML parser reads back as
/// exactly `s`: printable ASCII as itself (`"` and `\` escaped), every
/// other character as `\uXXXX` or `\UXXXXXXXX`. yaml.v2 (distribution 2.x
/// and 3.x) decodes these escapes (`yaml_parser_scan_flow_scalar`) and
/// refuses unescaped control characters, DEL and C1 codes anywhere in its
/// input, so nothing outside printable ASCII is written raw. A quoted
/// scalar is a string whatever its content: no tag, anchor, alias,
/// comment, flow or block indicator, boolean, number or null applies, and
/// leading and trailing spaces are kept.
pub(crate) fn yaml_scalar(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            c if u32::from(c) <= 0xFFFF => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => {
                let _ = write!(out, "\\U{:08X}", u32::from(c));
            }
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests;
