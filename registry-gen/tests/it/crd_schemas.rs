//! Every custom resource a bundle renders (Gateway API's TLSRoute, at `v1`
//! and `v1alpha2`) validates against its CRD's JSON schema, with the
//! validators the `@kubernetes-models` npm packages ship; and the check
//! catches a planted breach.

use registry_gen::{Bundle, Config, TlsRouteVersion};

use crate::common;
use crate::support::crd;

/// The custom resources among a bundle's manifests.
fn custom_resources(b: &Bundle) -> Vec<serde_yaml::Value> {
    b.files()
        .filter(|(p, _)| p.starts_with("manifests/") && p.ends_with(".yaml"))
        .filter_map(|(_, f)| serde_yaml::from_slice::<serde_yaml::Value>(&f.contents).ok())
        .filter(|v| {
            v["apiVersion"]
                .as_str()
                .is_some_and(crd::is_custom_resource)
        })
        .collect()
}

fn exposed() -> Config {
    common::load(&common::workspace().join("examples/exposed.yaml"))
}

#[test]
fn every_custom_resource_validates_against_its_crd_schema() {
    let mut configs: Vec<(String, Config)> = common::examples()
        .iter()
        .map(|p| (p.display().to_string(), common::load(p)))
        .collect();
    let mut older = exposed();
    let g = older.exposure.as_mut().unwrap().gateway.as_mut().unwrap();
    g.api_version = TlsRouteVersion::V1alpha2;
    g.namespace = None;
    g.section_name = None;
    configs.push(("exposed, v1alpha2, same namespace".into(), older));
    let mut seen = Vec::new();
    for (name, config) in configs {
        let objects = custom_resources(&common::render(&config));
        if objects.is_empty() {
            continue;
        }
        match crd::validate(&objects) {
            Ok(report) => seen.push(format!("{name}:\n{report}")),
            Err(report) => panic!("{name}: a custom resource fails its schema:\n{report}"),
        }
    }
    let all = seen.join("");
    for want in [
        "ok TLSRoute registry (gateway.networking.k8s.io/v1)",
        "ok TLSRoute registry (gateway.networking.k8s.io/v1alpha2)",
    ] {
        assert!(all.contains(want), "{want} not validated:\n{all}");
    }
}

/// The validator is no rubber stamp: a TLSRoute without `hostnames` (which
/// `v1` requires) or with a port as text fails.
#[test]
fn the_schema_check_catches_a_planted_breach() {
    let mut objects = custom_resources(&common::render(&exposed()));
    let route = objects
        .iter_mut()
        .find(|o| o["kind"] == "TLSRoute")
        .unwrap();
    route["spec"].as_mapping_mut().unwrap().remove("hostnames");
    let report = crd::validate(&objects).unwrap_err();
    assert!(
        report.contains("must have required property hostnames"),
        "{report}"
    );
}
