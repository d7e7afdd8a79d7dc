//! Shared by the library's and the CLI's tests (`#[path]`-included).

use std::path::{Path, PathBuf};
use std::process::Command;

/// A CA made by openssl, as a cluster's /etc/kubernetes/pki would hold one:
/// `genkey` writes the key to stdout in the format under test; returns
/// (`dir/ca.crt`, `dir/ca.key`).
pub fn openssl_ca(dir: &Path, genkey: &str, days: &str) -> (PathBuf, PathBuf) {
    let key = dir.join("ca.key");
    let crt = dir.join("ca.crt");
    let sh = format!(
        "{genkey} > '{k}' && openssl req -x509 -new -key '{k}' -subj /CN=kubernetes -days {days} \
         -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -out '{c}'",
        k = key.display(),
        c = crt.display()
    );
    let o = Command::new("sh")
        .arg("-c")
        .arg(&sh)
        .output()
        .expect("openssl");
    assert!(
        o.status.success(),
        "{sh}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    (crt, key)
}
