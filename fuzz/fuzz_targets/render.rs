//! Any bytes as a config file: parsing, validation and rendering must
//! return `Ok` or a typed error, never panic, hang or blow up memory.
//! `cargo fuzz run render` (see docs/testing.md); the test command runs it
//! for a few seconds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use registry_gen::{
    CaInput, Config, Inputs, KeyAlgorithm, Password, S3Credentials, Secret, Serial, Storage,
    UpstreamInput,
};

const CA_KEY: &str = include_str!("../../registry-gen/tests/fixtures/keys/ca-ecdsa-p256.pem");
const SERVER_KEY: &str =
    include_str!("../../registry-gen/tests/fixtures/keys/server-ecdsa-p256.pem");
/// A CA of the user's own (`tls.ca`), made with `CA_KEY`.
const GIVEN_CA: &str =
    include_str!("../../registry-gen/tests/fixtures/certs/given-ca-ecdsa-p256.crt");
/// A CA certificate for the files an S3 endpoint or a mirror's upstream names.
const SOME_CA: &str = include_str!("../../registry-gen/tests/fixtures/upstream-ca.crt");

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
    let mut inputs = Inputs::new(time::macros::datetime!(2027-01-01 0:00 UTC));
    // What the CLI reads from the files `tls.ca` names, or a new CA.
    inputs.ca = Some(match config.tls.ca {
        Some(_) => CaInput::External {
            cert_pem: GIVEN_CA.to_owned(),
            key: Secret::new(CA_KEY),
        },
        None => CaInput::New {
            key: Secret::new(CA_KEY),
        },
    });
    inputs.server_key = Some(Secret::new(SERVER_KEY));
    inputs.http_secret = Some(Secret::new("fuzz-http-secret"));
    inputs.serials.ca = Some(Serial::from_bytes([1; 16]));
    inputs.serials.server = Some(Serial::from_bytes([2; 16]));
    inputs.serials.cross = Some(Serial::from_bytes([3; 16]));
    if let Some(auth) = &config.auth {
        for u in &auth.users {
            let mut pw = Password::given(Secret::new("fuzz-password"));
            pw.salt = Some([7; 16]);
            pw.generated = u.password_file.is_none();
            inputs.passwords.insert(u.name.clone(), pw);
        }
    }
    // What the CLI reads from the files the config names.
    if let Storage::S3(s3) = &config.storage {
        if s3.access_key_file.is_some() && s3.secret_key_file.is_some() {
            inputs.backends.s3_credentials = Some(S3Credentials::new(
                Secret::new("fuzz-access-key"),
                Secret::new("fuzz-secret-key"),
            ));
        }
        if s3.ca_file.is_some() {
            inputs.backends.s3_ca_pem = Some(SOME_CA.to_owned());
        }
    }
    if config
        .cache
        .redis
        .as_ref()
        .is_some_and(|r| r.password_file.is_some())
    {
        inputs.backends.redis_password = Some(Secret::new("fuzz-redis-password"));
    }
    for m in &config.mirrors {
        let mut upstream = UpstreamInput::default();
        upstream.username = m.username_file.as_ref().map(|_| Secret::new("fuzz-user"));
        upstream.password = m.password_file.as_ref().map(|_| Secret::new("fuzz-token"));
        upstream.ca_pem = m.ca_file.as_ref().map(|_| SOME_CA.to_owned());
        inputs.upstreams.insert(m.upstream.clone(), upstream);
    }
    let _ = registry_gen::render(&config, &inputs);
});
