//! A mirror's own objects besides its Deployment and Service: the Secret
//! with its upstream login (read through env `secretKeyRef`s, never in the
//! pod spec) and the ConfigMap with the CA it trusts for the upstream. Both
//! carry what the caller read from the mirror's files (`Inputs::upstreams`).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::ByteString;

use super::labeled;
use crate::error::{Error, Result};
use crate::inputs::{Inputs, UpstreamInput};
use crate::plan::{MirrorPlan, Plan};

fn parts<'p, 'i>(
    plan: &'p Plan,
    i: usize,
    inputs: &'i Inputs,
    what: &str,
) -> Result<(&'p MirrorPlan, Option<&'i UpstreamInput>)> {
    let m = plan.mirrors.get(i).ok_or_else(|| Error::Serialize {
        path: format!("mirrors[{i}]"),
        message: format!("{what}: not in the plan"),
    })?;
    Ok((m, inputs.upstream(&m.upstream)))
}

fn missing(i: usize, m: &MirrorPlan, field: &str) -> Error {
    Error::Input {
        what: format!("mirrors[{i}].{field} (upstream {})", m.upstream),
        problem: "was not read: the caller must put the file's contents in Inputs::upstreams"
            .into(),
    }
}

/// The upstream login of `mirrors[i]`: an Opaque Secret (manifest file 0600).
pub(super) fn upstream_secret(plan: &Plan, i: usize, inputs: &Inputs) -> Result<core::Secret> {
    let (m, given) = parts(plan, i, inputs, "upstream Secret")?;
    let c = m.credentials.as_ref().ok_or_else(|| Error::Serialize {
        path: format!("mirrors[{i}]"),
        message: "planned without credentials".into(),
    })?;
    let user = given
        .and_then(|u| u.username.as_ref())
        .ok_or_else(|| missing(i, m, "username_file"))?;
    let password = given
        .and_then(|u| u.password.as_ref())
        .ok_or_else(|| missing(i, m, "password_file"))?;
    Ok(core::Secret {
        metadata: labeled(plan, &c.secret, true, m.labels(plan)),
        type_: Some("Opaque".to_owned()),
        data: Some(
            c.username
                .entries(user.expose())
                .into_iter()
                .chain(c.password.entries(password.expose()))
                .map(|(k, v)| (k, ByteString(v)))
                .collect(),
        ),
        ..Default::default()
    })
}

/// The CA `mirrors[i]` trusts for its upstream: a ConfigMap.
pub(super) fn upstream_ca(plan: &Plan, i: usize, inputs: &Inputs) -> Result<core::ConfigMap> {
    let (m, given) = parts(plan, i, inputs, "upstream CA")?;
    let ca = m.upstream_ca.as_ref().ok_or_else(|| Error::Serialize {
        path: format!("mirrors[{i}]"),
        message: "planned without an upstream CA".into(),
    })?;
    let pem = given
        .and_then(|u| u.ca_pem.as_ref())
        .ok_or_else(|| missing(i, m, "ca_file"))?;
    Ok(core::ConfigMap {
        metadata: labeled(plan, &ca.config_map, true, m.labels(plan)),
        data: Some(BTreeMap::from([(ca.key.to_owned(), pem.clone())])),
        ..Default::default()
    })
}
