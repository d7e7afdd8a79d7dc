//! Fixtures and decoders shared by the tests.

use std::path::Path;

use ::time::macros::datetime;
use registry_gen::{
    Bundle, CaInput, Config, Inputs, Password, S3Credentials, Secret, Serial, Storage,
};
use x509_parser::prelude::*;

/// The fixed clock of every snapshot.
pub const NOW: ::time::OffsetDateTime = datetime!(2026-01-01 00:00:00 UTC);

pub use crate::support::{examples, workspace};

pub fn load(path: &Path) -> Config {
    Config::from_yaml(&std::fs::read_to_string(path).unwrap()).unwrap()
}

pub fn key(role: &str, config: &Config) -> Secret {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(
        "tests/fixtures/keys/{role}-{}.pem",
        config.tls.key_algorithm.as_str()
    ));
    Secret::new(
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
}

/// The password injected for `user` in tests.
pub fn password(user: &str) -> String {
    format!("fixture-password-of-{user}")
}

/// Deterministic inputs: fixture keys, fixed clock, fixed passwords and salts.
pub fn inputs(config: &Config) -> Inputs {
    let mut i = Inputs::new(NOW);
    i.ca = Some(CaInput::New {
        key: key("ca", config),
    });
    i.server_key = Some(key("server", config));
    i.http_secret = Some(Secret::new("fixture-http-secret"));
    i.serials.ca = Some(Serial::from_bytes([0xca; 16]));
    i.serials.server = Some(Serial::from_bytes([0x5e; 16]));
    i.serials.cross = Some(Serial::from_bytes([0xc5; 16]));
    for m in &config.mirrors {
        let mut upstream = registry_gen::UpstreamInput::default();
        upstream.username = m
            .username_file
            .as_ref()
            .map(|_| Secret::new(format!("fixture-user-of-{}", m.upstream)));
        upstream.password = m
            .password_file
            .as_ref()
            .map(|_| Secret::new(format!("fixture-token-of-{}", m.upstream)));
        upstream.ca_pem = m.ca_file.as_ref().map(|_| {
            std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/upstream-ca.crt"),
            )
            .unwrap()
        });
        i.upstreams.insert(m.upstream.clone(), upstream);
    }
    if let Some(auth) = &config.auth {
        for u in &auth.users {
            // Generated, as fill_missing would, unless read from a file.
            let mut pw = Password::given(Secret::new(password(&u.name)));
            pw.salt = Some([7; 16]);
            pw.generated = u.password_file.is_none();
            i.passwords.insert(u.name.clone(), pw);
        }
    }
    if let Storage::S3(s3) = &config.storage {
        if s3.access_key_file.is_some() {
            i.backends.s3_credentials = Some(S3Credentials::new(
                Secret::new(S3_ACCESS_KEY),
                Secret::new(S3_SECRET_KEY),
            ));
        }
        if s3.ca_file.is_some() {
            i.backends.s3_ca_pem = Some(s3_ca_pem());
        }
    }
    if config
        .cache
        .redis
        .as_ref()
        .is_some_and(|r| r.password_file.is_some())
    {
        i.backends.redis_password = Some(Secret::new(REDIS_PASSWORD));
    }
    i
}

/// What the registry reads from a `REGISTRY_*` value into a string field:
/// the value YAML-decoded (yaml.v2 gives a scalar's text; serde_yaml is
/// stricter, so a boolean or number is turned back into its text).
pub fn registry_reads(value: &str) -> String {
    match serde_yaml::from_str::<serde_yaml::Value>(value).unwrap() {
        serde_yaml::Value::String(s) => s,
        serde_yaml::Value::Null => String::new(),
        serde_yaml::Value::Bool(b) => b.to_string(),
        serde_yaml::Value::Number(n) => n.to_string(),
        other => panic!("{value:?} reads as {other:?}, not a string"),
    }
}

/// The S3 access key pair and the Redis password injected in tests:
/// obviously fake, and never in a snapshot.
pub const S3_ACCESS_KEY: &str = "FIXTUREACCESSKEY";
pub const S3_SECRET_KEY: &str = "fixture-s3-secret-key";
pub const REDIS_PASSWORD: &str = "fixture-redis-password";

/// The CA injected as `storage.s3.ca_file` (tests/fixtures/certs/).
pub fn s3_ca_pem() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/certs/s3-endpoint-ca.crt"),
    )
    .unwrap()
}

pub fn render(config: &Config) -> Bundle {
    registry_gen::render(config, &inputs(config)).unwrap()
}

pub fn text<'a>(bundle: &'a Bundle, path: &str) -> &'a str {
    std::str::from_utf8(
        &bundle
            .get(path)
            .unwrap_or_else(|| panic!("{path} missing"))
            .contents,
    )
    .unwrap()
}

pub fn yaml<T: serde::de::DeserializeOwned>(bundle: &Bundle, path: &str) -> T {
    serde_yaml::from_str(text(bundle, path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn key_desc(spki: &SubjectPublicKeyInfo) -> String {
    match spki.parsed() {
        Ok(x509_parser::public_key::PublicKey::EC(p)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| match o.to_id_string().as_str() {
                    "1.2.840.10045.3.1.7" => "P-256".to_owned(),
                    "1.3.132.0.34" => "P-384".to_owned(),
                    s => s.to_owned(),
                })
                .unwrap_or_default();
            format!("EC {curve} ({} bits)", p.key_size())
        }
        Ok(x509_parser::public_key::PublicKey::RSA(r)) => format!("RSA {} bits", r.key_size()),
        _ => "other".to_owned(),
    }
}

fn sig_name(oid: &x509_parser::der_parser::oid::Oid) -> String {
    match oid.to_id_string().as_str() {
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256".into(),
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384".into(),
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption".into(),
        s => s.into(),
    }
}

fn general_names(names: &[GeneralName]) -> String {
    names
        .iter()
        .map(|n| match n {
            GeneralName::DNSName(d) => format!("DNS:{d}"),
            GeneralName::IPAddress(b) => match b.len() {
                4 => format!(
                    "IP:{}",
                    std::net::Ipv4Addr::from(<[u8; 4]>::try_from(*b).unwrap())
                ),
                16 => format!(
                    "IP:{}",
                    std::net::Ipv6Addr::from(<[u8; 16]>::try_from(*b).unwrap())
                ),
                _ => format!("IP:?{}", hex(b)),
            },
            other => format!("{other:?}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn extensions(exts: &[X509Extension]) -> String {
    let mut s = String::new();
    for ext in exts {
        let crit = if ext.critical { "critical, " } else { "" };
        let line = match ext.parsed_extension() {
            ParsedExtension::BasicConstraints(bc) => format!(
                "basicConstraints: {crit}CA:{}{}",
                if bc.ca { "TRUE" } else { "FALSE" },
                bc.path_len_constraint
                    .map(|l| format!(", pathlen:{l}"))
                    .unwrap_or_default()
            ),
            ParsedExtension::KeyUsage(ku) => format!("keyUsage: {crit}{ku}"),
            ParsedExtension::ExtendedKeyUsage(eku) => {
                let mut v = Vec::new();
                if eku.server_auth {
                    v.push("serverAuth".to_owned());
                }
                if eku.client_auth {
                    v.push("clientAuth".to_owned());
                }
                v.extend(eku.other.iter().map(|o| o.to_id_string()));
                format!("extendedKeyUsage: {crit}{}", v.join(", "))
            }
            ParsedExtension::SubjectAlternativeName(san) => {
                format!(
                    "subjectAltName: {crit}{}",
                    general_names(&san.general_names)
                )
            }
            ParsedExtension::SubjectKeyIdentifier(k) => {
                format!("subjectKeyIdentifier: {crit}{}", hex(k.0))
            }
            ParsedExtension::AuthorityKeyIdentifier(a) => format!(
                "authorityKeyIdentifier: {crit}{}",
                a.key_identifier
                    .as_ref()
                    .map(|k| hex(k.0))
                    .unwrap_or_default()
            ),
            other => format!("{}: {crit}{other:?}", ext.oid.to_id_string()),
        };
        s.push_str(&format!("  {line}\n"));
    }
    s
}

fn rfc3339(t: ASN1Time) -> String {
    t.to_datetime()
        .format(&::time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// A certificate as the fields a user checks, not base64.
pub fn decode_cert(pem: &str) -> String {
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).expect("PEM");
    let cert = pem.parse_x509().expect("X.509");
    let v = cert.validity();
    format!(
        "version: {}\nserial: {}\nsubject: {}\nissuer: {}\nnot before: {}\nnot after: {}\npublic key: {}\nsignature: {}\nextensions:\n{}",
        cert.version().0 + 1,
        hex(cert.raw_serial()),
        cert.subject(),
        cert.issuer(),
        rfc3339(v.not_before),
        rfc3339(v.not_after),
        key_desc(cert.public_key()),
        sig_name(&cert.signature_algorithm.algorithm),
        extensions(cert.extensions()),
    )
}

/// A CSR as its subject, key and requested extensions; checks its signature.
pub fn decode_csr(pem: &str) -> String {
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).expect("PEM");
    let (_, csr) = X509CertificationRequest::from_der(&pem.contents).expect("CSR");
    csr.verify_signature().expect("CSR self-signature verifies");
    let mut exts = Vec::new();
    for ext in csr.requested_extensions().into_iter().flatten() {
        exts.push(match ext {
            ParsedExtension::SubjectAlternativeName(san) => {
                format!("  subjectAltName: {}", general_names(&san.general_names))
            }
            ParsedExtension::KeyUsage(ku) => format!("  keyUsage: {ku}"),
            ParsedExtension::ExtendedKeyUsage(e) => {
                format!("  extendedKeyUsage: serverAuth={}", e.server_auth)
            }
            ParsedExtension::BasicConstraints(bc) => format!("  basicConstraints: CA:{}", bc.ca),
            other => format!("  {other:?}"),
        });
    }
    format!(
        "certificate request (signature verified)\nsubject: {}\npublic key: {}\nrequested extensions:\n{}\n",
        csr.certification_request_info.subject,
        key_desc(&csr.certification_request_info.subject_pki),
        exts.join("\n")
    )
}

/// A private key as a one-line description, never its contents.
pub fn describe_key(pem: &str, mode: u32) -> String {
    let kind = if pem.starts_with("-----BEGIN PRIVATE KEY-----") {
        "PKCS#8"
    } else {
        "other PEM"
    };
    let kp = rcgen::KeyPair::from_pem(pem).expect("usable key");
    let alg = if kp.algorithm() == &rcgen::PKCS_ECDSA_P256_SHA256 {
        "EC P-256"
    } else if kp.algorithm() == &rcgen::PKCS_ECDSA_P384_SHA384 {
        "EC P-384"
    } else {
        "RSA"
    };
    format!("<{kind} {alg} private key, mode {mode:04o}>\n")
}
