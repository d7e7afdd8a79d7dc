//! Private keys: parsing PEM (PKCS#8, PKCS#1 RSA, SEC1 EC, as openssl
//! writes them), checking a key against the configured algorithm, and
//! describing one in words. Shared by `inputs.rs` and the certificate renderer.

use rcgen::{KeyPair, PublicKeyData};

use crate::config::KeyAlgorithm;
use crate::error::{Error, Result};

/// Parse a PEM private key; `what` names it in the error.
pub(crate) fn parse(what: &str, pem: &str) -> Result<KeyPair> {
    KeyPair::from_pem(pem).map_err(|e| Error::Input {
        what: what.to_owned(),
        problem: format!("is not a usable private key ({e}); expected PEM (PKCS#8, PKCS#1 RSA or SEC1 EC) holding an ECDSA P-256/P-384 or RSA 2048-4096 key"),
    })
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
    use rcgen::RsaKeySize;
    let key = match alg {
        KeyAlgorithm::EcdsaP256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256),
        KeyAlgorithm::EcdsaP384 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384),
        KeyAlgorithm::Rsa2048 => {
            KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, RsaKeySize::_2048)
        }
        KeyAlgorithm::Rsa3072 => {
            KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, RsaKeySize::_3072)
        }
        KeyAlgorithm::Rsa4096 => {
            KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, RsaKeySize::_4096)
        }
    }
    .map_err(Error::cert("key generation"))?;
    Ok(key.serialize_pem())
}
