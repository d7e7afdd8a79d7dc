//! KEP-1755's `local-registry-hosting` ConfigMap: where tools (Tilt,
//! Skaffold, ...) find the registry, as kind publishes it. One per
//! cluster, so it names its owner (`registry-gen/owner`).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use serde::Serialize;

use crate::error::Result;
use crate::plan::{Plan, OWNER_KEY};

pub(super) fn local_registry_hosting(plan: &Plan) -> Result<core::ConfigMap> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Hosting {
        host: String,
        host_from_container_runtime: String,
        host_from_cluster_network: String,
    }
    let value = crate::yaml::to_string(&Hosting {
        host: plan.primary_endpoint().authority(),
        host_from_container_runtime: plan.runtime_endpoint().authority(),
        host_from_cluster_network: plan.service_endpoint().authority(),
    })?;
    let o = &plan.local_registry_hosting;
    Ok(core::ConfigMap {
        metadata: meta::ObjectMeta {
            name: Some(o.name.to_owned()),
            namespace: Some(o.namespace.to_owned()),
            labels: Some(plan.labels()),
            // One per cluster: start.sh and delete.sh leave another
            // bundle's copy alone (see `plan/owner.rs`).
            annotations: Some(BTreeMap::from([(OWNER_KEY.to_owned(), plan.owner.clone())])),
            ..Default::default()
        },
        data: Some(BTreeMap::from([(
            "localRegistryHosting.v1".to_owned(),
            value,
        )])),
        ..Default::default()
    })
}
