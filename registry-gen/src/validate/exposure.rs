//! The rules of `exposure`: a DNS name of its own, and a Gateway or an
//! Ingress to reach it through.

use std::net::IpAddr;

use super::{is_dns1123_label, is_dns_name, quoted, Errors};
use crate::config::Config;

pub(super) fn check(c: &Config, e: &mut Errors) {
    let Some(x) = &c.exposure else { return };
    if !c.registry.enabled {
        e.push(
            "exposure",
            "set",
            "null in a mirror-only bundle (registry.enabled: false): it exposes the private registry",
        );
    }
    let host = &x.hostname;
    if !is_subdomain(host) || host.parse::<IpAddr>().is_ok() {
        e.push(
            "exposure.hostname",
            quoted(host),
            "a lowercase DNS name (RFC 1123, no wildcard, not an IP address): Gateways and Ingresses route TLS by the name clients send (SNI)",
        );
    } else if c.addresses.dns_names.contains(host) {
        e.push(
            "exposure.hostname",
            quoted(host),
            "a name not in addresses.dns_names: it resolves to the Gateway or Ingress, not to the nodes, and its trust files say port 443 (remove it from dns_names)",
        );
    }
    if x.gateway.is_none() && x.ingress.is_none() {
        e.push(
            "exposure",
            "neither gateway nor ingress",
            "`gateway` (a TLSRoute), `ingress`, or both",
        );
    }
    if let Some(g) = &x.gateway {
        if !is_subdomain(&g.name) {
            e.push(
                "exposure.gateway.name",
                quoted(&g.name),
                "a Gateway's name: a DNS-1123 subdomain (lowercase letters, digits, '-' and '.')",
            );
        }
        if let Some(ns) = g.namespace.as_deref().filter(|n| !is_dns1123_label(n)) {
            e.push(
                "exposure.gateway.namespace",
                quoted(ns),
                "a namespace: a DNS-1123 label",
            );
        }
        if let Some(s) = g.section_name.as_deref().filter(|s| !is_dns1123_label(s)) {
            e.push(
                "exposure.gateway.section_name",
                quoted(s),
                "a Gateway listener's name: a DNS-1123 label",
            );
        }
    }
    if let Some(i) = x.ingress.as_ref().filter(|i| !is_subdomain(&i.class_name)) {
        e.push(
            "exposure.ingress.class_name",
            quoted(&i.class_name),
            "an IngressClass's name: a DNS-1123 subdomain",
        );
    }
}

/// A DNS-1123 subdomain (an object name): a DNS name without the wildcard
/// that [`is_dns_name`] allows.
fn is_subdomain(s: &str) -> bool {
    !s.contains('*') && is_dns_name(s)
}
