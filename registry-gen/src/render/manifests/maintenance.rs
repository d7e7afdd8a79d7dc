//! The garbage-collection Job (`manifests/maintenance/`, not in the
//! kustomization: `scripts/gc.sh` creates it once the registry is read-only
//! or stopped). Its container is the registry's: the same image, env,
//! volumes, resources and hardening, taken from the Deployment's builders,
//! so `registry garbage-collect` reads the very configuration and data the
//! server does. Pinned to the hostPath's node as the Deployment is.

use std::collections::BTreeMap;

use k8s_openapi::api::{batch::v1 as batch, core::v1 as core};
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;

use super::{pod_security, storage, workload};
use crate::plan::{paths, Plan};

/// Kubernetes' well-known annotation for a human-readable description.
const DESCRIPTION: &str = "kubernetes.io/description";

pub(super) fn gc_job(plan: &Plan) -> batch::Job {
    let gc = &plan.gc;
    let labels = plan.helper_labels(gc.helper);
    let (volumes, mounts) = workload::volumes(&plan.workload());
    let mut command = gc.command.clone();
    let mut env = workload::env(&plan.workload());
    if let Some(f) = &gc.cache_flush {
        // The registry image's shell runs the collection, then the flush;
        // gc.sh's flags, appended to the command, reach both.
        command = [
            "/bin/sh".to_owned(),
            "-c".to_owned(),
            crate::render::scripts::gc_job_script(f),
            "gc-job".to_owned(),
        ]
        .into_iter()
        .chain(command)
        .collect();
        if let Some(p) = &f.password {
            env.push(core::EnvVar {
                name: f.password_env.to_owned(),
                value_from: Some(workload::secret_key_ref(&p.secret, p.key)),
                ..Default::default()
            });
        }
    }
    batch::Job {
        metadata: meta::ObjectMeta {
            name: Some(gc.job.clone()),
            namespace: Some(plan.namespace.to_owned()),
            labels: Some(labels.clone()),
            annotations: Some(BTreeMap::from([(
                DESCRIPTION.to_owned(),
                format!(
                    "registry garbage-collect{}; run it with {}, which first makes the registry stop writing",
                    if gc.cache_flush.is_some() {
                        ", then the flush of the registry's blob descriptors from Redis"
                    } else {
                        ""
                    },
                    paths::SCRIPT_GC
                ),
            )])),
            ..Default::default()
        },
        spec: Some(batch::JobSpec {
            // A failed collection is reported, not retried behind gc.sh's back.
            backoff_limit: Some(0),
            template: core::PodTemplateSpec {
                metadata: Some(meta::ObjectMeta {
                    labels: Some(labels),
                    ..Default::default()
                }),
                spec: Some(core::PodSpec {
                    containers: vec![core::Container {
                        name: gc.container.to_owned(),
                        image: Some(plan.image.to_owned()),
                        image_pull_policy: Some("IfNotPresent".to_owned()),
                        command: Some(command),
                        env: Some(env),
                        volume_mounts: Some(mounts),
                        resources: Some(workload::resources(plan)),
                        security_context: Some(workload::container_security(plan.security)),
                        ..Default::default()
                    }],
                    volumes: Some(volumes),
                    node_selector: storage::node_selector(&plan.data),
                    restart_policy: Some("Never".to_owned()),
                    automount_service_account_token: Some(false),
                    security_context: Some(pod_security(plan.security.run_as)),
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}
