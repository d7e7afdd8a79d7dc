//! What the replicas share besides the volume: the Secret with the S3
//! access key pair, the ConfigMap with the S3 endpoint's private CA, and
//! the Secret with the Redis password. Their data are the caller's inputs
//! (read from the files the config names), never bundle files of their own.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::ByteString;

use super::{metadata, secrets};
use crate::error::{Error, Result};
use crate::inputs::Inputs;
use crate::plan::{DataSource, Plan, RedisPlan, S3CaPlan, S3Plan, S3SecretPlan};

fn missing(what: &str, file: &str) -> Error {
    Error::Input {
        what: what.to_owned(),
        problem: format!("is missing: read it from {file} before rendering"),
    }
}

/// The plan's bucket, which the S3 manifests need.
pub(super) fn s3<'p>(plan: &'p Plan) -> Result<&'p S3Plan> {
    match &plan.data.source {
        DataSource::S3(s3) => Ok(s3),
        _ => Err(Error::Serialize {
            path: "S3 manifests".into(),
            message: "planned without storage.s3".into(),
        }),
    }
}

fn s3_keys<'p>(plan: &'p Plan) -> Result<&'p S3SecretPlan> {
    s3(plan)?
        .credentials
        .as_ref()
        .ok_or_else(|| Error::Serialize {
            path: "S3 Secret".into(),
            message: "planned without S3 credentials".into(),
        })
}

fn s3_ca<'p>(plan: &'p Plan) -> Result<&'p S3CaPlan> {
    s3(plan)?.ca.as_ref().ok_or_else(|| Error::Serialize {
        path: "S3 CA ConfigMap".into(),
        message: "planned without storage.s3.ca_file".into(),
    })
}

fn redis<'p>(plan: &'p Plan) -> Result<&'p RedisPlan> {
    plan.cache.as_ref().ok_or_else(|| Error::Serialize {
        path: "Redis Secret".into(),
        message: "planned without cache.redis".into(),
    })
}

/// The Secret with the access key pair.
pub(super) fn s3_secret(plan: &Plan, inputs: &Inputs) -> Result<core::Secret> {
    let keys = s3_keys(plan)?;
    let c = inputs.backends.s3_credentials.as_ref().ok_or_else(|| {
        missing(
            "the S3 access key pair",
            "storage.s3.access_key_file and secret_key_file",
        )
    })?;
    for (field, value) in [
        ("storage.s3.access_key_file", &c.access_key),
        ("storage.s3.secret_key_file", &c.secret_key),
    ] {
        if value.expose().is_empty() || value.expose().chars().any(char::is_control) {
            return Err(Error::Input {
                what: field.to_owned(),
                problem: "holds no key on its first line (or a control character): expected the key alone on the first line".into(),
            });
        }
    }
    let data = keys
        .access_key
        .entries(c.access_key.expose())
        .into_iter()
        .chain(keys.secret_key.entries(c.secret_key.expose()))
        .map(|(k, v)| (k, ByteString(v)))
        .collect();
    Ok(secrets::secret(plan, &keys.secret, "Opaque", data))
}

/// The ConfigMap with the S3 endpoint's CA certificate(s).
pub(super) fn s3_ca_config_map(plan: &Plan, inputs: &Inputs) -> Result<core::ConfigMap> {
    let ca = s3_ca(plan)?;
    let pem = inputs
        .backends
        .s3_ca_pem
        .as_ref()
        .ok_or_else(|| missing("the S3 endpoint's CA", "storage.s3.ca_file"))?;
    let certs = crate::x509::pems(pem.as_bytes())
        .map(|p| {
            p.ok()
                .filter(crate::x509::is_certificate)
                .and_then(|p| crate::x509::parse(&p.contents).ok().map(|_| ()))
        })
        .collect::<Vec<_>>();
    if certs.is_empty() || certs.iter().any(Option::is_none) {
        return Err(Error::Input {
            what: format!("storage.s3.ca_file {}", ca.source.display()),
            problem: "is not a PEM file of certificates: expected one or more `-----BEGIN CERTIFICATE-----` blocks (the CA that signed the endpoint's certificate)".into(),
        });
    }
    Ok(core::ConfigMap {
        metadata: metadata(plan, &ca.config_map, true),
        data: Some(BTreeMap::from([(ca.key.to_owned(), pem.clone())])),
        ..Default::default()
    })
}

/// The Secret with the Redis password.
pub(super) fn redis_secret(plan: &Plan, inputs: &Inputs) -> Result<core::Secret> {
    let r = redis(plan)?;
    let key = r.password.as_ref().ok_or_else(|| Error::Serialize {
        path: "Redis Secret".into(),
        message: "planned without cache.redis.password_file".into(),
    })?;
    let pw = inputs
        .backends
        .redis_password
        .as_ref()
        .ok_or_else(|| missing("the Redis password", "cache.redis.password_file"))?;
    let data = key
        .entries(pw.expose())
        .into_iter()
        .map(|(k, v)| (k, ByteString(v)))
        .collect();
    Ok(secrets::secret(plan, &key.secret, "Opaque", data))
}
