//! The `auth` section: htpasswd users.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// htpasswd authentication.
///
/// ```
/// use registry_gen::{Auth, Config};
///
/// let mut auth = Auth::default();
/// assert_eq!(auth.users[0].name, "admin"); // one user by default, password generated
/// auth.bcrypt_cost = 10;
///
/// let config = Config::from_yaml("addresses: {dns_names: [registry.example.com]}\nauth: null\n")?;
/// assert_eq!(config.auth, None);
/// let summary = registry_gen::summarize(&config)?;
/// assert!(summary.warnings().iter().any(|w| w.starts_with("auth is off")));
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Auth {
    /// The Basic-auth realm the registry announces.
    pub realm: String,
    /// Registry users; each password is bcrypt-hashed into `auth/htpasswd`.
    /// Default: one user, `admin`, with a generated password.
    pub users: Vec<User>,
    /// bcrypt cost (4-31). The registry verifies at this cost on every
    /// authenticated request (each blob of a pull), within its CPU limit.
    /// Default 5, as `htpasswd -B` writes; see docs/performance.md.
    pub bcrypt_cost: u32,
}

/// One registry user.
///
/// ```
/// use registry_gen::{Config, User};
///
/// let config = Config::from_yaml("
/// addresses: {dns_names: [registry.example.com]}
/// auth:
///   users:
///     - {name: ci, password_file: secrets/ci.password}
///     - {name: alice}
/// ")?;
/// let mut alice = User::default();
/// alice.name = "alice".into();
/// assert_eq!(config.auth.as_ref().unwrap().users[1], alice);
/// let summary = registry_gen::summarize(&config)?.to_string();
/// assert!(summary.contains("users: ci (password from secrets/ci.password), alice (password generated into auth/alice.password)"));
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct User {
    /// User name (no `:`).
    pub name: String,
    /// File holding the password (first line). Absent: one is generated and
    /// written to `auth/<name>.password`, or taken from there on re-render.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
}

impl Default for Auth {
    fn default() -> Self {
        Auth {
            realm: "Registry Realm".to_owned(),
            users: vec![User {
                name: "admin".to_owned(),
                password_file: None,
            }],
            bcrypt_cost: 5,
        }
    }
}
