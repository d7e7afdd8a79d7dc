//! Certificates judged by a verifier that is not ours: rustls-webpki,
//! which (like Go's crypto/x509 in Docker, containerd and the kubelet)
//! ignores the CN and checks only SANs, key usage and the chain. For every
//! key algorithm, a generated and a kept CA, and random address sets.

use std::net::IpAddr;

use proptest::prelude::*;
use registry_gen::{Bundle, CaInput, Config, Inputs, KeyAlgorithm, Secret};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use crate::common;

fn der(pem: &[u8]) -> Vec<u8> {
    x509_parser::pem::parse_x509_pem(pem).unwrap().1.contents
}

/// Does the bundle's server certificate verify, under the bundle's CA, for `name`?
fn verifies_for(b: &Bundle, name: &str) -> Result<(), String> {
    verifies_at(b, name, common::NOW + ::time::Duration::days(1))
}

/// ... a day after `now`.
fn verifies_at(b: &Bundle, name: &str, at: ::time::OffsetDateTime) -> Result<(), String> {
    let ca = CertificateDer::from(der(&b.get("certs/ca.crt").unwrap().contents));
    let anchor = webpki::anchor_from_trusted_cert(&ca).map_err(|e| e.to_string())?;
    let server = CertificateDer::from(der(&b.get("certs/server.crt").unwrap().contents));
    let ee = webpki::EndEntityCert::try_from(&server).map_err(|e| e.to_string())?;
    let at = UnixTime::since_unix_epoch(std::time::Duration::from_secs(at.unix_timestamp() as u64));
    ee.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &[anchor],
        &[],
        at,
        webpki::KeyUsage::server_auth(),
        None,
        None,
    )
    .map_err(|e| format!("chain: {e}"))?;
    let server_name = ServerName::try_from(name).map_err(|e| e.to_string())?;
    ee.verify_is_valid_for_subject_name(&server_name)
        .map_err(|e| format!("{name}: {e}"))
}

fn config_for(alg: KeyAlgorithm, ips: Vec<IpAddr>, names: Vec<String>) -> Config {
    let mut c = Config::embedded_default();
    c.addresses.node_ips = ips;
    c.addresses.dns_names = names;
    c.auth = None; // bcrypt is not under test here
    c.tls.key_algorithm = alg;
    c
}

fn addresses(c: &Config) -> Vec<String> {
    let mut v: Vec<String> = c.addresses.node_ips.iter().map(IpAddr::to_string).collect();
    v.extend(c.addresses.dns_names.iter().cloned());
    v.push(c.name.clone());
    v.push(format!("{}.{}", c.name, c.namespace));
    v.push(format!("{}.{}.svc", c.name, c.namespace));
    v.push(format!("{}.{}.svc.cluster.local", c.name, c.namespace));
    v
}

#[test]
fn every_key_algorithm_verifies_for_every_address_and_nothing_else() {
    for alg in KeyAlgorithm::ALL {
        let config = config_for(
            alg,
            vec!["10.131.82.54".parse().unwrap(), "fd00::54".parse().unwrap()],
            vec!["registry.example.test".into()],
        );
        // Real key generation for the algorithm, not fixtures.
        let mut inputs = Inputs::new(common::NOW);
        inputs.fill_missing(&config).unwrap();
        let b = registry_gen::render(&config, &inputs).unwrap();
        for name in addresses(&config) {
            verifies_for(&b, &name).unwrap_or_else(|e| panic!("{}: {e}", alg.as_str()));
        }
        for foreign in ["other.example.test", "10.131.82.55", "fd00::55", "registry"] {
            assert!(
                verifies_for(&b, foreign).is_err(),
                "{}: accepted {foreign}",
                alg.as_str()
            );
        }
        for key in ["certs/ca.key", "certs/server.key"] {
            let pem = std::str::from_utf8(&b.get(key).unwrap().contents).unwrap();
            assert!(
                pem.starts_with("-----BEGIN PRIVATE KEY-----"),
                "{key} is PKCS#8"
            );
        }
    }
}

/// A CA made by openssl, as a cluster's /etc/kubernetes/pki holds one, in
/// each key format openssl writes (PKCS#1 RSA, SEC1 EC, PKCS#8), signs a
/// server certificate of every algorithm that webpki accepts for every
/// address and no other; its key never enters the bundle.
#[test]
fn a_given_ca_of_every_key_format_signs_for_every_address_and_nothing_else() {
    let genkeys = [
        ("rsa-pkcs1", "openssl genrsa -traditional 2048"),
        (
            "ec-p256-sec1",
            "openssl ecparam -name prime256v1 -genkey -noout",
        ),
        (
            "ec-p384-pkcs8",
            "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384",
        ),
    ];
    for (format, genkey) in genkeys {
        let tmp = tempfile::tempdir().unwrap();
        crate::support::openssl_ca(tmp.path(), genkey, "30");
        let read = |f: &str| std::fs::read_to_string(tmp.path().join(f)).unwrap();
        let now = ::time::OffsetDateTime::now_utc();
        for alg in KeyAlgorithm::ALL {
            let mut config = config_for(
                alg,
                vec!["10.131.82.54".parse().unwrap(), "fd00::54".parse().unwrap()],
                vec!["yuan.test".into()],
            );
            config.tls.server_validity_days = 20; // within the CA's 30 days
            let (cert, key) = (tmp.path().join("ca.crt"), tmp.path().join("ca.key"));
            config.tls.ca = Some(registry_gen::CaFiles::new(cert, key));
            let mut inputs = Inputs::new(now);
            inputs.ca = Some(CaInput::External {
                cert_pem: read("ca.crt"),
                key: Secret::new(read("ca.key")),
            });
            inputs.fill_missing(&config).unwrap();
            let b = registry_gen::render(&config, &inputs)
                .unwrap_or_else(|e| panic!("{format} CA, {}: {e}", alg.as_str()));
            assert_eq!(
                b.get("certs/ca.crt").unwrap().contents,
                read("ca.crt").as_bytes()
            );
            assert!(
                b.get("certs/ca.key").is_none(),
                "the given CA key was copied"
            );
            let at = now + ::time::Duration::days(1);
            for name in addresses(&config) {
                verifies_at(&b, &name, at)
                    .unwrap_or_else(|e| panic!("{format} CA, {}: {e}", alg.as_str()));
            }
            for foreign in ["other.test", "10.131.82.55", "fd00::55"] {
                assert!(
                    verifies_at(&b, foreign, at).is_err(),
                    "{format} CA, {}: accepted {foreign}",
                    alg.as_str()
                );
            }
        }
    }
}

#[test]
fn a_kept_ca_signs_again_and_is_returned_unchanged() {
    let config = common::load(&common::workspace().join("examples/nodeport-htpasswd.yaml"));
    let first = common::render(&config);
    let ca_pem = String::from_utf8(first.get("certs/ca.crt").unwrap().contents.clone()).unwrap();
    let mut inputs = common::inputs(&config);
    inputs.ca = Some(CaInput::Kept {
        cert_pem: ca_pem.clone(),
        key: common::key("ca", &config),
    });
    let mut more = config.clone();
    more.addresses
        .dns_names
        .push("registry.example.test".into());
    let second = registry_gen::render(&more, &inputs).unwrap();
    assert_eq!(
        second.get("certs/ca.crt").unwrap().contents,
        ca_pem.as_bytes()
    );
    for name in addresses(&more) {
        verifies_for(&second, &name).unwrap();
    }
}

#[test]
fn a_server_certificate_is_kept_only_while_it_fits() {
    let config = config_for(
        KeyAlgorithm::EcdsaP256,
        vec!["10.0.0.1".parse().unwrap()],
        vec!["a.test".into()],
    );
    let first = common::render(&config);
    let kept_inputs = |cfg: &Config, now| {
        let mut i = common::inputs(cfg);
        i.now = now;
        i.ca = Some(CaInput::Kept {
            cert_pem: String::from_utf8(first.get("certs/ca.crt").unwrap().contents.clone())
                .unwrap(),
            key: common::key("ca", cfg),
        });
        i.server_cert = Some(
            String::from_utf8(first.get("certs/server.crt").unwrap().contents.clone()).unwrap(),
        );
        i
    };
    let same = registry_gen::render(&config, &kept_inputs(&config, common::NOW)).unwrap();
    assert_eq!(same.get("certs/server.crt"), first.get("certs/server.crt"));
    assert_eq!(
        same.notices(),
        ["kept the server certificate: it names every address and is valid until 2028-04-05"]
    );

    let mut wider = config.clone();
    wider.addresses.node_ips.push("10.0.0.2".parse().unwrap());
    let renewed = registry_gen::render(&wider, &kept_inputs(&wider, common::NOW)).unwrap();
    assert_ne!(
        renewed.get("certs/server.crt"),
        first.get("certs/server.crt")
    );
    assert_eq!(
        renewed.notices(),
        ["issued a new server certificate: the earlier one does not name IP 10.0.0.2"]
    );
    verifies_for(&renewed, "10.0.0.2").unwrap();

    // Renewed once two thirds of its 825 days are gone (day 550), by the
    // injected clock; kept the day before.
    let day = |d| common::NOW + ::time::Duration::days(d);
    let before = registry_gen::render(&config, &kept_inputs(&config, day(549))).unwrap();
    assert_eq!(
        before.get("certs/server.crt"),
        first.get("certs/server.crt")
    );
    let expiring = registry_gen::render(&config, &kept_inputs(&config, day(550))).unwrap();
    assert_eq!(
        expiring.notices(),
        ["issued a new server certificate: the earlier one is past two thirds of its lifetime (renewed from 2027-07-05; it expires on 2028-04-05)"]
    );

    let mut other_key = kept_inputs(&config, common::NOW);
    other_key.server_key = Some(Secret::new(
        std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/keys/ca-ecdsa-p256.pem"),
        )
        .unwrap(),
    ));
    let rekeyed = registry_gen::render(&config, &other_key).unwrap();
    assert_eq!(
        rekeyed.notices(),
        ["issued a new server certificate: the earlier one is for another key"]
    );
}

#[test]
fn a_server_certificate_never_outlives_its_ca() {
    let mut config = config_for(
        KeyAlgorithm::EcdsaP256,
        vec!["10.0.0.1".parse().unwrap()],
        vec![],
    );
    config.tls.ca_validity_days = 100;
    config.tls.server_validity_days = 90;
    let first = common::render(&config);
    let mut inputs = common::inputs(&config);
    inputs.now = common::NOW + ::time::Duration::days(50);
    inputs.ca = Some(CaInput::Kept {
        cert_pem: String::from_utf8(first.get("certs/ca.crt").unwrap().contents.clone()).unwrap(),
        key: common::key("ca", &config),
    });
    let b = registry_gen::render(&config, &inputs).unwrap();
    assert_eq!(
        b.notices(),
        ["the server certificate is valid until 2026-04-11 only, when its CA expires (tls.server_validity_days asks for 90 days)"]
    );
    let text = common::decode_cert(
        std::str::from_utf8(&b.get("certs/server.crt").unwrap().contents).unwrap(),
    );
    assert!(text.contains("not after: 2026-04-11T00:00:00Z"), "{text}");
}

fn label() -> impl Strategy<Value = String> {
    "[a-z]([a-z0-9-]{0,8}[a-z0-9])?"
}

fn dns_name() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(label(), 1..4),
        prop::sample::select(vec!["test", "example", "internal"]),
    )
        .prop_map(|(labels, tld)| format!("{}.{tld}", labels.join(".")))
}

fn node_ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        (1u8..=223, any::<u8>(), any::<u8>(), 1u8..=254)
            .prop_map(|(a, b, c, d)| IpAddr::from([a, b, c, d])),
        any::<[u16; 8]>().prop_filter_map("unicast v6", |s| {
            let ip = IpAddr::from(s);
            (!ip.is_unspecified() && !ip.is_multicast()).then_some(ip)
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// For any valid set of addresses, the chain verifies for each of them.
    #[test]
    fn the_chain_verifies_for_any_valid_address_set(
        ips in prop::collection::btree_set(node_ip(), 0..4),
        names in prop::collection::btree_set(dns_name(), 0..4),
    ) {
        prop_assume!(!ips.is_empty() || !names.is_empty());
        let config = config_for(KeyAlgorithm::EcdsaP256, ips.into_iter().collect(), names.into_iter().collect());
        let b = registry_gen::render(&config, &common::inputs(&config)).unwrap();
        for name in addresses(&config) {
            prop_assert!(verifies_for(&b, &name).is_ok(), "{}: {:?}", name, verifies_for(&b, &name));
        }
        prop_assert!(verifies_for(&b, "not-listed.invalid").is_err());
    }
}

#[test]
fn inspect_reports_each_example_bundle() {
    for path in common::examples() {
        let config = common::load(&path);
        let b = common::render(&config);
        let files = [
            (
                "certs/server.crt",
                b.get("certs/server.crt").unwrap().contents.as_slice(),
            ),
            (
                "certs/ca.crt",
                b.get("certs/ca.crt").unwrap().contents.as_slice(),
            ),
        ];
        let report = registry_gen::inspect(
            &files,
            Some(&config),
            common::NOW + ::time::Duration::days(1),
        )
        .unwrap();
        assert!(report.problems.is_empty(), "{report}");
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(common::workspace().join("snapshots/inspect"));
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        let stem = path.file_stem().unwrap().to_str().unwrap().to_owned();
        settings.bind(|| insta::assert_snapshot!(stem, report.to_string()));
    }
}
