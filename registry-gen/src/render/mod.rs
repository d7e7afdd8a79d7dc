//! The renderers, called in a fixed order. Each has the same signature and
//! reads only the plan, the inputs and files that earlier renderers added
//! (the Secrets carry the bytes of `certs/` and `auth/`, so they agree).

use crate::bundle::Bundle;
use crate::error::Result;
use crate::inputs::Inputs;
use crate::plan::Plan;

mod auth;
mod certs;
mod docs;
mod manifests;
mod scripts;
mod trust;

type Renderer = fn(&Plan, &Inputs, &mut Bundle) -> Result<()>;

/// Certificates and auth first, then trust files: manifests embed their bytes.
const ORDER: [Renderer; 6] = [
    certs::render,
    auth::render,
    trust::render,
    manifests::render,
    scripts::render,
    docs::render,
];

/// Each renderer by name, for the benches (`crate::bench`).
#[cfg(feature = "bench")]
pub(crate) mod stages {
    pub(crate) use super::auth::render as auth;
    pub(crate) use super::certs::render as certs;
    pub(crate) use super::docs::render as docs;
    pub(crate) use super::manifests::render as manifests;
    pub(crate) use super::scripts::render as scripts;
    pub(crate) use super::trust::render as trust;
}

pub(crate) fn render_plan(plan: &Plan, inputs: &Inputs) -> Result<Bundle> {
    let mut out = Bundle::default();
    for render in ORDER {
        render(plan, inputs, &mut out)?;
    }
    for w in &plan.warnings {
        out.warn(w.clone());
    }
    Ok(out)
}
