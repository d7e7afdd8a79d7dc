//! Every file of every example's bundle is a snapshot under the workspace's
//! `snapshots/<example>/`, named after its bundle path (`/` → `__`).
//! Certificates show as decoded fields, keys and passwords as one-line
//! descriptions (after checking them), Secrets with their data traced back
//! to the bundle files they carry.

use std::collections::BTreeMap;

use base64::Engine;
use k8s_openapi::api::core::v1 as core;
use registry_gen::{Bundle, Config, File, MODE_SECRET};

use crate::common;

#[test]
fn every_bundle_file_of_every_example() {
    insta::glob!("../../../examples", "*.yaml", |path| {
        let config = common::load(path);
        let bundle = common::render(&config);
        let stem = path.file_stem().unwrap().to_str().unwrap();
        let mut settings = insta::Settings::clone_current();
        settings.remove_snapshot_suffix();
        settings.set_snapshot_path(common::workspace().join("snapshots").join(stem));
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        settings.bind(|| {
            insta::assert_snapshot!("_tree", tree(&bundle));
            for (p, file) in bundle.files() {
                insta::assert_snapshot!(p.replace('/', "__"), describe(&config, &bundle, p, file));
            }
            insta::assert_snapshot!("_warnings", bundle.warnings().join("\n"));
            // What `registry-gen check` prints of this config.
            let summary = registry_gen::summarize(&config).unwrap();
            insta::assert_snapshot!("_summary", summary.to_string());
        });
    });
}

fn tree(bundle: &Bundle) -> String {
    bundle
        .files()
        .map(|(p, f)| format!("{:04o} {p}\n", f.mode))
        .collect()
}

fn describe(config: &Config, bundle: &Bundle, path: &str, file: &File) -> String {
    let text = std::str::from_utf8(&file.contents).unwrap_or_else(|_| panic!("{path}: not UTF-8"));
    let ca = common::text(bundle, "certs/ca.crt");
    if path.starts_with("trust/") && path.ends_with("ca.crt") {
        assert_eq!(text, ca, "{path} differs from certs/ca.crt");
        return format!("<the same bytes as certs/ca.crt, mode {:04o}>\n", file.mode);
    }
    if path.ends_with(".crt") {
        return common::decode_cert(text);
    }
    if path.ends_with(".csr") {
        return common::decode_csr(text);
    }
    if path.ends_with(".key") {
        assert_eq!(file.mode, MODE_SECRET, "{path}");
        return common::describe_key(text, file.mode);
    }
    if let Some(user) = path
        .strip_prefix("auth/")
        .and_then(|p| p.strip_suffix(".password"))
    {
        assert_eq!(text, format!("{}\n", common::password(user)));
        assert_eq!(file.mode, MODE_SECRET, "{path}");
        return format!("<the password of {user}, mode {:04o}>\n", file.mode);
    }
    if path == "auth/http-secret" {
        assert_eq!(text, "fixture-http-secret\n");
        return format!("<the registry's HTTP secret, mode {:04o}>\n", file.mode);
    }
    if path == "auth/htpasswd" {
        for line in text.lines() {
            let (user, hash) = line.split_once(':').unwrap();
            assert!(
                bcrypt::verify(common::password(user), hash).unwrap(),
                "{user}'s hash"
            );
        }
        return format!(
            "# mode {:04o}; every hash checked against its password\n{text}",
            file.mode
        );
    }
    if path == "trust/k3s/registries.yaml" {
        let mut shown = format!("# mode {:04o}\n{text}", file.mode);
        for u in config.auth.iter().flat_map(|a| &a.users) {
            shown = shown.replace(
                &common::password(&u.name),
                &format!("<password of {}>", u.name),
            );
        }
        return shown;
    }
    if path == "manifests/configmap-s3-ca.yaml" {
        let mut cm: core::ConfigMap = serde_yaml::from_str(text).unwrap();
        let data = cm.data.take().unwrap();
        assert_eq!(data["ca.crt"], common::s3_ca_pem(), "{path}");
        return format!(
            "{}data.ca.crt: <the bytes of the injected storage.s3.ca_file>\n{}",
            serde_yaml::to_string(&cm).unwrap(),
            common::decode_cert(&data["ca.crt"])
        );
    }
    if path == "manifests/trust-configmap.yaml" {
        return describe_installer(bundle, text);
    }
    if path.starts_with("manifests/secret-") {
        return describe_secret(config, bundle, path, text);
    }
    if path == "manifests/deployment.yaml"
        || path == "manifests/trust-daemonset.yaml"
        || (path.starts_with("manifests/mirror-") && path.ends_with("-deployment.yaml"))
    {
        return describe_checksums(bundle, text);
    }
    text.to_owned()
}

/// SHA-256 of a Secret's or ConfigMap's data as
/// `render/manifests/secrets.rs` documents it: each key and value in key
/// order, each after its length as 8 bytes big-endian. Written again here
/// so the test checks the definition.
fn data_sha256<'a>(data: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for (key, value) in data {
        for bytes in [key.as_bytes(), value] {
            h.update((bytes.len() as u64).to_be_bytes());
            h.update(bytes);
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A workload (the Deployment, the trust DaemonSet) with each pod-template
/// checksum traced to the Secret or ConfigMap manifest whose data it hashes
/// (ECDSA certificates differ on every run, so their hash does too; what
/// must hold is which object it hashes).
fn describe_checksums(bundle: &Bundle, text: &str) -> String {
    let workload: serde_yaml::Value = serde_yaml::from_str(text).unwrap();
    let annotations: BTreeMap<String, String> =
        serde_yaml::from_value(workload["spec"]["template"]["metadata"]["annotations"].clone())
            .unwrap_or_default();
    let hashed: Vec<(&str, String)> = bundle
        .files()
        .filter(|(p, _)| p.starts_with("manifests/"))
        .filter_map(|(p, f)| {
            let kind: serde_yaml::Value = serde_yaml::from_slice(&f.contents).ok()?;
            let sum = match kind["kind"].as_str()? {
                "Secret" => {
                    let s: core::Secret = serde_yaml::from_slice(&f.contents).unwrap();
                    let data = s.data.unwrap_or_default();
                    data_sha256(data.iter().map(|(k, v)| (k.as_str(), &v.0[..])))
                }
                "ConfigMap" => {
                    let c: core::ConfigMap = serde_yaml::from_slice(&f.contents).unwrap();
                    let data = c.data.unwrap_or_default();
                    data_sha256(data.iter().map(|(k, v)| (k.as_str(), v.as_bytes())))
                }
                _ => return None,
            };
            Some((p, sum))
        })
        .collect();
    let mut shown = text.to_owned();
    for (key, value) in annotations.iter().filter(|(k, _)| k.contains("checksum")) {
        let (object, _) = hashed
            .iter()
            .find(|(_, sum)| sum == value)
            .unwrap_or_else(|| panic!("annotation {key}: hashes no Secret's or ConfigMap's data"));
        shown = shown.replace(
            &format!("{key}: {value}"),
            &format!("{key}: <sha256 of the data of {object}>"),
        );
    }
    shown
}

/// A Secret manifest with each data value traced to the bundle file it
/// equals, and the pull Secret's JSON decoded with its passwords replaced.
fn describe_secret(config: &Config, bundle: &Bundle, path: &str, text: &str) -> String {
    let mut secret: core::Secret = serde_yaml::from_str(text).unwrap();
    let data = secret.data.take().unwrap_or_default();
    let mut out = serde_yaml::to_string(&secret).unwrap();
    out.push_str("data (decoded):\n");
    let sources: BTreeMap<&str, &File> = bundle.files().collect();
    for (key, value) in &data {
        let traced = sources
            .iter()
            .find(|(p, f)| {
                f.contents == value.0
                    || (**p == "auth/http-secret"
                        && f.contents.strip_suffix(b"\n") == Some(&value.0[..]))
            })
            .map(|(p, _)| *p);
        let shown = if key == ".dockerconfigjson" {
            let mut json = String::from_utf8(value.0.clone()).unwrap();
            for u in config.auth.iter().flat_map(|a| &a.users) {
                let pw = common::password(&u.name);
                let auth =
                    base64::engine::general_purpose::STANDARD.encode(format!("{}:{pw}", u.name));
                json = json
                    .replace(&auth, &format!("<base64 of {}:password>", u.name))
                    .replace(&pw, &format!("<password of {}>", u.name));
            }
            let v: serde_json::Value = serde_json::from_str(&json).unwrap();
            serde_json::to_string_pretty(&v).unwrap()
        } else {
            // A `<key>.yaml` holds the YAML double-quoted form of `<key>`.
            let yaml_of = key
                .strip_suffix(".yaml")
                .and_then(|raw| data.get(raw))
                .filter(|raw| {
                    value.0.first() == Some(&b'"')
                        && std::str::from_utf8(&value.0)
                            .ok()
                            .and_then(|v| serde_yaml::from_str::<String>(v).ok())
                            .is_some_and(|v| v.as_bytes() == &raw.0[..])
                });
            let injected = [
                (common::S3_ACCESS_KEY, "the S3 access key"),
                (common::S3_SECRET_KEY, "the S3 secret key"),
                (common::REDIS_PASSWORD, "the Redis password"),
            ]
            .into_iter()
            .find(|(v, _)| v.as_bytes() == &value.0[..]);
            match (traced, injected, yaml_of) {
                (Some(p), _, _) => format!("<the bytes of {p}>"),
                (None, Some((_, what)), _) => format!("<{what} the test injected>"),
                (None, None, Some(_)) => format!(
                    "<{}, as a YAML double-quoted string>",
                    key.trim_end_matches(".yaml")
                ),
                (None, None, None) => panic!("{path}: data {key} matches no bundle file"),
            }
        };
        out.push_str(&format!("  {key}: {}\n", shown.replace('\n', "\n  ")));
    }
    out
}

/// The trust installer's ConfigMap with each file it writes traced to the
/// bundle file whose bytes it carries.
fn describe_installer(bundle: &Bundle, text: &str) -> String {
    let mut cm: core::ConfigMap = serde_yaml::from_str(text).unwrap();
    let script = cm.data.take().unwrap().remove("install.sh").unwrap();
    let mut out = serde_yaml::to_string(&cm).unwrap();
    out.push_str("data.install.sh (each heredoc traced to the bundle file it equals):\n");
    let mut lines = script.lines();
    while let Some(line) = lines.next() {
        out.push_str(&format!("  {line}\n"));
        let Some(rel) = line
            .strip_prefix("write \"$1\"/'")
            .and_then(|l| l.strip_suffix("' <<'REGISTRY_GEN_EOF'"))
        else {
            continue;
        };
        assert!(
            rel.starts_with("trust/containerd/certs.d/")
                || rel.starts_with("trust/docker/certs.d/"),
            "the installer carries a file outside the certs.d trees: {rel}"
        );
        let mut body = String::new();
        for l in lines.by_ref() {
            if l == "REGISTRY_GEN_EOF" {
                break;
            }
            body.push_str(l);
            body.push('\n');
        }
        assert_eq!(
            bundle.get(rel).map(|f| f.contents.as_slice()),
            Some(body.as_bytes()),
            "{rel}"
        );
        out.push_str(&format!("  <the bytes of {rel}>\n  REGISTRY_GEN_EOF\n"));
    }
    out
}

/// No key, password, HTTP secret or credential (plain or base64) of any
/// example appears in any snapshot file.
#[test]
fn no_secret_value_is_in_any_snapshot() {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let mut secrets: Vec<String> = vec!["fixture-http-secret".into(), b64("fixture-http-secret")];
    for s in [
        common::S3_ACCESS_KEY,
        common::S3_SECRET_KEY,
        common::REDIS_PASSWORD,
    ] {
        secrets.push(s.into());
        secrets.push(b64(s));
    }
    for path in common::examples() {
        let config = common::load(&path);
        for role in ["ca", "server"] {
            let pem = common::key(role, &config).expose().to_owned();
            // Every line of the key's base64 body.
            secrets.extend(
                pem.lines()
                    .filter(|l| !l.starts_with("-----") && l.len() > 16)
                    .map(str::to_owned),
            );
        }
        for u in config.auth.iter().flat_map(|a| a.users.iter()) {
            let pw = common::password(&u.name);
            secrets.push(b64(&format!("{}:{pw}", u.name)));
            secrets.push(b64(&pw));
            secrets.push(pw);
        }
    }
    let files = crate::support::files_under(&common::workspace().join("snapshots"));
    for p in &files {
        let text = std::fs::read_to_string(p).unwrap();
        for s in &secrets {
            assert!(
                !text.contains(s.as_str()),
                "{} holds a secret value",
                p.display()
            );
        }
    }
    assert!(files.len() > 100, "only {} snapshot files", files.len());
}
