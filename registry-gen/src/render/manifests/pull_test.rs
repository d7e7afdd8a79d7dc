//! The pull-test Pod: makes the kubelet pull from the registry with
//! `imagePullPolicy: Always`, like the second write-up's check. Not in the
//! kustomization: apply it after pushing the image.

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;

use crate::plan::Plan;

pub(super) fn pod(plan: &Plan) -> core::Pod {
    let t = &plan.pull_test;
    core::Pod {
        metadata: meta::ObjectMeta {
            name: Some(t.pod.clone()),
            namespace: Some(plan.namespace.to_owned()),
            labels: Some(plan.helper_labels(t.helper)),
            ..Default::default()
        },
        spec: Some(core::PodSpec {
            containers: vec![core::Container {
                name: t.container.to_owned(),
                image: Some(t.image.clone()),
                image_pull_policy: Some("Always".to_owned()),
                command: Some(vec![
                    "sh".to_owned(),
                    "-c".to_owned(),
                    "echo pulled from the registry".to_owned(),
                ]),
                ..Default::default()
            }],
            image_pull_secrets: plan.auth.as_ref().map(|a| {
                vec![core::LocalObjectReference {
                    name: a.pull_secret.clone(),
                }]
            }),
            restart_policy: Some("Never".to_owned()),
            automount_service_account_token: Some(false),
            ..Default::default()
        }),
        ..Default::default()
    }
}
