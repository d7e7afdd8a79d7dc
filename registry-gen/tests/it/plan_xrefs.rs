//! The bundle's files agree with each other: checked on the rendered
//! objects (parsed back with k8s-openapi), for every example and the
//! embedded default, so a renderer that invents a value is caught.

use std::collections::BTreeSet;
use std::path::Path;

use k8s_openapi::api::{apps::v1 as apps, core::v1 as core};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use registry_gen::{Bundle, Config};

use crate::common;

fn configs() -> Vec<(String, Config)> {
    let mut v: Vec<_> = common::examples()
        .iter()
        .map(|p| (p.display().to_string(), common::load(p)))
        .collect();
    v.push(("embedded default".into(), Config::embedded_default()));
    v
}

fn each(check: impl Fn(&str, &Config, &Bundle)) {
    for (name, config) in configs() {
        check(&name, &config, &common::render(&config));
    }
}

/// [`each`] without mirror-only bundles (`registry.enabled: false`), for
/// checks of the private registry's own objects.
fn each_private(check: impl Fn(&str, &Config, &Bundle)) {
    each(|name, config, b| {
        if config.registry.enabled {
            check(name, config, b);
        }
    });
}

fn deployment(b: &Bundle) -> apps::Deployment {
    common::yaml(b, "manifests/deployment.yaml")
}

fn pod(b: &Bundle) -> core::PodSpec {
    deployment(b).spec.unwrap().template.spec.unwrap()
}

/// The value of the registry's variable `name` as the registry reads it.
fn env(b: &Bundle, name: &str) -> Option<String> {
    pod(b).containers[0]
        .env
        .as_ref()
        .unwrap()
        .iter()
        .find(|e| e.name == name)
        .and_then(|e| e.value.as_deref())
        .map(common::registry_reads)
}

#[test]
fn selector_matches_pod_labels_and_service() {
    each_private(check_selector_matches_pod_labels_and_service);
}

fn check_selector_matches_pod_labels_and_service(name: &str, _config: &Config, b: &Bundle) {
    let d = deployment(b);
    let spec = d.spec.unwrap();
    let selector = spec.selector.match_labels.unwrap();
    let labels = spec.template.metadata.unwrap().labels.unwrap();
    for (k, v) in &selector {
        assert_eq!(
            labels.get(k),
            Some(v),
            "{name}: pod labels lack selector {k}"
        );
    }
    let svc: core::Service = common::yaml(b, "manifests/service.yaml");
    assert_eq!(
        svc.spec.unwrap().selector.unwrap(),
        selector,
        "{name}: Service selector"
    );
}

#[test]
fn service_targets_the_container_port() {
    each_private(check_service_targets_the_container_port);
}

fn check_service_targets_the_container_port(name: &str, config: &Config, b: &Bundle) {
    let c = &pod(b).containers[0];
    let port = &c.ports.as_ref().unwrap()[0];
    assert_eq!(
        port.container_port,
        i32::from(config.ports.container),
        "{name}"
    );
    let listen = env(b, "REGISTRY_HTTP_ADDR").unwrap();
    assert_eq!(
        listen,
        format!(":{}", port.container_port),
        "{name}: the registry listens where the port points"
    );
    let svc: core::Service = common::yaml(b, "manifests/service.yaml");
    let sp = &svc.spec.unwrap().ports.unwrap()[0];
    assert_eq!(
        sp.target_port,
        Some(IntOrString::String(port.name.clone().unwrap())),
        "{name}"
    );
    assert_eq!(sp.node_port, config.ports.node.map(i32::from), "{name}");
    assert_eq!(port.host_port, config.ports.host.map(i32::from), "{name}");
    for probe in [&c.readiness_probe, &c.liveness_probe] {
        let get = probe.as_ref().unwrap().http_get.as_ref().unwrap();
        assert_eq!(
            get.port,
            IntOrString::String(port.name.clone().unwrap()),
            "{name}: probe port"
        );
        assert_eq!(
            get.scheme.as_deref(),
            Some("HTTPS"),
            "{name}: the registry only speaks TLS"
        );
    }
}

#[test]
fn every_mount_has_its_volume_and_every_volume_its_object() {
    each_private(check_every_mount_has_its_volume_and_every_volume_its_object);
}

fn check_every_mount_has_its_volume_and_every_volume_its_object(
    name: &str,
    _config: &Config,
    b: &Bundle,
) {
    let p = pod(b);
    let volumes = p.volumes.unwrap();
    let names: BTreeSet<_> = volumes.iter().map(|v| v.name.as_str()).collect();
    for m in p.containers[0].volume_mounts.as_ref().unwrap() {
        assert!(
            names.contains(m.name.as_str()),
            "{name}: mount {} has no volume",
            m.name
        );
    }
    let secrets: BTreeSet<String> = b
        .files()
        .filter(|(p, _)| p.starts_with("manifests/secret-"))
        .map(|(p, _)| common::yaml::<core::Secret>(b, p).metadata.name.unwrap())
        .collect();
    for v in &volumes {
        if let Some(s) = &v.secret {
            let s = s.secret_name.as_ref().unwrap();
            assert!(
                secrets.contains(s),
                "{name}: volume {} names missing Secret {s}",
                v.name
            );
        }
        if let Some(c) = &v.persistent_volume_claim {
            let pvc: core::PersistentVolumeClaim =
                common::yaml(b, "manifests/persistentvolumeclaim.yaml");
            assert_eq!(pvc.metadata.name.as_ref(), Some(&c.claim_name), "{name}");
        }
    }
    for e in p.containers[0].env.as_ref().unwrap() {
        if let Some(r) = e
            .value_from
            .as_ref()
            .and_then(|v| v.secret_key_ref.as_ref())
        {
            assert!(
                secrets.contains(&r.name),
                "{name}: env {} names missing Secret {}",
                e.name,
                r.name
            );
        }
    }
}

#[test]
fn every_registry_path_lies_under_its_mount_and_the_secret_holds_the_file() {
    each_private(check_every_registry_path_lies_under_its_mount_and_the_secret_holds_the_file);
}

fn check_every_registry_path_lies_under_its_mount_and_the_secret_holds_the_file(
    name: &str,
    config: &Config,
    b: &Bundle,
) {
    let p = pod(b);
    let mounts = p.containers[0].volume_mounts.clone().unwrap();
    let volumes = p.volumes.unwrap();
    let under = |path: &str| {
        mounts
            .iter()
            .find(|m| Path::new(path).starts_with(&m.mount_path))
            .unwrap_or_else(|| panic!("{name}: {path} is under no mount"))
    };
    // The data directory *is* the data mount: the write-up's /vat/lib/registry can't happen.
    if let registry_gen::Storage::S3(_) = &config.storage {
        // A bucket: the s3 driver replaces the filesystem one, and no
        // volume is mounted at the data path.
        assert_eq!(env(b, "REGISTRY_STORAGE").as_deref(), Some("s3"), "{name}");
        assert_eq!(
            env(b, "REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY"),
            None,
            "{name}"
        );
        assert!(
            !mounts
                .iter()
                .any(|m| m.mount_path == config.registry.data_path),
            "{name}: a volume at the data path"
        );
    } else {
        let root = env(b, "REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY").unwrap();
        assert_eq!(root, config.registry.data_path);
        let m = under(&root);
        assert_eq!(m.mount_path, root, "{name}");
        assert_ne!(m.read_only, Some(true), "{name}: data must be writable");
    }

    let mut files = vec![
        ("REGISTRY_HTTP_TLS_CERTIFICATE", "certs/server.crt"),
        ("REGISTRY_HTTP_TLS_KEY", "certs/server.key"),
    ];
    if config.auth.is_some() {
        files.push(("REGISTRY_AUTH_HTPASSWD_PATH", "auth/htpasswd"));
        assert_eq!(env(b, "REGISTRY_AUTH").as_deref(), Some("htpasswd"));
    } else {
        assert_eq!(env(b, "REGISTRY_AUTH"), None, "{name}");
    }
    for (var, bundle_file) in files {
        let path = env(b, var).unwrap_or_else(|| panic!("{name}: {var} unset"));
        let m = under(&path);
        let key = Path::new(&path)
            .strip_prefix(&m.mount_path)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let v = volumes.iter().find(|v| v.name == m.name).unwrap();
        let secret_name = v.secret.as_ref().unwrap().secret_name.clone().unwrap();
        let (_, secret) = b
            .files()
            .filter(|(p, _)| p.starts_with("manifests/secret-"))
            .map(|(p, _)| (p, common::yaml::<core::Secret>(b, p)))
            .find(|(_, s)| s.metadata.name.as_ref() == Some(&secret_name))
            .unwrap();
        let data = secret.data.unwrap();
        assert_eq!(
            data.get(&key).map(|d| &d.0),
            Some(&b.get(bundle_file).unwrap().contents),
            "{name}: {var}={path} is not the bytes of {bundle_file}"
        );
    }
}

#[test]
fn trust_directories_are_covered_by_the_certificate() {
    each(check_trust_directories_are_covered_by_the_certificate);
}

fn check_trust_directories_are_covered_by_the_certificate(name: &str, config: &Config, b: &Bundle) {
    let (_, pem) =
        x509_parser::pem::parse_x509_pem(b.get("certs/server.crt").unwrap().contents.as_slice())
            .unwrap();
    let cert = pem.parse_x509().unwrap();
    let san = cert.subject_alternative_name().unwrap().unwrap().value;
    let mut dns = BTreeSet::new();
    let mut ips = BTreeSet::new();
    for n in &san.general_names {
        match n {
            x509_parser::extensions::GeneralName::DNSName(d) => {
                dns.insert(d.to_string());
            }
            x509_parser::extensions::GeneralName::IPAddress(ip) => {
                ips.insert(ip.to_vec());
            }
            _ => {}
        }
    }
    for ip in &config.addresses.node_ips {
        let bytes = match ip {
            std::net::IpAddr::V4(v) => v.octets().to_vec(),
            std::net::IpAddr::V6(v) => v.octets().to_vec(),
        };
        assert!(ips.contains(&bytes), "{name}: {ip} not an IP SAN");
    }
    let mut dirs = 0;
    for (p, _) in b.files() {
        let Some(ep) = p
            .strip_prefix("trust/docker/certs.d/")
            .and_then(|p| p.strip_suffix("/ca.crt"))
        else {
            continue;
        };
        if !is_mirror_dir(config, ep) {
            dirs += 1;
        }
        let host = match ep.rsplit_once(':') {
            Some((h, port)) if port.parse::<u16>().is_ok() && !h.ends_with(':') => h,
            _ => ep,
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let covered = match host.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(v)) => ips.contains(v.octets().as_slice()),
            Ok(std::net::IpAddr::V6(v)) => ips.contains(v.octets().as_slice()),
            Err(_) => dns.contains(host),
        };
        assert!(
            covered,
            "{name}: trust dir {ep} is not covered by the certificate's SANs"
        );
    }
    // Every node address per exposed port, and the Service.
    // None in a mirror-only bundle.
    let exposed =
        usize::from(config.ports.host.is_some()) + usize::from(config.ports.node.is_some());
    let expected = if config.registry.enabled {
        (config.addresses.node_ips.len() + config.addresses.dns_names.len()) * exposed
            + 1
            + usize::from(config.exposure.is_some())
    } else {
        0
    };
    assert_eq!(dirs, expected, "{name}: trust dirs ({dirs})");
}

#[test]
fn pull_secret_has_an_entry_per_trust_directory() {
    each_private(check_pull_secret_has_an_entry_per_trust_directory);
}

fn check_pull_secret_has_an_entry_per_trust_directory(name: &str, config: &Config, b: &Bundle) {
    let Some(auth) = &config.auth else {
        assert!(b.get("manifests/secret-pull.yaml").is_none(), "{name}");
        return;
    };
    let s: core::Secret = common::yaml(b, "manifests/secret-pull.yaml");
    assert_eq!(s.type_.as_deref(), Some("kubernetes.io/dockerconfigjson"));
    let json: serde_json::Value =
        serde_json::from_slice(&s.data.unwrap()[".dockerconfigjson"].0).unwrap();
    let auths: BTreeSet<String> = json["auths"].as_object().unwrap().keys().cloned().collect();
    // Every name an image reference may use, port-less aliases included.
    let dirs: BTreeSet<String> = b
        .files()
        .filter_map(|(p, _)| {
            p.strip_prefix("trust/containerd/certs.d/")
                .and_then(|p| p.strip_suffix("/hosts.toml"))
        })
        .filter(|d| !is_mirror_dir(config, d))
        .map(str::to_owned)
        .collect();
    assert_eq!(auths, dirs, "{name}");
    let user = &auth.users[0].name;
    for v in json["auths"].as_object().unwrap().values() {
        assert_eq!(v["username"], *user);
        assert_eq!(v["password"], common::password(user));
    }
}

#[test]
fn kustomization_lists_exactly_the_manifests_and_the_stream_holds_them() {
    each(check_kustomization_lists_exactly_the_manifests_and_the_stream_holds_them);
}

fn check_kustomization_lists_exactly_the_manifests_and_the_stream_holds_them(
    name: &str,
    _config: &Config,
    b: &Bundle,
) {
    #[derive(serde::Deserialize)]
    struct K {
        resources: Vec<String>,
    }
    let k: K = common::yaml(b, "manifests/kustomization.yaml");
    let listed: BTreeSet<String> = k
        .resources
        .iter()
        .map(|r| format!("manifests/{r}"))
        .collect();
    let files: BTreeSet<String> = b
        .files()
        .map(|(p, _)| p.to_owned())
        .filter(|p| {
            p.starts_with("manifests/")
                && !p.ends_with("kustomization.yaml")
                && !p.starts_with("manifests/tests/")
                && !p.starts_with("manifests/maintenance/")
        })
        .collect();
    assert_eq!(listed, files, "{name}");
    assert_eq!(
        b.manifest_stream().lines().filter(|l| *l == "---").count(),
        files.len(),
        "{name}: stream documents"
    );
}

#[test]
fn secret_manifests_and_keys_are_private() {
    each(check_secret_manifests_and_keys_are_private);
}

fn check_secret_manifests_and_keys_are_private(name: &str, config: &Config, b: &Bundle) {
    for (p, f) in b.files() {
        let secret = p.ends_with(".key")
            || p.ends_with(".password")
            || p.starts_with("auth/")
            || p.starts_with("manifests/secret-")
            || (p == "trust/k3s/registries.yaml"
                && config.auth.is_some()
                && config.registry.enabled);
        assert_eq!(
            f.mode == registry_gen::MODE_SECRET,
            secret,
            "{name}: {p} has mode {:o}",
            f.mode
        );
    }
}

#[test]
fn rendering_is_deterministic_apart_from_signatures() {
    let config = common::load(&common::examples()[0]);
    let (a, b) = (common::render(&config), common::render(&config));
    for ((pa, fa), (pb, fb)) in a.files().zip(b.files()) {
        assert_eq!(pa, pb);
        if pa == "manifests/deployment.yaml" {
            // Its checksum-tls annotation hashes the (randomly signed) certificate.
            let unsigned = |f: &registry_gen::File| -> String {
                String::from_utf8_lossy(&f.contents)
                    .lines()
                    .filter(|l| !l.contains("registry-gen/checksum-tls:"))
                    .collect()
            };
            assert_eq!(
                unsigned(fa),
                unsigned(fb),
                "{pa} differs beyond checksum-tls"
            );
        } else if !(pa.ends_with(".crt")
            || pa.ends_with(".csr")
            || pa.starts_with("manifests/secret-tls")
            || pa == "manifests/secret-ingress-ca.yaml")
        {
            assert_eq!(
                fa, fb,
                "{pa} differs between two renders of the same inputs"
            );
        }
    }
}

#[test]
fn with_rsa_keys_the_same_inputs_give_byte_identical_bundles() {
    // RSA PKCS#1 v1.5 signatures are deterministic, so nothing differs.
    let path = common::examples()
        .into_iter()
        .find(|p| p.ends_with("shared-pvc-rsa.yaml"))
        .unwrap();
    let config = common::load(&path);
    assert_eq!(common::render(&config), common::render(&config));
}

#[test]
fn every_containerd_hosts_toml_points_at_a_real_port_with_the_bundle_ca() {
    each(check_every_containerd_hosts_toml_points_at_a_real_port_with_the_bundle_ca);
}

fn check_every_containerd_hosts_toml_points_at_a_real_port_with_the_bundle_ca(
    name: &str,
    config: &Config,
    b: &Bundle,
) {
    let ca = &b.get("certs/ca.crt").unwrap().contents;
    let ports: BTreeSet<u16> = [
        config.ports.host,
        config.ports.node,
        Some(config.ports.service.unwrap_or(config.ports.container)),
        // The Gateway's or the Ingress controller's listener.
        config.exposure.as_ref().map(|_| 443),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut seen = 0;
    for (p, f) in b.files() {
        let Some(dir) = p
            .strip_prefix("trust/containerd/certs.d/")
            .and_then(|p| p.strip_suffix("/hosts.toml"))
        else {
            continue;
        };
        if is_mirror_dir(config, dir) {
            continue;
        }
        seen += 1;
        // Parsed as TOML: the inline form (IPv6) and the table form
        // must mean the same thing.
        let doc: toml::Table = std::str::from_utf8(&f.contents).unwrap().parse().unwrap();
        let url = doc["server"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: {p} has no server"));
        let server = url.strip_prefix("https://").unwrap();
        let host_table = doc["host"].as_table().unwrap();
        assert_eq!(host_table.len(), 1, "{name}: {p}");
        let h = host_table
            .get(url)
            .and_then(|h| h.as_table())
            .unwrap_or_else(|| panic!("{name}: {p} lacks its [host] table"));
        assert_eq!(h["ca"].as_str(), Some("ca.crt"), "{name}: {p}");
        assert_eq!(
            h["capabilities"].as_array().unwrap().len(),
            3,
            "{name}: {p}"
        );
        assert_eq!(
            &b.get(&format!("trust/containerd/certs.d/{dir}/ca.crt"))
                .unwrap()
                .contents,
            ca,
            "{name}: {dir}"
        );
        // `host[:port]`; no port (443) for `host` or `[v6]`.
        let (host, port) = match server.rsplit_once(':') {
            Some((h, p)) if !server.ends_with(']') => (h, p.parse::<u16>().unwrap()),
            _ => (server, 443),
        };
        assert!(
            ports.contains(&port),
            "{name}: {p} points at port {port}, which nothing listens on"
        );
        if dir.ends_with(&format!(":{port}")) || (port == 443 && dir == server) {
            assert_eq!(dir, server, "{name}: {p}");
        } else {
            // A port-less alias: its server is the NodePort.
            assert_eq!(dir, host, "{name}: {p}");
            assert_eq!(Some(port), config.ports.node, "{name}: {p}");
        }
    }
    if !config.registry.enabled {
        // A mirror-only bundle: no hosts.toml of the private registry.
        assert_eq!(seen, 0, "{name}: {seen} hosts.toml");
        return;
    }
    assert!(seen >= 1, "{name}: {seen} hosts.toml");
    if config.ports.node.is_some() {
        for host in config.addresses.dns_names.iter() {
            assert!(
                b.get(&format!("trust/containerd/certs.d/{host}/hosts.toml"))
                    .is_some(),
                "{name}: no alias for {host}"
            );
        }
    }
}

#[test]
fn the_gc_job_runs_the_registrys_own_container() {
    each_private(check_the_gc_job_runs_the_registrys_own_container);
}

/// The garbage-collection Job's container is the registry's (image, env,
/// mounts, resources, hardening; the pod's volumes, security and node
/// pinning), so the collector reads what the server writes; gc.sh names
/// the Job, the Deployment and its container as the manifests do. Only
/// emptyDir storage has no Job.
fn check_the_gc_job_runs_the_registrys_own_container(name: &str, _config: &Config, b: &Bundle) {
    let path = "manifests/maintenance/gc-job.yaml";
    let d = deployment(b);
    let registry = pod(b);
    if b.get(path).is_none() {
        assert!(
            registry
                .volumes
                .as_ref()
                .unwrap()
                .iter()
                .any(|v| v.empty_dir.is_some()),
            "{name}: no Job, yet the storage is not emptyDir"
        );
        return;
    }
    let job: k8s_openapi::api::batch::v1::Job = common::yaml(b, path);
    assert_eq!(job.metadata.namespace, d.metadata.namespace, "{name}");
    let spec = job.spec.unwrap();
    assert_eq!(spec.backoff_limit, Some(0), "{name}");
    let gc = spec.template.spec.unwrap();
    let (c, r) = (&gc.containers[0], &registry.containers[0]);
    assert_eq!(c.image, r.image, "{name}");
    // The registry's env; with a Redis cache, also the raw password for
    // the flush, under a name the registry does not read.
    let (env, ours) = (c.env.as_ref().unwrap(), r.env.as_ref().unwrap());
    assert_eq!(env[..ours.len()], ours[..], "{name}");
    let extra = &env[ours.len()..];
    assert!(
        extra.iter().all(|e| !e.name.starts_with("REGISTRY_")),
        "{name}"
    );
    assert_eq!(c.volume_mounts, r.volume_mounts, "{name}");
    assert_eq!(c.resources, r.resources, "{name}");
    assert_eq!(c.security_context, r.security_context, "{name}");
    assert_eq!(gc.volumes, registry.volumes, "{name}");
    assert_eq!(gc.security_context, registry.security_context, "{name}");
    assert_eq!(gc.node_selector, registry.node_selector, "{name}");
    assert_eq!(gc.restart_policy.as_deref(), Some("Never"), "{name}");
    let command = c.command.as_ref().unwrap();
    let registry_env = |var: &str| ours.iter().find(|e| e.name == var);
    let command = match registry_env("REGISTRY_REDIS_ADDR") {
        None => {
            assert!(extra.is_empty(), "{name}");
            &command[..]
        }
        // The flush speaks to the Redis the registry uses, in its db, with
        // the password of its Secret.
        Some(addr) => {
            assert_eq!(command[..2], ["/bin/sh", "-c"], "{name}");
            let script = &command[2];
            let db = registry_env("REGISTRY_REDIS_DB").unwrap();
            for line in [
                format!(
                    "REDIS_ADDRESS='{}'",
                    common::registry_reads(addr.value.as_ref().unwrap())
                ),
                format!(
                    "REDIS_DB='{}'",
                    common::registry_reads(db.value.as_ref().unwrap())
                ),
            ] {
                assert!(script.lines().any(|l| l == line), "{name}: {line}");
            }
            match registry_env("REGISTRY_REDIS_PASSWORD") {
                Some(p) => {
                    let secret = |e: &k8s_openapi::api::core::v1::EnvVar| {
                        let r = e.value_from.as_ref().unwrap().secret_key_ref.clone();
                        r.unwrap().name
                    };
                    assert_eq!(extra.len(), 1, "{name}");
                    assert_eq!(secret(&extra[0]), secret(p), "{name}");
                    // The password as given, whatever form the registry's
                    // variable takes.
                    let key = extra[0]
                        .value_from
                        .as_ref()
                        .unwrap()
                        .secret_key_ref
                        .as_ref();
                    assert_eq!(key.unwrap().key, "password", "{name}");
                    let line = format!("PASSWORD_ENV='{}'", extra[0].name);
                    assert!(script.lines().any(|l| l == line), "{name}");
                }
                None => assert!(extra.is_empty(), "{name}"),
            }
            &command[4..]
        }
    };
    assert_eq!(command[..2], ["registry", "garbage-collect"], "{name}");
    // Job labels never match the registry's selector (the Service must not
    // route to the collector).
    let dspec = d.spec.unwrap();
    let replicas = dspec.replicas.unwrap();
    let selector = dspec.selector.match_labels.unwrap();
    let labels = job.metadata.labels.unwrap();
    assert!(
        selector.iter().any(|(k, v)| labels.get(k) != Some(v)),
        "{name}: the Job carries the registry's selector"
    );
    let script = common::text(b, "scripts/gc.sh");
    for line in [
        format!("JOB='{}'", job.metadata.name.unwrap()),
        format!("JOB_MANIFEST='{path}'"),
        format!("DEPLOYMENT='{}'", d.metadata.name.unwrap()),
        format!("CONTAINER='{}'", r.name),
        format!("REPLICAS='{replicas}'"),
    ] {
        assert!(
            script.lines().any(|l| l == line),
            "{name}: gc.sh lacks {line}"
        );
    }
}

/// Every cross-reference check above.
const CHECKS: &[fn(&str, &Config, &Bundle)] = &[
    check_selector_matches_pod_labels_and_service,
    check_service_targets_the_container_port,
    check_every_mount_has_its_volume_and_every_volume_its_object,
    check_every_registry_path_lies_under_its_mount_and_the_secret_holds_the_file,
    check_trust_directories_are_covered_by_the_certificate,
    check_pull_secret_has_an_entry_per_trust_directory,
    check_kustomization_lists_exactly_the_manifests_and_the_stream_holds_them,
    check_secret_manifests_and_keys_are_private,
    check_every_containerd_hosts_toml_points_at_a_real_port_with_the_bundle_ca,
    check_the_gc_job_runs_the_registrys_own_container,
];

mod random {
    //! The same checks on random valid configs: names, namespaces,
    //! addresses (IPv4, IPv6, DNS), ports, every storage kind, auth on or
    //! off, replicas. A config that fails validation is drawn again (the
    //! strategies aim at valid ones); one that passes must render, and its
    //! bundle must pass every check.
    use std::net::IpAddr;

    use proptest::prelude::*;
    use registry_gen::{Config, KeyAlgorithm};

    use crate::common;

    fn label() -> impl Strategy<Value = String> {
        "[a-z]([a-z0-9-]{0,10}[a-z0-9])?"
    }

    fn storage() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("empty_dir: {}".to_owned()),
            ("/[a-z]{1,8}(/[a-z0-9]{1,8}){0,2}", label())
                .prop_map(|(p, n)| format!("host_path: {{path: {p}, node: {n}}}")),
            (1u32..500, prop::bool::ANY).prop_map(|(g, rwx)| format!(
                "nfs: {{server: 10.0.0.9, path: /exports/r, size: {g}Gi, access_modes: [{}]}}",
                if rwx {
                    "ReadWriteMany"
                } else {
                    "ReadWriteOnce"
                }
            )),
            (1u32..500, prop::bool::ANY).prop_map(|(g, rwx)| format!(
                "pvc: {{size: {g}Gi, access_modes: [{}]}}",
                if rwx {
                    "ReadWriteMany"
                } else {
                    "ReadWriteOnce"
                }
            )),
        ]
    }

    fn ip() -> impl Strategy<Value = IpAddr> {
        prop_oneof![
            (1u8..=223, any::<u8>(), any::<u8>(), 1u8..=254)
                .prop_map(|(a, b, c, d)| IpAddr::from([a, b, c, d])),
            (1u16..0xfeff, any::<u16>())
                .prop_map(|(a, b)| IpAddr::from([0xfd00, a, 0, 0, 0, 0, b, 1])),
        ]
    }

    prop_compose! {
        fn config()(
            name in label(),
            namespace in prop_oneof![Just("default".to_owned()), Just("kube-system".to_owned()), label()],
            ips in prop::collection::btree_set(ip(), 0..3),
            dns in prop::collection::btree_set(
                prop::collection::vec(label(), 1..4).prop_map(|l| l.join(".") + ".test"),
                0..3,
            ),
            container in 1024u16..30000,
            host in prop::option::of(prop_oneof![Just(443u16), Just(5000u16), 1024u16..30000]),
            node in prop::option::of(30000u16..=32767),
            storage in storage(),
            users in prop::collection::btree_set("[a-z][a-z0-9_]{0,8}", 0..3),
            replicas in 1i32..4,
        ) -> String {
            let list = |v: Vec<String>| format!("[{}]", v.join(", "));
            let mut y = format!(
                "name: {name}\nnamespace: {namespace}\nreplicas: {replicas}\naddresses:\n  node_ips: {}\n  dns_names: {}\nports:\n  container: {container}\n",
                list(ips.iter().map(|i| format!("\"{i}\"")).collect()),
                list(dns.into_iter().collect()),
            );
            if let Some(h) = host {
                y.push_str(&format!("  host: {h}\n"));
            }
            if let Some(n) = node {
                y.push_str(&format!("  node: {n}\n"));
            }
            y.push_str(&format!("storage: {{{storage}}}\n"));
            if users.is_empty() {
                y.push_str("auth: null\n");
            } else {
                y.push_str(&format!(
                    "auth: {{bcrypt_cost: 4, users: [{}]}}\n",
                    users.iter().map(|u| format!("{{name: {u}}}")).collect::<Vec<_>>().join(", ")
                ));
            }
            y
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
        #[test]
        fn every_check_holds_for_random_valid_configs(yaml in config()) {
            let mut c: Config = Config::from_yaml(&yaml).unwrap();
            c.tls.key_algorithm = KeyAlgorithm::EcdsaP256; // fixture keys: fast
            // Invalid mixes (replicas > 1 without shared storage, hostPort =
            // NodePort, ...) are rejected and drawn again.
            prop_assume!(registry_gen::validate(&c).is_ok());
            let b = registry_gen::render(&c, &common::inputs(&c))
                .unwrap_or_else(|e| panic!("valid but not rendered: {e}\n{yaml}"));
            for check in super::CHECKS {
                check(&yaml, &c, &b);
            }
        }
    }
}

/// A trust directory of a mirror (an upstream, a mirror's endpoint or
/// Service), which `mirrors.rs` checks: the mirrors take no login and their
/// hosts.toml files route an upstream.
fn is_mirror_dir(config: &Config, dir: &str) -> bool {
    config.mirrors.iter().any(|m| {
        dir == m.upstream
            || dir.starts_with(&format!("{}-mirror-", config.name))
            || [m.ports.host, m.ports.node]
                .into_iter()
                .flatten()
                .any(|p| dir.ends_with(&format!(":{p}")))
    })
}

/// An Ingress that passes TLS through carries only the passthrough
/// annotation (none of the re-encrypting settings), no TLS section and no
/// CA Secret; the re-encrypting one names the CA Secret the bundle holds.
#[test]
fn the_ingress_modes_render_what_each_needs() {
    use k8s_openapi::api::networking::v1 as net;
    let mut config = common::load(&common::workspace().join("examples/exposed.yaml"));
    let b = common::render(&config);
    let ing: net::Ingress = common::yaml(&b, "manifests/ingress.yaml");
    let a = ing.metadata.annotations.unwrap();
    let secret = &a["nginx.ingress.kubernetes.io/proxy-ssl-secret"];
    let ca: k8s_openapi::api::core::v1::Secret =
        common::yaml(&b, "manifests/secret-ingress-ca.yaml");
    assert_eq!(*secret, format!("registry/{}", ca.metadata.name.unwrap()));
    assert_eq!(
        a["nginx.ingress.kubernetes.io/proxy-ssl-name"],
        "registry.registry.svc"
    );

    config
        .exposure
        .as_mut()
        .unwrap()
        .ingress
        .as_mut()
        .unwrap()
        .mode = registry_gen::IngressMode::Passthrough;
    let b = common::render(&config);
    let ing: net::Ingress = common::yaml(&b, "manifests/ingress.yaml");
    let a = ing.metadata.annotations.unwrap();
    assert_eq!(
        a.into_iter().collect::<Vec<_>>(),
        [(
            "nginx.ingress.kubernetes.io/ssl-passthrough".to_owned(),
            "true".to_owned()
        )]
    );
    assert!(ing.spec.unwrap().tls.is_none());
    assert!(b.get("manifests/secret-ingress-ca.yaml").is_none());
}
