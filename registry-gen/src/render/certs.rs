//! Certificates: the CA (generated, kept or external), the server key,
//! certificate and CSR, and an `openssl.cnf` that reproduces them by hand.
//!
//! Go clients (Docker, containerd, kubelet, skopeo) ignore the CN and accept
//! a server certificate only for names and IPs in its subjectAltName, so
//! every node IP, DNS name and in-cluster Service name goes into one SAN
//! extension, all taken from the plan.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PublicKeyData, SanType,
};
use time::{Duration, OffsetDateTime};

use crate::bundle::{Bundle, MODE_FILE, MODE_SECRET};
use crate::config::KeyAlgorithm;
use crate::error::{Error, Result};
use crate::inputs::{CaInput, Inputs};
use crate::plan::{paths, Plan};

pub(crate) fn render(plan: &Plan, inputs: &Inputs, out: &mut Bundle) -> Result<()> {
    let tls = &plan.tls;
    let ca_input = inputs
        .ca
        .as_ref()
        .ok_or_else(|| missing("a CA (Inputs::ca)"))?;
    let server_key_pem = inputs
        .server_key
        .as_ref()
        .ok_or_else(|| missing("the server key (Inputs::server_key)"))?;

    let (ca_pem, ca_key_pem, ca_key, ca_not_after, issuer_params) = match ca_input {
        CaInput::New { key } => {
            let ca_key = parse_key("the CA key", key.expose())?;
            let params = ca_params(plan, inputs.now);
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
            let ca_key = parse_key(paths::CA_KEY, key.expose())?;
            let not_after = check_ca(paths::CA_CERT, cert_pem, &ca_key, inputs.now)?;
            (
                cert_pem.clone(),
                Some(key.expose()),
                ca_key,
                not_after,
                None,
            )
        }
        CaInput::External { cert_pem, key } => {
            let ca_key = parse_key("tls.ca.key_file", key.expose())?;
            let not_after = check_ca("tls.ca.cert_file", cert_pem, &ca_key, inputs.now)?;
            (cert_pem.clone(), None, ca_key, not_after, None)
        }
    };
    let issuer = match issuer_params {
        Some(params) => Issuer::new(params, ca_key),
        None => Issuer::from_ca_cert_pem(&ca_pem, ca_key).map_err(Error::cert("CA (parsing)"))?,
    };

    let server_key = parse_key("the server key", server_key_pem.expose())?;
    if !key_matches(&server_key, tls.key_algorithm) {
        return Err(Error::Input {
            what: "the server key".into(),
            problem: format!(
                "is {}, but tls.key_algorithm is {}: inject a key of that algorithm",
                describe_key(&server_key),
                tls.key_algorithm.as_str()
            ),
        });
    }
    let mut params = server_params(plan, inputs.now);
    // A certificate can't outlive the CA that signs it.
    params.not_after = params.not_after.min(ca_not_after);
    let cert = params
        .signed_by(&server_key, &issuer)
        .map_err(Error::cert("server"))?;
    // The CSR asks for the same subject and extensions; the authority key
    // id is the issuer's to add, so a CSR can't carry it.
    let mut csr_params = params.clone();
    csr_params.use_authority_key_identifier_extension = false;
    let csr = csr_params
        .serialize_request(&server_key)
        .map_err(Error::cert("server CSR"))?;

    out.add(paths::CA_CERT, ca_pem.clone(), MODE_FILE);
    if let Some(key) = ca_key_pem {
        out.add(paths::CA_KEY, key, MODE_SECRET);
    }
    out.add(paths::SERVER_CERT, cert.pem(), MODE_FILE);
    out.add(paths::SERVER_KEY, server_key_pem.expose(), MODE_SECRET);
    out.add(
        paths::SERVER_CSR,
        csr.pem().map_err(Error::cert("server CSR"))?,
        MODE_FILE,
    );
    out.add(
        paths::OPENSSL_CNF,
        openssl_cnf(plan, ca_key_pem.is_some()),
        MODE_FILE,
    );
    Ok(())
}

fn missing(what: &str) -> Error {
    Error::Input {
        what: what.to_owned(),
        problem: "is missing: call Inputs::fill_missing, or inject it".into(),
    }
}

fn parse_key(what: &str, pem: &str) -> Result<KeyPair> {
    KeyPair::from_pem(pem).map_err(|e| Error::Input {
        what: what.to_owned(),
        problem: format!("is not a usable private key ({e}); expected PEM: PKCS#8, PKCS#1 RSA or SEC1 EC, ECDSA P-256/P-384 or RSA 2048-4096"),
    })
}

fn key_matches(key: &KeyPair, alg: KeyAlgorithm) -> bool {
    let bits = key.der_bytes().len() * 8;
    match alg {
        KeyAlgorithm::EcdsaP256 => key.algorithm() == &rcgen::PKCS_ECDSA_P256_SHA256,
        KeyAlgorithm::EcdsaP384 => key.algorithm() == &rcgen::PKCS_ECDSA_P384_SHA384,
        // der_bytes of an RSA key is its PKCS#1 public key: modulus + ~14 bytes.
        KeyAlgorithm::Rsa2048 => is_rsa(key) && (2048..2048 + 256).contains(&bits),
        KeyAlgorithm::Rsa3072 => is_rsa(key) && (3072..3072 + 256).contains(&bits),
        KeyAlgorithm::Rsa4096 => is_rsa(key) && (4096..4096 + 256).contains(&bits),
    }
}

fn is_rsa(key: &KeyPair) -> bool {
    key.algorithm() == &rcgen::PKCS_RSA_SHA256
}

fn describe_key(key: &KeyPair) -> String {
    if key.algorithm() == &rcgen::PKCS_ECDSA_P256_SHA256 {
        "ECDSA P-256".into()
    } else if key.algorithm() == &rcgen::PKCS_ECDSA_P384_SHA384 {
        "ECDSA P-384".into()
    } else if is_rsa(key) {
        format!("RSA (about {} bits)", key.der_bytes().len() * 8 / 256 * 256)
    } else {
        "another key type".into()
    }
}

/// Check an existing CA certificate: PEM, a CA, matching `key`, valid at
/// `now`. Returns its notAfter.
fn check_ca(
    what: &str,
    cert_pem: &str,
    key: &KeyPair,
    now: OffsetDateTime,
) -> Result<OffsetDateTime> {
    let bad = |problem: String| Error::Input {
        what: what.to_owned(),
        problem,
    };
    let (_, pem) = x509_parser::pem::parse_x509_pem(cert_pem.as_bytes())
        .map_err(|e| bad(format!("is not a PEM certificate ({e})")))?;
    let cert = pem
        .parse_x509()
        .map_err(|e| bad(format!("is not a valid X.509 certificate ({e})")))?;
    let is_ca = cert
        .basic_constraints()
        .ok()
        .flatten()
        .is_some_and(|bc| bc.value.ca);
    if !is_ca {
        return Err(bad(format!(
            "({}) is not a CA certificate (basicConstraints CA:TRUE missing): give the CA that signs, not a server certificate",
            cert.subject()
        )));
    }
    if cert.public_key().raw != key.subject_public_key_info().as_slice() {
        return Err(bad(format!(
            "({}) does not belong to the given CA key: the key's public half differs from the certificate's",
            cert.subject()
        )));
    }
    let not_after = OffsetDateTime::from_unix_timestamp(cert.validity().not_after.timestamp())
        .map_err(|e| bad(format!("has an unusable notAfter ({e})")))?;
    let not_before = OffsetDateTime::from_unix_timestamp(cert.validity().not_before.timestamp())
        .map_err(|e| bad(format!("has an unusable notBefore ({e})")))?;
    if not_after <= now {
        return Err(bad(format!("({}) expired on {not_after}: renew the CA, or move certs/ aside to let registry-gen make a new one", cert.subject())));
    }
    if not_before > now {
        return Err(bad(format!(
            "({}) is not valid before {not_before}: check the clock",
            cert.subject()
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

fn ca_params(plan: &Plan, now: OffsetDateTime) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = name(plan, &plan.tls.ca_common_name);
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.not_before = now;
    p.not_after = now + Duration::days(plan.tls.ca_validity_days);
    p
}

fn server_params(plan: &Plan, now: OffsetDateTime) -> CertificateParams {
    let tls = &plan.tls;
    let mut p = CertificateParams::default();
    p.distinguished_name = name(plan, &tls.common_name);
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    if matches!(
        tls.key_algorithm,
        KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 | KeyAlgorithm::Rsa4096
    ) {
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

/// The openssl equivalent of what was generated, so a user can reproduce
/// (or audit) it by hand; every value comes from the plan.
fn openssl_cnf(plan: &Plan, ca_generated: bool) -> String {
    let tls = &plan.tls;
    let (genkey, rsa) = match tls.key_algorithm {
        KeyAlgorithm::EcdsaP256 => (
            "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256",
            false,
        ),
        KeyAlgorithm::EcdsaP384 => (
            "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384",
            false,
        ),
        KeyAlgorithm::Rsa2048 => (
            "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048",
            true,
        ),
        KeyAlgorithm::Rsa3072 => (
            "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072",
            true,
        ),
        KeyAlgorithm::Rsa4096 => (
            "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:4096",
            true,
        ),
    };
    let mut s = String::new();
    s.push_str("# Generated by registry-gen: the openssl equivalent of certs/ in this bundle.\n");
    s.push_str("# To reproduce by hand, from the bundle's root:\n#\n");
    if ca_generated {
        s.push_str(&format!("#   {genkey} -out certs/ca.key\n"));
        s.push_str(&format!(
            "#   openssl req -x509 -new -config certs/openssl.cnf -extensions v3_ca -subj '/O={}/CN={}' -key certs/ca.key -days {} -out certs/ca.crt\n",
            tls.organization, tls.ca_common_name, tls.ca_validity_days
        ));
    }
    s.push_str(&format!("#   {genkey} -out certs/server.key\n"));
    s.push_str("#   openssl req -new -config certs/openssl.cnf -key certs/server.key -out certs/server.csr\n");
    s.push_str(&format!(
        "#   openssl x509 -req -in certs/server.csr -CA certs/ca.crt -CAkey {} -CAcreateserial -days {} -extfile certs/openssl.cnf -extensions v3_req -out certs/server.crt\n",
        if ca_generated { "certs/ca.key" } else { "<your CA key>" },
        tls.server_validity_days
    ));
    s.push_str("#\n# Check:  openssl verify -CAfile certs/ca.crt certs/server.crt\n");
    s.push_str("#         openssl x509 -in certs/server.crt -noout -ext subjectAltName\n\n");
    s.push_str("[req]\nprompt = no\ndistinguished_name = dn\nreq_extensions = v3_req\n\n");
    s.push_str(&format!(
        "[dn]\nO = {}\nCN = {}\n\n",
        tls.organization, tls.common_name
    ));
    s.push_str("[v3_ca]\nbasicConstraints = critical, CA:TRUE, pathlen:0\nkeyUsage = critical, keyCertSign, cRLSign\nsubjectKeyIdentifier = hash\n\n");
    s.push_str("[v3_req]\nbasicConstraints = critical, CA:FALSE\n");
    s.push_str(if rsa {
        "keyUsage = critical, digitalSignature, keyEncipherment\n"
    } else {
        "keyUsage = critical, digitalSignature\n"
    });
    s.push_str("extendedKeyUsage = serverAuth\nsubjectKeyIdentifier = hash\n");
    s.push_str("# One subjectAltName line naming a section: a second subjectAltName line would replace the first.\n");
    s.push_str("subjectAltName = @alt_names\n\n[alt_names]\n");
    for (i, ip) in tls.ip_sans.iter().enumerate() {
        s.push_str(&format!("IP.{} = {ip}\n", i + 1));
    }
    for (i, dns) in tls.dns_sans.iter().enumerate() {
        s.push_str(&format!("DNS.{} = {dns}\n", i + 1));
    }
    s
}
