//! The registry on port 443 by a DNS name: a Gateway API `TLSRoute` (a
//! typed struct of the fields we render: k8s-openapi has no Gateway API),
//! an `networking.k8s.io/v1` Ingress, and the Secret with the bundle CA
//! that a re-encrypting Ingress verifies the registry with.

use std::collections::BTreeMap;

use k8s_openapi::api::{core::v1 as core, networking::v1 as net};
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_openapi::ByteString;
use serde::Serialize;

use super::metadata;
use crate::bundle::Bundle;
use crate::error::{Error, Result};
use crate::plan::{paths, ExposurePlan, IngressMode, IngressPlan, Plan, RoutePlan, GATEWAY_GROUP};

/// `gateway.networking.k8s.io` TLSRoute (v1 and v1alpha2 share these fields).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct TlsRoute {
    api_version: String,
    kind: &'static str,
    metadata: meta::ObjectMeta,
    spec: TlsRouteSpec,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TlsRouteSpec {
    parent_refs: Vec<ParentRef>,
    hostnames: Vec<String>,
    rules: Vec<TlsRouteRule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ParentRef {
    group: &'static str,
    kind: &'static str,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    section_name: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TlsRouteRule {
    backend_refs: Vec<BackendRef>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BackendRef {
    name: String,
    port: u16,
}

fn exposure<'p>(plan: &'p Plan) -> Result<&'p ExposurePlan> {
    plan.exposure.as_ref().ok_or_else(|| Error::Serialize {
        path: "exposure".into(),
        message: "not in the plan".into(),
    })
}

fn route<'p>(plan: &'p Plan) -> Result<&'p RoutePlan> {
    exposure(plan)?
        .route
        .as_ref()
        .ok_or_else(|| Error::Serialize {
            path: "exposure.gateway".into(),
            message: "not in the plan".into(),
        })
}

fn ingress_plan<'p>(plan: &'p Plan) -> Result<&'p IngressPlan> {
    exposure(plan)?
        .ingress
        .as_ref()
        .ok_or_else(|| Error::Serialize {
            path: "exposure.ingress".into(),
            message: "not in the plan".into(),
        })
}

/// TLS passes through the Gateway's listener to the registry's Service,
/// which serves its own certificate; the Gateway picks the route by SNI.
pub(super) fn tls_route(plan: &Plan) -> Result<TlsRoute> {
    let x = exposure(plan)?;
    let r = route(plan)?;
    Ok(TlsRoute {
        api_version: r.api_version.clone(),
        kind: "TLSRoute",
        metadata: metadata(plan, &r.name, true),
        spec: TlsRouteSpec {
            parent_refs: vec![ParentRef {
                group: GATEWAY_GROUP,
                kind: "Gateway",
                name: r.gateway.clone(),
                namespace: r.gateway_namespace.clone(),
                section_name: r.section_name.clone(),
            }],
            hostnames: vec![x.hostname.clone()],
            rules: vec![TlsRouteRule {
                backend_refs: vec![BackendRef {
                    name: plan.name.to_owned(),
                    port: plan.ports.service,
                }],
            }],
        },
    })
}

/// The Ingress: TLS with the registry's own Secret (its certificate names
/// the hostname), re-encrypted to the Service; or SNI passthrough.
pub(super) fn ingress(plan: &Plan) -> Result<net::Ingress> {
    let x = exposure(plan)?;
    let i = ingress_plan(plan)?;
    let mut meta = metadata(plan, &i.name, true);
    meta.annotations = Some(i.annotations.clone());
    let tls = (i.mode == IngressMode::Reencrypt).then(|| {
        vec![net::IngressTLS {
            hosts: Some(vec![x.hostname.clone()]),
            secret_name: Some(plan.tls.secret.clone()),
        }]
    });
    Ok(net::Ingress {
        metadata: meta,
        spec: Some(net::IngressSpec {
            ingress_class_name: Some(i.class_name.clone()),
            tls,
            rules: Some(vec![net::IngressRule {
                host: Some(x.hostname.clone()),
                http: Some(net::HTTPIngressRuleValue {
                    paths: vec![net::HTTPIngressPath {
                        path: Some("/".to_owned()),
                        path_type: "Prefix".to_owned(),
                        backend: net::IngressBackend {
                            service: Some(net::IngressServiceBackend {
                                name: plan.name.to_owned(),
                                port: Some(net::ServiceBackendPort {
                                    number: Some(plan.ports.service.into()),
                                    ..Default::default()
                                }),
                            }),
                            ..Default::default()
                        },
                    }],
                }),
            }]),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// The CA the re-encrypting Ingress verifies the registry with: the bytes
/// of `trust/ca.crt` (during a CA rotation, both CAs).
pub(super) fn ca_secret(plan: &Plan, out: &Bundle) -> Result<core::Secret> {
    let i = ingress_plan(plan)?;
    let name = i.ca_secret.as_deref().ok_or_else(|| Error::Serialize {
        path: "exposure.ingress".into(),
        message: "no CA Secret when passing TLS through".into(),
    })?;
    let ca = out.get(paths::TRUST_CA).ok_or_else(|| Error::Serialize {
        path: paths::TRUST_CA.into(),
        message: "not rendered before the manifests (renderer order)".into(),
    })?;
    Ok(core::Secret {
        metadata: metadata(plan, name, true),
        type_: Some("Opaque".to_owned()),
        data: Some(BTreeMap::from([(
            i.ca_key.to_owned(),
            ByteString(ca.contents.clone()),
        )])),
        ..Default::default()
    })
}
