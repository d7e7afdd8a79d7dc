//! Where clients reach the registry: its ports (container, Service,
//! hostPort, NodePort, the debug listener), the addresses image references
//! spell (`host:port` per node address and DNS name, the port-less alias,
//! the in-cluster Service) and which of them a node's runtime pulls by.
//! The certificate's SANs, every trust file and every script's address come
//! from these.

use std::net::IpAddr;

use super::Plan;
use crate::config::{Addresses, Config};

/// Ports after defaults.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PortPlan {
    pub container: u16,
    pub service: u16,
    pub host: Option<u16>,
    pub node: Option<u16>,
    /// The container port's name, the Service's targetPort and the probes' port.
    pub name: &'static str,
    /// The registry's debug listener, if on: a named container port of its
    /// own, never on the Service.
    pub debug: Option<DebugPlan>,
}

/// The registry's debug listener (`REGISTRY_HTTP_DEBUG_*`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct DebugPlan {
    pub port: u16,
    /// The container port's name (what a PodMonitor selects).
    pub name: &'static str,
    /// Prometheus `/metrics` on it.
    pub metrics: bool,
}

impl PortPlan {
    pub(super) fn new(config: &Config) -> PortPlan {
        let p = &config.ports;
        PortPlan {
            container: p.container,
            service: p.service.unwrap_or(p.container),
            host: p.host,
            node: p.node,
            name: "registry",
            debug: config.registry.debug.as_ref().map(|d| DebugPlan {
                port: d.port,
                name: "debug",
                metrics: d.metrics,
            }),
        }
    }
}

/// How an endpoint reaches the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    HostPort,
    NodePort,
    /// A port-less name (`host/image`) that trust files redirect to the NodePort.
    PortlessAlias,
    /// `exposure.hostname` on port 443, through a Gateway or an Ingress.
    Exposed,
    Service,
}

/// One address clients use, as image references spell it.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    /// Host as it appears in an image reference (IPv6 in brackets).
    pub host: String,
    pub port: u16,
    pub via: Via,
}

impl Endpoint {
    /// The name as image references spell it: `host:port`, or `host` alone
    /// for 443 and for a port-less alias.
    pub fn authority(&self) -> String {
        if self.port == 443 || self.via == Via::PortlessAlias {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Where the registry really answers: `https://host:port` (no `:443`).
    pub fn url(&self) -> String {
        if self.port == 443 {
            format!("https://{}", self.host)
        } else {
            format!("https://{}:{}", self.host, self.port)
        }
    }
}

/// The node addresses and DNS names as image references spell a host
/// (IPv6 in brackets), in config order.
pub(super) fn hosts(addresses: &Addresses) -> Vec<String> {
    addresses
        .node_ips
        .iter()
        .map(|ip| match ip {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => format!("[{v6}]"),
        })
        .chain(addresses.dns_names.iter().cloned())
        .collect()
}

/// The private registry's endpoints: for each host its hostPort, NodePort
/// and port-less alias (each if on), the exposed name on 443, then the
/// Service's `service_host`.
pub(super) fn endpoints(
    config: &Config,
    ports: &PortPlan,
    hosts: &[String],
    exposed: Option<&str>,
    service_host: &str,
) -> Vec<Endpoint> {
    let alias = config.ports.portless_alias.unwrap_or(ports.node.is_some());
    let alias_port = ports.node.filter(|_| alias);
    let mut endpoints = Vec::new();
    for host in hosts {
        let exposed = [
            (ports.host, Via::HostPort),
            (ports.node, Via::NodePort),
            (alias_port, Via::PortlessAlias),
        ];
        for (port, via) in exposed {
            if let Some(port) = port {
                endpoints.push(Endpoint {
                    host: host.clone(),
                    port,
                    via,
                });
            }
        }
    }
    if let Some(host) = exposed {
        endpoints.push(Endpoint {
            host: host.to_owned(),
            port: 443,
            via: Via::Exposed,
        });
    }
    endpoints.push(Endpoint {
        host: service_host.to_owned(),
        port: ports.service,
        via: Via::Service,
    });
    endpoints
}

/// `<svc>`, `<svc>.<ns>`, `<svc>.<ns>.svc`, `<svc>.<ns>.svc.<domain>`.
pub(super) fn service_names(svc: &str, ns: &str, domain: &str) -> [String; 4] {
    [
        svc.to_owned(),
        format!("{svc}.{ns}"),
        format!("{svc}.{ns}.svc"),
        format!("{svc}.{ns}.svc.{domain}"),
    ]
}

impl Plan<'_> {
    /// The endpoints reached from outside the cluster (node addresses).
    pub fn node_endpoints(&self) -> impl Iterator<Item = &Endpoint> {
        self.endpoints.iter().filter(|e| e.via != Via::Service)
    }

    /// What the accessors below choose from: the private registry's
    /// endpoints, or in a mirror-only bundle, which has none, the first
    /// mirror's (validation requires one), so each accessor always has an
    /// answer.
    fn shown_endpoints(&self) -> &[Endpoint] {
        match self.mirrors.first() {
            Some(m) if !self.private => &m.endpoints,
            _ => &self.endpoints,
        }
    }

    /// The name a node's container runtime pulls by: a port-less alias if
    /// there is one (a DNS name's first), else the first node address, else
    /// the Service.
    pub fn runtime_endpoint(&self) -> &Endpoint {
        runtime_endpoint(self.shown_endpoints())
    }

    /// The in-cluster Service endpoint.
    pub fn service_endpoint(&self) -> &Endpoint {
        self.shown_endpoints()
            .iter()
            .find(|e| e.via == Via::Service)
            .unwrap_or_else(|| self.primary_endpoint())
    }

    /// The endpoint a user tries first, and the one examples show: the
    /// first node address, else the Service.
    pub fn primary_endpoint(&self) -> &Endpoint {
        primary_endpoint(self.shown_endpoints())
    }

    /// The name Docker users type: the exposed name on port 443 (no port)
    /// when there is one, else the primary endpoint. Docker has no
    /// port-less redirect, so a port-less alias is never it.
    pub fn docker_endpoint(&self) -> &Endpoint {
        self.shown_endpoints()
            .iter()
            .find(|e| e.via == Via::Exposed)
            .unwrap_or_else(|| self.primary_endpoint())
    }
}

/// See [`Plan::primary_endpoint`]; `endpoints` always ends with the
/// Service, so it is never empty.
pub(super) fn primary_endpoint(endpoints: &[Endpoint]) -> &Endpoint {
    endpoints
        .iter()
        .find(|e| e.via != Via::Service)
        .unwrap_or_else(|| &endpoints[endpoints.len() - 1])
}

/// See [`Plan::runtime_endpoint`].
pub(super) fn runtime_endpoint(endpoints: &[Endpoint]) -> &Endpoint {
    let alias = |dns: bool| {
        endpoints.iter().find(move |e| {
            e.via == Via::PortlessAlias
                && (e.host.parse::<IpAddr>().is_err() && !e.host.starts_with('[')) == dns
        })
    };
    alias(true)
        .or_else(|| alias(false))
        .unwrap_or_else(|| primary_endpoint(endpoints))
}
