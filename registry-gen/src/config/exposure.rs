//! The `exposure` section: reaching the registry on port 443 by a DNS name,
//! through a Gateway (Gateway API `TLSRoute`, TLS passthrough on SNI) or an
//! Ingress, as Docker needs (it has no port-less redirect).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The registry on port 443 by a DNS name. Off (`null`) by default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum IngressMode {
    /// Terminate and re-encrypt to the registry (verified against the CA).
    #[default]
    Reencrypt,
    /// Route on SNI without decrypting.
    Passthrough,
}
