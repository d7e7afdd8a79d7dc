//! The one place that calls serde_yaml (the crate is archived; swapping it
//! for another YAML serialiser touches only this file).

use serde::{de::DeserializeOwned, Serialize};

use crate::error::{Error, Result};
use crate::layout::GENERATED;

/// Parse YAML into `T`; the error names the field, line and column.
pub(crate) fn from_str<T: DeserializeOwned>(text: &str) -> Result<T> {
    serde_yaml::from_str(text).map_err(|e| Error::Parse {
        message: e.to_string(),
    })
}

/// One value as a YAML document without header.
pub(crate) fn to_string<T: Serialize>(value: &T) -> Result<String> {
    serde_yaml::to_string(value)
        .map(|y| quote_yaml11_non_strings(&y))
        .map_err(|e| Error::Serialize {
            path: std::any::type_name::<T>().to_owned(),
            message: e.to_string(),
        })
}

/// One value as a generated YAML file (header + document) at `path`.
pub(crate) fn file<T: Serialize>(path: &str, value: &T) -> Result<String> {
    let body = serde_yaml::to_string(value).map_err(|e| Error::Serialize {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    Ok(format!("{}{}", header(), quote_yaml11_non_strings(&body)))
}

/// The plain scalars that YAML 1.1 reads as something else than a string
/// (booleans; `=`, its "value" key; `~`, null) but YAML 1.2, and so
/// serde_yaml, which writes them bare, as strings. Kubernetes reads
/// manifests with a YAML 1.1 parser (go-yaml v2 under sigs.k8s.io/yaml,
/// PyYAML under kubernetes-validate): a bare `on` there is `true`, and a
/// string field holding it fails to apply.
const YAML11_NON_STRINGS: [&str; 18] = [
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
    "OFF", "=", "~",
];

/// `yaml` (serde_yaml's block-style output) with every plain scalar value
/// that YAML 1.1 would read as something else than the string it is
/// single-quoted. Block scalars (`|`, `>`) are text and left alone.
fn quote_yaml11_non_strings(yaml: &str) -> String {
    let mut out = String::with_capacity(yaml.len());
    // The indentation of a line that opened a block scalar.
    let mut block: Option<usize> = None;
    for line in yaml.split_inclusive('\n') {
        let text = line.trim_end_matches('\n');
        let indent = text.len() - text.trim_start().len();
        if let Some(opened) = block {
            if text.trim().is_empty() || indent > opened {
                out.push_str(line);
                continue;
            }
            block = None;
        }
        let end = text.trim_end();
        if [" |", " |-", " |+", " >", " >-", " >+"]
            .iter()
            .any(|m| end.ends_with(m))
        {
            block = Some(indent);
        }
        // The value after `key: ` or `- ` (sequences of sequences too).
        let value_at = match text.rfind(": ") {
            Some(i) if !text[..i].contains(['\'', '"']) => i + 2,
            _ => {
                let items = text[indent..].len() - text[indent..].trim_start_matches("- ").len();
                indent + items
            }
        };
        if value_at < text.len() && YAML11_NON_STRINGS.contains(&&text[value_at..]) {
            out.push_str(&text[..value_at]);
            out.push('\'');
            out.push_str(&text[value_at..]);
            out.push('\'');
            out.push_str(&line[text.len()..]);
        } else {
            out.push_str(line);
        }
    }
    out
}

/// Join YAML documents into one `---`-separated stream (for `kubectl apply -f -`).
pub(crate) fn stream<'a>(docs: impl IntoIterator<Item = &'a str>) -> String {
    let header = header();
    let mut out = header.clone();
    for doc in docs {
        out.push_str("---\n");
        out.push_str(doc.strip_prefix(&header).unwrap_or(doc));
    }
    out
}

/// First line of every YAML file registry-gen generates.
fn header() -> String {
    format!("# {GENERATED}\n")
}

#[cfg(test)]
mod tests {
    use super::quote_yaml11_non_strings as q;

    #[test]
    fn yaml11_non_strings_are_quoted_and_nothing_else_changes() {
        assert_eq!(q("a: on\nb: 'x'\n"), "a: 'on'\nb: 'x'\n");
        assert_eq!(q("- no\n- - yes\n- off2\n"), "- 'no'\n- - 'yes'\n- off2\n");
        assert_eq!(
            q("k:\n  n: N\n  t: 'true'\n"),
            "k:\n  n: 'N'\n  t: 'true'\n"
        );
        let block = "s: |-\n  on\n  no\nt: off\n";
        assert_eq!(q(block), "s: |-\n  on\n  no\nt: 'off'\n");
        let untouched = "x: one\ny: 'on'\nz: \"no\"\nw: on: x\n";
        assert_eq!(q(untouched), untouched);
    }

    #[test]
    fn serde_yaml_round_trips_what_was_quoted() {
        for word in super::YAML11_NON_STRINGS {
            let v = std::collections::BTreeMap::from([("k", vec![word])]);
            let y = q(&serde_yaml::to_string(&v).unwrap());
            let back: std::collections::BTreeMap<String, Vec<String>> =
                serde_yaml::from_str(&y).unwrap();
            assert_eq!(back["k"], [word], "{y}");
            assert!(
                y.contains(&format!("'{word}'")) || y.contains(&format!("\"{word}\"")),
                "{y}"
            );
        }
    }
}
