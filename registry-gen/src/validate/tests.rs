use super::*;

#[test]
fn dns_labels_and_names() {
    assert!(is_dns1123_label("kube-registry"));
    assert!(!is_dns1123_label("Kube"));
    assert!(!is_dns1123_label("-a"));
    assert!(!is_dns1123_label(&"a".repeat(64)));
    assert!(is_dns1035_label("r2"));
    assert!(!is_dns1035_label("2r"));
    assert!(is_dns_name("registry.example.test"));
    assert!(is_dns_name("*.example.test"));
    assert!(!is_dns_name("a.*.test"));
    assert!(!is_dns_name("a..test"));
    assert!(!is_dns_name(&format!(
        "{}.test",
        vec!["a".repeat(63); 4].join(".")
    )));
}

#[test]
fn quantities() {
    for ok in ["23Gi", "100m", "0.5", "1e3", "100Mi", "1.5Gi", "+1"] {
        assert!(is_positive_quantity(ok), "{ok}");
    }
    for bad in [
        "", "0", "0Gi", "23GB", "Gi", "-1Gi", "1.2.3", ".", "1e", "1Gix",
    ] {
        assert!(!is_positive_quantity(bad), "{bad}");
    }
}

#[test]
fn image_references() {
    for ok in [
        "registry:3.1.1",
        "registry:2.8.3",
        "docker.io/library/registry:2.8.3",
        "localhost:5000/registry",
        "registry@sha256:afcd13fd045b8859ac4f60fef26fc2d2f9b7b9d9e604c3c4f7c2fb1b94f95a64",
        "registry:3.1.1@sha256:afcd13fd045b8859ac4f60fef26fc2d2f9b7b9d9e604c3c4f7c2fb1b94f95a64",
    ] {
        assert!(is_image_reference(ok), "{ok}");
    }
    for bad in [
        "",
        "Registry:3",
        "registry:",
        "registry:3 x",
        "registry@sha256:abc",
        "/registry",
        "a//b",
    ] {
        assert!(!is_image_reference(bad), "{bad}");
    }
}

#[test]
fn the_embedded_default_and_every_default_are_valid() {
    validate(&Config::embedded_default()).unwrap();
    let mut c = Config::default();
    c.addresses.node_ips = vec!["127.0.0.1".parse().unwrap()];
    c.auth = None;
    validate(&c).unwrap();
}
