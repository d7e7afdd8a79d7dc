//! Certificates: the CA (generated, kept or external), the server key,
//! certificate and CSR, and an `openssl.cnf` that reproduces them by hand.
//!
//! A kept or given CA is checked (a CA, its key, valid now) before it
//! signs. An earlier server certificate is kept while it fits (`reusable`:
//! same key and CA, same CN, every address named, less than two thirds of
//! its lifetime gone) and the render says why when it issues a new one
//! (`Bundle::notices`); the CSR is kept while it asks for the same
//! (`x509::same_request`), so an unchanged bundle re-renders byte-identical.
//! Every certificate takes its serial from `Inputs::serials`. The openssl
//! commands come from `TlsPlan::openssl_commands`, shared with the bundle
//! README; `openssl.cnf`'s static text is `certs/openssl.cnf`, its
//! `{{NAME}}` placeholders filled from the plan in one pass. A CA
//! rotation's extra certificates are `certs/rotation_certs.rs`.
//!
//! Go clients (Docker, containerd, kubelet, skopeo) ignore the CN and accept
//! a server certificate only for names and IPs in its subjectAltName, so
//! every node IP, DNS name and in-cluster Service name goes into one SAN
//! extension, all taken from the plan.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PublicKeyData, SanType, SerialNumber,
};

use crate::keys;
use time::{Duration, OffsetDateTime};

use crate::bundle::{Bundle, MODE_FILE, MODE_SECRET};
use crate::error::{Error, Result};
use crate::inputs::{CaInput, Inputs, Serial};
use crate::plan::{paths, CaPlan, Plan};
use crate::rotation::RotationStep;
use crate::x509;

mod rotation_certs;
use rotation_certs::{cross_signed, is_cross, rotation_files};

pub(crate) fn render(plan: &Plan, inputs: &Inputs, out: &mut Bundle) -> Result<()> {
    let ca = signing_ca(plan, inputs)?;
    let server_key_pem = inputs
        .server_key
        .as_ref()
        .ok_or_else(|| missing("the server key (Inputs::server_key)"))?;
    let server_key = server_key(plan, server_key_pem.expose())?;
    let mut params = server_params(plan, inputs.now);
    params.serial_number = Some(serial(inputs.serials.server, "server")?);
    if params.not_after > ca.not_after {
        // A certificate can't outlive the CA that signs it.
        params.not_after = ca.not_after;
        out.notice(format!(
            "the server certificate is valid until {} only, when its CA expires (tls.server_validity_days asks for {} days)",
            date(ca.not_after),
            plan.tls.server_validity_days
        ));
    }
    let cert_pem = server_cert(plan, inputs, &ca, &params, &server_key, out)?;
    let csr_pem = server_csr(inputs, &params, &server_key)?;

    out.add(paths::CA_CERT, ca.pem.clone(), MODE_FILE);
    if let Some(key) = ca.key_pem {
        out.add(paths::CA_KEY, key, MODE_SECRET);
    }
    if let Some(rotation) = &inputs.rotation {
        rotation_files(plan, inputs, rotation, &ca.pem, out)?;
    }
    out.add(paths::SERVER_CERT, cert_pem, MODE_FILE);
    out.add(paths::SERVER_KEY, server_key_pem.expose(), MODE_SECRET);
    out.add(paths::SERVER_CSR, csr_pem, MODE_FILE);
    out.add(
        paths::OPENSSL_CNF,
        openssl_cnf(plan, ca.key_pem.is_some()),
        MODE_FILE,
    );
    Ok(())
}

/// The CA that signs this render's server certificate.
struct SigningCa<'i> {
    pem: String,
    /// Its key, when it goes into the bundle (not an external CA's).
    key_pem: Option<&'i str>,
    not_after: OffsetDateTime,
    issuer: Issuer<'static, KeyPair>,
}

/// The CA of `inputs`: made now from its key, kept from an earlier render,
/// or given (`tls.ca`); a kept or given one is checked before it signs.
fn signing_ca<'i>(plan: &Plan, inputs: &'i Inputs) -> Result<SigningCa<'i>> {
    check_given_ca(plan, inputs)?;
    let ca_input = inputs
        .ca
        .as_ref()
        .ok_or_else(|| missing("a CA (Inputs::ca)"))?;
    let (pem, key_pem, ca_key, not_after, params) = match ca_input {
        CaInput::New { key } => {
            let ca_key = keys::parse("the CA key", key.expose())?;
            let params = ca_params(plan, inputs)?;
            let cert = params.self_signed(&ca_key).map_err(Error::cert("CA"))?;
            let not_after = params.not_after;
            (
                cert.pem(),
                Some(key.expose()),
                ca_key,
                not_after,
                Some(params),
            )
        }
        CaInput::Kept { cert_pem, key } => {
            let ca_key = keys::parse(paths::CA_KEY, key.expose())?;
            let renew = "start a new CA with `registry-gen render --new-ca` (every client must then trust the new certs/ca.crt)";
            let not_after = check_ca(paths::CA_CERT, cert_pem, &ca_key, inputs.now, renew)?;
            (
                cert_pem.clone(),
                Some(key.expose()),
                ca_key,
                not_after,
                None,
            )
        }
        CaInput::External { cert_pem, key } => {
            let ca_key = keys::parse("tls.ca.key_file", key.expose())?;
            let renew = "renew that CA, or sign with another one";
            let not_after = check_ca("tls.ca.cert_file", cert_pem, &ca_key, inputs.now, renew)?;
            (cert_pem.clone(), None, ca_key, not_after, None)
        }
    };
    let issuer = match params {
        Some(params) => Issuer::new(params, ca_key),
        None => Issuer::from_ca_cert_pem(&pem, ca_key).map_err(Error::cert("CA (parsing)"))?,
    };
    Ok(SigningCa {
        pem,
        key_pem,
        not_after,
        issuer,
    })
}

/// Outside a rotation (which chooses its CAs itself, `inputs/rotate.rs`),
/// `tls.ca` and an external [`CaInput`] come together: either alone would
/// sign with one CA while the bundle's README and scripts describe another.
fn check_given_ca(plan: &Plan, inputs: &Inputs) -> Result<()> {
    if inputs.rotation.is_some() {
        return Ok(());
    }
    let external = matches!(inputs.ca, Some(CaInput::External { .. }));
    match (&plan.ca, external) {
        (CaPlan::Given { .. }, false) => Err(Error::Input {
            what: "tls.ca".into(),
            problem: "was not read: the caller must put its cert_file and key_file in Inputs::ca (CaInput::External) before rendering".into(),
        }),
        (CaPlan::Generated | CaPlan::Kept, true) => Err(Error::Input {
            what: "Inputs::ca".into(),
            problem: "is an external CA, but the config's tls.ca is not set: name its files there, so the bundle describes the CA that signs".into(),
        }),
        _ => Ok(()),
    }
}

/// The injected server key, refused when it is not of `tls.key_algorithm`.
fn server_key(plan: &Plan, pem: &str) -> Result<KeyPair> {
    let server_key = keys::parse("the server key", pem)?;
    if !keys::matches(&server_key, plan.tls.key_algorithm) {
        return Err(Error::Input {
            what: "the server key".into(),
            problem: format!(
                "is {}, but tls.key_algorithm is {}: inject a key of that algorithm",
                keys::describe(&server_key),
                plan.tls.key_algorithm.as_str()
            ),
        });
    }
    Ok(server_key)
}

/// The server certificate (with the cross-signed new CA after it at a
/// rotation's second step): the earlier one when it still names every
/// address and is valid long enough, else a new one.
fn server_cert(
    plan: &Plan,
    inputs: &Inputs,
    ca: &SigningCa,
    params: &CertificateParams,
    server_key: &KeyPair,
    out: &mut Bundle,
) -> Result<String> {
    let kept = inputs.server_cert.as_deref().map(|pem| {
        reusable(plan, pem, server_key, &ca.pem, inputs.now).map(|not_after| (pem, not_after))
    });
    // At a rotation's second step the new CA, cross-signed by the old one,
    // follows the leaf: a client that still trusts only the old CA verifies
    // the chain until the rotation finishes.
    let switched = inputs
        .rotation
        .as_ref()
        .filter(|r| r.step == RotationStep::Switched)
        .and_then(|r| r.other.as_ref());
    Ok(match kept {
        Some(Ok((pem, not_after))) => {
            out.notice(format!(
                "kept the server certificate: it names every address and is valid until {}",
                date(not_after)
            ));
            let leaf = x509::first_block(pem);
            match switched {
                Some(_)
                    if pem.len() > leaf.len()
                        && is_cross(&pem[leaf.len()..], &ca.pem, switched) =>
                {
                    pem.to_owned()
                }
                Some(old) => format!("{leaf}{}", cross_signed(inputs, &ca.pem, old)?),
                None => leaf.to_owned(),
            }
        }
        other => {
            if let Some(Err(why)) = other {
                out.notice(format!(
                    "issued a new server certificate: the earlier one {why}"
                ));
            }
            let leaf = params
                .signed_by(server_key, &ca.issuer)
                .map_err(Error::cert("server"))?
                .pem();
            match switched {
                Some(old) => format!("{leaf}{}", cross_signed(inputs, &ca.pem, old)?),
                None => leaf,
            }
        }
    })
}

/// The server CSR: the earlier one when it asks for the same, so an
/// unchanged bundle re-renders byte-identical.
fn server_csr(inputs: &Inputs, params: &CertificateParams, server_key: &KeyPair) -> Result<String> {
    // The CSR asks for the same subject and extensions; the authority key
    // id is the issuer's to add, so a CSR can't carry it.
    let mut csr_params = params.clone();
    csr_params.use_authority_key_identifier_extension = false;
    csr_params.serial_number = None; // the issuer's to choose, too
    let csr = csr_params
        .serialize_request(server_key)
        .map_err(Error::cert("server CSR"))?;
    Ok(match &inputs.server_csr {
        Some(old) if x509::same_request(old, csr.der()) => old.clone(),
        _ => csr.pem().map_err(Error::cert("server CSR"))?,
    })
}

/// The injected serial for a certificate this render issues.
fn serial(serial: Option<Serial>, what: &str) -> Result<SerialNumber> {
    serial
        .map(|s| SerialNumber::from_slice(s.bytes()))
        .ok_or_else(|| {
            missing(&format!(
                "the {what} certificate's serial (Inputs::serials)"
            ))
        })
}

fn missing(what: &str) -> Error {
    Error::Input {
        what: what.to_owned(),
        problem: "is missing: call Inputs::fill_missing, or inject it".into(),
    }
}

fn date(t: OffsetDateTime) -> String {
    t.date().to_string()
}

/// Can the earlier server certificate `pem` stay? `Ok(notAfter)` when it
/// is for `key`, signed by the CA, names every address of the plan with the
/// plan's CN, and is not past two thirds of its lifetime
/// ([`Inputs::renew_at`]); otherwise
/// why not, completing "the earlier one ...".
fn reusable(
    plan: &Plan,
    pem: &str,
    key: &KeyPair,
    ca_pem: &str,
    now: OffsetDateTime,
) -> std::result::Result<OffsetDateTime, String> {
    let pem = x509::pem(pem)?;
    let cert = pem
        .parse_x509()
        .map_err(|e| format!("is not valid X.509 ({e})"))?;
    let ca_pem = x509::pem(ca_pem)?;
    let ca = ca_pem
        .parse_x509()
        .map_err(|e| format!("has an unreadable CA ({e})"))?;
    if !x509::has_key(&cert, key.subject_public_key_info().as_slice()) {
        return Err("is for another key".into());
    }
    if cert.verify_signature(Some(ca.public_key())).is_err() {
        return Err("was not signed by this CA".into());
    }
    let cn = x509::common_name(&cert);
    if cn != Some(plan.tls.common_name.as_str()) {
        return Err(format!(
            "has CN {}, not {}",
            cn.unwrap_or("(none)"),
            plan.tls.common_name
        ));
    }
    let sans = x509::sans(&cert);
    let tls = &plan.tls;
    if let Some(ip) = tls.ip_sans.iter().find(|ip| !x509::names_ip(&sans, **ip)) {
        return Err(format!("does not name IP {ip}"));
    }
    if let Some(dns) = tls.dns_sans.iter().find(|d| !x509::names_dns(&sans, d)) {
        return Err(format!("does not name DNS {dns}"));
    }
    let not_after = x509::not_after(&cert);
    let renew_at = Inputs::renew_at(x509::not_before(&cert), not_after);
    if now >= renew_at {
        return Err(format!(
            "is past two thirds of its lifetime (renewed from {}; it expires on {})",
            date(renew_at),
            date(not_after)
        ));
    }
    Ok(not_after)
}

/// Check an existing CA certificate: PEM, a CA, matching `key`, valid at
/// `now`. Returns its notAfter.
fn check_ca(
    what: &str,
    cert_pem: &str,
    key: &KeyPair,
    now: OffsetDateTime,
    renew: &str,
) -> Result<OffsetDateTime> {
    let bad = |problem: String| Error::Input {
        what: what.to_owned(),
        problem,
    };
    let pem = x509::pem(cert_pem).map_err(bad)?;
    let cert = pem
        .parse_x509()
        .map_err(|e| bad(format!("is not a valid X.509 certificate ({e})")))?;
    if !x509::is_ca(&cert) {
        return Err(bad(format!(
            "({}) is not a CA certificate (basicConstraints CA:TRUE missing): give the CA that signs, not a server certificate",
            cert.subject()
        )));
    }
    if !x509::has_key(&cert, key.subject_public_key_info().as_slice()) {
        return Err(bad(format!(
            "({}) does not belong to the given CA key: the key's public half differs from the certificate's",
            cert.subject()
        )));
    }
    let not_after = x509::not_after(&cert);
    let not_before = x509::not_before(&cert);
    if not_after <= now {
        return Err(bad(format!(
            "({}) expired on {}: {renew}",
            cert.subject(),
            date(not_after)
        )));
    }
    if not_before > now {
        return Err(bad(format!(
            "({}) is not valid before {}: check the clock",
            cert.subject(),
            date(not_before)
        )));
    }
    Ok(not_after)
}

fn name(plan: &Plan, cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, plan.tls.organization);
    dn.push(DnType::CommonName, cn);
    dn
}

fn ca_params(plan: &Plan, inputs: &Inputs) -> Result<CertificateParams> {
    let now = inputs.now;
    let mut p = CertificateParams::default();
    p.serial_number = Some(serial(inputs.serials.ca, "CA")?);
    p.distinguished_name = name(plan, &plan.tls.ca_common_name);
    // One intermediate below it at most: during a CA rotation's second
    // step, the next CA cross-signed by this one sits between the server
    // certificate and this CA for clients that trust only this CA (Go
    // counts it even though the two CAs share a name).
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(1));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.not_before = now;
    p.not_after = now + Duration::days(plan.tls.ca_validity_days);
    Ok(p)
}

fn server_params(plan: &Plan, now: OffsetDateTime) -> CertificateParams {
    let tls = &plan.tls;
    let mut p = CertificateParams::default();
    p.distinguished_name = name(plan, &tls.common_name);
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    if tls.key_algorithm.is_rsa() {
        p.key_usages.push(KeyUsagePurpose::KeyEncipherment);
    }
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    p.use_authority_key_identifier_extension = true;
    p.subject_alt_names = tls
        .ip_sans
        .iter()
        .map(|ip| SanType::IpAddress(*ip))
        .chain(tls.dns_sans.iter().filter_map(|d| {
            // Validation has checked every name is an RFC 1123 name, hence IA5.
            d.clone().try_into().ok().map(SanType::DnsName)
        }))
        .collect();
    p.not_before = now;
    p.not_after = now + Duration::days(tls.server_validity_days);
    p
}

/// The static part of `certs/openssl.cnf`; `openssl_cnf` fills in the
/// `{{NAME}}` placeholders.
const OPENSSL_CNF: &str = include_str!("certs/openssl.cnf");

/// The openssl equivalent of what was generated, so a user can reproduce
/// (or audit) it by hand; every value comes from the plan.
fn openssl_cnf(plan: &Plan, ca_generated: bool) -> String {
    let tls = &plan.tls;
    let lines = |v: Vec<String>| v.join("\n");
    let commands = tls
        .openssl_commands(ca_generated)
        .iter()
        .map(|c| format!("#   {c}"))
        .collect();
    let alt_names = tls
        .ip_sans
        .iter()
        .enumerate()
        .map(|(i, ip)| format!("IP.{} = {ip}", i + 1))
        .chain(
            tls.dns_sans
                .iter()
                .enumerate()
                .map(|(i, dns)| format!("DNS.{} = {dns}", i + 1)),
        )
        .collect();
    let rsa_key_usage = if tls.key_algorithm.is_rsa() {
        ", keyEncipherment"
    } else {
        ""
    };
    fill(
        OPENSSL_CNF,
        &[
            ("{{COMMANDS}}", &lines(commands)),
            ("{{ORGANIZATION}}", tls.organization),
            ("{{COMMON_NAME}}", &tls.common_name),
            ("{{RSA_KEY_USAGE}}", rsa_key_usage),
            ("{{ALT_NAMES}}", &lines(alt_names)),
        ],
    )
}

/// `template` with each placeholder replaced by its value, in one pass: a
/// value is copied as it is, never searched for placeholders itself.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some((at, placeholder, value)) = values
        .iter()
        .filter_map(|(p, v)| rest.find(p).map(|at| (at, p, v)))
        .min_by_key(|(at, _, _)| *at)
    {
        out.push_str(&rest[..at]);
        out.push_str(value);
        rest = &rest[at + placeholder.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::fill;

    #[test]
    fn fill_replaces_each_placeholder_once_and_never_inside_a_value() {
        let values = [("{{A}}", "{{B}}"), ("{{B}}", "b")];
        assert_eq!(fill("{{A}}-{{B}}-{{A}}", &values), "{{B}}-b-{{B}}");
        assert_eq!(fill("none", &values), "none");
    }
}
