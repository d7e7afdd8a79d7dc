//! Where clients reach the registry on port 443 by a DNS name: the
//! Gateway API `TLSRoute` (TLS passes through, routed on SNI) and the
//! Ingress (re-encrypting to the registry, verified against the bundle
//! CA, or passing TLS through), both to the registry's Service. The name
//! joins the certificate's SANs and every trust file through the plan's
//! endpoints (`Via::Exposed`).

use std::collections::BTreeMap;

use super::endpoints::service_names;
use crate::config::{Config, IngressMode};

/// The Gateway API group of the TLSRoute.
const GATEWAY_GROUP: &str = "gateway.networking.k8s.io";

/// The registry on port 443 by `hostname`.
#[derive(Debug, Clone)]
pub(crate) struct ExposurePlan {
    pub hostname: String,
    pub route: Option<RoutePlan>,
    pub ingress: Option<IngressPlan>,
}

/// A `TLSRoute` to the registry's Service.
#[derive(Debug, Clone)]
pub(crate) struct RoutePlan {
    pub name: String,
    /// `gateway.networking.k8s.io/<version>`.
    pub api_version: String,
    pub gateway: String,
    /// `None`: the registry's namespace.
    pub gateway_namespace: Option<String>,
    pub section_name: Option<String>,
}

/// An Ingress to the registry's Service.
#[derive(Debug, Clone)]
pub(crate) struct IngressPlan {
    pub name: String,
    pub class_name: String,
    pub mode: IngressMode,
    /// The annotations a registry needs (ingress-nginx's spelling).
    pub annotations: BTreeMap<String, String>,
    /// Re-encrypt: the Secret holding the bundle CA (`ca.crt`) the
    /// controller verifies the registry with.
    pub ca_secret: Option<String>,
    /// The key of that Secret.
    pub ca_key: &'static str,
}

/// ingress-nginx's annotation prefix.
const NGINX: &str = "nginx.ingress.kubernetes.io";
/// How long the controller waits on the registry between two reads or
/// writes: a layer upload or download may pause that long (a slow client,
/// a busy S3 backend) without being cut.
const PROXY_TIMEOUT_SECONDS: u32 = 900;

impl ExposurePlan {
    /// `service_port`: the registry Service's port.
    pub(super) fn new(config: &Config) -> Option<ExposurePlan> {
        let x = config
            .exposure
            .as_ref()
            .filter(|_| config.registry.enabled)?;
        let name = &config.name;
        let route = x.gateway.as_ref().map(|g| RoutePlan {
            name: name.clone(),
            api_version: format!("{GATEWAY_GROUP}/{}", g.api_version.as_str()),
            gateway: g.name.clone(),
            gateway_namespace: g.namespace.clone(),
            section_name: g.section_name.clone(),
        });
        let ingress = x.ingress.as_ref().map(|i| {
            let reencrypt = i.mode == IngressMode::Reencrypt;
            let ca_secret = reencrypt.then(|| format!("{name}-ingress-ca"));
            // The name the registry's certificate gives the Service.
            let service = service_names(name, &config.namespace, &config.addresses.cluster_domain);
            let annotations = nginx_annotations(
                i.mode,
                &format!(
                    "{}/{}",
                    config.namespace,
                    ca_secret.as_deref().unwrap_or("")
                ),
                &service[2],
            );
            IngressPlan {
                name: name.clone(),
                class_name: i.class_name.clone(),
                mode: i.mode,
                annotations,
                ca_secret,
                ca_key: "ca.crt",
            }
        });
        Some(ExposurePlan {
            hostname: x.hostname.clone(),
            route,
            ingress,
        })
    }
}

/// What a registry needs from ingress-nginx: no body size limit (layers are
/// large; the default 1m answers 413), no request buffering (a push streams
/// to the registry instead of filling the controller's disk first), no
/// response buffering, long timeouts, and the backend spoken to in TLS,
/// verified against the bundle CA under the Service's name; or, passing
/// through, SNI routing alone.
fn nginx_annotations(
    mode: IngressMode,
    ca_secret: &str,
    service_name: &str,
) -> BTreeMap<String, String> {
    let a = |k: &str, v: &str| (format!("{NGINX}/{k}"), v.to_owned());
    let timeout = PROXY_TIMEOUT_SECONDS.to_string();
    match mode {
        IngressMode::Passthrough => BTreeMap::from([a("ssl-passthrough", "true")]),
        IngressMode::Reencrypt => BTreeMap::from([
            a("backend-protocol", "HTTPS"),
            a("proxy-body-size", "0"),
            a("proxy-request-buffering", "off"),
            a("proxy-buffering", "off"),
            a("proxy-read-timeout", &timeout),
            a("proxy-send-timeout", &timeout),
            a("proxy-ssl-secret", ca_secret),
            a("proxy-ssl-verify", "on"),
            a("proxy-ssl-name", service_name),
            a("proxy-ssl-server-name", "on"),
        ]),
    }
}
