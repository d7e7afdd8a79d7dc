//! The library's one integration-test binary.

mod architecture;
mod certs;
mod common;
mod docs_sync;
mod interop;
mod plan_xrefs;
mod rollout;
mod snapshots;
#[path = "../support/openssl_ca.rs"]
mod support_openssl;
#[path = "../support/schema_paths.rs"]
mod support_schema;
mod validation;
/// Helpers shared with the CLI's tests.
mod support {
    pub use super::support_openssl::openssl_ca;
    pub use super::support_schema::schema_paths;
}
