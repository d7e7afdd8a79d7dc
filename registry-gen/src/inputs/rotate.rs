//! Choosing the CAs of a render during a CA rotation (see
//! `crate::rotation` for the steps): from the step the bundle records, the
//! step asked for, the bundle's CA files and the given CA.

use crate::config::Config;
use crate::error::{Error, Result};
use crate::inputs::{CaInput, CaRotation, Inputs, Secret};
use crate::layout;
use crate::rotation::{parse_record, CaStep, RotationStep};
use crate::x509;

/// The same certificate? Compared as DER, so PEM line breaks don't count.
fn same_cert(a: &str, b: &str) -> bool {
    match (x509::pem(a), x509::pem(b)) {
        (Ok(a), Ok(b)) => a.contents == b.contents,
        _ => a.trim() == b.trim(),
    }
}

type Reader<'a> = dyn FnMut(&str) -> Result<Option<String>> + 'a;

/// A CA of the bundle (certificate and key) at `cert` and `key`.
fn own(text: &mut Reader<'_>, cert: &str, key: &str) -> Result<Option<CaInput>> {
    Ok(match (text(cert)?, text(key)?) {
        (Some(cert_pem), Some(key)) => Some(CaInput::Kept {
            cert_pem,
            key: Secret::new(key),
        }),
        _ => None,
    })
}

/// Choose the signing CA and the rotation for a render over an earlier
/// bundle. `Ok(false)`: no rotation is recorded or asked for, the caller
/// goes on as without one. `inputs.ca` holds the given CA (`tls.ca`), if
/// any, as [`CaInput::External`].
pub(crate) fn choose_ca(
    inputs: &mut Inputs,
    config: &Config,
    text: &mut Reader<'_>,
) -> Result<bool> {
    let recorded = text(layout::CA_ROTATION)?
        .map(|t| parse_record(&t))
        .transpose()?;
    let requested = inputs.rotate_ca;
    if recorded.is_none() && requested.is_none() {
        return Ok(false);
    }
    let step_name = requested
        .map(|s| s.to_string())
        .or_else(|| recorded.map(|r| r.taken().to_string()))
        .unwrap_or_default();
    let refuse = |problem: String| Error::Rotation {
        step: step_name.clone(),
        problem,
    };
    let given = match inputs.ca.take() {
        None => None,
        Some(CaInput::External { cert_pem, key }) => Some((cert_pem, key)),
        Some(_) => {
            return Err(refuse(
                "the signing CA was injected; a rotation reads the bundle's CAs itself".into(),
            ))
        }
    };
    if config.tls.ca.is_some() && given.is_none() {
        return Err(refuse(
            "tls.ca is set but its files were not read (Inputs::ca must carry them)".into(),
        ));
    }
    let (signer, rotation) = match (recorded, requested) {
        (None, None) => return Ok(false),
        (None, Some(CaStep::Start)) => start(text, given.as_ref(), &refuse)?,
        (None, Some(_)) => {
            return Err(refuse(format!(
            "no CA rotation is in progress in --out ({} is missing): begin with --rotate-ca start",
            layout::CA_ROTATION
        )))
        }
        (Some(r), Some(step)) if step != r.next() => {
            let why = match (r, step) {
                (RotationStep::BothTrusted, CaStep::Finish) => "the registry still serves a certificate of the old CA, so dropping it now would fail every pull; ",
                (_, CaStep::Start) => "a rotation is already in progress; ",
                _ => "that step is done; ",
            };
            return Err(refuse(format!("{why}{}", next_step(r))));
        }
        (Some(RotationStep::BothTrusted), requested) => {
            both_trusted(text, given.as_ref(), requested, &refuse)?
        }
        (Some(RotationStep::Switched), requested) => {
            switched(text, given.as_ref(), requested, &refuse)?
        }
    };
    inputs.ca = Some(signer);
    inputs.rotation = rotation;
    Ok(true)
}

/// The given CA (`tls.ca`): its certificate and key.
type Given = (String, Secret);
/// Makes the error of a refused step.
type Refuse<'a> = dyn Fn(String) -> Error + 'a;

/// The CA a recorded rotation `step` needs at `cert` and `key`, or the
/// refusal that says it is missing.
fn recorded_ca(
    text: &mut Reader<'_>,
    step: u8,
    cert: &str,
    key: &str,
    refuse: &Refuse<'_>,
) -> Result<CaInput> {
    own(text, cert, key)?.ok_or_else(|| {
        refuse(format!(
            "{} records step {step} but {cert} or {key} is missing: restore them from a backup",
            layout::CA_ROTATION
        ))
    })
}

fn external(g: &Given) -> CaInput {
    CaInput::External {
        cert_pem: g.0.clone(),
        key: g.1.clone(),
    }
}

/// Where the bundle stands, and what to run next.
fn next_step(r: RotationStep) -> String {
    format!(
        "the bundle has taken {}: {}; next: {}, then --rotate-ca {}",
        r.taken(),
        r.describe(),
        r.before_next(),
        r.next().as_str()
    )
}

/// `--rotate-ca start`: the bundle's CA signs on, the next CA (the given
/// one, else generated later) is trusted beside it.
fn start(
    text: &mut Reader<'_>,
    given: Option<&Given>,
    refuse: &Refuse<'_>,
) -> Result<(CaInput, Option<CaRotation>)> {
    let Some(old) = own(text, layout::CA_CERT, layout::CA_KEY)? else {
        return Err(refuse(match text(layout::CA_CERT)? {
            Some(_) => format!("the bundle's CA was given (tls.ca; {} is not in the bundle), and only the bundle's own CA can be rotated in steps: start a new CA with --new-ca instead", layout::CA_KEY),
            None => format!("there is no CA in --out to rotate from ({} and {} are missing): a first render makes one", layout::CA_CERT, layout::CA_KEY),
        }));
    };
    if let (Some(g), CaInput::Kept { cert_pem, .. }) = (given, &old) {
        if same_cert(&g.0, cert_pem) {
            return Err(refuse(format!(
                "the given CA (tls.ca) is already the bundle's CA {}: give the CA to move to",
                layout::CA_CERT
            )));
        }
    }
    let rotation = CaRotation {
        step: RotationStep::BothTrusted,
        other: given.map(external),
    };
    Ok((old, Some(rotation)))
}

/// At step 1 (both trusted): stay there, or `switch` to the next CA.
fn both_trusted(
    text: &mut Reader<'_>,
    given: Option<&Given>,
    requested: Option<CaStep>,
    refuse: &Refuse<'_>,
) -> Result<(CaInput, Option<CaRotation>)> {
    let old = recorded_ca(text, 1, layout::CA_CERT, layout::CA_KEY, refuse)?;
    let next = match own(text, layout::CA_NEXT_CERT, layout::CA_NEXT_KEY)? {
        Some(next) => {
            if given.is_some() {
                return Err(refuse(format!("the rotation in progress is to the new CA {} that registry-gen generated, but the config now gives tls.ca: remove tls.ca (or --ca-cert/--ca-key) until the rotation is finished", layout::CA_NEXT_CERT)));
            }
            next
        }
        None => {
            let Some(next_pem) = text(layout::CA_NEXT_CERT)? else {
                return Err(refuse(format!(
                    "{} records step 1 but {} is missing: restore it from a backup",
                    layout::CA_ROTATION,
                    layout::CA_NEXT_CERT
                )));
            };
            match given {
                Some(g) if same_cert(&g.0, &next_pem) => external(g),
                Some(_) => return Err(refuse(format!("the given CA (tls.ca) is not the one this rotation moves to ({}): give that CA until the rotation is finished", layout::CA_NEXT_CERT))),
                None => return Err(refuse(format!("the rotation moves to a given CA ({}), but the config gives none: keep tls.ca (or --ca-cert/--ca-key) until the rotation is finished", layout::CA_NEXT_CERT))),
            }
        }
    };
    Ok(if requested == Some(CaStep::Switch) {
        let rotation = CaRotation {
            step: RotationStep::Switched,
            other: Some(old),
        };
        (next, Some(rotation))
    } else {
        let rotation = CaRotation {
            step: RotationStep::BothTrusted,
            other: Some(next),
        };
        (old, Some(rotation))
    })
}

/// At step 2 (switched): stay there, or `finish` and drop the previous CA.
fn switched(
    text: &mut Reader<'_>,
    given: Option<&Given>,
    requested: Option<CaStep>,
    refuse: &Refuse<'_>,
) -> Result<(CaInput, Option<CaRotation>)> {
    let previous = recorded_ca(
        text,
        2,
        layout::CA_PREVIOUS_CERT,
        layout::CA_PREVIOUS_KEY,
        refuse,
    )?;
    let signer = match given {
        Some(g) => {
            if text(layout::CA_CERT)?.is_some_and(|c| !same_cert(&g.0, &c)) {
                return Err(refuse(format!("the given CA (tls.ca) is not the one this rotation moved to ({}): give that CA until the rotation is finished", layout::CA_CERT)));
            }
            external(g)
        }
        None => match own(text, layout::CA_CERT, layout::CA_KEY)? {
            Some(own) => own,
            None => return Err(refuse(format!("{} or {} is missing; if the rotation moved to a given CA, keep tls.ca (or --ca-cert/--ca-key) in the config", layout::CA_CERT, layout::CA_KEY))),
        },
    };
    let rotation = (requested != Some(CaStep::Finish)).then_some(CaRotation {
        step: RotationStep::Switched,
        other: Some(previous),
    });
    Ok((signer, rotation))
}
