//! The `registry` section: what the registry does beyond networking and
//! storage (the switch itself, deletes, the debug listener, logging).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{default_true, is_true};

/// Registry behaviour.
///
/// ```
/// use registry_gen::{validate, Config, Error, RegistryOptions};
///
/// let mut config = Config::embedded_default();
/// config.registry = RegistryOptions::default();
/// config.registry.delete_enabled = true;
/// assert_eq!(config.registry.data_path, "/var/lib/registry");
/// validate(&config)?;
///
/// // `enabled: false` is a mirror-only bundle, which needs a mirror.
/// config.registry.enabled = false;
/// let Err(Error::Invalid(problems)) = validate(&config) else { panic!() };
/// assert_eq!(problems[0].path, "registry.enabled");
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct RegistryOptions {
    /// Render the private registry. `false` renders a mirror-only bundle:
    /// only `mirrors` (at least one), their shared TLS and HTTP secret, and
    /// their trust; the private registry's own settings (`auth`, `storage`,
    /// `cache`, `replicas`, `spread`, `registry.delete_enabled`) are then
    /// refused or unused (docs/config.md says which).
    #[serde(default = "default_true", skip_serializing_if = "is_true")]
    pub enabled: bool,
    /// Where the registry stores data inside the pod; the data volume is mounted here.
    pub data_path: String,
    /// Enable the delete API (`REGISTRY_STORAGE_DELETE_ENABLED`). Since
    /// registry 3.1.1 tags, too, can be deleted only when this is on.
    pub delete_enabled: bool,
    /// The registry's debug listener (`REGISTRY_HTTP_DEBUG_ADDR`): expvar at
    /// `/debug/vars` and, with `metrics`, Prometheus `/metrics`, over plain
    /// HTTP without authentication, on the private registry and on every
    /// mirror (each its own pod). `null` (the default) switches it off,
    /// including the one on `:5001` that the official 3.x image's own config
    /// file starts.
    pub debug: Option<DebugListener>,
    /// How much the registry logs (`REGISTRY_LOG_LEVEL`); the official 3.x
    /// image's own config file says `debug`.
    pub log_level: LogLevel,
}

/// The registry's debug listener, on every address of the pod.
///
/// ```
/// use registry_gen::{validate, Config, DebugListener, Error};
///
/// let mut config = Config::from_yaml("
/// addresses: {dns_names: [registry.example.com]}
/// registry: {debug: {port: 5001}}
/// ")?;
/// let debug = config.registry.debug.as_ref().unwrap();
/// assert_eq!((debug.port, debug.metrics), (5001, true)); // metrics on by default
///
/// let mut debug = DebugListener::default();
/// debug.port = 5000;
/// config.registry.debug = Some(debug);
/// let Err(Error::Invalid(problems)) = validate(&config) else { panic!() };
/// assert_eq!(problems[0].path, "registry.debug.port"); // 5000 is `ports.container`
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct DebugListener {
    /// The container port it listens on (a named container port `debug`,
    /// never on the Service); must differ from `ports.container`.
    pub port: u16,
    /// Serve Prometheus metrics at `/metrics`
    /// (`REGISTRY_HTTP_DEBUG_PROMETHEUS_ENABLED`).
    #[serde(default = "default_true")]
    pub metrics: bool,
}

impl Default for DebugListener {
    /// As YAML reads `{port: 0}`: set `port`.
    fn default() -> Self {
        DebugListener {
            port: 0,
            metrics: default_true(),
        }
    }
}

/// A log level of the distribution registry.
///
/// ```
/// use registry_gen::{Config, LogLevel};
///
/// let parsed = Config::from_yaml("registry: {log_level: warn}\n")?;
/// assert_eq!(parsed.registry.log_level, LogLevel::Warn);
/// assert_eq!(LogLevel::default(), LogLevel::Info);
/// assert!(Config::from_yaml("registry: {log_level: warning}\n").is_err());
///
/// let mut config = Config::embedded_default();
/// config.registry.log_level = LogLevel::Warn;
/// # let mut inputs = registry_gen::Inputs::new(time::OffsetDateTime::now_utc());
/// # inputs.fill_missing(&config)?;
/// let bundle = registry_gen::render(&config, &inputs)?;
/// let deployment = String::from_utf8_lossy(&bundle.get("manifests/deployment.yaml").unwrap().contents).into_owned();
/// assert!(deployment.contains("- name: REGISTRY_LOG_LEVEL\n          value: warn\n"));
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum LogLevel {
    /// Only errors.
    Error,
    /// Errors and warnings.
    Warn,
    /// Also one line per start-up step and per request (the default).
    #[default]
    Info,
    /// Everything, including each request's internals.
    Debug,
}

impl LogLevel {
    /// The value `REGISTRY_LOG_LEVEL` takes.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
        }
    }
}

impl Default for RegistryOptions {
    fn default() -> Self {
        RegistryOptions {
            enabled: true,
            data_path: "/var/lib/registry".to_owned(),
            delete_enabled: false,
            debug: None,
            log_level: LogLevel::Info,
        }
    }
}
