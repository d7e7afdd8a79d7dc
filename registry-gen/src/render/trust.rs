//! Trust files for clients and nodes: the CA alone (`trust/ca.crt`, for a
//! system bundle) and Docker's `certs.d/<endpoint>/ca.crt` layout, which
//! Docker Engine, skopeo and podman read. One directory per endpoint of the
//! plan, so the directories always match the certificate's SANs.

use crate::bundle::{Bundle, MODE_FILE};
use crate::error::{Error, Result};
use crate::inputs::Inputs;
use crate::plan::{paths, Plan};

pub(crate) fn render(plan: &Plan, _inputs: &Inputs, out: &mut Bundle) -> Result<()> {
    let ca = out
        .get(paths::CA_CERT)
        .map(|f| f.contents.clone())
        .ok_or_else(|| Error::Serialize {
            path: paths::TRUST_CA.into(),
            message: "the CA certificate was not rendered (renderer order)".into(),
        })?;
    for e in &plan.endpoints {
        // `.crt` is what Docker reads as a CA (`.cert`/`.key` are client certificates).
        out.add(paths::docker_ca(&e.authority()), ca.clone(), MODE_FILE);
    }
    out.add(paths::TRUST_CA, ca, MODE_FILE);
    Ok(())
}
