//! The Secrets: TLS, the HTTP secret, htpasswd and the pull Secret. Each
//! carries the very bytes of the bundle file an earlier renderer wrote
//! (`certs/`, `auth/`), so a Secret and its file cannot disagree.

use std::collections::BTreeMap;

use base64::Engine;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::ByteString;

use sha2::{Digest, Sha256};

use super::metadata;
use crate::bundle::Bundle;
use crate::error::{Error, Result};
use crate::inputs::Inputs;
use crate::plan::{paths, AuthPlan, Plan};

/// The bytes of a bundle file that an earlier renderer produced.
fn bundle_bytes(out: &Bundle, path: &str) -> Result<ByteString> {
    out.get(path)
        .map(|f| ByteString(f.contents.clone()))
        .ok_or_else(|| Error::Serialize {
            path: path.to_owned(),
            message: "needed by a Secret but not rendered (renderer order)".into(),
        })
}

pub(super) fn secret(
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

/// The SHA-256 (lowercase hex) of a Secret's or a ConfigMap's data: each
/// key and value in key order, each preceded by its length (8 bytes,
/// big-endian), so no two different data maps hash alike. Only the data
/// counts: labels and the name don't reach the pod (a renamed object
/// changes the pod template anyway).
pub(super) fn data_checksum<'a>(data: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> String {
    let mut h = Sha256::new();
    for (key, value) in data {
        for bytes in [key.as_bytes(), value] {
            h.update((bytes.len() as u64).to_be_bytes());
            h.update(bytes);
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// [`data_checksum`] of a Secret.
pub(super) fn checksum(secret: &core::Secret) -> String {
    data_checksum(
        secret
            .data
            .iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v.0.as_slice())),
    )
}

/// [`data_checksum`] of a ConfigMap.
pub(super) fn config_map_checksum(cm: &core::ConfigMap) -> String {
    data_checksum(
        cm.data
            .iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v.as_bytes())),
    )
}

/// The plan's auth, which a manifest of an auth kind needs.
fn auth<'p>(plan: &'p Plan, what: &str) -> Result<&'p AuthPlan> {
    plan.auth.as_ref().ok_or_else(|| Error::Serialize {
        path: what.into(),
        message: "planned without auth".into(),
    })
}

pub(super) fn tls(plan: &Plan, out: &Bundle) -> Result<core::Secret> {
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

pub(super) fn http(plan: &Plan, out: &Bundle) -> Result<core::Secret> {
    let mut value = bundle_bytes(out, paths::HTTP_SECRET)?;
    value.0.retain(|b| *b != b'\n');
    Ok(secret(
        plan,
        &plan.http_secret.secret,
        "Opaque",
        BTreeMap::from([(plan.http_secret.key.to_owned(), value)]),
    ))
}

pub(super) fn htpasswd(plan: &Plan, out: &Bundle) -> Result<core::Secret> {
    let a = auth(plan, "htpasswd Secret")?;
    Ok(secret(
        plan,
        &a.secret,
        "Opaque",
        BTreeMap::from([(a.key.to_owned(), bundle_bytes(out, paths::HTPASSWD)?)]),
    ))
}

/// A kubernetes.io/dockerconfigjson Secret with the pull user's
/// credentials for every endpoint, keyed exactly as image references spell
/// the host (the kubelet does not normalise `:443`).
pub(super) fn pull(plan: &Plan, inputs: &Inputs) -> Result<core::Secret> {
    let a = auth(plan, "pull Secret")?;
    let user = &a.pull_user;
    let pw = inputs.password(user)?.secret.expose();
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
