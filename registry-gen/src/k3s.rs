//! k3s's `registries.yaml`, the one bundle file two modules read and write:
//! `render/trust.rs` writes it, and `inputs.rs` takes the pull user's login
//! back from an earlier bundle's copy. One definition of its shape, so the
//! two cannot drift apart.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The whole file.
#[derive(Serialize, Deserialize)]
pub(crate) struct Registries {
    #[serde(default)]
    pub mirrors: BTreeMap<String, Mirror>,
    #[serde(default)]
    pub configs: BTreeMap<String, HostConfig>,
}

/// Where k3s sends pulls of one registry name.
#[derive(Serialize, Deserialize)]
pub(crate) struct Mirror {
    pub endpoint: Vec<String>,
}

/// How k3s talks to one `host:port`.
#[derive(Serialize, Deserialize)]
pub(crate) struct HostConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<Login>,
    #[serde(default)]
    pub tls: Tls,
}

/// A registry login.
#[derive(Serialize, Deserialize)]
pub(crate) struct Login {
    pub username: String,
    pub password: String,
}

/// The CA k3s verifies the registry with.
#[derive(Serialize, Deserialize, Default)]
pub(crate) struct Tls {
    #[serde(default)]
    pub ca_file: String,
}
