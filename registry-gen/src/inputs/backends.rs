//! The credentials of the storage, cache and upstream backends, read by
//! the caller from the files the config names.

use super::Secret;

/// The contents of a mirror's `username_file`, `password_file` and `ca_file`.
///
/// ```
/// use registry_gen::{render, Config, Error, Inputs, Secret, UpstreamInput};
///
/// let config = Config::from_yaml("
/// addresses: {node_ips: [10.0.0.5]}
/// mirrors: [{upstream: docker.io, username_file: hub/user, password_file: hub/token, ports: {node: 30521}}]
/// ")?;
/// let mut inputs = Inputs::new(time::OffsetDateTime::now_utc());
/// inputs.fill_missing(&config)?;
/// // The library reads no file: the caller puts their contents here, by upstream.
/// assert!(matches!(render(&config, &inputs), Err(Error::Input { .. })));
/// let mut login = UpstreamInput::default(); // `ca_pem: None`: the image's system CAs
/// login.username = Some(Secret::new("hubuser"));
/// login.password = Some(Secret::new("dckr_pat_EXAMPLE"));
/// inputs.upstreams.insert("docker.io".into(), login);
/// let bundle = render(&config, &inputs)?;
/// assert!(bundle.get("manifests/mirror-docker-io-secret-upstream.yaml").is_some());
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct UpstreamInput {
    /// The upstream user name (first line of `username_file`).
    pub username: Option<Secret>,
    /// The upstream password or token (first line of `password_file`).
    pub password: Option<Secret>,
    /// The CA the mirror trusts for the upstream, PEM (`ca_file`).
    pub ca_pem: Option<String>,
}

/// An S3 access key pair.
///
/// ```
/// use registry_gen::{render, Config, Inputs, S3Credentials, Secret};
///
/// let config = Config::from_yaml("
/// addresses: {node_ips: [10.0.0.5]}
/// storage:
///   s3: {bucket: images, region: us-east-1,
///        access_key_file: s3/access-key, secret_key_file: s3/secret-key}
/// ")?;
/// let mut inputs = Inputs::new(time::OffsetDateTime::now_utc());
/// inputs.backends.s3_credentials = Some(S3Credentials::new(
///     Secret::new("AKIAIOSFODNN7EXAMPLE"),
///     Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
/// ));
/// inputs.fill_missing(&config)?;
/// let bundle = render(&config, &inputs)?;
/// let text = |path| String::from_utf8(bundle.get(path).unwrap().contents.clone()).unwrap();
/// // In a Secret (base64), which the Deployment references: never in the pod spec.
/// assert!(text("manifests/secret-s3.yaml").contains("access-key: QUtJQUlPU0ZPRE5ON0VYQU1QTEU="));
/// assert!(!text("manifests/deployment.yaml").contains("AKIAIOSFODNN7EXAMPLE"));
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct S3Credentials {
    /// The access key ID.
    pub access_key: Secret,
    /// The secret access key.
    pub secret_key: Secret,
}

impl S3Credentials {
    /// An access key ID and its secret.
    ///
    /// ```
    /// use registry_gen::{S3Credentials, Secret};
    ///
    /// let keys = S3Credentials::new(Secret::new("AKIAEXAMPLE"), Secret::new("wJalrXUtnFEMI"));
    /// assert_eq!(keys.access_key.expose(), "AKIAEXAMPLE");
    /// assert!(!format!("{keys:?}").contains("wJalrXUtnFEMI"));
    /// ```
    pub fn new(access_key: Secret, secret_key: Secret) -> S3Credentials {
        S3Credentials {
            access_key,
            secret_key,
        }
    }
}

/// The contents of the files `storage.s3` and `cache.redis` name; the
/// library never reads them itself.
///
/// ```
/// use registry_gen::{render, Config, Error, Inputs, Secret};
///
/// let config = Config::from_yaml(r#"
/// addresses: {node_ips: [10.0.0.5]}
/// cache: {redis: {address: "redis.registry.svc:6379", password_file: redis/password}}
/// "#)?;
/// let mut inputs = Inputs::new(time::OffsetDateTime::now_utc());
/// inputs.fill_missing(&config)?; // draws no backend secret
/// let Err(Error::Input { what, .. }) = render(&config, &inputs) else { panic!() };
/// assert_eq!(what, "the Redis password");
///
/// inputs.backends.redis_password = Some(Secret::new("redis-password")); // the file's first line
/// assert!(render(&config, &inputs)?.get("manifests/secret-redis.yaml").is_some());
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct BackendInputs {
    /// `storage.s3.access_key_file` and `secret_key_file`.
    pub s3_credentials: Option<S3Credentials>,
    /// `storage.s3.ca_file`, PEM.
    pub s3_ca_pem: Option<String>,
    /// `cache.redis.password_file`.
    pub redis_password: Option<Secret>,
}
