//! Secrets as the library holds them: a [`Secret`] never shows in `Debug`
//! output; a [`Password`] carries its bcrypt salt.

use std::fmt;

/// A secret string (password, PEM private key) that never shows in Debug output.
///
/// ```
/// use registry_gen::{Config, Inputs};
///
/// let mut inputs = Inputs::new(time::OffsetDateTime::now_utc());
/// inputs.fill_missing(&Config::embedded_default())?;
/// let password = inputs.passwords["admin"].secret.expose().to_owned();
///
/// // Inputs can be logged: keys, passwords and the HTTP secret show only their length.
/// let logged = format!("{inputs:?}");
/// assert!(!logged.contains(&password));
/// assert!(!logged.contains("PRIVATE KEY"));
/// assert!(logged.contains("Secret(<32 bytes redacted>)"));
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub(super) String);

impl Secret {
    /// Wrap a secret value.
    ///
    /// ```
    /// let secret = registry_gen::Secret::new("hunter2");
    /// assert_eq!(secret.expose(), "hunter2");
    /// assert_eq!(format!("{secret:?}"), "Secret(<7 bytes redacted>)");
    /// ```
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself. Call only where it is written to its destination.
    ///
    /// ```
    /// use registry_gen::{layout, render, Config, Inputs};
    ///
    /// let config = Config::embedded_default();
    /// let mut inputs = Inputs::new(time::OffsetDateTime::now_utc());
    /// inputs.fill_missing(&config)?;
    /// let bundle = render(&config, &inputs)?;
    ///
    /// // The generated password, e.g. for `docker login`; the bundle keeps it too.
    /// let password = inputs.passwords["admin"].secret.expose();
    /// let kept = &bundle.get(&layout::password("admin")).unwrap().contents;
    /// assert_eq!(kept, format!("{password}\n").as_bytes());
    /// # Ok::<(), registry_gen::Error>(())
    /// ```
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<{} bytes redacted>)", self.0.len())
    }
}

/// One user's password and the bcrypt salt of its htpasswd line.
///
/// ```
/// use registry_gen::{layout, render, Config, Inputs, Password, Secret};
///
/// // The same password and salt give the same htpasswd line, whatever else changes.
/// let config = Config::embedded_default();
/// let htpasswd = || -> registry_gen::Result<Vec<u8>> {
///     let mut inputs = Inputs::new(time::OffsetDateTime::now_utc());
///     let mut password = Password::given(Secret::new("correct horse"));
///     password.salt = Some([7; 16]);
///     inputs.passwords.insert("admin".into(), password);
///     inputs.fill_missing(&config)?; // a new CA, keys and HTTP secret each time
///     Ok(render(&config, &inputs)?.get(layout::HTPASSWD).unwrap().contents.clone())
/// };
/// assert_eq!(htpasswd()?, htpasswd()?);
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Password {
    /// The password.
    pub secret: Secret,
    /// bcrypt salt; `None` until [`Inputs::reuse_previous`](crate::Inputs::reuse_previous) keeps the one
    /// of an earlier, still matching htpasswd line, or
    /// [`Inputs::fill_missing`](crate::Inputs::fill_missing) draws one.
    pub salt: Option<[u8; 16]>,
    /// `true` when registry-gen generated it: it is then kept in
    /// `auth/<user>.password` so re-renders reuse it.
    pub generated: bool,
}

impl Password {
    /// A password the user gave (stdin, a password file).
    ///
    /// ```
    /// use registry_gen::{layout, render, Config, Inputs, Password, Secret};
    ///
    /// let config = Config::embedded_default();
    /// let mut inputs = Inputs::new(time::OffsetDateTime::now_utc());
    /// inputs.passwords.insert("admin".into(), Password::given(Secret::new("correct horse")));
    /// inputs.fill_missing(&config)?; // draws its salt, and generates nothing for admin
    /// let bundle = render(&config, &inputs)?;
    ///
    /// assert!(bundle.get(&layout::password("admin")).is_none()); // not kept: the user has it
    /// let htpasswd = String::from_utf8(bundle.get(layout::HTPASSWD).unwrap().contents.clone()).unwrap();
    /// let hash = htpasswd.strip_prefix("admin:").unwrap().trim_end();
    /// assert!(bcrypt::verify("correct horse", hash).unwrap());
    /// # Ok::<(), registry_gen::Error>(())
    /// ```
    pub fn given(secret: Secret) -> Password {
        Password {
            secret,
            salt: None,
            generated: false,
        }
    }
}
