//! Where clients reach the registry on port 443 by a DNS name: the
//! Gateway API `TLSRoute` (TLS passes through, routed on SNI) and the
//! Ingress (re-encrypting to the registry, verified against the bundle
//! CA, or passing TLS through), both to the registry's Service. The name
//! joins the certificate's SANs and every trust file through the plan's
//! endpoints (`Via::Exposed`).

use std::collections::BTreeMap;

use crate::config::{Config, IngressMode};

/// The Gateway API group: the TLSRoute's apiVersion and its parentRef's group.
pub(crate) const GATEWAY_GROUP: &str = "gateway.networking.k8s.io";

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
    /// `service_host`: the name the registry's certificate gives its
    /// Service (`<name>.<namespace>.svc`), which a re-encrypting Ingress
    /// verifies it by.
    pub(super) fn new(config: &Config, service_host: &str) -> Option<ExposurePlan> {
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
            let annotations = match &ca_secret {
                Some(secret) => {
                    reencrypt_annotations(&format!("{}/{secret}", config.namespace), service_host)
                }
                None => BTreeMap::from([nginx("ssl-passthrough", "true")]),
            };
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

/// One ingress-nginx annotation.
fn nginx(key: &str, value: &str) -> (String, String) {
    (format!("{NGINX}/{key}"), value.to_owned())
}

/// What a registry needs from ingress-nginx when it re-encrypts: no body
/// size limit (layers are large; the default 1m answers 413), no request
/// buffering (a push streams to the registry instead of filling the
/// controller's disk first), no response buffering, long timeouts, and the
/// backend spoken to in TLS, verified against the bundle CA (`ca_secret`,
/// `<namespace>/<name>`) under the Service's name. Passing through needs
/// none of it: the controller routes on SNI alone.
fn reencrypt_annotations(ca_secret: &str, service_name: &str) -> BTreeMap<String, String> {
    let timeout = PROXY_TIMEOUT_SECONDS.to_string();
    BTreeMap::from([
        nginx("backend-protocol", "HTTPS"),
        nginx("proxy-body-size", "0"),
        nginx("proxy-request-buffering", "off"),
        nginx("proxy-buffering", "off"),
        nginx("proxy-read-timeout", &timeout),
        nginx("proxy-send-timeout", &timeout),
        nginx("proxy-ssl-secret", ca_secret),
        nginx("proxy-ssl-verify", "on"),
        nginx("proxy-ssl-name", service_name),
        nginx("proxy-ssl-server-name", "on"),
    ])
}
