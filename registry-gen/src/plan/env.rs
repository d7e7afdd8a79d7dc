//! The registry's environment: the one module that builds the `REGISTRY_*`
//! variables of every registry in the bundle, and the one rule by which a
//! user's string reaches the registry.
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

use super::workload::DRAIN_TIMEOUT_SECONDS;
use super::{DataPlan, DataSource, Plan, PortPlan, RedisPlan};

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
    /// A Go duration of whole seconds (`60s`).
    pub fn seconds(n: u64) -> Literal {
        Literal(format!("{n}s"))
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

impl Plan<'_> {
    /// The container's environment: the registry is configured through
    /// REGISTRY_* variables only, which distribution v2 and v3 both read
    /// (their config files live at different paths). Each value that
    /// carries user input is an [`EnvValue::Text`] or a
    /// [`EnvValue::Secret`] (see above).
    pub fn env(&self) -> Vec<(&'static str, EnvValue)> {
        let mut env = self.registry_env(&self.ports, &self.data, self.cache.as_ref());
        if let Some(a) = &self.auth {
            use EnvValue::{Literal as L, Text};
            env.push(("REGISTRY_AUTH", EnvValue::literal("htpasswd")));
            env.push(("REGISTRY_AUTH_HTPASSWD_REALM", Text(a.realm.clone())));
            env.push((
                "REGISTRY_AUTH_HTPASSWD_PATH",
                L(Literal::path(a.mount_path, a.key)),
            ));
        }
        env
    }

    /// What every registry of the bundle (the main one and each mirror)
    /// is configured with: its listener, TLS, HTTP secret, data (and its
    /// blob-descriptor cache), logging.
    pub(super) fn registry_env(
        &self,
        ports: &PortPlan,
        data: &DataPlan,
        cache: Option<&RedisPlan>,
    ) -> Vec<(&'static str, EnvValue)> {
        use EnvValue::{GeneratedSecret, Literal as L};
        let mut env = vec![
            ("REGISTRY_HTTP_ADDR", L(Literal::port(ports.container))),
            (
                "REGISTRY_HTTP_TLS_CERTIFICATE",
                L(Literal::path(self.tls.mount_path, self.tls.cert_key)),
            ),
            (
                "REGISTRY_HTTP_TLS_KEY",
                L(Literal::path(self.tls.mount_path, self.tls.key_key)),
            ),
            (
                "REGISTRY_HTTP_SECRET",
                GeneratedSecret(self.http_secret.clone()),
            ),
        ];
        env.extend(storage_env(data, cache));
        env.extend([
            (
                "REGISTRY_STORAGE_DELETE_ENABLED",
                L(Literal::boolean(self.delete_enabled)),
            ),
            // A stopping registry finishes the requests it serves (see
            // `workload::DrainPlan`) instead of dropping them.
            (
                "REGISTRY_HTTP_DRAINTIMEOUT",
                L(Literal::seconds(DRAIN_TIMEOUT_SECONDS)),
            ),
            // No TLS 1.0/1.1 (the distribution server accepts them by default).
            ("REGISTRY_HTTP_TLS_MINIMUMTLS", EnvValue::literal("tls1.2")),
            // The official 3.x image's config file says `debug`.
            (
                "REGISTRY_LOG_LEVEL",
                EnvValue::literal(self.log_level.as_str()),
            ),
        ]);
        env.extend(debug_env(ports));
        // Registry 3.x exports OpenTelemetry traces to localhost:4318 unless
        // told not to, and logs an error for each batch nobody receives.
        // 2.x has no tracing and ignores it.
        env.push(("OTEL_TRACES_EXPORTER", EnvValue::literal("none")));
        env
    }
}

/// Where a registry keeps its data, and its blob-descriptor cache.
fn storage_env(data: &DataPlan, cache: Option<&RedisPlan>) -> Vec<(&'static str, EnvValue)> {
    let mut env = Vec::new();
    match &data.source {
        DataSource::S3(s3) => {
            env.extend(s3.env());
            // REGISTRY_STORAGE=s3 dropped the image's in-memory cache
            // setting with the rest of its storage map: set it again.
            if cache.is_none() {
                env.push((
                    "REGISTRY_STORAGE_CACHE_BLOBDESCRIPTOR",
                    EnvValue::literal("inmemory"),
                ));
            }
        }
        _ => env.push((
            "REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY",
            EnvValue::Text(data.mount_path.clone()),
        )),
    }
    if let Some(c) = cache {
        env.extend(c.env());
    }
    env
}

/// The debug listener, owned here: the official 3.x image's config file
/// starts one on `:5001` (which crash-loops the registry when the container
/// port is 5001); an empty address switches it off. As Text the one rule
/// writes it as YAML's `""`: an empty env value would be dropped by the API
/// server, and every apply would report the Deployment `configured`.
fn debug_env(ports: &PortPlan) -> Vec<(&'static str, EnvValue)> {
    let Some(d) = ports.debug else {
        return vec![("REGISTRY_HTTP_DEBUG_ADDR", EnvValue::Text(String::new()))];
    };
    vec![
        (
            "REGISTRY_HTTP_DEBUG_ADDR",
            EnvValue::Literal(Literal::port(d.port)),
        ),
        (
            "REGISTRY_HTTP_DEBUG_PROMETHEUS_ENABLED",
            EnvValue::Literal(Literal::boolean(d.metrics)),
        ),
    ]
}

#[cfg(test)]
mod tests;
