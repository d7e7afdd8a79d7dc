//! registry-gen turns one typed [`Config`] (node IPs, DNS names, storage,
//! ports, users) into a complete bundle for a private, TLS-enabled Docker
//! registry on Kubernetes: manifests, a CA and server certificate, htpasswd,
//! trust files for clients and nodes, and scripts.
//!
//! The library is pure: [`render`] is a function of the config and the
//! injected [`Inputs`] (clock, keys, passwords), and returns an in-memory
//! [`Bundle`]. Writing it ([`Bundle::write_to`], or
//! [`Bundle::write_replacing_ca`] to start a new CA) is the only code that
//! touches the filesystem; nothing here contacts a network, a cluster or a
//! process.
//!
//! ```
//! use registry_gen::{render, Config, Inputs};
//!
//! let config = Config::embedded_default();
//! let mut inputs = Inputs::new(time::OffsetDateTime::now_utc());
//! inputs.fill_missing(&config)?; // keys and passwords from the OS CSPRNG
//! let bundle = render(&config, &inputs)?;
//! assert!(bundle.get("manifests/deployment.yaml").is_some());
//! # Ok::<(), registry_gen::Error>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(clippy::print_stdout, clippy::print_stderr)]

mod bundle;
mod config;
mod describe;
mod error;
mod inputs;
mod inspect;
mod k3s;
mod keys;
pub mod layout;
mod plan;
mod render;
mod rotation;
mod summary;
mod validate;
mod write;
mod x509;
mod yaml;

pub use bundle::{Bundle, File, MODE_EXEC, MODE_FILE, MODE_SECRET};
pub use config::{
    AccessMode, Addresses, Auth, Blackbox, CaFiles, Cache, Config, CpuMemory, DebugListener,
    Exposure, GatewayRef, HostPathStorage, IngressMode, IngressOptions, KeyAlgorithm, Limits,
    LogLevel, Mirror, MirrorPorts, Monitoring, NfsStorage, Ports, PvcStorage, RedisCache,
    RegistryOptions, Resources, S3Storage, Spread, Storage, Tls, TlsRouteVersion, TrustOptions,
    User,
};
pub use error::{Error, FieldError, Result};
pub use inputs::{
    BackendInputs, CaInput, CaRotation, Inputs, Password, S3Credentials, Secret, Serial, Serials,
    UpstreamInput,
};
pub use inspect::{inspect, residual, CertReport, ExpiryTable, Inspection};
pub use rotation::{CaStep, RotationStep};
pub use summary::{summarize, Summary};
pub use write::{Change, ChangeKind, SetAside};

/// The pipeline's stages one by one, for `benches/render.rs` only: not part
/// of the API, present only with the internal `bench` feature.
#[cfg(feature = "bench")]
#[doc(hidden)]
pub mod bench {
    use crate::{Bundle, Config, Inputs, KeyAlgorithm, Result};

    /// A validated config's plan.
    pub struct Planned<'c>(crate::plan::Plan<'c>);

    /// One renderer.
    #[derive(Debug, Clone, Copy)]
    pub enum Stage {
        /// Parse the keys, sign the CA, the server certificate and the CSR.
        Certs,
        /// bcrypt every password, the HTTP secret.
        Auth,
        /// The per-endpoint trust files.
        Trust,
        /// Build the k8s-openapi objects and serialise them to YAML.
        Manifests,
        /// The scripts.
        Scripts,
        /// The bundle's README and effective config.
        Docs,
    }

    /// The plan of a config that passed [`crate::validate`].
    pub fn plan(config: &Config) -> Result<Planned<'_>> {
        crate::plan::Plan::new(config, false).map(Planned)
    }

    /// One PEM private key of `alg` from the OS CSPRNG.
    pub fn generate_key(alg: KeyAlgorithm) -> Result<String> {
        crate::keys::generate(alg)
    }

    /// Run one renderer into `out`.
    pub fn stage(planned: &Planned, inputs: &Inputs, stage: Stage, out: &mut Bundle) -> Result<()> {
        use crate::render::stages as s;
        let f = match stage {
            Stage::Certs => s::certs,
            Stage::Auth => s::auth,
            Stage::Trust => s::trust,
            Stage::Manifests => s::manifests,
            Stage::Scripts => s::scripts,
            Stage::Docs => s::docs,
        };
        f(&planned.0, inputs, out)
    }
}

/// Validate `config` (every problem at once), plan it, and render every file
/// of the bundle from it and `inputs`.
///
/// See the [crate] example; `examples/embed.rs` and `examples/fleet.rs` in
/// the repository are whole programs.
///
/// ```
/// use registry_gen::{render, Config, Inputs};
///
/// let config = Config::from_yaml("name: hub\naddresses: {node_ips: [10.0.0.5]}\nports: {node: 30443}\n")?;
/// let mut inputs = Inputs::new(time::OffsetDateTime::now_utc());
/// inputs.fill_missing(&config)?;
/// let bundle = render(&config, &inputs)?;
/// assert!(bundle.manifest_stream().contains("nodePort: 30443"));
/// assert!(bundle.get("trust/containerd/certs.d/10.0.0.5:30443/hosts.toml").is_some());
/// # Ok::<(), registry_gen::Error>(())
/// ```
pub fn render(config: &Config, inputs: &Inputs) -> Result<Bundle> {
    validate::validate(config)?;
    let ca_kept = matches!(inputs.ca, Some(CaInput::Kept { .. }));
    let plan = plan::Plan::new(config, ca_kept)?;
    render::render_plan(&plan, inputs)
}

/// Validate `config` without rendering: `Ok(())` or every problem at once.
///
/// ```
/// use registry_gen::{validate, Config, Error};
///
/// let mut config = Config::embedded_default();
/// config.name = "Not A Name".into();
/// config.replicas = 0;
/// let Err(Error::Invalid(problems)) = validate(&config) else { panic!() };
/// let paths: Vec<_> = problems.iter().map(|p| p.path.as_str()).collect();
/// assert_eq!(paths, ["name", "replicas"]);
/// ```
pub fn validate(config: &Config) -> Result<()> {
    validate::validate(config)
}
