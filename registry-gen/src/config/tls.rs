//! The `tls` section: key algorithm, validity, and a CA of the user's own.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// TLS settings.
///
/// ```
/// use registry_gen::{validate, Config, Error, KeyAlgorithm, Tls};
///
/// let mut config = Config::embedded_default();
/// config.tls = Tls::default();
/// config.tls.key_algorithm = KeyAlgorithm::EcdsaP384;
/// config.tls.server_validity_days = 365;
/// assert_eq!(config.tls.ca_validity_days, 3650);
/// assert!(registry_gen::summarize(&config)?.to_string().contains("server certificate valid 365 days"));
///
/// config.tls.server_validity_days = 4000;
/// let Err(Error::Invalid(problems)) = validate(&config) else { panic!() };
/// assert_eq!(problems[0].path, "tls.server_validity_days"); // it can't outlive its CA
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Tls {
    /// Key algorithm of generated keys.
    pub key_algorithm: KeyAlgorithm,
    /// Validity of a generated CA, in days.
    pub ca_validity_days: i64,
    /// Validity of the server certificate, in days.
    pub server_validity_days: i64,
    /// Sign with an existing CA (e.g. the cluster's `/etc/kubernetes/pki/ca.crt`)
    /// instead of generating one. Its key is never copied into the bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<CaFiles>,
}

/// PEM files of an existing CA.
///
/// ```
/// let config = registry_gen::Config::from_yaml("
/// addresses: {dns_names: [registry.example.com]}
/// tls:
///   ca: {cert_file: /etc/kubernetes/pki/ca.crt, key_file: /etc/kubernetes/pki/ca.key}
/// ")?;
/// let ca = config.tls.ca.as_ref().unwrap();
/// assert_eq!(ca.key_file, std::path::Path::new("/etc/kubernetes/pki/ca.key"));
/// let summary = registry_gen::summarize(&config)?.to_string();
/// assert!(summary.contains("signed by the given CA /etc/kubernetes/pki/ca.crt"));
/// // The library reads no file: put their contents in `Inputs::ca` as
/// // `CaInput::External` before rendering.
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CaFiles {
    /// CA certificate, PEM.
    pub cert_file: PathBuf,
    /// CA private key, PEM (PKCS#8, PKCS#1 RSA or SEC1 EC).
    pub key_file: PathBuf,
}

impl CaFiles {
    /// The CA in these two PEM files.
    ///
    /// ```
    /// let mut config = registry_gen::Config::embedded_default();
    /// let ca = registry_gen::CaFiles::new("/etc/kubernetes/pki/ca.crt", "/etc/kubernetes/pki/ca.key");
    /// config.tls.ca = Some(ca);
    /// let summary = registry_gen::summarize(&config)?.to_string();
    /// assert!(summary.contains("signed by the given CA /etc/kubernetes/pki/ca.crt"));
    /// # Ok::<(), registry_gen::Error>(())
    /// ```
    pub fn new(cert_file: impl Into<PathBuf>, key_file: impl Into<PathBuf>) -> CaFiles {
        CaFiles {
            cert_file: cert_file.into(),
            key_file: key_file.into(),
        }
    }
}

/// Key algorithm of generated keys.
///
/// ```
/// use registry_gen::{Config, KeyAlgorithm};
///
/// let config = Config::from_yaml("tls: {key_algorithm: rsa-2048}\n")?;
/// assert_eq!(config.tls.key_algorithm, KeyAlgorithm::Rsa2048);
/// assert_eq!(KeyAlgorithm::default(), KeyAlgorithm::EcdsaP256);
/// // The `--key-algorithm` flag's spelling is the same.
/// assert_eq!("ecdsa-p384".parse::<KeyAlgorithm>(), Ok(KeyAlgorithm::EcdsaP384));
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum KeyAlgorithm {
    /// ECDSA on P-256 with SHA-256 (default: small, fast, accepted everywhere).
    #[default]
    EcdsaP256,
    /// ECDSA on P-384 with SHA-384.
    EcdsaP384,
    /// RSA 2048 with SHA-256.
    #[serde(rename = "rsa-2048")]
    Rsa2048,
    /// RSA 3072 with SHA-256.
    #[serde(rename = "rsa-3072")]
    Rsa3072,
    /// RSA 4096 with SHA-256.
    #[serde(rename = "rsa-4096")]
    Rsa4096,
}

impl KeyAlgorithm {
    /// The config and CLI spelling, e.g. `ecdsa-p256`.
    ///
    /// ```
    /// use registry_gen::KeyAlgorithm;
    ///
    /// assert_eq!(KeyAlgorithm::Rsa4096.as_str(), "rsa-4096");
    /// let all: Vec<_> = KeyAlgorithm::ALL.iter().map(|a| a.as_str()).collect();
    /// assert_eq!(all, ["ecdsa-p256", "ecdsa-p384", "rsa-2048", "rsa-3072", "rsa-4096"]);
    /// // Each parses back, as the config file and `--key-algorithm` spell it.
    /// assert!(KeyAlgorithm::ALL.iter().all(|a| a.as_str().parse() == Ok(*a)));
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            KeyAlgorithm::EcdsaP256 => "ecdsa-p256",
            KeyAlgorithm::EcdsaP384 => "ecdsa-p384",
            KeyAlgorithm::Rsa2048 => "rsa-2048",
            KeyAlgorithm::Rsa3072 => "rsa-3072",
            KeyAlgorithm::Rsa4096 => "rsa-4096",
        }
    }

    /// RSA keys also need keyEncipherment in a server certificate.
    pub(crate) fn is_rsa(self) -> bool {
        matches!(
            self,
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 | KeyAlgorithm::Rsa4096
        )
    }

    /// Every algorithm, in the order the docs list them.
    pub const ALL: [KeyAlgorithm; 5] = [
        KeyAlgorithm::EcdsaP256,
        KeyAlgorithm::EcdsaP384,
        KeyAlgorithm::Rsa2048,
        KeyAlgorithm::Rsa3072,
        KeyAlgorithm::Rsa4096,
    ];
}

impl std::str::FromStr for KeyAlgorithm {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        KeyAlgorithm::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| {
                let all: Vec<_> = KeyAlgorithm::ALL.iter().map(|a| a.as_str()).collect();
                format!("expected one of {}", all.join(", "))
            })
    }
}

impl Default for Tls {
    fn default() -> Self {
        Tls {
            key_algorithm: KeyAlgorithm::EcdsaP256,
            ca_validity_days: 3650,
            server_validity_days: 825,
            ca: None,
        }
    }
}
