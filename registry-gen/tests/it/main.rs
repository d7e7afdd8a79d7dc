//! The library's one integration-test binary.

mod common;
mod interop;
mod plan_xrefs;
mod snapshots;
mod validation;
