//! openssl as the tests drive it: CAs and certificates made the way a
//! cluster admin would make them, and `openssl verify` as a TLS client
//! would judge a server certificate.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The extensions of a CA certificate, for `openssl req -x509`.
pub const CA_EXTENSIONS: &str =
    "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign";

/// Run `script` with `sh -c` in `dir`; panic with its stderr unless it succeeds.
pub fn sh(dir: &Path, script: &str) {
    let o = Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .output()
        .expect("sh");
    assert!(
        o.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A CA made by openssl, as a cluster's /etc/kubernetes/pki would hold one:
/// `genkey` writes the key to stdout in the format under test; returns
/// (`dir/ca.crt`, `dir/ca.key`).
pub fn openssl_ca(dir: &Path, genkey: &str, days: &str) -> (PathBuf, PathBuf) {
    sh(
        dir,
        &format!(
            "{genkey} > ca.key && openssl req -x509 -new -key ca.key -subj /CN=kubernetes -days {days} {CA_EXTENSIONS} -out ca.crt"
        ),
    );
    (dir.join("ca.crt"), dir.join("ca.key"))
}

/// A self-signed EC P-256 certificate for `CN=cn` written to `out`, its key
/// thrown away; `addext` are extra `-addext` values.
pub fn self_signed(out: &Path, cn: &str, days: &str, addext: &[&str]) {
    let mut c = Command::new("openssl");
    c.args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .args(["ec_paramgen_curve:P-256", "-nodes", "-keyout", "/dev/null"])
        .args(["-subj", &format!("/CN={cn}"), "-days", days]);
    for e in addext {
        c.args(["-addext", e]);
    }
    let o = c.arg("-out").arg(out).output().expect("openssl");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// `openssl verify -x509_strict -purpose sslserver FLAGS -CAfile ca cert`,
/// as a TLS client judges a server certificate (`flags` such as
/// `-verify_hostname NAME`, `-verify_ip IP`, `-attime T`): `Ok` with what
/// openssl said when it accepts, `Err` when it refuses.
pub fn openssl_verify(ca: &Path, cert: &Path, flags: &[&str]) -> Result<String, String> {
    let o = Command::new("openssl")
        .args(["verify", "-x509_strict", "-purpose", "sslserver"])
        .args(flags)
        .arg("-CAfile")
        .arg(ca)
        .arg(cert)
        .output()
        .expect("openssl");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    if o.status.success() {
        Ok(said)
    } else {
        Err(said)
    }
}
