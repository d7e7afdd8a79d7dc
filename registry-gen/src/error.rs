//! Typed errors. A validation failure lists every bad field at once, each
//! with its path in the config, the value found and what is accepted.

use std::fmt;
use std::path::PathBuf;

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in registry-gen.
///
/// ```
/// use registry_gen::{Config, Error};
///
/// let err = Config::from_yaml("replicas: two\n").unwrap_err();
/// assert!(matches!(err, Error::Parse { .. }), "{err}");
///
/// let mut config = Config::embedded_default();
/// config.replicas = 0;
/// match registry_gen::validate(&config) {
///     Err(Error::Invalid(problems)) => assert_eq!(problems[0].path, "replicas"),
///     other => panic!("{other:?}"),
/// }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The config text is not valid YAML or does not fit the config's shape.
    #[error("config: {message}")]
    Parse {
        /// serde_yaml's message, with the field path and the line and column.
        message: String,
    },
    /// The config parsed but breaks one or more rules.
    #[error("invalid config ({} problem{}):\n{}", .0.len(), if .0.len() == 1 { "" } else { "s" }, FieldErrors(.0))]
    Invalid(Vec<FieldError>),
    /// An injected input (key, certificate, password) is unusable.
    #[error("{what}: {problem}")]
    Input {
        /// Which input, e.g. `tls.ca.key_file`.
        what: String,
        /// What is wrong with it and what is accepted.
        problem: String,
    },
    /// Certificate generation or signing failed.
    #[error("certificate {what}: {source}")]
    Cert {
        /// Which certificate or key.
        what: &'static str,
        /// rcgen's error.
        #[source]
        source: rcgen::Error,
    },
    /// Serialising an output file failed.
    #[error("serialising {path}: {message}")]
    Serialize {
        /// The bundle path being written.
        path: String,
        /// The serialiser's message.
        message: String,
    },
    /// Writing the bundle failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A CA rotation step that can't be taken now: out of order, or the
    /// bundle is not in a state to take it. Nothing was rendered.
    #[error("CA rotation, {step}: {problem}")]
    Rotation {
        /// The step asked for (or the one the bundle records).
        step: String,
        /// Why not, and what to run instead.
        problem: String,
    },
    /// Writing would replace a file that must never be overwritten (a CA).
    #[error("{path}: {reason}")]
    Refused {
        /// The file that would be replaced.
        path: PathBuf,
        /// Why, and what to do instead.
        reason: String,
    },
}

/// One broken rule of the config.
///
/// ```
/// let mut config = registry_gen::Config::embedded_default();
/// config.addresses.dns_names = vec!["Registry_1".into()];
/// let Err(registry_gen::Error::Invalid(problems)) = registry_gen::validate(&config) else {
///     panic!("accepted")
/// };
/// let problem = &problems[0];
/// assert_eq!(problem.path, "addresses.dns_names[0]");
/// assert_eq!(problem.value, r#""Registry_1""#); // strings in double quotes
/// println!("{problem}"); // path: value: what is accepted
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FieldError {
    /// Path of the field in the config, e.g. `addresses.node_ips[1]`.
    pub path: String,
    /// The value found, as the user wrote it; strings in double quotes, so
    /// an empty or blank one shows.
    pub value: String,
    /// What is accepted instead.
    pub expected: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.path, self.value, self.expected)
    }
}

struct FieldErrors<'a>(&'a [FieldError]);

impl fmt::Display for FieldErrors<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "  - {e}")?;
        }
        Ok(())
    }
}

impl Error {
    pub(crate) fn cert(what: &'static str) -> impl FnOnce(rcgen::Error) -> Error {
        move |source| Error::Cert { what, source }
    }
}
