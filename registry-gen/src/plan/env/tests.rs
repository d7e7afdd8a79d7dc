//! [`yaml_scalar`] reads back as exactly its input, hostile or not.

use proptest::prelude::*;

use super::{yaml_scalar, EnvValue, SecretText};

#[path = "../../../tests/support/yaml_special.rs"]
mod yaml_special;

/// What YAML would otherwise read as something else (issue 19's table),
/// and what it cannot carry raw: control characters, DEL and C1 codes, a
/// BOM, non-ASCII text, a backslash, nothing at all.
fn hostile() -> Vec<&'static str> {
    let mut v = yaml_special::YAML_SPECIAL.to_vec();
    v.extend([
        "back\\slash",
        "tab\tnew\nline\u{7f}\u{85}\u{feff}",
        "é 🦀",
        "",
    ]);
    v
}

fn reads_back(s: &str) {
    let encoded = yaml_scalar(s);
    assert!(
        encoded.bytes().all(|b| (b' '..=b'~').contains(&b)),
        "{encoded:?} is not printable ASCII"
    );
    let decoded: String = crate::yaml::from_str(&encoded).unwrap();
    assert_eq!(decoded, s, "{encoded}");
}

#[test]
fn hostile_values_read_back_exactly() {
    for s in hostile() {
        reads_back(s);
    }
    reads_back(&"k/+=".repeat(32));
}

proptest! {
    #[test]
    fn any_string_reads_back_exactly(s in any::<String>()) {
        reads_back(&s);
    }
}

#[test]
fn a_list_is_a_flow_sequence_of_scalars() {
    let v = EnvValue::TextList(vec!["a:1".into(), "[x]".into()]);
    let text = v.value().unwrap();
    let decoded: Vec<String> = crate::yaml::from_str(&text).unwrap();
    assert_eq!(decoded, ["a:1", "[x]"]);
}

#[test]
fn a_secret_keeps_its_raw_key_and_adds_the_yaml_one() {
    let s = SecretText::new("r-redis".into(), "password");
    let [raw, yaml] = s.entries("@x: y #z");
    assert_eq!(raw, ("password".to_owned(), b"@x: y #z".to_vec()));
    assert_eq!(yaml.0, "password.yaml");
    let decoded: String = crate::yaml::from_str(std::str::from_utf8(&yaml.1).unwrap()).unwrap();
    assert_eq!(decoded, "@x: y #z");
    assert_eq!(
        EnvValue::Secret(s).secret_key_ref(),
        Some(("r-redis", "password.yaml"))
    );
}
