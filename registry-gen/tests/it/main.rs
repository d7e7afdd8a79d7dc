//! The library's one integration-test binary.

mod applied;
mod architecture;
mod certs;
mod common;
mod crd_schemas;
mod docs_sync;
mod env_yaml;
mod fleet;
mod gc_script;
mod interop;
mod mirror_start;
mod mirrors;
mod monitoring;
mod owners;
mod plan_xrefs;
mod rollout;
mod snapshots;
/// Helpers shared with the CLI's tests.
#[path = "../support/mod.rs"]
mod support;
mod validation;
