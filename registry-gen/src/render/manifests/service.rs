//! The registry's Service: ClusterIP, or NodePort when the plan exposes one.

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::metadata;
use crate::plan::Plan;

pub(super) fn service(plan: &Plan) -> core::Service {
    let p = &plan.ports;
    core::Service {
        metadata: metadata(plan, plan.name, true),
        spec: Some(core::ServiceSpec {
            type_: Some(
                if p.node.is_some() {
                    "NodePort"
                } else {
                    "ClusterIP"
                }
                .to_owned(),
            ),
            selector: Some(plan.selector()),
            ports: Some(vec![core::ServicePort {
                name: Some(p.name.to_owned()),
                port: p.service.into(),
                target_port: Some(IntOrString::String(p.name.to_owned())),
                node_port: p.node.map(Into::into),
                protocol: Some("TCP".to_owned()),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}
