//! The CLI's one integration-test binary (one link instead of four):
//! `cargo test -p registry-gen-cli --test it`, or one module of it, e.g.
//! `cargo test -p registry-gen-cli --test it e2e::`.

mod check;
mod ci_docs;
mod cli;
mod common;
mod e2e;
mod e2e_drain;
mod e2e_exposure;
mod e2e_gc;
mod e2e_hostile;
mod e2e_mirror;
mod e2e_monitoring;
mod e2e_rotation;
mod e2e_s3;
mod faults;
mod rerender;
mod rotation;
/// Helpers shared with the library's tests.
#[path = "../../../registry-gen/tests/support/mod.rs"]
mod support;
mod validation_table;
