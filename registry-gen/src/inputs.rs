//! Ambient inputs, injected: the clock, key material, passwords and salts.
//!
//! `render` is a pure function of `(Config, Inputs)`. This module is the only
//! one that reads the operating system's random number generator
//! ([`Inputs::fill_missing`]); tests inject fixed keys and a fixed clock
//! instead, and the CLI carries over what an earlier bundle holds
//! ([`Inputs::reuse_previous`]) before filling the rest.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::keys;
use crate::plan::paths;
use crate::rotation::{CaStep, RotationStep};

mod backends;
mod rotate;
mod secret;
mod serial;
pub use backends::{BackendInputs, S3Credentials, UpstreamInput};
pub use secret::{Password, Secret};
pub use serial::{Serial, Serials};

/// The CA rotation a render is in: its step, and the CA trusted beside the
/// signing one ([`Inputs::ca`]): at [`RotationStep::BothTrusted`] the
/// incoming CA (`None` until [`Inputs::fill_missing`] draws its key), at
/// [`RotationStep::Switched`] the outgoing one.
///
/// ```
/// use registry_gen::{layout, render, CaInput, CaStep, Config, Inputs, RotationStep};
///
/// let config = Config::embedded_default();
/// # let mut first = Inputs::new(time::OffsetDateTime::now_utc());
/// # first.fill_missing(&config)?;
/// # let before = render(&config, &first)?;
/// // Over an earlier bundle `before`: `registry-gen render --rotate-ca start`.
/// let mut inputs = Inputs::new(time::OffsetDateTime::now_utc());
/// inputs.rotate_ca = Some(CaStep::Start);
/// inputs.reuse_previous(&config, &mut |path| before.get(path).map(|f| f.contents.clone()))?;
/// let rotation = inputs.rotation.as_ref().unwrap();
/// assert_eq!(rotation.step, RotationStep::BothTrusted);
/// assert!(rotation.other.is_none()); // the incoming CA: its key is still to draw
/// inputs.fill_missing(&config)?;
/// assert!(matches!(inputs.rotation.as_ref().unwrap().other, Some(CaInput::New { .. })));
/// let after = render(&config, &inputs)?;
/// assert_eq!(after.get(layout::CA_CERT), before.get(layout::CA_CERT)); // still signs
/// assert!(after.get(layout::CA_NEXT_CERT).is_some()); // trusted beside it
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CaRotation {
    /// Where the rotation is after this render.
    pub step: RotationStep,
    /// The other trusted CA.
    pub other: Option<CaInput>,
}

impl CaRotation {
    pub(crate) fn next_ca_missing(&self) -> bool {
        self.step == RotationStep::BothTrusted && self.other.is_none()
    }
}

/// Which CA signs the server certificate.
///
/// [`Inputs::fill_missing`] draws the key of a [`CaInput::New`] and
/// [`Inputs::reuse_previous`] finds a [`CaInput::Kept`]; a program that signs
/// with a CA of its own injects it as [`CaInput::External`], and names its
/// files in `tls.ca` as the CLI does:
///
/// ```
/// use registry_gen::{layout, render, CaFiles, CaInput, Config, Inputs, Secret};
///
/// # let key = rcgen::KeyPair::generate().unwrap();
/// # let mut params = rcgen::CertificateParams::default();
/// # params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
/// # let (ca_pem, ca_key_pem) = (params.self_signed(&key).unwrap().pem(), key.serialize_pem());
/// let mut config = Config::embedded_default();
/// config.tls.ca = Some(CaFiles::new("/etc/kubernetes/pki/ca.crt", "/etc/kubernetes/pki/ca.key"));
/// let mut inputs = Inputs::new(time::OffsetDateTime::now_utc());
/// inputs.ca = Some(CaInput::External { cert_pem: ca_pem.clone(), key: Secret::new(ca_key_pem) });
/// inputs.fill_missing(&config)?;
/// let bundle = render(&config, &inputs)?;
/// assert_eq!(bundle.get(layout::CA_CERT).unwrap().contents, ca_pem.as_bytes());
/// assert!(bundle.get(layout::CA_KEY).is_none()); // its key stays out of the bundle
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum CaInput {
    /// Generate a CA certificate for this key; `certs/ca.key` is part of the bundle.
    New {
        /// The CA's private key, PEM.
        key: Secret,
    },
    /// The CA an earlier render of this bundle generated: kept as it is.
    Kept {
        /// `certs/ca.crt` as it was.
        cert_pem: String,
        /// `certs/ca.key` as it was.
        key: Secret,
    },
    /// An existing CA (e.g. the cluster's): signs, but its key never enters the bundle.
    External {
        /// The CA certificate, PEM.
        cert_pem: String,
        /// The CA private key, PEM (PKCS#8, PKCS#1 or SEC1).
        key: Secret,
    },
}

/// Everything `render` would otherwise take from the environment.
///
/// ```
/// use registry_gen::{inspect, layout, render, Config, Inputs};
/// use time::macros::datetime;
///
/// let config = Config::embedded_default();
/// let mut inputs = Inputs::new(datetime!(2026-01-01 00:00 UTC)); // the clock
/// inputs.fill_missing(&config)?; // keys, serials, passwords, salts, HTTP secret
/// let bundle = render(&config, &inputs)?;
///
/// let cert = &bundle.get(layout::SERVER_CERT).unwrap().contents;
/// let report = inspect(&[(layout::SERVER_CERT, cert)], None, inputs.now)?;
/// assert_eq!(report.certificates[0].not_before, inputs.now);
/// assert_eq!(report.certificates[0].not_after, datetime!(2028-04-05 00:00 UTC)); // 825 days
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Inputs {
    /// The clock: certificates are valid from this instant.
    pub now: OffsetDateTime,
    /// The signing CA.
    pub ca: Option<CaInput>,
    /// The server's private key, PEM.
    pub server_key: Option<Secret>,
    /// A server certificate (PEM) for `server_key` from an earlier render:
    /// kept when it is signed by the same CA, still names every address and
    /// is not past two thirds of its lifetime at [`Inputs::now`]
    /// ([`Inputs::renew_at`]); else a new one is issued.
    pub server_cert: Option<String>,
    /// The certificate signing request (PEM) of an earlier render: kept
    /// byte for byte when it asks for exactly what a new one would (an
    /// ECDSA signature is randomised, so signing again would change the
    /// file on every re-render).
    pub server_csr: Option<String>,
    /// `REGISTRY_HTTP_SECRET`, shared by every replica.
    pub http_secret: Option<Secret>,
    /// Passwords by user name.
    pub passwords: BTreeMap<String, Password>,
    /// The serial numbers of the certificates this render may issue: every
    /// certificate a CA issues needs its own (RFC 5280 4.1.2.2; NSS refuses a
    /// second certificate with the issuer and serial of another), so they are
    /// drawn at random, never derived from a key that a re-issue keeps.
    pub serials: Serials,
    /// A CA rotation step to take (`registry-gen render --rotate-ca STEP`);
    /// `None` re-renders at the step the bundle records, if any.
    pub rotate_ca: Option<CaStep>,
    /// The CA rotation this render is in, from [`Inputs::reuse_previous`]:
    /// which step, and the CA trusted beside the signing one.
    pub rotation: Option<CaRotation>,
    /// What each mirror's files hold (credentials, CA), by the mirror's
    /// `upstream` as the config spells it; the caller reads the files.
    pub upstreams: BTreeMap<String, UpstreamInput>,
    /// What the storage and cache backends need (S3 credentials, the S3
    /// endpoint's CA, the Redis password), read by the caller from the
    /// files the config names.
    pub backends: BackendInputs,
}

impl Inputs {
    /// `inspect` warns when a certificate has fewer days than this left.
    pub const RENEW_BEFORE_DAYS: i64 = 30;

    /// When a re-render renews a server certificate valid from `not_before`
    /// to `not_after`: once two thirds of its lifetime are gone (day 243 of
    /// a 365-day certificate), judged by the injected clock
    /// [`Inputs::now`], so the registry never serves one in its last third.
    ///
    /// ```
    /// use time::macros::datetime;
    ///
    /// let renew = registry_gen::Inputs::renew_at(datetime!(2026-01-01 0:00 UTC), datetime!(2026-01-01 0:00 UTC) + time::Duration::days(360));
    /// assert_eq!(renew, datetime!(2026-08-29 0:00 UTC));
    /// ```
    pub fn renew_at(not_before: OffsetDateTime, not_after: OffsetDateTime) -> OffsetDateTime {
        not_before + (not_after - not_before) * 2 / 3
    }

    /// Inputs with only a clock; everything else still to be injected or filled.
    ///
    /// ```
    /// use registry_gen::{Inputs, Password, Secret};
    ///
    /// // A fixed clock (reproducible renders) and a password the caller chose.
    /// let mut inputs = Inputs::new(time::macros::datetime!(2026-01-01 00:00 UTC));
    /// inputs.passwords.insert("admin".into(), Password::given(Secret::new("correct horse")));
    /// inputs.fill_missing(&registry_gen::Config::embedded_default())?; // the rest
    /// # Ok::<(), registry_gen::Error>(())
    /// ```
    pub fn new(now: OffsetDateTime) -> Inputs {
        Inputs {
            now,
            ca: None,
            server_key: None,
            server_cert: None,
            server_csr: None,
            http_secret: None,
            passwords: BTreeMap::new(),
            serials: Serials::default(),
            rotate_ca: None,
            rotation: None,
            upstreams: BTreeMap::new(),
            backends: BackendInputs::default(),
        }
    }

    /// What the files of the mirror of `upstream` hold.
    pub(crate) fn upstream(&self, upstream: &str) -> Option<&UpstreamInput> {
        self.upstreams.get(upstream)
    }

    /// The password of `user`, which a renderer needs.
    pub(crate) fn password(&self, user: &str) -> Result<&Password> {
        self.passwords.get(user).ok_or_else(|| Error::Input {
            what: format!("the password of user {user:?}"),
            problem: "is missing: give it with --password-stdin or auth.users[].password_file, or let registry-gen generate one".into(),
        })
    }

    /// Carry over what an earlier bundle holds, so a re-render keeps its CA,
    /// its generated passwords and its `REGISTRY_HTTP_SECRET`, and the
    /// htpasswd line of every user whose password (kept, or given again)
    /// and bcrypt cost are unchanged: the line's salt is kept, so the same
    /// hash comes out and no Secret changes. `read` returns
    /// the bytes of a bundle path (e.g. `certs/ca.key`) if that file exists;
    /// the library itself never touches the filesystem.
    ///
    /// Values already set (injected) win. An external CA in the config wins
    /// over a kept one.
    ///
    /// ```
    /// use registry_gen::{render, Config, Inputs};
    ///
    /// let config = Config::embedded_default();
    /// let mut first = Inputs::new(time::OffsetDateTime::now_utc());
    /// first.fill_missing(&config)?;
    /// let before = render(&config, &first)?;
    ///
    /// // A re-render: read the earlier bundle (here from memory; the CLI reads
    /// // the bundle directory), then fill only what is still missing.
    /// let mut again = Inputs::new(time::OffsetDateTime::now_utc());
    /// again.reuse_previous(&config, &mut |path| before.get(path).map(|f| f.contents.clone()))?;
    /// again.fill_missing(&config)?;
    /// let after = render(&config, &again)?;
    /// assert_eq!(after.get("certs/ca.crt"), before.get("certs/ca.crt"));
    /// assert_eq!(after.get("auth/admin.password"), before.get("auth/admin.password"));
    /// # Ok::<(), registry_gen::Error>(())
    /// ```
    pub fn reuse_previous(
        &mut self,
        config: &Config,
        read: &mut dyn FnMut(&str) -> Option<Vec<u8>>,
    ) -> Result<()> {
        let mut text = |path: &str| -> Result<Option<String>> {
            read(path)
                .map(|bytes| {
                    String::from_utf8(bytes).map_err(|_| Error::Input {
                        what: path.to_owned(),
                        problem: "is not UTF-8 text; restore it or move the bundle aside".into(),
                    })
                })
                .transpose()
        };
        // A CA rotation (recorded in the bundle, or asked for) chooses the
        // CAs itself.
        let rotating = rotate::choose_ca(self, config, &mut text)?;
        if !rotating && self.ca.is_none() && config.tls.ca.is_none() {
            match (text(paths::CA_CERT)?, text(paths::CA_KEY)?) {
                (Some(cert_pem), Some(key)) => {
                    self.ca = Some(CaInput::Kept {
                        cert_pem,
                        key: Secret(key),
                    })
                }
                (Some(_), None) => {
                    return Err(Error::Input {
                        what: paths::CA_KEY.to_owned(),
                        problem: format!("is missing while {} exists: the CA that clients trust can't sign without its key. Restore the key, or sign with it explicitly via tls.ca / --ca-cert and --ca-key", paths::CA_CERT),
                    })
                }
                _ => {}
            }
        }
        if self.server_key.is_none() {
            // Kept only while it is of the configured algorithm.
            if let (Some(key), Some(cert)) = (text(paths::SERVER_KEY)?, text(paths::SERVER_CERT)?) {
                if keys::parse(paths::SERVER_KEY, &key)
                    .is_ok_and(|k| keys::matches(&k, config.tls.key_algorithm))
                {
                    self.server_key = Some(Secret(key));
                    self.server_cert = Some(cert);
                    self.server_csr = text(paths::SERVER_CSR)?;
                }
            }
        }
        if self.http_secret.is_none() {
            self.http_secret = text(paths::HTTP_SECRET)?.map(|s| Secret(s.trim().to_owned()));
        }
        if let Some(auth) = &config.auth {
            let previous_htpasswd = text(paths::HTPASSWD)?.unwrap_or_default();
            let previous: BTreeMap<&str, &str> = previous_htpasswd
                .lines()
                .filter_map(|l| l.split_once(':'))
                .collect();
            for user in &auth.users {
                if self.passwords.contains_key(&user.name) || user.password_file.is_some() {
                    continue;
                }
                let file = paths::password(&user.name);
                let Some(pw) = text(&file)? else {
                    if let Some(line) = previous.get(user.name.as_str()) {
                        // A password given last time is not stored on its
                        // own, but the pull user's is in the k3s
                        // registries.yaml: taken back only if it still
                        // verifies against the user's htpasswd line (at
                        // whatever bcrypt cost made it; the salt is kept
                        // only while the cost is unchanged).
                        let k3s = text(paths::K3S_REGISTRIES)?.unwrap_or_default();
                        let verified = given_login(&k3s, &user.name)
                            .filter(|pw| bcrypt::verify(pw, line).unwrap_or(false));
                        if let Some(pw) = verified {
                            let salt = kept_salt(line, &pw, auth.bcrypt_cost);
                            self.passwords.insert(
                                user.name.clone(),
                                Password {
                                    secret: Secret(pw),
                                    salt,
                                    generated: false,
                                },
                            );
                            continue;
                        }
                        return Err(Error::Input {
                            what: format!("the password of user {:?}", user.name),
                            problem: format!("was given last time and is not stored in the bundle, so it can't be reused: give it again (--password-stdin or auth.users[].password_file), or remove the user's line from {} to generate a new one", paths::HTPASSWD),
                        });
                    }
                    continue;
                };
                let pw = pw.lines().next().unwrap_or("").to_owned();
                self.passwords.insert(
                    user.name.clone(),
                    Password {
                        secret: Secret(pw),
                        salt: None,
                        generated: true,
                    },
                );
            }
            for (user, pw) in &mut self.passwords {
                if pw.salt.is_none() {
                    if let Some(line) = previous.get(user.as_str()) {
                        pw.salt = kept_salt(line, pw.secret.expose(), auth.bcrypt_cost);
                    }
                }
            }
        }
        Ok(())
    }

    /// Generate, from the OS CSPRNG, every input the config needs that is
    /// still missing: CA and server keys of the configured algorithm (and
    /// the key of the next CA when a rotation starts), certificate serials,
    /// passwords (192 bits, URL-safe base64), bcrypt salts and the HTTP secret.
    ///
    /// ```
    /// let config = registry_gen::Config::embedded_default();
    /// let mut inputs = registry_gen::Inputs::new(time::OffsetDateTime::now_utc());
    /// inputs.fill_missing(&config)?;
    /// assert!(inputs.server_key.is_some());
    /// let bundle = registry_gen::render(&config, &inputs)?;
    /// assert!(bundle.get("auth/admin.password").is_some());
    /// # Ok::<(), registry_gen::Error>(())
    /// ```
    pub fn fill_missing(&mut self, config: &Config) -> Result<()> {
        let alg = config.tls.key_algorithm;
        // A CA or password the config names in a file is the caller's to
        // read: generating one would sign or log in with the wrong one
        // (render says what is missing).
        if self.ca.is_none() && config.tls.ca.is_none() {
            self.ca = Some(CaInput::New {
                key: Secret(keys::generate(alg)?),
            });
        }
        if self.server_key.is_none() {
            self.server_key = Some(Secret(keys::generate(alg)?));
        }
        if self.http_secret.is_none() {
            self.http_secret = Some(Secret(random_token(32)?));
        }
        if let Some(r) = &mut self.rotation {
            if r.next_ca_missing() {
                r.other = Some(CaInput::New {
                    key: Secret(keys::generate(alg)?),
                });
            }
        }
        if self.serials.ca.is_none() {
            self.serials.ca = Some(Serial::random()?);
        }
        if self.serials.server.is_none() {
            self.serials.server = Some(Serial::random()?);
        }
        if self.serials.cross.is_none() {
            self.serials.cross = Some(Serial::random()?);
        }
        if let Some(auth) = &config.auth {
            for user in &auth.users {
                if !self.passwords.contains_key(&user.name) && user.password_file.is_none() {
                    self.passwords.insert(
                        user.name.clone(),
                        Password {
                            secret: Secret(random_token(24)?),
                            salt: None,
                            generated: true,
                        },
                    );
                }
            }
        }
        for pw in self.passwords.values_mut() {
            if pw.salt.is_none() {
                let mut salt = [0u8; 16];
                random_bytes(&mut salt)?;
                pw.salt = Some(salt);
            }
        }
        Ok(())
    }
}

/// The password of `user` in an earlier bundle's k3s `registries.yaml`
/// (`configs.<host>.auth`), where the pull user's login is kept.
fn given_login(registries_yaml: &str, user: &str) -> Option<String> {
    let r: crate::k3s::Registries = crate::yaml::from_str(registries_yaml).ok()?;
    r.configs
        .into_values()
        .filter_map(|c| c.auth)
        .find(|a| a.username == user)
        .map(|a| a.password)
}

/// The salt of an earlier htpasswd hash, if hashing `password` with it at
/// `cost` gives that very hash again: then the password and the cost are
/// unchanged, and keeping the salt keeps the htpasswd line (and the Secret
/// that carries it) byte-identical. A changed password or cost, or a line
/// in another format, gets `None`: a fresh salt.
fn kept_salt(hash: &str, password: &str, cost: u32) -> Option<[u8; 16]> {
    let parts: bcrypt::HashParts = hash.parse().ok()?;
    if parts.get_cost() != cost {
        return None;
    }
    let salt = parts.get_salt_raw();
    let again = bcrypt::hash_with_salt(password, cost, salt)
        .ok()?
        .format_for_version(bcrypt::Version::TwoY);
    (again == hash).then_some(salt)
}

fn random_bytes(buf: &mut [u8]) -> Result<()> {
    getrandom::fill(buf).map_err(|e| Error::Input {
        what: "operating system random number generator".into(),
        problem: e.to_string(),
    })
}

/// `bytes` random bytes as unpadded URL-safe base64 (no shell or YAML specials).
fn random_token(bytes: usize) -> Result<String> {
    use base64::Engine;
    let mut buf = vec![0u8; bytes];
    random_bytes(&mut buf)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf))
}
