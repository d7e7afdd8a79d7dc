//! A registry's Service (the main registry's or a mirror's): ClusterIP, or
//! NodePort when the plan exposes one.

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::labeled;
use crate::plan::{Plan, Workload};

pub(super) fn service(plan: &Plan, w: &Workload) -> core::Service {
    let p = w.ports;
    core::Service {
        metadata: labeled(plan, w.name, true, w.labels.clone()),
        spec: Some(core::ServiceSpec {
            type_: Some(
                if p.node.is_some() {
                    "NodePort"
                } else {
                    "ClusterIP"
                }
                .to_owned(),
            ),
            selector: Some(w.selector.clone()),
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
