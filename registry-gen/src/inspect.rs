//! Inspecting certificates: an existing bundle's or any PEM file's.
//!
//! Pure like `render`: the caller reads the files and passes their bytes.
//! The report names each certificate's subject, issuer, SANs, validity with
//! days left and key; whether the server certificate verifies under the CA;
//! and what to worry about (expiry, SANs that miss a configured address,
//! a CN without SANs, which Go clients reject).

use std::fmt;

use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::public_key::PublicKey;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::inputs::Inputs;
use crate::plan::Plan;

/// One decoded certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertReport {
    /// Where it came from, e.g. `certs/server.crt` or `ca.pem #2`.
    pub source: String,
    /// Subject DN.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// Subject alternative names, as `DNS:name` and `IP:addr`.
    pub sans: Vec<String>,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// Whole days from `now` to `not_after` (negative once expired).
    pub days_left: i64,
    /// Key algorithm, e.g. `ECDSA P-256` or `RSA 2048`.
    pub key: String,
    /// basicConstraints CA:TRUE.
    pub is_ca: bool,
}

/// The result of [`inspect`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    /// Every certificate found, in order.
    pub certificates: Vec<CertReport>,
    /// The chain verdict, when there is a leaf and a CA to check it against.
    pub chain: Option<std::result::Result<String, String>>,
    /// Things that break clients now: expired, chain fails, a configured
    /// address missing from the SANs, a server certificate without SANs.
    pub problems: Vec<String>,
    /// Things that will: expiry within [`Inputs::RENEW_BEFORE_DAYS`] days.
    pub warnings: Vec<String>,
}

/// Inspect PEM files. Each entry is `(name, bytes)`; a file may hold several
/// certificates. When a `config` is given, the first non-CA certificate is
/// checked against the addresses it configures; the first CA certificate
/// is used to verify the first non-CA one.
pub fn inspect(
    files: &[(&str, &[u8])],
    config: Option<&Config>,
    now: OffsetDateTime,
) -> Result<Inspection> {
    let mut ders = Vec::new();
    for (name, bytes) in files {
        let before = ders.len();
        for (i, pem) in x509_parser::pem::Pem::iter_from_buffer(bytes).enumerate() {
            let pem = pem.map_err(|e| Error::Input {
                what: (*name).to_owned(),
                problem: format!("is not PEM ({e})"),
            })?;
            if pem.label == "CERTIFICATE" {
                ders.push((format!("{name} #{}", i + 1), pem.contents));
            }
        }
        let found = ders.len() - before;
        if found == 0 {
            return Err(Error::Input {
                what: (*name).to_owned(),
                problem: "holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into(),
            });
        }
        if found == 1 {
            ders.last_mut().expect("one was pushed").0 = (*name).to_owned();
        }
    }
    let mut certs = Vec::new();
    for (source, der) in &ders {
        let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| Error::Input {
            what: source.clone(),
            problem: format!("is not a valid X.509 certificate ({e})"),
        })?;
        certs.push((source.clone(), cert));
    }

    let mut report = Inspection {
        certificates: Vec::new(),
        chain: None,
        problems: Vec::new(),
        warnings: Vec::new(),
    };
    for (source, cert) in &certs {
        let r = describe(source, cert, now);
        if r.days_left < 0 {
            report
                .problems
                .push(format!("{source}: expired on {}", r.not_after.date()));
        } else if r.days_left < Inputs::RENEW_BEFORE_DAYS {
            report.warnings.push(format!(
                "{source}: expires in {} days, on {}",
                r.days_left,
                r.not_after.date()
            ));
        }
        if !r.is_ca && r.sans.is_empty() {
            report.problems.push(format!(
                "{source}: has no subjectAltName, only a CN ({}): Go clients (Docker, containerd, kubelet, skopeo) reject it",
                r.subject
            ));
        }
        report.certificates.push(r);
    }

    let leaf = certs.iter().position(|(_, c)| !is_ca(c));
    let ca = certs.iter().position(|(_, c)| is_ca(c));
    if let (Some(l), Some(c)) = (leaf, ca) {
        let (leaf_name, leaf_cert) = &certs[l];
        let (ca_name, ca_cert) = &certs[c];
        let verdict = if leaf_cert.issuer() != ca_cert.subject() {
            Err(format!(
                "{leaf_name} was issued by {}, not by {ca_name} ({})",
                leaf_cert.issuer(),
                ca_cert.subject()
            ))
        } else if leaf_cert
            .verify_signature(Some(ca_cert.public_key()))
            .is_err()
        {
            Err(format!(
                "{leaf_name}'s signature does not verify with {ca_name}'s key"
            ))
        } else {
            Ok(format!("{leaf_name} is signed by {ca_name}"))
        };
        if let Err(e) = &verdict {
            report.problems.push(format!("chain: {e}"));
        }
        report.chain = Some(verdict);
    }

    if let (Some(config), Some(l)) = (config, leaf) {
        crate::validate::validate(config)?;
        let plan = Plan::new(config, false)?;
        let have = &report.certificates[l].sans;
        let wanted = plan
            .tls
            .ip_sans
            .iter()
            .map(|ip| format!("IP:{ip}"))
            .chain(plan.tls.dns_sans.iter().map(|d| format!("DNS:{d}")));
        for want in wanted {
            if !have.iter().any(|h| h.eq_ignore_ascii_case(&want)) {
                report.problems.push(format!(
                    "{}: does not name {want}, which the config lists: clients using it fail with a certificate error; re-render",
                    report.certificates[l].source
                ));
            }
        }
    }
    Ok(report)
}

fn is_ca(cert: &X509Certificate<'_>) -> bool {
    cert.basic_constraints()
        .ok()
        .flatten()
        .is_some_and(|b| b.value.ca)
}

fn time(t: x509_parser::time::ASN1Time) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(t.timestamp()).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn describe(source: &str, cert: &X509Certificate<'_>, now: OffsetDateTime) -> CertReport {
    let mut sans = Vec::new();
    for ext in cert.extensions() {
        if let ParsedExtension::SubjectAlternativeName(san) = ext.parsed_extension() {
            for n in &san.general_names {
                sans.push(match n {
                    GeneralName::DNSName(d) => format!("DNS:{d}"),
                    GeneralName::IPAddress(b) => match <[u8; 4]>::try_from(*b) {
                        Ok(v4) => format!("IP:{}", std::net::IpAddr::from(v4)),
                        Err(_) => match <[u8; 16]>::try_from(*b) {
                            Ok(v6) => format!("IP:{}", std::net::IpAddr::from(v6)),
                            Err(_) => "IP:(malformed)".to_owned(),
                        },
                    },
                    other => format!("{other}"),
                });
            }
        }
    }
    let key = match cert.public_key().parsed() {
        Ok(PublicKey::RSA(r)) => format!("RSA {}", r.key_size()),
        Ok(PublicKey::EC(p)) => format!("ECDSA P-{}", p.key_size()),
        Ok(_) | Err(_) => cert.public_key().algorithm.algorithm.to_id_string(),
    };
    let not_after = time(cert.validity().not_after);
    CertReport {
        source: source.to_owned(),
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        sans,
        not_before: time(cert.validity().not_before),
        not_after,
        days_left: (not_after - now).whole_days(),
        key,
        is_ca: is_ca(cert),
    }
}

impl fmt::Display for Inspection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.certificates {
            writeln!(f, "{}{}", c.source, if c.is_ca { " (CA)" } else { "" })?;
            writeln!(f, "  subject:  {}", c.subject)?;
            writeln!(f, "  issuer:   {}", c.issuer)?;
            writeln!(f, "  key:      {}", c.key)?;
            writeln!(
                f,
                "  valid:    {} to {} ({} days left)",
                c.not_before.date(),
                c.not_after.date(),
                c.days_left
            )?;
            if !c.sans.is_empty() {
                writeln!(f, "  names:    {}", c.sans.join(", "))?;
            }
        }
        match &self.chain {
            Some(Ok(s)) => writeln!(f, "chain: ok, {s}")?,
            Some(Err(s)) => writeln!(f, "chain: FAILS, {s}")?,
            None => {}
        }
        for p in &self.problems {
            writeln!(f, "problem: {p}")?;
        }
        for w in &self.warnings {
            writeln!(f, "warning: {w}")?;
        }
        Ok(())
    }
}
