//! Validation messages, one snapshot per bad config under
//! `snapshots/errors/`. Each case also proves nothing renders.

use registry_gen::{Config, Error};

use crate::common;

fn errors_of(yaml: &str) -> String {
    let result = Config::from_yaml(yaml).and_then(|c| {
        let inputs = common::inputs(&c);
        registry_gen::render(&c, &inputs).map(|_| ())
    });
    match result {
        Ok(()) => panic!("accepted:\n{yaml}"),
        Err(e) => format!("{yaml}\n=> {e}\n"),
    }
}

fn check(name: &str, yaml: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(common::workspace().join("snapshots/errors"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!(name, errors_of(yaml)));
}

#[test]
fn empty_config() {
    check("empty", "  \n");
}

#[test]
fn yaml_syntax_error_has_line_and_column() {
    check(
        "syntax",
        "name: kube-registry\naddresses:\n  node_ips: [127.0.0.1\n",
    );
}

#[test]
fn unknown_keys_are_rejected() {
    check(
        "unknown-key",
        "name: r\nadresses: {node_ips: [127.0.0.1]}\n",
    );
    check(
        "unknown-nested-key",
        "addresses: {node_ips: [127.0.0.1], dns: [a.test]}\n",
    );
}

#[test]
fn bad_ip_is_a_parse_error_naming_the_field() {
    check("bad-ip", "addresses:\n  node_ips: [192.168.99.300]\n");
}

#[test]
fn two_storage_kinds() {
    check(
        "two-storage-kinds",
        "addresses: {node_ips: [127.0.0.1]}\nstorage:\n  empty_dir: {}\n  host_path: {path: /data, node: n1}\n",
    );
}

#[test]
fn every_problem_at_once() {
    check(
        "many",
        r#"
name: Kube_Registry
namespace: "-ns"
image: "registry:3.1.1 latest"
replicas: 2
resources:
  requests: {cpu: "0", memory: 100Mx}
  limits: {cpu: 100m, memory: 100Mi}
addresses:
  node_ips: [0.0.0.0, 224.0.0.1, 255.255.255.255, 10.0.0.1, 10.0.0.1]
  dns_names: [Yuan.com, "bad_name.test", "a.*.test", "10.0.0.2"]
ports:
  container: 0
  host: 30443
  node: 30443
storage:
  host_path: {path: /, node: ""}
auth:
  realm: ""
  bcrypt_cost: 3
  users: [{name: "a:b"}, {name: ok}, {name: ok}]
tls:
  ca_validity_days: 100
  server_validity_days: 825
registry:
  data_path: /certs/data
"#,
    );
}

#[test]
fn node_port_outside_the_range_hints_at_the_alternatives() {
    check(
        "node-port-range",
        "addresses: {node_ips: [127.0.0.1]}\nports: {node: 443}\n",
    );
}

#[test]
fn replicas_need_shared_storage() {
    check(
        "replicas-rwo",
        "addresses: {node_ips: [127.0.0.1]}\nreplicas: 3\nstorage:\n  nfs: {server: nfs.test, path: /srv/registry, access_modes: [ReadWriteOnce]}\n",
    );
}

#[test]
fn nfs_rules() {
    check(
        "nfs",
        "addresses: {node_ips: [127.0.0.1]}\nstorage:\n  nfs: {server: \"\", path: relative/dir, size: 23GB, access_modes: []}\n",
    );
}

#[test]
fn auth_without_users() {
    check(
        "auth-no-users",
        "addresses: {node_ips: [127.0.0.1]}\nauth: {users: []}\n",
    );
}

#[test]
fn no_address_at_all() {
    check("no-address", "addresses: {node_ips: [], dns_names: []}\n");
}

#[test]
fn an_injected_key_of_the_wrong_algorithm_is_named() {
    let config = Config::embedded_default();
    let mut inputs = common::inputs(&config);
    let mut rsa = config.clone();
    rsa.tls.key_algorithm = registry_gen::KeyAlgorithm::Rsa2048;
    inputs.server_key = Some(common::key("server", &rsa));
    let err = registry_gen::render(&config, &inputs).unwrap_err();
    assert!(matches!(err, Error::Input { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "the server key: is RSA 2048, but tls.key_algorithm is ecdsa-p256: inject a key of that algorithm"
    );
}

/// A CA or password the config names in a file is the caller's to read:
/// `fill_missing` generates neither, and `render` refuses to go on without
/// it (or with an external CA the config does not name), instead of
/// signing or logging in with one the bundle does not describe.
#[test]
fn a_file_the_config_names_but_the_caller_did_not_read_is_named() {
    let now = ::time::OffsetDateTime::now_utc();
    let render = |config: &Config, inputs: &mut registry_gen::Inputs| {
        inputs.fill_missing(config).unwrap();
        registry_gen::render(config, inputs)
            .map(drop)
            .map_err(|e| e.to_string())
    };
    let mut given_ca = Config::embedded_default();
    given_ca.tls.ca = Some(registry_gen::CaFiles::new(
        "/etc/pki/ca.crt",
        "/etc/pki/ca.key",
    ));
    let err = render(&given_ca, &mut registry_gen::Inputs::new(now)).unwrap_err();
    assert!(err.starts_with("tls.ca: was not read: "), "{err}");

    let default = Config::embedded_default();
    let tmp = tempfile::tempdir().unwrap();
    let genkey = "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256";
    crate::support::openssl_ca(tmp.path(), genkey, "30");
    let read = |f: &str| std::fs::read_to_string(tmp.path().join(f)).unwrap();
    let mut external = registry_gen::Inputs::new(now);
    external.ca = Some(registry_gen::CaInput::External {
        cert_pem: read("ca.crt"),
        key: registry_gen::Secret::new(read("ca.key")),
    });
    let err = render(&default, &mut external).unwrap_err();
    assert!(
        err.starts_with("Inputs::ca: is an external CA, but the config's tls.ca is not set"),
        "{err}"
    );

    let mut password_file = Config::embedded_default();
    password_file.auth.as_mut().unwrap().users[0].password_file = Some("admin.password".into());
    let mut inputs = registry_gen::Inputs::new(now);
    let err = render(&password_file, &mut inputs).unwrap_err();
    assert!(
        err.starts_with("auth.users[0].password_file: was not read: "),
        "{err}"
    );
    let mut inputs = registry_gen::Inputs::new(now);
    let given = registry_gen::Password::given(registry_gen::Secret::new("from the file"));
    inputs.passwords.insert("admin".into(), given);
    render(&password_file, &mut inputs).unwrap();
}

#[test]
fn a_password_bcrypt_cannot_hash_is_refused() {
    let config = Config::embedded_default();
    for bad in [String::new(), "x".repeat(73)] {
        let mut inputs = common::inputs(&config);
        inputs.passwords.get_mut("admin").unwrap().secret = registry_gen::Secret::new(bad.clone());
        let err = registry_gen::render(&config, &inputs)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            format!("the password of user \"admin\": is {} bytes: bcrypt, the only hash the registry accepts, takes 1 to 72 bytes without NUL", bad.len())
        );
    }
}

#[test]
fn portless_alias_rules() {
    check(
        "portless-alias-without-node-port",
        "addresses: {node_ips: [127.0.0.1]}\nports: {host: 5000, portless_alias: true}\n",
    );
    check(
        "portless-alias-with-host-port-443",
        "addresses: {node_ips: [127.0.0.1]}\nports: {host: 443, node: 30443}\n",
    );
}

/// The seed's 100m/100Mi stays expressible; a CPU limit below one CPU is
/// accepted with a warning that names the measured cost, and no CPU limit
/// renders a container with a memory limit only.
#[test]
fn a_cpu_limit_below_one_cpu_warns_and_none_renders_no_cpu_limit() {
    let base = "addresses: {node_ips: [10.0.0.1]}\nstorage: {empty_dir: {}}\n";
    let seed = format!("{base}resources: {{requests: {{cpu: 10m, memory: 32Mi}}, limits: {{cpu: 100m, memory: 100Mi}}}}\n");
    let summary = registry_gen::summarize(&Config::from_yaml(&seed).unwrap()).unwrap();
    let warning = summary
        .warnings()
        .iter()
        .find(|w| w.starts_with("resources.limits.cpu is 100m"))
        .unwrap_or_else(|| panic!("no CPU warning in {:#?}", summary.warnings()));
    assert!(warning.contains("docs/performance.md"), "{warning}");

    fn limits_yaml_has_no_cpu(yaml: &str) -> bool {
        yaml.contains("limits: {memory")
    }
    for (limits, warns) in [
        ("{cpu: \"2\", memory: 256Mi}", false),
        ("{memory: 256Mi}", false),
        ("{cpu: 500m, memory: 256Mi}", true),
    ] {
        let yaml = format!(
            "{base}resources: {{requests: {{cpu: 100m, memory: 64Mi}}, limits: {limits}}}\n"
        );
        let config = Config::from_yaml(&yaml).unwrap();
        let summary = registry_gen::summarize(&config).unwrap();
        let warned = summary
            .warnings()
            .iter()
            .any(|w| w.starts_with("resources.limits.cpu"));
        assert_eq!(warned, warns, "{limits}");
        let bundle = common::render(&config);
        let d: k8s_openapi::api::apps::v1::Deployment =
            common::yaml(&bundle, "manifests/deployment.yaml");
        let container = &d.spec.unwrap().template.spec.unwrap().containers[0];
        let limits = container
            .resources
            .as_ref()
            .unwrap()
            .limits
            .as_ref()
            .unwrap();
        assert_eq!(
            limits.contains_key("cpu"),
            !limits_yaml_has_no_cpu(&yaml),
            "{yaml}"
        );
        assert!(limits.contains_key("memory"));
    }
}

#[test]
fn mirrors() {
    let base =
        "addresses: {node_ips: [10.0.0.1], dns_names: [registry.test]}\nports: {node: 30500}\n";
    let cases = [
        ("mirror-upstream-url", "mirrors: [{upstream: \"https://registry-1.docker.io\", ports: {node: 30521}}]\n"),
        ("mirror-upstream-path", "mirrors: [{upstream: quay.io/prometheus, ports: {node: 30521}}]\n"),
        ("mirror-upstream-docker-hub-alias", "mirrors: [{upstream: registry-1.docker.io, ports: {node: 30521}}]\n"),
        ("mirror-of-itself", "mirrors: [{upstream: registry.test, ports: {node: 30521}}, {upstream: \"10.0.0.1:30500\", ports: {node: 30522}}]\n"),
        ("mirror-upstream-twice", "mirrors: [{upstream: docker.io, ports: {node: 30521}}, {upstream: docker.io, ports: {node: 30522}}]\n"),
        ("mirror-port-clash", "mirrors: [{upstream: docker.io, ports: {node: 30500}}, {upstream: quay.io, ports: {host: 5001, node: 30600}}, {upstream: ghcr.io, ports: {host: 5001}}]\n"),
        ("mirror-on-s3", "mirrors: [{upstream: docker.io, ports: {node: 30521}, storage: {s3: {bucket: cache, region: us-east-1}}}]\n"),
        ("mirror-fields", "mirrors: [{upstream: docker.io, ttl: 1w, username_file: u, storage: {nfs: {server: \"\", path: rel}}}]\n"),
    ];
    for (name, mirrors) in cases {
        check(name, &format!("{base}{mirrors}"));
    }
}

/// A mirror-only bundle (`registry.enabled: false`) needs a mirror and
/// refuses what only the private registry reads; the private registry's
/// ports are free for its mirrors.
#[test]
fn mirror_only() {
    let base = "addresses: {node_ips: [10.0.0.1]}\nregistry: {enabled: false}\n";
    check("mirror-only-without-mirrors", base);
    check(
        "mirror-only-private-settings",
        "addresses: {node_ips: [10.0.0.1]}\nreplicas: 2\nspread: strict\ncache: {redis: {address: \"redis:6379\"}}\nstorage: {pvc: {size: 1Gi}}\nregistry: {enabled: false, delete_enabled: true}\nmirrors: [{upstream: docker.io, ports: {host: 5000}}]\n",
    );
    let ok = registry_gen::Config::from_yaml(&format!(
        "{base}mirrors: [{{upstream: docker.io, ports: {{host: 5000}}}}]\n"
    ))
    .unwrap();
    registry_gen::validate(&ok).expect("ports.host 5000 is free for a mirror");
}

/// What several replicas, the bucket and the cache cannot give although the
/// config seems to ask for it: `check` (and every render) warns.
#[test]
fn scale_out_settings_that_cannot_give_what_they_seem_to_warn() {
    let warnings = |yaml: &str| {
        let c = registry_gen::Config::from_yaml(yaml).unwrap();
        registry_gen::summarize(&c).unwrap().warnings().to_vec()
    };
    let base = "addresses: {node_ips: [10.0.0.1]}\n";
    let s3 = "storage: {s3: {bucket: registry, region: us-east-1, endpoint: \"http://minio:9000\", redirect: true}}\n";
    let w = warnings(&format!(
        "{base}{s3}replicas: 2\nports: {{host: 5000}}\nspread: strict\n"
    ));
    for expect in [
        "ports.host 5000 with replicas: 2",
        "spread: strict",
        "storage.s3 over plain HTTP (http://minio:9000)",
        "storage.s3.redirect is on",
        "without access_key_file/secret_key_file",
    ] {
        assert!(w.iter().any(|x| x.contains(expect)), "{expect}: {w:#?}");
    }
    let w = warnings(&format!(
        "{base}{s3}cache: {{redis: {{address: \"redis:6379\"}}}}\n"
    ));
    assert!(
        w.iter()
            .any(|x| x.starts_with("cache.redis with replicas: 1")),
        "{w:#?}"
    );
    // Several replicas on ReadWriteOnce are refused outright, not warned about.
    let c = registry_gen::Config::from_yaml(&format!(
        "{base}replicas: 2\nstorage: {{pvc: {{access_modes: [ReadWriteOnce]}}}}\n"
    ))
    .unwrap();
    assert!(registry_gen::summarize(&c).is_err());
}

#[test]
fn monitoring_needs_metrics_and_a_plain_exporter_address() {
    check(
        "monitoring-fields",
        "addresses: {node_ips: [127.0.0.1]}\nmonitoring:\n  blackbox: {address: 'http://blackbox:9115', module: 'a b'}\n  labels: {release: 'not a label!'}\n",
    );
}
