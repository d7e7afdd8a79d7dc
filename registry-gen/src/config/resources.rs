//! The `resources` section: requests and limits of the registry container.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Resource requests and limits, as Kubernetes quantities (`100m`, `100Mi`).
///
/// ```
/// use registry_gen::{Config, Resources};
///
/// let config = Config::from_yaml("resources: {requests: {cpu: 250m, memory: 128Mi}}\n")?;
/// assert_eq!(config.resources.requests.memory, "128Mi");
/// // `limits` left out: the default, 256Mi of memory and no CPU limit.
/// assert_eq!(config.resources.limits, Resources::default().limits);
/// assert_eq!(config.resources.limits.cpu, None);
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Resources {
    /// Guaranteed CPU and memory.
    pub requests: CpuMemory,
    /// Maximum memory, and CPU if given (no CPU limit by default: a limit
    /// throttles pushes and pulls, see docs/performance.md).
    pub limits: Limits,
}

/// The limits: memory always, CPU only when given.
///
/// ```
/// use registry_gen::{Config, Limits};
///
/// let mut config = Config::embedded_default();
/// let mut limits = Limits::default();
/// limits.cpu = Some("500m".into());
/// limits.memory = "512Mi".into();
/// config.resources.limits = limits;
/// let summary = registry_gen::summarize(&config)?;
/// assert!(summary.warnings().iter().any(|w| w.starts_with("resources.limits.cpu is 500m: the registry is throttled")));
///
/// // A `limits` map in YAML must give its memory.
/// let err = Config::from_yaml("resources: {limits: {cpu: '1'}}\n").unwrap_err();
/// assert!(err.to_string().contains("missing field `memory`"));
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Limits {
    /// CPU limit, e.g. `1`; absent (the default): none, the container may
    /// use idle CPU. A limit below what a transfer needs throttles it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
    /// Memory limit, e.g. `256Mi`: the container is OOM-killed above it.
    pub memory: String,
}

/// A CPU and a memory quantity.
///
/// ```
/// use registry_gen::{validate, Config, CpuMemory, Error};
///
/// let mut config = Config::embedded_default();
/// let CpuMemory { cpu, memory, .. } = &config.resources.requests;
/// assert_eq!((cpu.as_str(), memory.as_str()), ("100m", "64Mi"));
/// config.resources.requests.cpu = "0".into();
/// let Err(Error::Invalid(problems)) = validate(&config) else { panic!() };
/// assert_eq!(problems[0].path, "resources.requests.cpu"); // a positive quantity
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CpuMemory {
    /// CPU, e.g. `100m`.
    pub cpu: String,
    /// Memory, e.g. `100Mi`.
    pub memory: String,
}

/// The default resources, chosen from measurements (docs/performance.md,
/// "The registry under its own limits").
/// A CPU request and no CPU limit: a limit throttles every transfer.
const DEFAULT_CPU_REQUEST: &str = "100m";
const DEFAULT_MEMORY_REQUEST: &str = "64Mi";
const DEFAULT_CPU_LIMIT: Option<&str> = None;
/// Several times the measured peak of four concurrent 256 MB pushes.
const DEFAULT_MEMORY_LIMIT: &str = "256Mi";

impl Default for Resources {
    fn default() -> Self {
        Resources {
            requests: CpuMemory {
                cpu: DEFAULT_CPU_REQUEST.to_owned(),
                memory: DEFAULT_MEMORY_REQUEST.to_owned(),
            },
            limits: Limits {
                cpu: DEFAULT_CPU_LIMIT.map(str::to_owned),
                memory: DEFAULT_MEMORY_LIMIT.to_owned(),
            },
        }
    }
}
