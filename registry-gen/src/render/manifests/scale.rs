//! Several replicas: the PodDisruptionBudget that lets a drain evict one
//! registry pod at a time, and the pod spread over the nodes.

use k8s_openapi::api::{core::v1 as core, policy::v1 as policy};
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::metadata;
use crate::error::{Error, Result};
use crate::plan::Plan;

pub(super) fn disruption_budget(plan: &Plan) -> Result<policy::PodDisruptionBudget> {
    let b = plan
        .scale
        .disruption_budget
        .as_ref()
        .ok_or_else(|| Error::Serialize {
            path: "PodDisruptionBudget".into(),
            message: "planned with one replica".into(),
        })?;
    Ok(policy::PodDisruptionBudget {
        metadata: metadata(plan, &b.name, true),
        spec: Some(policy::PodDisruptionBudgetSpec {
            max_unavailable: Some(IntOrString::Int(b.max_unavailable)),
            selector: Some(meta::LabelSelector {
                match_labels: Some(plan.selector()),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// The registry pods' spread over the nodes, if several.
pub(super) fn spread(plan: &Plan) -> Option<Vec<core::TopologySpreadConstraint>> {
    let s = plan.scale.spread.as_ref()?;
    Some(vec![core::TopologySpreadConstraint {
        max_skew: s.max_skew,
        topology_key: s.topology_key.to_owned(),
        when_unsatisfiable: s.when_unsatisfiable.to_owned(),
        label_selector: Some(meta::LabelSelector {
            match_labels: Some(plan.selector()),
            ..Default::default()
        }),
        ..Default::default()
    }])
}
