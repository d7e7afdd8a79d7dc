//! Mirrors, checked by their fields: what k3s, Docker, containerd and
//! containers/image read (parsed as those runtimes parse them: YAML, JSON,
//! TOML), the upstream login kept out of the pod spec, and the rollout when
//! the login changes. (containerd's and
//! containers/image's reading of these files is proved with the real
//! programs in the CLI's `e2e_mirror.rs`; k3s and dockerd don't run here.)

use std::collections::BTreeMap;

use k8s_openapi::api::{apps::v1 as apps, core::v1 as core};
use registry_gen::{Bundle, Config, Secret};

use crate::common;

pub(crate) const CONFIG: &str = "name: reg
namespace: registry
addresses: {node_ips: [10.0.0.10], dns_names: [node.test]}
ports: {node: 30500}
mirrors:
  - upstream: docker.io
    fallback: false
    ports: {node: 30521}
    ttl: 72h
    username_file: hub/user
    password_file: hub/token
  - upstream: ghcr.io
    ports: {host: 5002}
    ca_file: ghcr-ca.crt
";

fn render(config: &Config) -> Bundle {
    common::render(config)
}

fn config() -> Config {
    Config::from_yaml(CONFIG).unwrap()
}

#[test]
fn k3s_registries_yaml_routes_each_upstream_through_its_mirror() {
    let b = render(&config());
    let r: serde_yaml::Value = common::yaml(&b, "trust/k3s/registries.yaml");
    let endpoints = |upstream: &str| -> Vec<String> {
        r["mirrors"][upstream]["endpoint"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        endpoints("docker.io"),
        ["https://10.0.0.10:30521", "https://node.test:30521"]
    );
    assert_eq!(
        endpoints("ghcr.io"),
        ["https://10.0.0.10:5002", "https://node.test:5002"]
    );
    for mirror in [
        "10.0.0.10:30521",
        "node.test:30521",
        "10.0.0.10:5002",
        "node.test:5002",
    ] {
        let c = &r["configs"][mirror];
        assert_eq!(
            c["tls"]["ca_file"], "/etc/rancher/k3s/reg-registry-ca.crt",
            "{mirror}"
        );
        assert!(
            c.get("auth").is_none(),
            "{mirror}: the mirrors take no login"
        );
    }
    // fallback: false needs k3s's own switch, which the file names.
    assert!(common::text(&b, "trust/k3s/registries.yaml")
        .contains("docker.io must never be pulled from directly (fallback: false): start k3s with\n# --disable-default-registry-endpoint"));
}

#[test]
fn docker_daemon_json_mirrors_docker_hub_only() {
    let b = render(&config());
    let d: serde_json::Value =
        serde_json::from_str(common::text(&b, "trust/docker/daemon.json")).unwrap();
    assert_eq!(
        d,
        serde_json::json!({"registry-mirrors": ["https://10.0.0.10:30521", "https://node.test:30521"]})
    );
    // Docker mirrors Docker Hub only: no daemon.json without a docker.io mirror.
    let mut c = config();
    c.mirrors.remove(0);
    assert!(render(&c).get("trust/docker/daemon.json").is_none());
    // Docker (and skopeo) trust each mirror endpoint by its certs.d directory.
    for e in [
        "10.0.0.10:30521",
        "node.test:30521",
        "10.0.0.10:5002",
        "node.test:5002",
    ] {
        assert!(
            b.get(&format!("trust/docker/certs.d/{e}/ca.crt")).is_some(),
            "{e}"
        );
    }
}

#[test]
fn containerd_hosts_toml_server_follows_fallback() {
    let b = render(&config());
    let hosts = |upstream: &str| -> toml::Table {
        common::text(
            &b,
            &format!("trust/containerd/certs.d/{upstream}/hosts.toml"),
        )
        .parse()
        .unwrap()
    };
    let hub = hosts("docker.io");
    assert_eq!(hub["server"].as_str(), Some("https://10.0.0.10:30521"));
    assert_eq!(hub["ca"].as_str(), Some("ca.crt"));
    let ghcr = hosts("ghcr.io");
    assert_eq!(ghcr["server"].as_str(), Some("https://ghcr.io"));
    // The upstream, when the node falls back to it, is verified with its
    // own CA (`ca_file`) beside hosts.toml, which containerd adds to the
    // system's CAs.
    assert_eq!(ghcr["ca"].as_str(), Some("upstream-ca.crt"));
    let upstream_ca = common::text(&b, "trust/containerd/certs.d/ghcr.io/upstream-ca.crt");
    let cm: core::ConfigMap = common::yaml(&b, "manifests/mirror-ghcr-io-upstream-ca.yaml");
    assert_eq!(upstream_ca, cm.data.unwrap()["ca.crt"]);
    assert!(upstream_ca.contains("BEGIN CERTIFICATE"));
    // ... and CRI-O's and podman's (location = the upstream), after its
    // owner line (shared with any bundle mirroring ghcr.io), which
    // openssl, as Go's PEM reader, skips.
    let containers = common::text(&b, "trust/containers/certs.d/ghcr.io/ca.crt");
    assert_eq!(
        containers,
        format!("# registry-gen/owner: registry/reg\n{upstream_ca}")
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.crt"), containers).unwrap();
    let o = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-in"])
        .arg(dir.path().join("ca.crt"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Not without fallback: the nodes never reach the upstream.
    assert!(b
        .get("trust/containerd/certs.d/docker.io/upstream-ca.crt")
        .is_none());
    for (t, port) in [(&hub, 30521), (&ghcr, 5002)] {
        let h = t["host"].as_table().unwrap();
        let urls: Vec<&String> = h.keys().collect();
        assert_eq!(urls.len(), 2);
        for url in urls {
            assert!(url.ends_with(&format!(":{port}")), "{url}");
            assert_eq!(h[url]["capabilities"].as_array().unwrap().len(), 2);
            assert_eq!(h[url]["ca"].as_str(), Some("ca.crt"));
        }
    }
}

/// A mirror's own address (`certs.d/<node>:<mirror port>/`) offers pull and
/// resolve only: a proxy-mode registry refuses every push. The private
/// registry's takes pushes.
#[test]
fn a_mirror_endpoint_is_never_a_push_target() {
    let b = render(&config());
    let capabilities = |endpoint: &str| -> Vec<String> {
        let t: toml::Table = common::text(
            &b,
            &format!("trust/containerd/certs.d/{endpoint}/hosts.toml"),
        )
        .parse()
        .unwrap();
        let hosts = t["host"].as_table().unwrap();
        assert_eq!(hosts.len(), 1, "{endpoint}");
        let (_, host) = hosts.iter().next().unwrap();
        host["capabilities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect()
    };
    for mirror in [
        "10.0.0.10:30521",
        "node.test:30521",
        "10.0.0.10:5002",
        "node.test:5002",
    ] {
        assert_eq!(capabilities(mirror), ["pull", "resolve"], "{mirror}");
    }
    assert_eq!(capabilities("10.0.0.10:30500"), ["pull", "resolve", "push"]);
}

#[test]
fn containers_registries_conf_follows_fallback() {
    let b = render(&config());
    let conf: toml::Table = common::text(&b, "trust/containers/registries.conf.d/reg-mirrors.conf")
        .parse()
        .unwrap();
    let registries = conf["registry"].as_array().unwrap();
    let by_prefix: BTreeMap<&str, &toml::Value> = registries
        .iter()
        .map(|r| (r["prefix"].as_str().unwrap(), r))
        .collect();
    assert_eq!(
        by_prefix["docker.io"]["location"].as_str(),
        Some("10.0.0.10:30521")
    );
    assert_eq!(by_prefix["ghcr.io"]["location"].as_str(), Some("ghcr.io"));
    let mirrors = |p: &str| -> Vec<&str> {
        by_prefix[p]["mirror"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["location"].as_str().unwrap())
            .collect()
    };
    assert_eq!(mirrors("docker.io"), ["10.0.0.10:30521", "node.test:30521"]);
    assert_eq!(mirrors("ghcr.io"), ["10.0.0.10:5002", "node.test:5002"]);
    // Each mirror endpoint maps to itself (a port-less alias's prefix must not catch it).
    for e in ["10.0.0.10:30521", "node.test:5002"] {
        assert_eq!(by_prefix[e]["location"].as_str(), Some(e));
    }
}

fn deployment(b: &Bundle, upstream: &str) -> apps::Deployment {
    common::yaml(b, &format!("manifests/mirror-{upstream}-deployment.yaml"))
}

fn env(d: &apps::Deployment) -> BTreeMap<String, core::EnvVar> {
    d.spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap()
        .containers[0]
        .env
        .clone()
        .unwrap()
        .into_iter()
        .map(|e| (e.name.clone(), e))
        .collect()
}

#[test]
fn the_upstream_login_is_in_a_secret_and_the_pod_reads_it_by_reference() {
    let b = render(&config());
    let d = deployment(&b, "docker-io");
    let e = env(&d);
    let reads = |var: &str| common::registry_reads(e[var].value.as_deref().unwrap());
    assert_eq!(
        reads("REGISTRY_PROXY_REMOTEURL"),
        "https://registry-1.docker.io"
    );
    assert_eq!(reads("REGISTRY_PROXY_TTL"), "72h");
    for (var, key) in [
        ("REGISTRY_PROXY_USERNAME", "username.yaml"),
        ("REGISTRY_PROXY_PASSWORD", "password.yaml"),
    ] {
        assert!(e[var].value.is_none(), "{var} in the pod spec");
        let r = e[var]
            .value_from
            .as_ref()
            .unwrap()
            .secret_key_ref
            .as_ref()
            .unwrap();
        assert_eq!(
            (r.name.as_str(), r.key.as_str()),
            ("reg-mirror-docker-io-upstream", key)
        );
    }
    let path = "manifests/mirror-docker-io-secret-upstream.yaml";
    assert_eq!(b.get(path).unwrap().mode, registry_gen::MODE_SECRET);
    let s: core::Secret = common::yaml(&b, path);
    let data = s.data.unwrap();
    // As given, and quoted for the registry's YAML reading of env values.
    assert_eq!(data["password"].0, b"fixture-token-of-docker.io");
    assert_eq!(data["password.yaml"].0, b"\"fixture-token-of-docker.io\"");
    assert!(
        !common::text(&b, "manifests/mirror-docker-io-deployment.yaml").contains("fixture-token")
    );
    // Anyone who reaches the mirror pulls with that login: said once.
    let warned: Vec<&String> = b
        .warnings()
        .iter()
        .filter(|w| w.contains("upstream login"))
        .collect();
    assert_eq!(warned.len(), 1, "{:?}", b.warnings());
    assert!(warned[0].starts_with("mirrors[0] pulls from docker.io"));
    // No login configured: no Secret, no such env.
    let g = env(&deployment(&b, "ghcr-io"));
    assert!(!g.contains_key("REGISTRY_PROXY_PASSWORD"));
    assert!(b
        .get("manifests/mirror-ghcr-io-secret-upstream.yaml")
        .is_none());
}

#[test]
fn the_upstream_ca_is_mounted_and_named_by_ssl_cert_file() {
    let b = render(&config());
    let d = deployment(&b, "ghcr-io");
    let pod = d.spec.as_ref().unwrap().template.spec.clone().unwrap();
    let ssl = env(&d)["SSL_CERT_FILE"].value.clone().unwrap();
    let mount = pod.containers[0]
        .volume_mounts
        .as_ref()
        .unwrap()
        .iter()
        .find(|m| ssl.starts_with(&format!("{}/", m.mount_path)))
        .expect("SSL_CERT_FILE lies in a mount");
    let volume = pod
        .volumes
        .unwrap()
        .into_iter()
        .find(|v| v.name == mount.name)
        .unwrap();
    let cm_name = volume.config_map.unwrap().name;
    let cm: core::ConfigMap = common::yaml(&b, "manifests/mirror-ghcr-io-upstream-ca.yaml");
    assert_eq!(cm.metadata.name.as_deref(), Some(cm_name.as_str()));
    let key = ssl.rsplit('/').next().unwrap();
    assert!(cm.data.unwrap()[key].contains("BEGIN CERTIFICATE"));
}

fn annotations(b: &Bundle, upstream: &str) -> BTreeMap<String, String> {
    deployment(b, upstream)
        .spec
        .unwrap()
        .template
        .metadata
        .unwrap()
        .annotations
        .unwrap()
}

#[test]
fn a_new_upstream_token_rolls_only_that_mirror() {
    let c = config();
    let first = render(&c);
    let mut inputs = common::inputs(&c);
    inputs.upstreams.get_mut("docker.io").unwrap().password = Some(Secret::new("rotated"));
    let second = registry_gen::render(&c, &inputs).unwrap();
    let (a, b) = (
        annotations(&first, "docker-io"),
        annotations(&second, "docker-io"),
    );
    assert_ne!(
        a["registry-gen/checksum-upstream"],
        b["registry-gen/checksum-upstream"]
    );
    // (checksum-tls differs too: ECDSA signs each render anew; rollout.rs
    // covers a kept certificate.) The other mirror's own objects are unchanged.
    let key = "registry-gen/checksum-upstream-ca";
    assert_eq!(
        annotations(&first, "ghcr-io")[key],
        annotations(&second, "ghcr-io")[key]
    );
    assert!(!annotations(&first, "ghcr-io").contains_key("registry-gen/checksum-upstream"));
}

#[test]
fn the_server_certificate_names_every_mirror_service() {
    let b = render(&config());
    let pem = common::text(&b, "certs/server.crt");
    for svc in [
        "reg-mirror-docker-io.registry.svc",
        "reg-mirror-ghcr-io.registry.svc.cluster.local",
    ] {
        assert!(
            common::decode_cert(pem).contains(&format!("DNS:{svc}")),
            "{svc}"
        );
    }
}
