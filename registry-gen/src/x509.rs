//! Reading X.509 certificates, for `render/certs.rs` (checking a kept or
//! given CA, deciding whether an earlier server certificate can stay) and
//! `inspect.rs` (describing certificates and checking them against a
//! config): PEM and DER parsing, is-CA, validity, the subjectAltNames and
//! whether they name an IP address or a DNS name; and whether an earlier
//! certificate signing request asks for the same as a new one.
//!
//! Callers word their own messages; this module only answers questions.

use std::fmt;
use std::net::IpAddr;

use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::error::X509Error;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::pem::Pem;
use x509_parser::time::ASN1Time;

/// The first PEM block of `pem`; the error completes "<what> ...".
pub(crate) fn pem(pem: &str) -> Result<Pem, String> {
    x509_parser::pem::parse_x509_pem(pem.as_bytes())
        .map(|(_, p)| p)
        .map_err(|e| format!("is not a PEM certificate ({e})"))
}

/// Every PEM block of `bytes` (a file may hold several), in order.
pub(crate) fn pems(
    bytes: &[u8],
) -> impl Iterator<Item = Result<Pem, x509_parser::error::PEMError>> + '_ {
    Pem::iter_from_buffer(bytes)
}

/// The text of the first PEM block of `pem` (e.g. a leaf without the
/// certificates that follow it), ending in a newline.
pub(crate) fn first_block(pem: &str) -> &str {
    const END: &str = "-----END CERTIFICATE-----";
    match pem.find(END) {
        Some(i) => {
            let end = i + END.len();
            let end = if pem[end..].starts_with('\n') {
                end + 1
            } else {
                end
            };
            &pem[..end]
        }
        None => pem,
    }
}

/// The subjectKeyIdentifier, if the certificate has one.
pub(crate) fn subject_key_id(cert: &X509Certificate<'_>) -> Option<Vec<u8>> {
    cert.extensions()
        .iter()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(k) => Some(k.0.to_vec()),
            _ => None,
        })
}

/// A certificate's name as rcgen builds one (CN, O, OU, C, ST, L; any
/// other attribute by its OID), for a certificate with the same subject.
pub(crate) fn rcgen_name(name: &x509_parser::x509::X509Name<'_>) -> rcgen::DistinguishedName {
    use x509_parser::oid_registry as oids;
    let mut dn = rcgen::DistinguishedName::new();
    for attr in name.iter_attributes() {
        let oid = attr.attr_type();
        let ty = if *oid == oids::OID_X509_COMMON_NAME {
            rcgen::DnType::CommonName
        } else if *oid == oids::OID_X509_ORGANIZATION_NAME {
            rcgen::DnType::OrganizationName
        } else if *oid == oids::OID_X509_ORGANIZATIONAL_UNIT {
            rcgen::DnType::OrganizationalUnitName
        } else if *oid == oids::OID_X509_COUNTRY_NAME {
            rcgen::DnType::CountryName
        } else if *oid == oids::OID_X509_STATE_OR_PROVINCE_NAME {
            rcgen::DnType::StateOrProvinceName
        } else if *oid == oids::OID_X509_LOCALITY_NAME {
            rcgen::DnType::LocalityName
        } else {
            match oid.iter() {
                Some(arcs) => rcgen::DnType::CustomDnType(arcs.collect()),
                None => continue,
            }
        };
        let Ok(v) = attr.as_str() else { continue };
        // The same string type as the original, so the name's bytes match
        // (Go compares issuer and subject byte for byte).
        let value = match attr.attr_value().tag() {
            x509_parser::der_parser::asn1_rs::Tag::PrintableString => v
                .try_into()
                .map(rcgen::DnValue::PrintableString)
                .unwrap_or_else(|_| rcgen::DnValue::Utf8String(v.to_owned())),
            x509_parser::der_parser::asn1_rs::Tag::Ia5String => v
                .try_into()
                .map(rcgen::DnValue::Ia5String)
                .unwrap_or_else(|_| rcgen::DnValue::Utf8String(v.to_owned())),
            _ => rcgen::DnValue::Utf8String(v.to_owned()),
        };
        dn.push(ty, value);
    }
    dn
}

/// Is this PEM block a certificate?
pub(crate) fn is_certificate(pem: &Pem) -> bool {
    pem.label == "CERTIFICATE"
}

/// A DER certificate, decoded.
pub(crate) fn parse(der: &[u8]) -> Result<X509Certificate<'_>, x509_parser::nom::Err<X509Error>> {
    x509_parser::parse_x509_certificate(der).map(|(_, cert)| cert)
}

/// basicConstraints CA:TRUE.
pub(crate) fn is_ca(cert: &X509Certificate<'_>) -> bool {
    cert.basic_constraints()
        .ok()
        .flatten()
        .is_some_and(|b| b.value.ca)
}

/// The start of validity (notBefore), in UTC to the second.
pub(crate) fn not_before(cert: &X509Certificate<'_>) -> OffsetDateTime {
    utc(cert.validity().not_before)
}

/// The end of validity (notAfter), in UTC to the second.
pub(crate) fn not_after(cert: &X509Certificate<'_>) -> OffsetDateTime {
    utc(cert.validity().not_after)
}

fn utc(t: ASN1Time) -> OffsetDateTime {
    // The timestamp came from an OffsetDateTime, so it converts back; the
    // fallback only keeps this total.
    OffsetDateTime::from_unix_timestamp(t.timestamp()).unwrap_or_else(|_| t.to_datetime())
}

/// The first CN of the subject, when it is a string.
pub(crate) fn common_name<'a>(cert: &'a X509Certificate<'_>) -> Option<&'a str> {
    cert.subject()
        .iter_common_name()
        .next()
        .and_then(|c| c.as_str().ok())
}

/// Is `cert` for the key whose SubjectPublicKeyInfo (DER) is `spki`?
pub(crate) fn has_key(cert: &X509Certificate<'_>, spki: &[u8]) -> bool {
    cert.public_key().raw == spki
}

/// One subjectAltName. Displays as `DNS:name`, `IP:addr`, or x509-parser's
/// wording for other kinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum San {
    Dns(String),
    Ip(IpAddr),
    /// An IP address entry of neither 4 nor 16 bytes.
    MalformedIp,
    Other(String),
}

impl fmt::Display for San {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            San::Dns(d) => write!(f, "DNS:{d}"),
            San::Ip(ip) => write!(f, "IP:{ip}"),
            San::MalformedIp => f.write_str("IP:(malformed)"),
            San::Other(o) => f.write_str(o),
        }
    }
}

/// Every name of every subjectAltName extension, in order.
pub(crate) fn sans(cert: &X509Certificate<'_>) -> Vec<San> {
    let mut sans = Vec::new();
    for ext in cert.extensions() {
        if let ParsedExtension::SubjectAlternativeName(san) = ext.parsed_extension() {
            sans.extend(san.general_names.iter().map(|n| match n {
                GeneralName::DNSName(d) => San::Dns((*d).to_owned()),
                GeneralName::IPAddress(b) => match <[u8; 4]>::try_from(*b) {
                    Ok(v4) => San::Ip(IpAddr::from(v4)),
                    Err(_) => match <[u8; 16]>::try_from(*b) {
                        Ok(v6) => San::Ip(IpAddr::from(v6)),
                        Err(_) => San::MalformedIp,
                    },
                },
                other => San::Other(other.to_string()),
            }));
        }
    }
    sans
}

/// Does one of `sans` name the IP address `ip`?
pub(crate) fn names_ip(sans: &[San], ip: IpAddr) -> bool {
    sans.contains(&San::Ip(ip))
}

/// Does one of `sans` name the DNS name `dns` (DNS names are case-insensitive)?
pub(crate) fn names_dns(sans: &[San], dns: &str) -> bool {
    sans.iter()
        .any(|s| matches!(s, San::Dns(d) if d.eq_ignore_ascii_case(dns)))
}

/// The key's algorithm and size, e.g. `ECDSA P-256` or `RSA 2048`; the
/// algorithm's OID for other kinds.
pub(crate) fn key_description(cert: &X509Certificate<'_>) -> String {
    use x509_parser::public_key::PublicKey;
    match cert.public_key().parsed() {
        Ok(PublicKey::RSA(r)) => format!("RSA {}", r.key_size()),
        Ok(PublicKey::EC(p)) => format!("ECDSA P-{}", p.key_size()),
        Ok(_) | Err(_) => cert.public_key().algorithm.algorithm.to_id_string(),
    }
}

/// Whether the PEM certificate signing request `old` asks for exactly what
/// the DER request `new` asks for (subject, key, extensions): their signed
/// parts are equal, whatever their (randomised) signatures.
pub(crate) fn same_request(old: &str, new: &[u8]) -> bool {
    use x509_parser::certification_request::X509CertificationRequest;
    use x509_parser::prelude::FromDer;
    let Ok((_, old_pem)) = x509_parser::pem::parse_x509_pem(old.as_bytes()) else {
        return false;
    };
    if old_pem.label != "CERTIFICATE REQUEST" {
        return false;
    }
    match (
        X509CertificationRequest::from_der(&old_pem.contents),
        X509CertificationRequest::from_der(new),
    ) {
        (Ok((_, a)), Ok((_, b))) => {
            a.certification_request_info.raw == b.certification_request_info.raw
        }
        _ => false,
    }
}
