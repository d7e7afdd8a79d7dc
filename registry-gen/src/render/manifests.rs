//! Kubernetes manifests: typed k8s-openapi values, one small builder per
//! object, one file per object, and a `kustomization.yaml` listing them.
//!
//! Every name, label, port, path and Secret key comes from the plan; the
//! Secrets carry the very bytes of the bundle's `certs/` and `auth/` files.

use std::collections::BTreeMap;

use base64::Engine;
use k8s_openapi::api::{apps::v1 as apps, core::v1 as core};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::ByteString;
use serde::Serialize;

use crate::bundle::{Bundle, MODE_FILE, MODE_SECRET};
use crate::error::{Error, Result};
use crate::inputs::Inputs;
use crate::plan::{paths, DataSource, EnvValue, ManifestKind, Plan, PROBE_PATH, PULL_TEST_IMAGE};

pub(crate) fn render(plan: &Plan, inputs: &Inputs, out: &mut Bundle) -> Result<()> {
    for m in &plan.manifests {
        let yaml = match m.kind {
            ManifestKind::Namespace => file(&m.path, &namespace(plan)),
            ManifestKind::PersistentVolume => file(&m.path, &persistent_volume(plan)),
            ManifestKind::PersistentVolumeClaim => file(&m.path, &persistent_volume_claim(plan)),
            ManifestKind::TlsSecret => file(&m.path, &tls_secret(plan, out)?),
            ManifestKind::HttpSecret => file(&m.path, &http_secret(plan, out)?),
            ManifestKind::HtpasswdSecret => file(&m.path, &htpasswd_secret(plan, out)?),
            ManifestKind::PullSecret => file(&m.path, &pull_secret(plan, inputs)?),
            ManifestKind::Deployment => file(&m.path, &deployment(plan)),
            ManifestKind::Service => file(&m.path, &service(plan)),
            ManifestKind::LocalRegistryHosting => file(&m.path, &local_registry_hosting(plan)?),
            ManifestKind::TrustConfigMap => file(&m.path, &trust_config_map(plan, out)),
            ManifestKind::TrustDaemonSet => file(&m.path, &trust_daemon_set(plan)),
        }?;
        let mode = if m.kind.is_secret() {
            MODE_SECRET
        } else {
            MODE_FILE
        };
        out.add_manifest(&m.path, yaml, mode);
    }
    out.add(
        paths::KUSTOMIZATION,
        file(paths::KUSTOMIZATION, &kustomization(plan))?,
        MODE_FILE,
    );
    out.add(
        paths::PULL_TEST_POD,
        file(paths::PULL_TEST_POD, &pull_test_pod(plan))?,
        MODE_FILE,
    );
    Ok(())
}

/// The trust installer's script: writes the bundle's containerd and Docker
/// trust files (their very bytes) under the node's /etc, then idles.
fn trust_config_map(plan: &Plan, out: &Bundle) -> core::ConfigMap {
    let script = crate::render::scripts::trust_installer(plan, out);
    core::ConfigMap {
        metadata: metadata(plan, &plan.trust_installer(), true),
        data: Some(BTreeMap::from([("install.sh".to_owned(), script)])),
        ..Default::default()
    }
}

/// Where the trust DaemonSet mounts the node's directories.
const TRUST_HOST_ROOT: &str = "/host";

/// Opt-in: runs the installer on every node (control plane included),
/// with the registry's own image (already pullable, and it has a shell).
fn trust_daemon_set(plan: &Plan) -> apps::DaemonSet {
    let np = &plan.node_paths;
    let labels = plan.helper_labels("trust");
    let host_dirs = [
        ("containerd-certs", np.containerd),
        ("docker-certs", np.docker),
    ];
    let mut volumes = vec![core::Volume {
        name: "installer".to_owned(),
        config_map: Some(core::ConfigMapVolumeSource {
            name: plan.trust_installer(),
            ..Default::default()
        }),
        ..Default::default()
    }];
    let mut mounts = vec![mount("installer", "/installer", true)];
    for (name, dir) in host_dirs {
        volumes.push(core::Volume {
            name: name.to_owned(),
            host_path: Some(core::HostPathVolumeSource {
                path: dir.to_owned(),
                type_: Some("DirectoryOrCreate".to_owned()),
            }),
            ..Default::default()
        });
        mounts.push(mount(name, &format!("{TRUST_HOST_ROOT}{dir}"), false));
    }
    apps::DaemonSet {
        metadata: meta::ObjectMeta {
            labels: Some(labels.clone()),
            ..metadata(plan, &plan.trust_installer(), true)
        },
        spec: Some(apps::DaemonSetSpec {
            selector: meta::LabelSelector {
                match_labels: Some(labels.clone()),
                ..Default::default()
            },
            template: core::PodTemplateSpec {
                metadata: Some(meta::ObjectMeta {
                    labels: Some(labels),
                    ..Default::default()
                }),
                spec: Some(core::PodSpec {
                    containers: vec![core::Container {
                        name: "install".to_owned(),
                        image: Some(plan.config.image.clone()),
                        image_pull_policy: Some("IfNotPresent".to_owned()),
                        command: Some(vec![
                            "/bin/sh".to_owned(),
                            "/installer/install.sh".to_owned(),
                        ]),
                        volume_mounts: Some(mounts),
                        resources: Some(core::ResourceRequirements {
                            requests: Some(BTreeMap::from([
                                ("cpu".to_owned(), Quantity("1m".to_owned())),
                                ("memory".to_owned(), Quantity("8Mi".to_owned())),
                            ])),
                            limits: Some(BTreeMap::from([(
                                "memory".to_owned(),
                                Quantity("32Mi".to_owned()),
                            )])),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }],
                    volumes: Some(volumes),
                    tolerations: Some(vec![core::Toleration {
                        operator: Some("Exists".to_owned()),
                        ..Default::default()
                    }]),
                    automount_service_account_token: Some(false),
                    // Root: it writes into the nodes' /etc through hostPath.
                    security_context: Some(core::PodSecurityContext {
                        seccomp_profile: Some(core::SeccompProfile {
                            type_: "RuntimeDefault".to_owned(),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// KEP-1755: where tools (Tilt, Skaffold, ...) find the local registry, as kind publishes it.
fn local_registry_hosting(plan: &Plan) -> Result<core::ConfigMap> {
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
    Ok(core::ConfigMap {
        metadata: meta::ObjectMeta {
            name: Some("local-registry-hosting".to_owned()),
            namespace: Some("kube-public".to_owned()),
            labels: Some(plan.labels()),
            ..Default::default()
        },
        data: Some(BTreeMap::from([(
            "localRegistryHosting.v1".to_owned(),
            value,
        )])),
        ..Default::default()
    })
}

/// A Pod that makes the kubelet pull from the registry with
/// `imagePullPolicy: Always`, like the second write-up's check. Not in the
/// kustomization: apply it after pushing the image.
fn pull_test_pod(plan: &Plan) -> core::Pod {
    core::Pod {
        metadata: meta::ObjectMeta {
            name: Some(format!("{}-pull-test", plan.name)),
            namespace: Some(plan.namespace.to_owned()),
            labels: Some(plan.helper_labels("pull-test")),
            ..Default::default()
        },
        spec: Some(core::PodSpec {
            containers: vec![core::Container {
                name: "pull-test".to_owned(),
                image: Some(format!(
                    "{}/{}",
                    plan.runtime_endpoint().authority(),
                    PULL_TEST_IMAGE
                )),
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

fn file<T: Serialize>(path: &str, value: &T) -> Result<String> {
    crate::yaml::file(path, value)
}

fn metadata(plan: &Plan, name: &str, namespaced: bool) -> meta::ObjectMeta {
    meta::ObjectMeta {
        name: Some(name.to_owned()),
        namespace: namespaced.then(|| plan.namespace.to_owned()),
        labels: Some(plan.labels()),
        ..Default::default()
    }
}

fn namespace(plan: &Plan) -> core::Namespace {
    core::Namespace {
        metadata: metadata(plan, plan.namespace, false),
        ..Default::default()
    }
}

/// The claim's fields, present exactly when the plan has a claim.
struct Claim<'a> {
    pvc: &'a str,
    pv: Option<&'a str>,
    size: &'a str,
    access_modes: Vec<String>,
    storage_class: Option<&'a str>,
}

fn claim<'a>(plan: &'a Plan) -> Option<Claim<'a>> {
    match &plan.data.source {
        DataSource::Claim {
            pvc,
            pv,
            size,
            access_modes,
            storage_class,
        } => Some(Claim {
            pvc,
            pv: pv.as_deref(),
            size,
            access_modes: access_modes.iter().map(|m| m.as_str().to_owned()).collect(),
            storage_class: storage_class.as_deref(),
        }),
        _ => None,
    }
}

fn persistent_volume(plan: &Plan) -> core::PersistentVolume {
    let c = claim(plan);
    let nfs = match &plan.config.storage {
        crate::config::Storage::Nfs(n) => Some(core::NFSVolumeSource {
            server: n.server.clone(),
            path: n.path.clone(),
            ..Default::default()
        }),
        _ => None,
    };
    core::PersistentVolume {
        metadata: metadata(
            plan,
            c.as_ref().and_then(|c| c.pv).unwrap_or_default(),
            false,
        ),
        spec: Some(core::PersistentVolumeSpec {
            capacity: c
                .as_ref()
                .map(|c| BTreeMap::from([("storage".to_owned(), Quantity(c.size.to_owned()))])),
            access_modes: c.as_ref().map(|c| c.access_modes.clone()),
            persistent_volume_reclaim_policy: Some("Retain".to_owned()),
            storage_class_name: c.as_ref().and_then(|c| c.storage_class).map(str::to_owned),
            // Reserved for this claim, so no other claim can bind (and later lose) it.
            claim_ref: c.as_ref().map(|c| core::ObjectReference {
                kind: Some("PersistentVolumeClaim".to_owned()),
                api_version: Some("v1".to_owned()),
                namespace: Some(plan.namespace.to_owned()),
                name: Some(c.pvc.to_owned()),
                ..Default::default()
            }),
            nfs,
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn persistent_volume_claim(plan: &Plan) -> core::PersistentVolumeClaim {
    let c = claim(plan);
    core::PersistentVolumeClaim {
        metadata: metadata(plan, c.as_ref().map(|c| c.pvc).unwrap_or_default(), true),
        spec: Some(core::PersistentVolumeClaimSpec {
            access_modes: c.as_ref().map(|c| c.access_modes.clone()),
            resources: c.as_ref().map(|c| core::VolumeResourceRequirements {
                requests: Some(BTreeMap::from([(
                    "storage".to_owned(),
                    Quantity(c.size.to_owned()),
                )])),
                ..Default::default()
            }),
            storage_class_name: c.as_ref().and_then(|c| c.storage_class).map(str::to_owned),
            volume_name: c.as_ref().and_then(|c| c.pv).map(str::to_owned),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The bytes of a bundle file that an earlier renderer produced.
fn bundle_bytes(out: &Bundle, path: &str) -> Result<ByteString> {
    out.get(path)
        .map(|f| ByteString(f.contents.clone()))
        .ok_or_else(|| Error::Serialize {
            path: path.to_owned(),
            message: "needed by a Secret but not rendered (renderer order)".into(),
        })
}

fn secret(
    plan: &Plan,
    name: &str,
    type_: &str,
    data: BTreeMap<String, ByteString>,
) -> core::Secret {
    core::Secret {
        metadata: metadata(plan, name, true),
        type_: Some(type_.to_owned()),
        data: Some(data),
        ..Default::default()
    }
}

fn tls_secret(plan: &Plan, out: &Bundle) -> Result<core::Secret> {
    let t = &plan.tls;
    Ok(secret(
        plan,
        &t.secret,
        "kubernetes.io/tls",
        BTreeMap::from([
            (
                t.cert_key.to_owned(),
                bundle_bytes(out, paths::SERVER_CERT)?,
            ),
            (t.key_key.to_owned(), bundle_bytes(out, paths::SERVER_KEY)?),
        ]),
    ))
}

fn http_secret(plan: &Plan, out: &Bundle) -> Result<core::Secret> {
    let mut value = bundle_bytes(out, paths::HTTP_SECRET)?;
    value.0.retain(|b| *b != b'\n');
    Ok(secret(
        plan,
        &plan.http_secret.secret,
        "Opaque",
        BTreeMap::from([(plan.http_secret.key.to_owned(), value)]),
    ))
}

fn htpasswd_secret(plan: &Plan, out: &Bundle) -> Result<core::Secret> {
    let a = plan.auth.as_ref().ok_or_else(|| Error::Serialize {
        path: "htpasswd Secret".into(),
        message: "planned without auth".into(),
    })?;
    Ok(secret(
        plan,
        &a.secret,
        "Opaque",
        BTreeMap::from([(a.key.to_owned(), bundle_bytes(out, paths::HTPASSWD)?)]),
    ))
}

/// A kubernetes.io/dockerconfigjson Secret with the first user's
/// credentials for every endpoint, keyed exactly as image references spell
/// the host (the kubelet does not normalise `:443`).
fn pull_secret(plan: &Plan, inputs: &Inputs) -> Result<core::Secret> {
    let a = plan.auth.as_ref().ok_or_else(|| Error::Serialize {
        path: "pull Secret".into(),
        message: "planned without auth".into(),
    })?;
    let user = a.users.first().ok_or_else(|| Error::Serialize {
        path: "pull Secret".into(),
        message: "auth has no users".into(),
    })?;
    let password = inputs.passwords.get(user).ok_or_else(|| Error::Input {
        what: format!("the password of user {user:?}"),
        problem: "is missing".into(),
    })?;
    let pw = password.secret.expose();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}"));
    let auths: BTreeMap<String, serde_json::Value> = plan
        .endpoints
        .iter()
        .map(|e| {
            (
                e.authority(),
                serde_json::json!({ "username": user, "password": pw, "auth": auth }),
            )
        })
        .collect();
    let json = serde_json::to_vec(&serde_json::json!({ "auths": auths })).map_err(|e| {
        Error::Serialize {
            path: "pull Secret".into(),
            message: e.to_string(),
        }
    })?;
    Ok(secret(
        plan,
        &a.pull_secret,
        "kubernetes.io/dockerconfigjson",
        BTreeMap::from([(".dockerconfigjson".to_owned(), ByteString(json))]),
    ))
}

fn secret_volume(name: &str, secret: &str) -> core::Volume {
    core::Volume {
        name: name.to_owned(),
        secret: Some(core::SecretVolumeSource {
            secret_name: Some(secret.to_owned()),
            default_mode: Some(0o400),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn mount(name: &str, path: &str, read_only: bool) -> core::VolumeMount {
    core::VolumeMount {
        name: name.to_owned(),
        mount_path: path.to_owned(),
        read_only: read_only.then_some(true),
        ..Default::default()
    }
}

fn deployment(plan: &Plan) -> apps::Deployment {
    let d = &plan.data;
    let data_volume = core::Volume {
        name: d.volume.to_owned(),
        persistent_volume_claim: claim(plan).map(|c| core::PersistentVolumeClaimVolumeSource {
            claim_name: c.pvc.to_owned(),
            ..Default::default()
        }),
        host_path: match &d.source {
            DataSource::HostPath { path, .. } => Some(core::HostPathVolumeSource {
                path: path.clone(),
                type_: Some("DirectoryOrCreate".to_owned()),
            }),
            _ => None,
        },
        empty_dir: matches!(d.source, DataSource::EmptyDir)
            .then(core::EmptyDirVolumeSource::default),
        ..Default::default()
    };
    let mut volumes = vec![
        data_volume,
        secret_volume(plan.tls.volume, &plan.tls.secret),
    ];
    let mut mounts = vec![
        mount(d.volume, &d.mount_path, false),
        mount(plan.tls.volume, plan.tls.mount_path, true),
    ];
    if let Some(a) = &plan.auth {
        volumes.push(secret_volume(a.volume, &a.secret));
        mounts.push(mount(a.volume, a.mount_path, true));
    }
    let env = plan
        .env()
        .into_iter()
        .map(|(name, value)| match value {
            EnvValue::Plain(v) => core::EnvVar {
                name: name.to_owned(),
                value: Some(v),
                ..Default::default()
            },
            EnvValue::Secret(r) => core::EnvVar {
                name: name.to_owned(),
                value_from: Some(core::EnvVarSource {
                    secret_key_ref: Some(core::SecretKeySelector {
                        name: r.secret,
                        key: r.key.to_owned(),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            },
        })
        .collect();
    let probe = |initial, period, failures| core::Probe {
        http_get: Some(core::HTTPGetAction {
            path: Some(PROBE_PATH.to_owned()),
            port: IntOrString::String(plan.ports.name.to_owned()),
            scheme: Some("HTTPS".to_owned()),
            ..Default::default()
        }),
        initial_delay_seconds: Some(initial),
        period_seconds: Some(period),
        failure_threshold: Some(failures),
        timeout_seconds: Some(3),
        ..Default::default()
    };
    let quantities = |c: &crate::config::CpuMemory| {
        BTreeMap::from([
            ("cpu".to_owned(), Quantity(c.cpu.clone())),
            ("memory".to_owned(), Quantity(c.memory.clone())),
        ])
    };
    let r = &plan.config.resources;
    let container = core::Container {
        name: "registry".to_owned(),
        image: Some(plan.config.image.clone()),
        image_pull_policy: Some("IfNotPresent".to_owned()),
        ports: Some(vec![core::ContainerPort {
            name: Some(plan.ports.name.to_owned()),
            container_port: plan.ports.container.into(),
            host_port: plan.ports.host.map(Into::into),
            protocol: Some("TCP".to_owned()),
            ..Default::default()
        }]),
        env: Some(env),
        volume_mounts: Some(mounts),
        resources: Some(core::ResourceRequirements {
            requests: Some(quantities(&r.requests)),
            limits: Some(quantities(&r.limits)),
            ..Default::default()
        }),
        readiness_probe: Some(probe(1, 5, 3)),
        liveness_probe: Some(probe(10, 10, 6)),
        security_context: Some(core::SecurityContext {
            allow_privilege_escalation: Some(false),
            privileged: Some(false),
            read_only_root_filesystem: Some(true),
            run_as_non_root: plan.security.run_as.map(|_| true),
            capabilities: Some(core::Capabilities {
                drop: Some(vec!["ALL".to_owned()]),
                add: plan
                    .security
                    .net_bind_service
                    .then(|| vec!["NET_BIND_SERVICE".to_owned()]),
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let node_selector = match &d.source {
        DataSource::HostPath { node, .. } => Some(BTreeMap::from([(
            "kubernetes.io/hostname".to_owned(),
            node.clone(),
        )])),
        _ => None,
    };
    apps::Deployment {
        metadata: metadata(plan, plan.name, true),
        spec: Some(apps::DeploymentSpec {
            replicas: Some(plan.config.replicas),
            selector: meta::LabelSelector {
                match_labels: Some(plan.selector()),
                ..Default::default()
            },
            strategy: Some(apps::DeploymentStrategy {
                type_: Some(plan.strategy.to_owned()),
                ..Default::default()
            }),
            template: core::PodTemplateSpec {
                metadata: Some(meta::ObjectMeta {
                    labels: Some(plan.labels()),
                    ..Default::default()
                }),
                spec: Some(core::PodSpec {
                    containers: vec![container],
                    volumes: Some(volumes),
                    node_selector,
                    automount_service_account_token: Some(false),
                    security_context: Some(core::PodSecurityContext {
                        run_as_user: plan.security.run_as,
                        run_as_group: plan.security.run_as,
                        fs_group: plan.security.run_as,
                        fs_group_change_policy: plan
                            .security
                            .run_as
                            .map(|_| "OnRootMismatch".to_owned()),
                        seccomp_profile: Some(core::SeccompProfile {
                            type_: "RuntimeDefault".to_owned(),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn service(plan: &Plan) -> core::Service {
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

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Kustomization {
    api_version: &'static str,
    kind: &'static str,
    resources: Vec<String>,
}

fn kustomization(plan: &Plan) -> Kustomization {
    Kustomization {
        api_version: "kustomize.config.k8s.io/v1beta1",
        kind: "Kustomization",
        resources: plan
            .manifests
            .iter()
            .map(|m| m.path.trim_start_matches("manifests/").to_owned())
            .collect(),
    }
}
