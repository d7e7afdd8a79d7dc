//! The rules of the storage and cache backends that several replicas share:
//! `storage.s3` (bucket naming, endpoint URL, region, credentials) and
//! `cache.redis` (address).

use super::{host_port, is_clean_absolute, quoted, Errors};
use crate::config::{Config, S3Storage};

pub(super) fn check_s3(s3: &S3Storage, e: &mut Errors) {
    if let Some(why) = bad_bucket(&s3.bucket) {
        e.push(
            "storage.s3.bucket",
            quoted(&s3.bucket),
            format!("an S3 bucket name: 3-63 lowercase letters, digits, '.' or '-', starting and ending with a letter or digit ({why})"),
        );
    }
    if s3.region.is_empty()
        || s3.region.len() > 63
        || !s3
            .region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        e.push(
            "storage.s3.region",
            quoted(&s3.region),
            "the bucket's region, lowercase letters, digits and '-', e.g. `us-east-1` (S3-compatible servers such as MinIO take `us-east-1` unless configured otherwise)",
        );
    }
    if let Some(url) = &s3.endpoint {
        match endpoint_scheme(url) {
            Err(why) => e.push(
                "storage.s3.endpoint",
                quoted(url),
                format!("the URL of an S3-compatible server, `https://host[:port]` or `http://host[:port]` ({why}); leave it out for AWS S3"),
            ),
            Ok(https) => {
                if s3.secure.is_some_and(|secure| secure != https) {
                    e.push(
                        "storage.s3.secure",
                        s3.secure.unwrap_or_default(),
                        format!(
                            "absent or {https}: the endpoint's scheme already says {}",
                            if https { "https" } else { "http" }
                        ),
                    );
                }
            }
        }
    } else if s3.secure == Some(false) {
        e.push(
            "storage.s3.secure",
            "false",
            "absent or true without storage.s3.endpoint: AWS S3 is reached over HTTPS",
        );
    }
    if let Some(root) = &s3.root_directory {
        if !is_clean_absolute(root) || root == "/" {
            e.push(
                "storage.s3.root_directory",
                quoted(root),
                "an absolute prefix other than `/`, without `..` or a trailing `/`, e.g. `/registry`; leave it out for the bucket's root",
            );
        }
    }
    match (&s3.access_key_file, &s3.secret_key_file) {
        (Some(_), None) | (None, Some(_)) => {
            let (given, missing) = if s3.access_key_file.is_some() {
                ("access_key_file", "secret_key_file")
            } else {
                ("secret_key_file", "access_key_file")
            };
            e.push(
                format!("storage.s3.{missing}"),
                "absent",
                format!("a file holding the key, given together with storage.s3.{given} (or neither, for the AWS default credential chain)"),
            );
        }
        _ => {}
    }
    for (field, file) in [
        ("access_key_file", &s3.access_key_file),
        ("secret_key_file", &s3.secret_key_file),
        ("ca_file", &s3.ca_file),
    ] {
        if file.as_ref().is_some_and(|f| f.as_os_str().is_empty()) {
            e.push(
                format!("storage.s3.{field}"),
                "\"\"",
                "the path of a file, relative to the config file",
            );
        }
    }
}

/// Why `name` breaks the S3 bucket naming rules, if it does.
fn bad_bucket(name: &str) -> Option<&'static str> {
    if !(3..=63).contains(&name.len()) {
        return Some("it has the wrong length");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return Some("it has another character");
    }
    let edge_ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !edge_ok(name.as_bytes()[0]) || !edge_ok(name.as_bytes()[name.len() - 1]) {
        return Some("it starts or ends with another character");
    }
    if name.contains("..") || name.contains(".-") || name.contains("-.") {
        return Some("'.' must sit between letters or digits");
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return Some("not formatted as an IP address");
    }
    // The registry parses REGISTRY_STORAGE_S3_BUCKET as YAML: a name read
    // as a number, boolean or null would reach the driver changed.
    let yaml_words = [
        "yes", "no", "on", "off", "true", "false", "null", "nan", "inf",
    ];
    if yaml_words.contains(&name)
        || name.parse::<f64>().is_ok()
        || name.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        || name.starts_with("0x")
        || name.starts_with("0o")
    {
        return Some(
            "not one the registry's environment parser reads as a number, boolean or null",
        );
    }
    if ["xn--", "sthree-", "amzn-s3-demo-"]
        .iter()
        .any(|p| name.starts_with(p))
        || ["-s3alias", "--ol-s3", "--x-s3", "--table-s3"]
            .iter()
            .any(|p| name.ends_with(p))
    {
        return Some("a prefix or suffix that S3 reserves");
    }
    None
}

/// `Ok(true)` for an https endpoint, `Ok(false)` for http, else why not.
fn endpoint_scheme(url: &str) -> Result<bool, &'static str> {
    let (https, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return Err("the scheme must be https:// or http://");
    };
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains(['/', '?', '#', '@']) {
        return Err("no path, query or user part: the bucket goes in storage.s3.bucket");
    }
    host_port(authority, false).map_err(|_| "a host name or IP address, optionally :port")?;
    Ok(https)
}

pub(super) fn check_cache(c: &Config, e: &mut Errors) {
    let Some(r) = &c.cache.redis else { return };
    if host_port(&r.address, true).is_err() {
        e.push(
            "cache.redis.address",
            quoted(&r.address),
            "`host:port` of the Redis server, e.g. `redis.registry.svc:6379` (IPv6 in brackets: `[fd00::1]:6379`)",
        );
    }
    if r.password_file
        .as_ref()
        .is_some_and(|f| f.as_os_str().is_empty())
    {
        e.push(
            "cache.redis.password_file",
            "\"\"",
            "the path of a file holding the password, relative to the config file, or leave it out for none",
        );
    }
}
