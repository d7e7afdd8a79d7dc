//! CA rotation in three steps, so that no client fails a pull in between.
//!
//! 1. `start`: a new CA is generated (or the given one, `tls.ca`, is taken)
//!    as `certs/ca-next.crt`; every trust file carries both CAs, while the
//!    registry keeps its server certificate from the old CA (`certs/ca.crt`).
//! 2. `switch`, once every node and client trusts both: the new CA becomes
//!    `certs/ca.crt` and signs a new server certificate; the old one moves
//!    to `certs/ca-previous.crt` and stays trusted.
//! 3. `finish`: the old CA leaves the trust files; its files are set aside
//!    (`certs/ca-previous.crt.<stamp>`), never deleted.
//!
//! The bundle records its step in `certs/ca-rotation.yaml`; every
//! re-render reads it back ([`choose_ca`], from `Inputs::reuse_previous`)
//! and renders the same step again until the next one is asked for. At any
//! step `certs/ca.crt` is the CA that signs the server certificate.
//! Pure: the files come through the caller's reader.

use std::fmt;
use std::str::FromStr;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::inputs::{CaInput, Inputs, Secret};
use crate::layout::{self, GENERATED};
use crate::x509;

/// A rotation step to take (`registry-gen render --rotate-ca STEP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaStep {
    /// Step 1: a new CA, trusted beside the old one, which still signs.
    Start,
    /// Step 2: the new CA signs the server certificate; both stay trusted.
    Switch,
    /// Step 3: the old CA is no longer trusted, and is set aside.
    Finish,
}

impl CaStep {
    /// Every step, in order.
    pub const ALL: [CaStep; 3] = [CaStep::Start, CaStep::Switch, CaStep::Finish];

    /// The step's name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            CaStep::Start => "start",
            CaStep::Switch => "switch",
            CaStep::Finish => "finish",
        }
    }

    fn number(self) -> u8 {
        match self {
            CaStep::Start => 1,
            CaStep::Switch => 2,
            CaStep::Finish => 3,
        }
    }
}

impl fmt::Display for CaStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "step {} of 3 ({})", self.number(), self.as_str())
    }
}

impl FromStr for CaStep {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<CaStep, String> {
        CaStep::ALL
            .into_iter()
            .find(|step| step.as_str() == s || step.number().to_string() == s)
            .ok_or_else(|| format!("{s:?}: expected start (1), switch (2) or finish (3)"))
    }
}

/// Where a bundle is in a rotation, as `certs/ca-rotation.yaml` records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationStep {
    /// After step 1: both CAs trusted, the old one signs.
    BothTrusted,
    /// After step 2: both CAs trusted, the new one signs.
    Switched,
}

impl RotationStep {
    /// The step that brought the bundle here.
    pub fn taken(self) -> CaStep {
        match self {
            RotationStep::BothTrusted => CaStep::Start,
            RotationStep::Switched => CaStep::Switch,
        }
    }

    /// The step that comes next.
    pub fn next(self) -> CaStep {
        match self {
            RotationStep::BothTrusted => CaStep::Switch,
            RotationStep::Switched => CaStep::Finish,
        }
    }

    /// What this step means, in words.
    pub fn describe(self) -> &'static str {
        match self {
            RotationStep::BothTrusted => "both CAs are trusted; the old CA (certs/ca.crt) still signs the server certificate, the new one is certs/ca-next.crt",
            RotationStep::Switched => "both CAs are trusted; the new CA (certs/ca.crt) signs the server certificate, the old one is certs/ca-previous.crt",
        }
    }

    /// What the operator does before the next step.
    pub fn before_next(self) -> &'static str {
        match self {
            RotationStep::BothTrusted => "install the new trust files on every node and client (scripts/trust-node.sh, or kubectl apply the trust DaemonSet), then",
            RotationStep::Switched => "kubectl apply the manifests (scripts/start.sh) so the registry serves the new certificate, re-trust the nodes once more if you like, then",
        }
    }
}

/// The CA rotation a render is in: its step, and the CA trusted beside the
/// signing one ([`Inputs::ca`]): at [`RotationStep::BothTrusted`] the
/// incoming CA (`None` until [`Inputs::fill_missing`] draws its key), at
/// [`RotationStep::Switched`] the outgoing one.
#[derive(Debug, Clone)]
pub struct CaRotation {
    /// Where the rotation is after this render.
    pub step: RotationStep,
    /// The other trusted CA.
    pub other: Option<CaInput>,
}

impl CaRotation {
    pub(crate) fn next_ca_missing(&self) -> bool {
        self.step == RotationStep::BothTrusted && self.other.is_none()
    }
}

/// `certs/ca-rotation.yaml` of a bundle at `step`.
pub(crate) fn record(step: RotationStep) -> String {
    let next = step.next();
    format!(
        "# {GENERATED}\n# A CA rotation is in progress; every re-render reads this file. Do not edit it.\n# {}: {}.\n# Next: {} `registry-gen render --config registry-gen.yaml --out <this directory> --rotate-ca {}`.\nstep: {}\n",
        step.taken(),
        step.describe(),
        step.before_next(),
        next.as_str(),
        step.taken().number(),
    )
}

/// The step a `certs/ca-rotation.yaml` records.
pub(crate) fn parse_record(text: &str) -> Result<RotationStep> {
    let step = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("step:"))
        .map(str::trim);
    match step {
        Some("1") => Ok(RotationStep::BothTrusted),
        Some("2") => Ok(RotationStep::Switched),
        other => Err(Error::Input {
            what: layout::CA_ROTATION.into(),
            problem: format!(
                "records step {}, expected `step: 1` or `step: 2`: restore it from the last render, or move it aside only if no rotation is in progress",
                other.unwrap_or("(none)")
            ),
        }),
    }
}

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
pub(crate) fn choose_ca(inputs: &mut Inputs, config: &Config, text: &mut Reader<'_>) -> Result<bool> {
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
        Some(_) => return Err(refuse("the signing CA was injected; a rotation reads the bundle's CAs itself".into())),
    };
    if config.tls.ca.is_some() && given.is_none() {
        return Err(refuse(
            "tls.ca is set but its files were not read (Inputs::ca must carry them)".into(),
        ));
    }
    let external = |g: &(String, Secret)| CaInput::External {
        cert_pem: g.0.clone(),
        key: g.1.clone(),
    };
    let next_step = |r: RotationStep| {
        format!(
            "the bundle has taken {}: {}; next: {} --rotate-ca {}",
            r.taken(),
            r.describe(),
            r.before_next(),
            r.next().as_str()
        )
    };
    match (recorded, requested) {
        (None, None) => return Ok(false),
        (None, Some(CaStep::Start)) => {
            let Some(old) = own(text, layout::CA_CERT, layout::CA_KEY)? else {
                return Err(refuse(match text(layout::CA_CERT)? {
                    Some(_) => format!("the bundle's CA was given (tls.ca; {} is not in the bundle), and only the bundle's own CA can be rotated in steps: start a new CA with --new-ca instead", layout::CA_KEY),
                    None => format!("there is no CA in --out to rotate from ({} and {} are missing): a first render makes one", layout::CA_CERT, layout::CA_KEY),
                }));
            };
            if let (Some(g), CaInput::Kept { cert_pem, .. }) = (&given, &old) {
                if same_cert(&g.0, cert_pem) {
                    return Err(refuse(format!("the given CA (tls.ca) is already the bundle's CA {}: give the CA to move to", layout::CA_CERT)));
                }
            }
            inputs.ca = Some(old);
            inputs.rotation = Some(CaRotation {
                step: RotationStep::BothTrusted,
                other: given.as_ref().map(external),
            });
        }
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
            let Some(old) = own(text, layout::CA_CERT, layout::CA_KEY)? else {
                return Err(refuse(format!("{} records step 1 but {} or {} is missing: restore them from a backup", layout::CA_ROTATION, layout::CA_CERT, layout::CA_KEY)));
            };
            let next = match own(text, layout::CA_NEXT_CERT, layout::CA_NEXT_KEY)? {
                Some(next) => {
                    if given.is_some() {
                        return Err(refuse(format!("the rotation in progress is to the new CA {} that registry-gen generated, but the config now gives tls.ca: remove tls.ca (or --ca-cert/--ca-key) until the rotation is finished", layout::CA_NEXT_CERT)));
                    }
                    next
                }
                None => {
                    let Some(next_pem) = text(layout::CA_NEXT_CERT)? else {
                        return Err(refuse(format!("{} records step 1 but {} is missing: restore it from a backup", layout::CA_ROTATION, layout::CA_NEXT_CERT)));
                    };
                    match &given {
                        Some(g) if same_cert(&g.0, &next_pem) => external(g),
                        Some(_) => return Err(refuse(format!("the given CA (tls.ca) is not the one this rotation moves to ({}): give that CA until the rotation is finished", layout::CA_NEXT_CERT))),
                        None => return Err(refuse(format!("the rotation moves to a given CA ({}), but the config gives none: keep tls.ca (or --ca-cert/--ca-key) until the rotation is finished", layout::CA_NEXT_CERT))),
                    }
                }
            };
            if requested == Some(CaStep::Switch) {
                inputs.ca = Some(next);
                inputs.rotation = Some(CaRotation {
                    step: RotationStep::Switched,
                    other: Some(old),
                });
            } else {
                inputs.ca = Some(old);
                inputs.rotation = Some(CaRotation {
                    step: RotationStep::BothTrusted,
                    other: Some(next),
                });
            }
        }
        (Some(RotationStep::Switched), requested) => {
            let Some(previous) = own(text, layout::CA_PREVIOUS_CERT, layout::CA_PREVIOUS_KEY)? else {
                return Err(refuse(format!("{} records step 2 but {} or {} is missing: restore them from a backup", layout::CA_ROTATION, layout::CA_PREVIOUS_CERT, layout::CA_PREVIOUS_KEY)));
            };
            let signer = match &given {
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
            inputs.ca = Some(signer);
            inputs.rotation = (requested != Some(CaStep::Finish)).then_some(CaRotation {
                step: RotationStep::Switched,
                other: Some(previous),
            });
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back_as_its_step() {
        for step in [RotationStep::BothTrusted, RotationStep::Switched] {
            assert_eq!(parse_record(&record(step)).unwrap(), step);
        }
        assert!(parse_record("step: 3\n").is_err());
        assert!(parse_record("").is_err());
    }

    #[test]
    fn steps_parse_by_name_and_number() {
        assert_eq!("switch".parse::<CaStep>().unwrap(), CaStep::Switch);
        assert_eq!("3".parse::<CaStep>().unwrap(), CaStep::Finish);
        assert!("later".parse::<CaStep>().is_err());
    }
}
