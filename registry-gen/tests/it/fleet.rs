//! `examples/fleet.rs`, the platform team's tool: its functions, included
//! from the example itself, on the example's own cluster list.

#[allow(dead_code)]
#[path = "../../../examples/fleet.rs"]
mod example;

use registry_gen::Config;

use crate::common;

fn fleet() -> Vec<(String, registry_gen::Bundle)> {
    let base = Config::from_yaml(example::BASE).unwrap();
    let clusters = example::parse_clusters(example::CLUSTERS).unwrap();
    example::render_fleet(
        &base,
        &clusters,
        time::macros::datetime!(2026-01-01 00:00 UTC),
    )
    .unwrap()
}

#[test]
fn one_bundle_per_cluster_each_with_its_own_names_and_ca() {
    let fleet = fleet();
    let names: Vec<_> = fleet.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["edge-fra", "edge-ams", "lab"]);
    let mut cas = std::collections::BTreeSet::new();
    for (name, bundle) in &fleet {
        let deployment = common::text(bundle, "manifests/deployment.yaml");
        assert!(
            deployment.contains(&format!("name: registry-{name}\n")),
            "{name}"
        );
        assert!(deployment.contains("namespace: registry\n"), "{name}");
        cas.insert(common::text(bundle, "certs/ca.crt").to_owned());
    }
    assert_eq!(cas.len(), 3, "every cluster gets its own CA");
}

/// The report, and what each server certificate names (the fields that do
/// not depend on the random keys and serials).
#[test]
fn report_and_certificate_names() {
    let fleet = fleet();
    let mut text = example::report(&fleet);
    for (name, bundle) in &fleet {
        text.push_str(&format!("\n{name}, certs/server.crt:\n"));
        let decoded = common::decode_cert(common::text(bundle, "certs/server.crt"));
        for line in decoded.lines() {
            if ["subject:", "issuer:", "not ", "  subjectAltName:"]
                .iter()
                .any(|p| line.starts_with(p))
            {
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    insta::with_settings!({
        snapshot_path => common::workspace().join("snapshots").join("fleet"),
        prepend_module_to_snapshot => false,
    }, {
        insta::assert_snapshot!("report", text);
    });
}

#[test]
fn a_bad_line_names_itself() {
    let err = example::parse_clusters("lab 10.0.0.300 registry.lab 31443").unwrap_err();
    assert!(err.contains("node IP \"10.0.0.300\""), "{err}");
    let err = example::parse_clusters("lab 10.0.0.3").unwrap_err();
    assert!(
        err.contains("expected name, node IPs, DNS name, NodePort"),
        "{err}"
    );
}
