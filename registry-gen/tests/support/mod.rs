//! Test helpers shared by the library's and the CLI's integration tests,
//! each of which includes this folder with `#[path = ".../support/mod.rs"]`.
//! Each crate uses a part of it, hence the two lints allowed here.
#![allow(dead_code, unused_imports)]

pub mod crd;
mod files;
mod kube;
mod openssl;
mod schema_paths;
mod yaml_special;

pub use files::{examples, files_under, tree, workspace};
pub use kube::kubernetes_validate;
pub use openssl::{openssl_ca, openssl_verify, self_signed, sh, CA_EXTENSIONS};
pub use schema_paths::schema_paths;
pub use yaml_special::YAML_SPECIAL;
