//! Semantic rules of the config, checked all at once.
//!
//! Parsing (serde) already guarantees types: ports are `u16`, IPs are
//! [`std::net::IpAddr`]. Here every rule that needs context is checked, and
//! every broken one becomes a [`FieldError`] naming the field path, the value
//! and what is accepted. [`validate`] returns them all together so a user
//! fixes a config in one pass.

use std::collections::BTreeSet;
use std::net::IpAddr;

use crate::config::Config;
use crate::error::{Error, FieldError, Result};

/// The NodePort range of a default kube-apiserver (`--service-node-port-range`).
pub(crate) const NODE_PORT_RANGE: std::ops::RangeInclusive<u16> = 30000..=32767;

/// Mount points the plan reserves inside the pod (certificates, htpasswd,
/// a mirror's upstream CA).
const RESERVED_MOUNTS: [&str; 3] = [
    crate::plan::TLS_MOUNT,
    crate::plan::AUTH_MOUNT,
    crate::plan::mirrors::UPSTREAM_CA_MOUNT,
];

mod exposure;
mod mirror_only;
mod storage;
use storage::{check_storage, check_storage_kind};
mod mirrors;
mod monitoring;

#[derive(Default)]
struct Errors(Vec<FieldError>);

impl Errors {
    fn push(&mut self, path: impl Into<String>, value: impl ToString, expected: impl Into<String>) {
        self.0.push(FieldError {
            path: path.into(),
            value: value.to_string(),
            expected: expected.into(),
        });
    }
}

/// Check every rule; `Ok(())` or every broken rule in one [`Error::Invalid`].
pub(crate) fn validate(c: &Config) -> Result<()> {
    let mut e = Errors::default();

    if !is_dns1035_label(&c.name) {
        e.push(
            "name",
            quoted(&c.name),
            "a DNS-1035 label (it names the Service): 1-63 lowercase letters, digits or '-', starting with a letter and ending with a letter or digit",
        );
    }
    if !is_dns1123_label(&c.namespace) {
        e.push(
            "namespace",
            quoted(&c.namespace),
            "a DNS-1123 label: 1-63 lowercase letters, digits or '-', starting and ending with a letter or digit",
        );
    }
    if !is_image_reference(&c.image) {
        e.push(
            "image",
            quoted(&c.image),
            "an image reference such as `registry:3.1.1` or `docker.io/library/registry:2.8.3@sha256:<64 hex digits>`",
        );
    }
    if c.replicas < 1 {
        e.push("replicas", c.replicas, "at least 1");
    }
    check_resources(c, &mut e);
    check_addresses(c, &mut e);
    check_ports(c, &mut e);
    check_storage(c, &mut e);
    check_auth(c, &mut e);
    check_tls(c, &mut e);
    check_registry(c, &mut e);
    mirrors::check(c, &mut e);
    exposure::check(c, &mut e);
    mirror_only::check(c, &mut e);
    monitoring::check(c, &mut e);

    if e.0.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(e.0))
    }
}

fn check_resources(c: &Config, e: &mut Errors) {
    let r = &c.resources;
    let quantities = [
        ("requests", "cpu", Some(&r.requests.cpu)),
        ("requests", "memory", Some(&r.requests.memory)),
        ("limits", "cpu", r.limits.cpu.as_ref()),
        ("limits", "memory", Some(&r.limits.memory)),
    ];
    for (kind, what, q) in quantities {
        if let Some(q) = q {
            if !is_positive_quantity(q) {
                e.push(
                    format!("resources.{kind}.{what}"),
                    quoted(q),
                    "a positive Kubernetes quantity such as `100m`, `0.5`, `100Mi` or `1Gi`",
                );
            }
        }
    }
}

fn check_addresses(c: &Config, e: &mut Errors) {
    let a = &c.addresses;
    if a.node_ips.is_empty() && a.dns_names.is_empty() {
        e.push(
            "addresses",
            "no node_ips and no dns_names",
            "at least one address that nodes and clients use to reach the registry (kubelets pull through the node's runtime, which does not resolve Service names)",
        );
    }
    let mut seen = BTreeSet::new();
    for (i, ip) in a.node_ips.iter().enumerate() {
        let path = format!("addresses.node_ips[{i}]");
        if let Some(why) = bad_node_ip(ip) {
            e.push(&path, ip, why);
        } else if !seen.insert(*ip) {
            e.push(&path, ip, "each address once (it is listed twice)");
        }
    }
    let mut seen = BTreeSet::new();
    for (i, name) in a.dns_names.iter().enumerate() {
        let path = format!("addresses.dns_names[{i}]");
        if name.chars().any(|ch| ch.is_ascii_uppercase()) && is_dns_name(&name.to_ascii_lowercase())
        {
            e.push(
                &path,
                quoted(name),
                format!(
                    "a lowercase DNS name (`{}`): DNS ignores case but certs.d directories do not",
                    name.to_ascii_lowercase()
                ),
            );
        } else if !is_dns_name(name) {
            e.push(
                &path,
                quoted(name),
                "a DNS name (RFC 1123): dot-separated labels of 1-63 lowercase letters, digits or '-', at most 253 characters, `*` only as the whole leftmost label",
            );
        } else if name.parse::<IpAddr>().is_ok() {
            e.push(
                &path,
                quoted(name),
                "a DNS name; put IP addresses in addresses.node_ips",
            );
        } else if !seen.insert(name.as_str()) {
            e.push(&path, quoted(name), "each name once (it is listed twice)");
        } else if name.starts_with("*.") {
            e.push(
                &path,
                quoted(name),
                "a name clients put in image references; a wildcard can't be pulled from (list the real names)",
            );
        }
    }
    if !is_dns_name(&a.cluster_domain) || a.cluster_domain.contains('*') {
        e.push(
            "addresses.cluster_domain",
            quoted(&a.cluster_domain),
            "the cluster's DNS domain, e.g. `cluster.local`",
        );
    }
}

fn bad_node_ip(ip: &IpAddr) -> Option<&'static str> {
    if ip.is_unspecified() {
        return Some(
            "a node's own address; 0.0.0.0 and :: mean 'any' and no client can connect to them",
        );
    }
    if ip.is_multicast() {
        return Some("a unicast node address, not a multicast one");
    }
    if let IpAddr::V4(v4) = ip {
        if v4.is_broadcast() {
            return Some("a unicast node address, not the broadcast address");
        }
    }
    None
}

fn check_ports(c: &Config, e: &mut Errors) {
    let p = &c.ports;
    let fields = [
        ("ports.container", Some(p.container)),
        ("ports.service", p.service),
        ("ports.host", p.host),
        ("ports.node", p.node),
    ];
    for (path, port) in fields {
        if port == Some(0) {
            e.push(path, 0, "a port from 1 to 65535");
        }
    }
    if let Some(d) = &c.registry.debug {
        if d.port == 0 {
            e.push("registry.debug.port", 0, "a port from 1 to 65535");
        } else if d.port == p.container {
            e.push(
                "registry.debug.port",
                d.port,
                format!(
                    "a port other than ports.container ({}): the debug listener and the registry share the pod's network, so the second to bind it fails with `address already in use` and the pod crash-loops",
                    p.container
                ),
            );
        }
    }
    if p.portless_alias == Some(true) && p.node.is_none() {
        e.push(
            "ports.portless_alias",
            "true",
            "false or absent without ports.node: the alias redirects port-less names to the NodePort",
        );
    }
    if let Some(n) = p.node {
        if n != 0 && !NODE_PORT_RANGE.contains(&n) {
            e.push(
                "ports.node",
                n,
                format!(
                    "a NodePort in the cluster's range {}-{}; for a low port use ports.host (hostPort) instead, or keep the NodePort and redirect port-less image names to it with containerd's hosts.toml; do not widen the apiserver's range",
                    NODE_PORT_RANGE.start(),
                    NODE_PORT_RANGE.end()
                ),
            );
        }
        if p.portless_alias != Some(false) && p.host == Some(443) {
            e.push(
                "ports.portless_alias",
                p.portless_alias.map_or("on (the default with ports.node)".to_owned(), |b| b.to_string()),
                "false when ports.host is 443: port-less names already reach the hostPort, so they can't also be redirected to the NodePort",
            );
        }
        if p.host == Some(n) {
            e.push(
                "ports.host",
                n,
                "a port other than ports.node: the NodePort is opened on every node, so the hostPort would clash with it",
            );
        }
    }
}

fn check_auth(c: &Config, e: &mut Errors) {
    let Some(auth) = &c.auth else { return };
    // The registry reads every REGISTRY_* value as YAML: `Realm: x` would
    // become a map and stop it at start, `yes` a boolean.
    // (Go's YAML 1.1 also reads `yes`, `on`, `y` ... as booleans.)
    const YAML11_BOOLS: [&str; 8] = ["y", "yes", "n", "no", "on", "off", "true", "false"];
    let reads_back = matches!(
        serde_yaml::from_str::<serde_yaml::Value>(&auth.realm),
        Ok(serde_yaml::Value::String(ref s)) if *s == auth.realm
    ) && !YAML11_BOOLS.contains(&auth.realm.to_ascii_lowercase().as_str());
    if auth.realm.is_empty()
        || auth.realm.contains('"')
        || auth.realm.chars().any(char::is_control)
        || !reads_back
    {
        e.push(
            "auth.realm",
            quoted(&auth.realm),
            "a non-empty realm without `\"` or control characters that YAML reads as that same text (the registry parses its REGISTRY_* variables as YAML): no `: ` or ` #`, not starting with `-`, `[`, `{`, `&`, `*`, `!`, `|`, `>`, `%`, `@` or a quote, and not a number, boolean or null such as `yes` or `1.0`",
        );
    }
    if !(4..=31).contains(&auth.bcrypt_cost) {
        e.push(
            "auth.bcrypt_cost",
            auth.bcrypt_cost,
            "a bcrypt cost from 4 to 31 (10 is the usual balance)",
        );
    }
    if auth.users.is_empty() {
        e.push(
            "auth.users",
            "[]",
            "at least one user, or `auth: null` to run without authentication",
        );
    }
    let mut seen = BTreeSet::new();
    for (i, u) in auth.users.iter().enumerate() {
        let path = format!("auth.users[{i}].name");
        if u.name.is_empty()
            || u.name.contains(':')
            || u.name
                .chars()
                .any(|ch| ch.is_whitespace() || ch.is_control())
        {
            e.push(&path, quoted(&u.name), "a non-empty user name without `:`, spaces or control characters (htpasswd separates name and hash with `:`)");
        } else if u.name.contains('/') || u.name.starts_with('.') {
            e.push(&path, quoted(&u.name), "a user name without `/` and not starting with `.` (it names the file auth/<name>.password)");
        } else if !seen.insert(u.name.as_str()) {
            e.push(
                &path,
                quoted(&u.name),
                "each user once (it is listed twice)",
            );
        }
        if let Some(f) = &u.password_file {
            if f.as_os_str().is_empty() {
                e.push(
                    format!("auth.users[{i}].password_file"),
                    "\"\"",
                    "a path to a file holding the password, or leave it out to generate one",
                );
            }
        }
    }
}

fn check_tls(c: &Config, e: &mut Errors) {
    let t = &c.tls;
    if t.ca_validity_days <= 0 || t.ca_validity_days > 36500 {
        e.push(
            "tls.ca_validity_days",
            t.ca_validity_days,
            "a number of days from 1 to 36500",
        );
    }
    if t.server_validity_days <= 0 || t.server_validity_days > 36500 {
        e.push(
            "tls.server_validity_days",
            t.server_validity_days,
            "a number of days from 1 to 36500",
        );
    } else if t.ca.is_none()
        && t.server_validity_days > t.ca_validity_days
        && t.ca_validity_days > 0
    {
        e.push(
            "tls.server_validity_days",
            t.server_validity_days,
            format!(
                "at most tls.ca_validity_days ({}): a certificate can't outlive its CA",
                t.ca_validity_days
            ),
        );
    }
    if let Some(ca) = &t.ca {
        for (what, p) in [("cert_file", &ca.cert_file), ("key_file", &ca.key_file)] {
            if p.as_os_str().is_empty() {
                e.push(format!("tls.ca.{what}"), "\"\"", "the path of a PEM file");
            }
        }
    }
}

fn check_registry(c: &Config, e: &mut Errors) {
    let d = &c.registry.data_path;
    if !is_clean_absolute(d) || d == "/" {
        e.push(
            "registry.data_path",
            quoted(d),
            "an absolute path inside the container other than `/`, without `..` or a trailing `/`, e.g. `/var/lib/registry`",
        );
    } else if let Some(m) = RESERVED_MOUNTS
        .iter()
        .find(|m| d == *m || d.starts_with(&format!("{m}/")) || m.starts_with(&format!("{d}/")))
    {
        e.push(
            "registry.data_path",
            quoted(d),
            format!("a path apart from {m}, where the bundle mounts its Secrets"),
        );
    }
}

fn quoted(s: &str) -> String {
    format!("{s:?}")
}

/// RFC 1123 label as Kubernetes checks it (`IsDNS1123Label`).
pub(crate) fn is_dns1123_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// RFC 1035 label (`IsDNS1035Label`): a 1123 label starting with a letter.
pub(crate) fn is_dns1035_label(s: &str) -> bool {
    is_dns1123_label(s) && s.as_bytes()[0].is_ascii_lowercase()
}

/// An RFC 1123 DNS name; `*` allowed only as the whole leftmost label.
pub(crate) fn is_dns_name(s: &str) -> bool {
    if s.is_empty() || s.len() > 253 {
        return false;
    }
    s.split('.')
        .enumerate()
        .all(|(i, label)| (i == 0 && label == "*" && s.len() > 2) || is_dns1123_label(label))
}

fn is_label_value(s: &str) -> bool {
    s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        && s.bytes().next().is_none_or(|b| b.is_ascii_alphanumeric())
        && s.bytes().last().is_none_or(|b| b.is_ascii_alphanumeric())
}

pub(crate) fn is_clean_absolute(p: &str) -> bool {
    p.starts_with('/')
        && (p == "/" || !p.ends_with('/'))
        && !p.contains("//")
        && p.split('/').all(|seg| seg != ".." && seg != ".")
        && !p.chars().any(char::is_control)
}

/// A Kubernetes quantity (`resource.ParseQuantity`) that is greater than zero.
pub(crate) fn is_positive_quantity(q: &str) -> bool {
    const SUFFIXES: [&str; 15] = [
        "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u", "m", "k", "M", "G", "T", "P", "E",
    ];
    let (num, suffix) = match q.find(|ch: char| ch.is_ascii_alphabetic()) {
        Some(i) => q.split_at(i),
        None => (q, ""),
    };
    // A decimal exponent (1e3, 1E-2) is a suffix of its own.
    let (num, ok_suffix) =
        if let Some(rest) = suffix.strip_prefix(['e', 'E']).filter(|r| !r.is_empty()) {
            let digits = rest.strip_prefix(['+', '-']).unwrap_or(rest);
            (
                num,
                !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()),
            )
        } else {
            (num, suffix.is_empty() || SUFFIXES.contains(&suffix))
        };
    let num = num.strip_prefix('+').unwrap_or(num);
    let mut parts = num.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next();
    let digits_ok = int.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| f.bytes().all(|b| b.is_ascii_digit()))
        && !(int.is_empty() && frac.is_none_or(str::is_empty));
    let nonzero = num.bytes().any(|b| (b'1'..=b'9').contains(&b));
    ok_suffix && digits_ok && nonzero
}

/// A plausible image reference: `[host[:port]/]path[:tag][@algo:hex]`.
pub(crate) fn is_image_reference(s: &str) -> bool {
    if s.is_empty() || s.len() > 512 || s.chars().any(|ch| ch.is_whitespace() || ch.is_control()) {
        return false;
    }
    let (name_tag, digest) = match s.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (s, None),
    };
    if let Some(d) = digest {
        let Some((algo, hex)) = d.split_once(':') else {
            return false;
        };
        let hex_ok = hex.len() >= 32
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if algo.is_empty() || !hex_ok || (algo == "sha256" && hex.len() != 64) {
            return false;
        }
    }
    // A tag is after the last ':' that follows the last '/'.
    let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match name_tag[last_slash..].rfind(':') {
        Some(i) => (
            &name_tag[..last_slash + i],
            Some(&name_tag[last_slash + i + 1..]),
        ),
        None => (name_tag, None),
    };
    if let Some(t) = tag {
        let ok = !t.is_empty()
            && t.len() <= 128
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
            && !t.starts_with(['.', '-']);
        if !ok {
            return false;
        }
    }
    let mut comps: Vec<&str> = name.split('/').collect();
    if comps.len() > 1 && (comps[0].contains(['.', ':']) || comps[0] == "localhost") {
        comps.remove(0); // the registry host; its own syntax is checked loosely
    }
    !comps.is_empty()
        && comps.iter().all(|c| {
            !c.is_empty()
                && c.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
                && c.as_bytes()[0].is_ascii_alphanumeric()
                && c.as_bytes()[c.len() - 1].is_ascii_alphanumeric()
        })
}

mod backends;

/// Checks `host[:port]` (IPv6 in brackets); the port is required when `need_port`.
pub(super) fn host_port(s: &str, need_port: bool) -> Result<(), ()> {
    let (host, port) = crate::config::split_host_port(s).ok_or(())?;
    let host_ok = if s.starts_with('[') {
        host.parse::<std::net::Ipv6Addr>().is_ok()
    } else {
        (host.parse::<std::net::IpAddr>().is_ok() || is_dns_name(host)) && !host.contains('*')
    };
    if !host_ok {
        return Err(());
    }
    match port {
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => Ok(()),
            _ => Err(()),
        },
        None if need_port => Err(()),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests;
