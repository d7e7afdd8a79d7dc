//! The `exposure` section: reaching the registry on port 443 by a DNS name,
//! through a Gateway (Gateway API `TLSRoute`, TLS passthrough on SNI) or an
//! Ingress, as Docker needs (it has no port-less redirect).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The registry on port 443 by a DNS name. Off (`null`) by default.
///
/// ```
/// use registry_gen::{validate, Config, Error};
///
/// let mut config = Config::from_yaml("
/// addresses: {node_ips: [10.0.0.5]}
/// exposure:
///   hostname: registry.example.com
///   gateway: {name: edge, namespace: gateways}
/// ")?;
/// let summary = registry_gen::summarize(&config)?.to_string();
/// assert!(summary.contains("docker login registry.example.com -u admin")); // no port to type
///
/// config.exposure.as_mut().unwrap().gateway = None;
/// let Err(Error::Invalid(problems)) = validate(&config) else { panic!() };
/// assert_eq!(problems[0].path, "exposure"); // a gateway, an ingress, or both
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Exposure {
    /// The DNS name clients use on port 443 (`<hostname>/<image>`): it joins
    /// the certificate's SANs and every trust file. It must resolve to the
    /// Gateway's or the Ingress controller's address.
    pub hostname: String,
    /// Attach a `TLSRoute` to this Gateway: TLS passes through to the
    /// registry, which serves its own certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<GatewayRef>,
    /// Render an Ingress for this class (for clusters that still run an
    /// Ingress controller).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress: Option<IngressOptions>,
}

/// The Gateway the `TLSRoute` attaches to (its `parentRefs`).
///
/// ```
/// use registry_gen::{Config, Exposure, GatewayRef, TlsRouteVersion};
///
/// let mut gateway = GatewayRef::default();
/// gateway.name = "edge".into(); // in the registry's namespace (`namespace: None`)
/// gateway.section_name = Some("tls".into());
/// assert_eq!(gateway.api_version, TlsRouteVersion::V1);
/// let mut exposure = Exposure::default();
/// exposure.hostname = "registry.example.com".into();
/// exposure.gateway = Some(gateway);
/// let mut config = Config::embedded_default();
/// config.exposure = Some(exposure);
/// let summary = registry_gen::summarize(&config)?.to_string();
/// assert!(summary.contains("port 443 through Gateway kube-system/edge listener tls (TLSRoute gateway.networking.k8s.io/v1,"));
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct GatewayRef {
    /// The Gateway's name.
    pub name: String,
    /// The Gateway's namespace; absent: the registry's. Its listener's
    /// `allowedRoutes` must admit routes from the registry's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The Gateway listener (`protocol: TLS`, `tls.mode: Passthrough`,
    /// port 443) to attach to; absent: every listener that admits the route.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section_name: Option<String>,
    /// The TLSRoute's API version: `v1` (Gateway API 1.5 and later) or
    /// `v1alpha2` (older Gateway API releases, experimental channel).
    #[serde(default)]
    pub api_version: TlsRouteVersion,
}

/// `gateway.networking.k8s.io/<version>` of the TLSRoute.
///
/// ```
/// use registry_gen::{Config, TlsRouteVersion};
///
/// let config = Config::from_yaml("
/// addresses: {node_ips: [10.0.0.5]}
/// exposure:
///   hostname: registry.example.com
///   gateway: {name: edge, api_version: v1alpha2}
/// ")?;
/// let gateway = config.exposure.as_ref().and_then(|x| x.gateway.as_ref()).unwrap();
/// assert_eq!(gateway.api_version, TlsRouteVersion::V1alpha2);
/// assert_eq!(TlsRouteVersion::default(), TlsRouteVersion::V1);
/// let summary = registry_gen::summarize(&config)?.to_string();
/// assert!(summary.contains("(TLSRoute gateway.networking.k8s.io/v1alpha2, TLS passed through by SNI)"));
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub enum TlsRouteVersion {
    /// Gateway API 1.5 and later (standard channel).
    #[default]
    #[serde(rename = "v1")]
    V1,
    /// Gateway API before 1.5 (experimental channel).
    #[serde(rename = "v1alpha2")]
    V1alpha2,
}

impl TlsRouteVersion {
    /// The version as the apiVersion spells it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            TlsRouteVersion::V1 => "v1",
            TlsRouteVersion::V1alpha2 => "v1alpha2",
        }
    }
}

/// The Ingress.
///
/// ```
/// use registry_gen::{Config, Exposure, IngressMode, IngressOptions};
///
/// let mut ingress = IngressOptions::default();
/// ingress.class_name = "nginx".into();
/// assert_eq!(ingress.mode, IngressMode::Reencrypt);
/// let mut exposure = Exposure::default();
/// exposure.hostname = "registry.example.com".into();
/// exposure.ingress = Some(ingress);
/// let mut config = Config::embedded_default();
/// config.exposure = Some(exposure);
/// let summary = registry_gen::summarize(&config)?.to_string();
/// assert!(summary.contains("through Ingress class nginx (TLS re-encrypted to the registry, verified against the bundle CA)"));
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct IngressOptions {
    /// `spec.ingressClassName`, e.g. `nginx`.
    pub class_name: String,
    /// `reencrypt`: the controller terminates TLS with the registry's own
    /// certificate and opens a new TLS connection to the registry, verified
    /// against the bundle CA. `passthrough`: the controller routes on SNI
    /// and never decrypts (ingress-nginx needs `--enable-ssl-passthrough`).
    #[serde(default)]
    pub mode: IngressMode,
}

/// How the Ingress carries TLS.
///
/// ```
/// use registry_gen::{Config, IngressMode};
///
/// let config = Config::from_yaml("
/// addresses: {node_ips: [10.0.0.5]}
/// exposure:
///   hostname: registry.example.com
///   ingress: {class_name: nginx, mode: passthrough}
/// ")?;
/// assert_eq!(config.exposure.as_ref().unwrap().ingress.as_ref().unwrap().mode, IngressMode::Passthrough);
/// # let mut inputs = registry_gen::Inputs::new(time::OffsetDateTime::now_utc());
/// # inputs.fill_missing(&config)?;
/// let bundle = registry_gen::render(&config, &inputs)?;
/// let ingress = String::from_utf8_lossy(&bundle.get("manifests/ingress.yaml").unwrap().contents).into_owned();
/// assert!(ingress.contains("nginx.ingress.kubernetes.io/ssl-passthrough: 'true'"));
/// assert!(bundle.get("manifests/secret-ingress-ca.yaml").is_none()); // only `reencrypt` needs the CA
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum IngressMode {
    /// Terminate and re-encrypt to the registry (verified against the CA).
    #[default]
    Reencrypt,
    /// Route on SNI without decrypting.
    Passthrough,
}
