//! Private keys: parsing PEM (PKCS#8, PKCS#1 RSA, SEC1 EC, as openssl
//! writes them), checking a key against the configured algorithm, and
//! describing one in words. Shared by `inputs.rs` and the certificate renderer.
//!
//! rcgen signs with ring (fast to start: it seeds from `getrandom`, where
//! aws-lc first spends ~30 ms collecting CPU jitter entropy per process;
//! ARCHITECTURE.md, "Crypto backend"). ring reads only PKCS#8, so PKCS#1
//! and SEC1 keys are wrapped into PKCS#8 here; the bundle keeps the PEM
//! exactly as given. ring cannot generate RSA keys: aws-lc does that, and
//! only that.

use rcgen::{KeyPair, PublicKeyData};

use crate::config::KeyAlgorithm;
use crate::error::{Error, Result};

/// Parse a PEM private key; `what` names it in the error.
pub(crate) fn parse(what: &str, pem: &str) -> Result<KeyPair> {
    let parsed = match as_pkcs8(pem) {
        Some(candidates) => {
            let mut last = rcgen::Error::CouldNotParseKeyPair;
            candidates
                .into_iter()
                .find_map(|der| KeyPair::try_from(der).map_err(|e| last = e).ok())
                .ok_or(last)
        }
        None => KeyPair::from_pem(pem),
    };
    parsed.map_err(|e| Error::Input {
        what: what.to_owned(),
        problem: format!("is not a usable private key ({e}); expected PEM (PKCS#8, PKCS#1 RSA or SEC1 EC) holding an ECDSA P-256/P-384 or RSA 2048-4096 key"),
    })
}

/// A PKCS#1 (`RSA PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`) PEM's key as
/// PKCS#8 DER, the only form ring reads: one candidate for RSA, one per
/// curve for SEC1 (ring rejects the wrong curve). `None` for any other PEM,
/// which rcgen reads (or refuses) itself.
fn as_pkcs8(pem: &str) -> Option<Vec<Vec<u8>>> {
    // rsaEncryption with NULL parameters; id-ecPublicKey with P-256, P-384.
    const RSA: &[u8] = &[
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    const EC: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    const P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    const P384: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
    let (_, block) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).ok()?;
    let wrap = |alg: &[&[u8]]| {
        let alg_id = der(0x30, &alg.concat());
        let body = [
            &[0x02, 0x01, 0x00][..],
            &alg_id,
            &der(0x04, &block.contents),
        ]
        .concat();
        der(0x30, &body)
    };
    match block.label.as_str() {
        "RSA PRIVATE KEY" => Some(vec![wrap(&[RSA])]),
        "EC PRIVATE KEY" => Some(vec![wrap(&[EC, P256]), wrap(&[EC, P384])]),
        _ => None,
    }
}

/// One DER TLV.
fn der(tag: u8, value: &[u8]) -> Vec<u8> {
    let len = value.len();
    let mut out = vec![tag];
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(value);
    out
}

fn is_rsa(key: &KeyPair) -> bool {
    key.algorithm() == &rcgen::PKCS_RSA_SHA256
}

/// The RSA modulus size, rounded to the usual sizes. `der_bytes` of an RSA
/// key is its PKCS#1 public key: the modulus plus a few bytes of framing.
fn rsa_bits(key: &KeyPair) -> usize {
    key.der_bytes().len() * 8 / 256 * 256
}

/// Is `key` of algorithm `alg`?
pub(crate) fn matches(key: &KeyPair, alg: KeyAlgorithm) -> bool {
    match alg {
        KeyAlgorithm::EcdsaP256 => key.algorithm() == &rcgen::PKCS_ECDSA_P256_SHA256,
        KeyAlgorithm::EcdsaP384 => key.algorithm() == &rcgen::PKCS_ECDSA_P384_SHA384,
        KeyAlgorithm::Rsa2048 => is_rsa(key) && rsa_bits(key) == 2048,
        KeyAlgorithm::Rsa3072 => is_rsa(key) && rsa_bits(key) == 3072,
        KeyAlgorithm::Rsa4096 => is_rsa(key) && rsa_bits(key) == 4096,
    }
}

/// `ECDSA P-256`, `RSA 2048`, ...
pub(crate) fn describe(key: &KeyPair) -> String {
    if key.algorithm() == &rcgen::PKCS_ECDSA_P256_SHA256 {
        "ECDSA P-256".into()
    } else if key.algorithm() == &rcgen::PKCS_ECDSA_P384_SHA384 {
        "ECDSA P-384".into()
    } else if is_rsa(key) {
        format!("RSA {}", rsa_bits(key))
    } else {
        "another key type".into()
    }
}

/// A new private key of `alg`, as PKCS#8 PEM (reads the OS RNG).
pub(crate) fn generate(alg: KeyAlgorithm) -> Result<String> {
    let rsa = |size| {
        use aws_lc_rs::encoding::AsDer;
        let key = aws_lc_rs::rsa::KeyPair::generate(size)
            .map_err(|_| rcgen::Error::KeyGenerationUnavailable)?;
        let der = key
            .as_der()
            .map_err(|_| rcgen::Error::KeyGenerationUnavailable)?;
        KeyPair::try_from(der.as_ref())
    };
    let key = match alg {
        KeyAlgorithm::EcdsaP256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256),
        KeyAlgorithm::EcdsaP384 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384),
        KeyAlgorithm::Rsa2048 => rsa(aws_lc_rs::rsa::KeySize::Rsa2048),
        KeyAlgorithm::Rsa3072 => rsa(aws_lc_rs::rsa::KeySize::Rsa3072),
        KeyAlgorithm::Rsa4096 => rsa(aws_lc_rs::rsa::KeySize::Rsa4096),
    }
    .map_err(Error::cert("key generation"))?;
    Ok(key.serialize_pem())
}
