//! The registry YAML-decodes every `REGISTRY_*` variable (distribution
//! 2.x and 3.x, `configuration/parser.go`), so each one the bundle renders
//! is either a literal the plan wrote (a port, boolean, number, fixed word
//! or path) or went through the one encoder, a YAML double-quoted scalar
//! that reads back as exactly the user's bytes: values set in the pod
//! spec, and values read from a Secret's `<key>.yaml` next to the raw
//! `<key>`. Checked on every rendered workload of every example, and on
//! hostile secrets, which render as given (no refusal).

use k8s_openapi::api::{batch::v1 as batch, core::v1 as core};
use registry_gen::{Bundle, Config, Secret, Storage};

use crate::common;

/// The shapes of the plan's own literals.
fn is_plan_literal(v: &str) -> bool {
    let word = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.')
    };
    let path = |s: &str| {
        s.starts_with('/')
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'/' || b == b'.' || b == b'-')
    };
    v.is_empty()
        || v.strip_prefix(':')
            .is_some_and(|p| p.parse::<u16>().is_ok())
        || v.parse::<u64>().is_ok()
        || word(v)
        || path(v)
        || v == "{\"enabled\": true}"
}

/// A YAML double-quoted scalar of printable ASCII, and what it reads as.
fn encoded(v: &str) -> Option<String> {
    (v.len() >= 2
        && v.starts_with('"')
        && v.ends_with('"')
        && v.bytes().all(|b| (b' '..=b'~').contains(&b)))
    .then(|| serde_yaml::from_str::<String>(v).unwrap())
}

/// Every pod spec's containers in the bundle's manifests.
fn containers(b: &Bundle) -> Vec<(String, core::Container)> {
    let mut v = Vec::new();
    for (path, f) in b.files() {
        if !path.starts_with("manifests/") || !path.ends_with(".yaml") {
            continue;
        }
        let text = std::str::from_utf8(&f.contents).unwrap();
        let kind: serde_yaml::Value = serde_yaml::from_str(text).unwrap();
        let pod = match kind.get("kind").and_then(|k| k.as_str()) {
            Some("Deployment") => {
                let d: k8s_openapi::api::apps::v1::Deployment = serde_yaml::from_str(text).unwrap();
                d.spec.unwrap().template.spec.unwrap()
            }
            Some("Job") => {
                let j: batch::Job = serde_yaml::from_str(text).unwrap();
                j.spec.unwrap().template.spec.unwrap()
            }
            _ => continue,
        };
        for c in pod.containers {
            v.push((path.to_owned(), c));
        }
    }
    v
}

fn secret(b: &Bundle, name: &str) -> core::Secret {
    for (path, f) in b.files() {
        if path.starts_with("manifests/secret") || path.contains("-secret-") {
            let s: core::Secret = serde_yaml::from_slice(&f.contents).unwrap();
            if s.metadata.name.as_deref() == Some(name) {
                return s;
            }
        }
    }
    panic!("no Secret {name}")
}

/// Every `REGISTRY_*` value in `b` is a plan literal or encoded; every one
/// read from a Secret is its `<key>.yaml`, the encoded `<key>`; a value
/// that is not `REGISTRY_*` is never encoded.
fn check(name: &str, b: &Bundle) -> usize {
    let mut seen = 0;
    for (file, c) in containers(b) {
        for e in c.env.unwrap_or_default() {
            let at = format!("{name}: {file}: {}", e.name);
            let registry = e.name.starts_with("REGISTRY_");
            if let Some(v) = &e.value {
                if !registry {
                    assert!(!v.starts_with('"'), "{at}={v} is not parsed as YAML");
                    continue;
                }
                seen += 1;
                let list = v
                    .strip_prefix('[')
                    .and_then(|l| l.strip_suffix(']'))
                    .map(|l| l.split(", ").all(|s| encoded(s).is_some()));
                assert!(
                    is_plan_literal(v) || encoded(v).is_some() || list == Some(true),
                    "{at}={v}: neither a plan literal nor encoded"
                );
                continue;
            }
            let r = e.value_from.unwrap().secret_key_ref.unwrap();
            if !registry {
                // Read by a shell (the GC Job's Redis flush): the raw key.
                assert!(!r.key.ends_with(".yaml"), "{at} reads an encoded key");
                continue;
            }
            let data = secret(b, &r.name).data.unwrap();
            let value = std::str::from_utf8(&data[&r.key].0).unwrap();
            match r.key.strip_suffix(".yaml") {
                Some(raw) => {
                    let given = std::str::from_utf8(&data[raw].0).unwrap();
                    assert_eq!(encoded(value).as_deref(), Some(given), "{at}");
                }
                None => {
                    // The generated HTTP secret, which YAML reads as itself.
                    assert_eq!(e.name, "REGISTRY_HTTP_SECRET", "{at} reads a raw key");
                    assert!(
                        value
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                        "{at}"
                    );
                }
            }
            seen += 1;
        }
    }
    seen
}

#[test]
fn every_registry_variable_is_a_plan_literal_or_encoded() {
    let mut configs: Vec<(String, Config)> = common::examples()
        .iter()
        .map(|p| (p.display().to_string(), common::load(p)))
        .collect();
    configs.push(("embedded default".into(), Config::embedded_default()));
    for (name, config) in configs {
        let b = common::render(&config);
        assert!(check(&name, &b) > 0, "{name}: no REGISTRY_* variable");
        // The config's own strings went through the encoder, not around it.
        let d = containers(&b)
            .into_iter()
            .find(|(f, _)| f == "manifests/deployment.yaml");
        let Some((_, c)) = d else { continue };
        let env = c.env.unwrap();
        let value = |var: &str| {
            env.iter()
                .find(|e| e.name == var)
                .and_then(|e| e.value.clone())
                .unwrap_or_else(|| panic!("{name}: no {var}"))
        };
        let mut user = Vec::new();
        if let Some(a) = &config.auth {
            user.push(("REGISTRY_AUTH_HTPASSWD_REALM", a.realm.clone()));
        }
        match &config.storage {
            Storage::S3(s3) => {
                user.push(("REGISTRY_STORAGE_S3_BUCKET", s3.bucket.clone()));
                user.push(("REGISTRY_STORAGE_S3_REGION", s3.region.clone()));
            }
            _ => user.push((
                "REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY",
                config.registry.data_path.clone(),
            )),
        }
        if let Some(r) = &config.cache.redis {
            user.push(("REGISTRY_REDIS_ADDR", r.address.clone()));
        }
        for (var, given) in user {
            assert_eq!(encoded(&value(var)), Some(given), "{name}: {var}");
        }
    }
}

/// Keys and passwords YAML would read as something else: rendered as given
/// (validation refuses none), and read back exactly.
#[test]
fn hostile_secrets_render_and_read_back() {
    let path = common::workspace().join("examples/s3-replicas.yaml");
    let config = common::load(&path);
    let rows = crate::support::YAML_SPECIAL.into_iter().chain(["é\\\""]);
    for hostile in rows {
        let mut inputs = common::inputs(&config);
        let creds = inputs.backends.s3_credentials.as_mut().unwrap();
        creds.secret_key = Secret::new(hostile);
        creds.access_key = Secret::new(hostile);
        inputs.backends.redis_password = Some(Secret::new(hostile));
        let b = registry_gen::render(&config, &inputs).unwrap();
        check(hostile, &b);
        for (s, key) in [
            ("registry-s3", "secret-key"),
            ("registry-s3", "access-key"),
            ("registry-redis", "password"),
        ] {
            let data = secret(&b, s).data.unwrap();
            assert_eq!(data[key].0, hostile.as_bytes(), "{s}/{key} raw");
            let yaml = std::str::from_utf8(&data[&format!("{key}.yaml")].0).unwrap();
            assert_eq!(encoded(yaml).as_deref(), Some(hostile), "{s}/{key}.yaml");
        }
    }
}
