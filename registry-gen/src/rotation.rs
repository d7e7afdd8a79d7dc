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
//! re-render reads it back (`Inputs::reuse_previous`)
//! and renders the same step again until the next one is asked for. At any
//! step `certs/ca.crt` is the CA that signs the server certificate.
//! Pure: the files come through the caller's reader.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::layout::{self, GENERATED};

/// A rotation step to take (`registry-gen render --rotate-ca STEP`).
///
/// ```
/// use registry_gen::{render, CaStep, Config, Inputs};
///
/// let config = Config::embedded_default();
/// let mut inputs = Inputs::new(time::OffsetDateTime::now_utc());
/// inputs.fill_missing(&config)?;
/// let bundle = render(&config, &inputs)?;
///
/// // `registry-gen render --rotate-ca start`: a re-render that takes step 1.
/// let mut next = Inputs::new(inputs.now);
/// next.rotate_ca = Some("start".parse::<CaStep>().unwrap());
/// next.reuse_previous(&config, &mut |path| bundle.get(path).map(|f| f.contents.clone()))?;
/// next.fill_missing(&config)?;
/// let started = render(&config, &next)?;
/// assert!(started.get("certs/ca-next.crt").is_some());
/// assert_eq!(started.get("certs/ca.crt"), bundle.get("certs/ca.crt")); // the old CA still signs
/// # Ok::<(), registry_gen::Error>(())
/// ```
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
    pub(crate) const ALL: [CaStep; 3] = [CaStep::Start, CaStep::Switch, CaStep::Finish];

    /// The step's name on the command line.
    ///
    /// ```
    /// use registry_gen::CaStep;
    ///
    /// assert_eq!(CaStep::Switch.as_str(), "switch");
    /// assert_eq!("switch".parse::<CaStep>(), Ok(CaStep::Switch));
    /// assert_eq!("2".parse::<CaStep>(), Ok(CaStep::Switch));
    /// assert_eq!(CaStep::Switch.to_string(), "step 2 of 3 (switch)");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            CaStep::Start => "start",
            CaStep::Switch => "switch",
            CaStep::Finish => "finish",
        }
    }

    pub(crate) fn number(self) -> u8 {
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
///
/// ```
/// # use registry_gen::{render, CaStep, Config, Inputs, RotationStep};
/// # let config = Config::embedded_default();
/// # let mut inputs = Inputs::new(time::OffsetDateTime::now_utc());
/// # inputs.fill_missing(&config)?;
/// # let bundle = render(&config, &inputs)?;
/// # let mut next = Inputs::new(inputs.now);
/// # next.rotate_ca = Some(CaStep::Start);
/// # next.reuse_previous(&config, &mut |path| bundle.get(path).map(|f| f.contents.clone()))?;
/// # next.fill_missing(&config)?;
/// # let started = render(&config, &next)?;
/// // A bundle after `--rotate-ca start` records where it is:
/// let record = &started.get("certs/ca-rotation.yaml").unwrap().contents;
/// let step = RotationStep::from_record(std::str::from_utf8(record).unwrap())?;
/// assert_eq!(step, RotationStep::BothTrusted);
/// println!("{}: {}", step.taken(), step.describe());
/// println!("next: {}, then {}", step.before_next(), step.next());
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationStep {
    /// After step 1: both CAs trusted, the old one signs.
    BothTrusted,
    /// After step 2: both CAs trusted, the new one signs.
    Switched,
}

impl RotationStep {
    /// The step that brought the bundle here.
    ///
    /// ```
    /// use registry_gen::{CaStep, RotationStep};
    ///
    /// assert_eq!(RotationStep::BothTrusted.taken(), CaStep::Start);
    /// assert_eq!(RotationStep::Switched.taken(), CaStep::Switch);
    /// ```
    pub fn taken(self) -> CaStep {
        match self {
            RotationStep::BothTrusted => CaStep::Start,
            RotationStep::Switched => CaStep::Switch,
        }
    }

    /// The step that comes next.
    ///
    /// ```
    /// use registry_gen::{CaStep, RotationStep};
    ///
    /// assert_eq!(RotationStep::BothTrusted.next(), CaStep::Switch);
    /// assert_eq!(RotationStep::Switched.next(), CaStep::Finish);
    /// ```
    pub fn next(self) -> CaStep {
        match self {
            RotationStep::BothTrusted => CaStep::Switch,
            RotationStep::Switched => CaStep::Finish,
        }
    }

    /// What this step means, in words.
    ///
    /// ```
    /// let now = registry_gen::RotationStep::Switched.describe();
    /// assert!(now.contains("the new CA (certs/ca.crt) signs"));
    /// ```
    pub fn describe(self) -> &'static str {
        match self {
            RotationStep::BothTrusted => "both CAs are trusted; the old CA (certs/ca.crt) still signs the server certificate, the new one is certs/ca-next.crt",
            RotationStep::Switched => "both CAs are trusted; the new CA (certs/ca.crt) signs the server certificate, the old one is certs/ca-previous.crt",
        }
    }

    /// What the operator does before the next step.
    ///
    /// ```
    /// let todo = registry_gen::RotationStep::BothTrusted.before_next();
    /// assert!(todo.contains("scripts/trust-node.sh"));
    /// ```
    pub fn before_next(self) -> &'static str {
        match self {
            RotationStep::BothTrusted => "install the new trust files on every node and client (scripts/trust-node.sh, or kubectl apply the trust DaemonSet)",
            RotationStep::Switched => "kubectl apply the manifests (scripts/start.sh) so the registry serves the new certificate, re-trust the nodes once more if you like",
        }
    }
}

/// `certs/ca-rotation.yaml` of a bundle at `step`.
pub(crate) fn record(step: RotationStep) -> String {
    let next = step.next();
    format!(
        "# {GENERATED}\n# A CA rotation is in progress; every re-render reads this file. Do not edit it.\n# {}: {}.\n# Next: {}, then `registry-gen render --out <this directory> --rotate-ca {}`.\nstep: {}\n",
        step.taken(),
        step.describe(),
        step.before_next(),
        next.as_str(),
        step.taken().number(),
    )
}

impl RotationStep {
    /// The step a bundle's `certs/ca-rotation.yaml` (its text) records.
    ///
    /// ```
    /// # use registry_gen::{render, CaStep, Config, Inputs, RotationStep};
    /// # let config = Config::embedded_default();
    /// # let mut inputs = Inputs::new(time::OffsetDateTime::now_utc());
    /// # inputs.fill_missing(&config)?;
    /// # let bundle = render(&config, &inputs)?;
    /// # let mut next = Inputs::new(inputs.now);
    /// # next.rotate_ca = Some(CaStep::Start);
    /// # next.reuse_previous(&config, &mut |path| bundle.get(path).map(|f| f.contents.clone()))?;
    /// # next.fill_missing(&config)?;
    /// # let started = render(&config, &next)?;
    /// // A bundle after `--rotate-ca start` records where it is:
    /// let record = &started.get("certs/ca-rotation.yaml").unwrap().contents;
    /// let step = RotationStep::from_record(std::str::from_utf8(record).unwrap())?;
    /// assert_eq!(step, RotationStep::BothTrusted);
    /// assert!(RotationStep::from_record("step: 7\n").is_err());
    /// # Ok::<(), registry_gen::Error>(())
    /// ```
    pub fn from_record(text: &str) -> Result<RotationStep> {
        parse_record(text)
    }
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
