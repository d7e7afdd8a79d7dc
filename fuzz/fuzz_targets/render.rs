//! Any bytes as a config file: parsing, validation and rendering must
//! return `Ok` or a typed error, never panic, hang or blow up memory.
//! `cargo fuzz run render` (see docs/testing.md); the test command runs it
//! for a few seconds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use registry_gen::{CaInput, Config, Inputs, KeyAlgorithm, Password, Secret, Serial, Serials};

const CA_KEY: &str = include_str!("../../registry-gen/tests/fixtures/keys/ca-ecdsa-p256.pem");
const SERVER_KEY: &str =
    include_str!("../../registry-gen/tests/fixtures/keys/server-ecdsa-p256.pem");

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(mut config) = Config::from_yaml(text) else {
        return;
    };
    // Keep each run fast: fixture keys need P-256, and bcrypt's cost is
    // exponential (the validator allows up to 31 on purpose).
    config.tls.key_algorithm = KeyAlgorithm::EcdsaP256;
    if let Some(auth) = &mut config.auth {
        auth.bcrypt_cost = 4;
    }
    if registry_gen::validate(&config).is_err() {
        return;
    }
    let mut inputs = Inputs::new(time::macros::datetime!(2026-01-01 0:00 UTC));
    inputs.ca = Some(CaInput::New {
        key: Secret::new(CA_KEY),
    });
    inputs.server_key = Some(Secret::new(SERVER_KEY));
    inputs.http_secret = Some(Secret::new("fuzz-http-secret"));
    inputs.serials = Serials {
        ca: Some(Serial::from_bytes([1; 16])),
        server: Some(Serial::from_bytes([2; 16])),
        cross: Some(Serial::from_bytes([3; 16])),
    };
    if let Some(auth) = &config.auth {
        for u in &auth.users {
            inputs.passwords.insert(
                u.name.clone(),
                Password {
                    secret: Secret::new("fuzz-password"),
                    salt: Some([7; 16]),
                    generated: true,
                },
            );
        }
    }
    let _ = registry_gen::render(&config, &inputs);
});
