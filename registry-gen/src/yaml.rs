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
    serde_yaml::to_string(value).map_err(|e| Error::Serialize {
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
    Ok(format!("{}{body}", header()))
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
