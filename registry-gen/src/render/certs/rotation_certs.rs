//! The certificates of a CA rotation: the CA trusted beside the signing
//! one (`ca-next.*` at step 1, `ca-previous.*` at step 2), the record of the
//! step, and the new CA cross-signed by the old one that follows the leaf
//! at step 2. What a step does is decided in `rotation.rs` and
//! `inputs/rotate.rs`; this module only issues and checks.

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyUsagePurpose};

use super::{ca_params, check_ca, missing, serial};
use crate::bundle::{Bundle, MODE_FILE, MODE_SECRET};
use crate::error::{Error, Result};
use crate::inputs::{CaInput, CaRotation, Inputs};
use crate::keys;
use crate::plan::{paths, Plan};
use crate::rotation::{self, RotationStep};
use crate::x509;

/// A rotation's files (the other CA, the step's record), and a notice when
/// the old CA cannot vouch for the new one.
pub(super) fn rotation_files(
    plan: &Plan,
    inputs: &Inputs,
    rotation: &CaRotation,
    ca_pem: &str,
    out: &mut Bundle,
) -> Result<()> {
    other_ca(plan, inputs, rotation, out)?;
    let old = match rotation.step {
        RotationStep::BothTrusted => Some(ca_pem),
        RotationStep::Switched => match &rotation.other {
            Some(CaInput::Kept { cert_pem, .. }) => Some(cert_pem.as_str()),
            _ => None,
        },
    };
    if old.is_some_and(allows_no_intermediate) {
        out.notice("the old CA allows no intermediate certificate (pathlen:0; registry-gen made CAs that way before CA rotation existed), so from step 2 a client that trusts only the old CA fails: install the step-1 trust files on every client before `--rotate-ca switch`".to_owned());
    }
    Ok(())
}

/// The CA trusted beside the signing one during a rotation, and the
/// record of the rotation's step.
fn other_ca(plan: &Plan, inputs: &Inputs, rotation: &CaRotation, out: &mut Bundle) -> Result<()> {
    let (cert, key) = match rotation.step {
        RotationStep::BothTrusted => (paths::CA_NEXT_CERT, paths::CA_NEXT_KEY),
        RotationStep::Switched => (paths::CA_PREVIOUS_CERT, paths::CA_PREVIOUS_KEY),
    };
    let other = rotation
        .other
        .as_ref()
        .ok_or_else(|| missing("the next CA of the rotation (CaRotation::other)"))?;
    let renew = "finish this rotation, then rotate again";
    match other {
        CaInput::New { key: key_pem } => {
            let ca_key = keys::parse("the next CA key", key_pem.expose())?;
            let params = ca_params(plan, inputs)?;
            let pem = params
                .self_signed(&ca_key)
                .map_err(Error::cert("next CA"))?
                .pem();
            out.add(cert, pem, MODE_FILE);
            out.add(key, key_pem.expose(), MODE_SECRET);
        }
        CaInput::Kept {
            cert_pem,
            key: key_pem,
        } => {
            let ca_key = keys::parse(key, key_pem.expose())?;
            if rotation.step == RotationStep::BothTrusted {
                check_ca(cert, cert_pem, &ca_key, inputs.now, renew)?;
            }
            out.add(cert, cert_pem.clone(), MODE_FILE);
            out.add(key, key_pem.expose(), MODE_SECRET);
        }
        CaInput::External {
            cert_pem,
            key: key_pem,
        } => {
            let ca_key = keys::parse("tls.ca.key_file", key_pem.expose())?;
            check_ca("tls.ca.cert_file", cert_pem, &ca_key, inputs.now, renew)?;
            out.add(cert, cert_pem.clone(), MODE_FILE);
        }
    }
    out.add(
        paths::CA_ROTATION,
        rotation::record(rotation.step),
        MODE_FILE,
    );
    Ok(())
}

/// The signing (new) CA `new_ca_pem` cross-signed by the old CA `old`:
/// the same subject, key and key id, issued by the old CA, valid from now
/// until the first of the two expires.
pub(super) fn cross_signed(inputs: &Inputs, new_ca_pem: &str, old: &CaInput) -> Result<String> {
    let CaInput::Kept {
        cert_pem: old_pem,
        key: old_key,
    } = old
    else {
        return Err(missing("the old CA's key (a rotation's previous CA)"));
    };
    let new_key = match inputs.ca.as_ref() {
        Some(CaInput::Kept { key, .. } | CaInput::External { key, .. }) => {
            keys::parse("the new CA key", key.expose())?
        }
        _ => return Err(missing("the new CA (Inputs::ca)")),
    };
    let bad = |what: &str, problem: String| Error::Input {
        what: what.to_owned(),
        problem,
    };
    let new_pem = x509::pem(new_ca_pem).map_err(|e| bad(paths::CA_CERT, e))?;
    let new_cert = new_pem
        .parse_x509()
        .map_err(|e| bad(paths::CA_CERT, format!("is not valid X.509 ({e})")))?;
    let old_parsed = x509::pem(old_pem).map_err(|e| bad(paths::CA_PREVIOUS_CERT, e))?;
    let old_cert = old_parsed
        .parse_x509()
        .map_err(|e| bad(paths::CA_PREVIOUS_CERT, format!("is not valid X.509 ({e})")))?;
    let mut p = CertificateParams::default();
    p.serial_number = Some(serial(inputs.serials.cross, "cross-signed CA")?);
    p.distinguished_name = x509::rcgen_name(new_cert.subject());
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    if let Some(ski) = x509::subject_key_id(&new_cert) {
        p.key_identifier_method = rcgen::KeyIdMethod::PreSpecified(ski);
    }
    p.use_authority_key_identifier_extension = true;
    p.not_before = inputs.now;
    p.not_after = x509::not_after(&new_cert).min(x509::not_after(&old_cert));
    let old_key = keys::parse(paths::CA_PREVIOUS_KEY, old_key.expose())?;
    let issuer =
        Issuer::from_ca_cert_pem(old_pem, old_key).map_err(Error::cert("previous CA (parsing)"))?;
    Ok(p.signed_by(&new_key, &issuer)
        .map_err(Error::cert("cross-signed CA"))?
        .pem())
}

/// Does the CA certificate `pem` forbid any CA below it (pathlen:0)?
fn allows_no_intermediate(pem: &str) -> bool {
    x509::pem(pem).ok().is_some_and(|p| {
        p.parse_x509().ok().is_some_and(|c| {
            c.basic_constraints()
                .ok()
                .flatten()
                .is_some_and(|b| b.value.path_len_constraint == Some(0))
        })
    })
}

/// Is `pem` a cross-signed certificate of the CA `ca_pem` (its key) by the
/// old CA of `old` (its signature)?
pub(super) fn is_cross(pem: &str, ca_pem: &str, old: Option<&CaInput>) -> bool {
    let Some(CaInput::Kept {
        cert_pem: old_pem, ..
    }) = old
    else {
        return false;
    };
    let parse = |p: &str| x509::pem(p).ok();
    let (Some(c), Some(ca), Some(o)) = (parse(pem), parse(ca_pem), parse(old_pem)) else {
        return false;
    };
    let (Ok(c), Ok(ca), Ok(o)) = (c.parse_x509(), ca.parse_x509(), o.parse_x509()) else {
        return false;
    };
    c.public_key().raw == ca.public_key().raw && c.verify_signature(Some(o.public_key())).is_ok()
}
