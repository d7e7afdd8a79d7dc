//! The rules of `mirrors[]`: each upstream a registry host (no scheme, no
//! path), once, and not the registry itself; each mirror reachable on a
//! port of its own; its storage, TTL and files well formed.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::{check_storage_kind, is_dns1035_label, is_dns_name, quoted, Errors, NODE_PORT_RANGE};
use crate::config::Config;
use crate::plan::mirrors::{object_name, DOCKER_HUB, DOCKER_HUB_ALIASES};

pub(super) fn check(c: &Config, e: &mut Errors) {
    // Every port nodes reach a registry of the bundle on (hostPorts and
    // NodePorts): a NodePort is open on every node, and a hostPort may land
    // on any node, so no two may be equal.
    let mut taken: BTreeMap<u16, String> = BTreeMap::new();
    for (path, port) in [("ports.host", c.ports.host), ("ports.node", c.ports.node)] {
        // A mirror-only bundle opens no port of the private registry.
        if let Some(p) = port.filter(|_| c.registry.enabled) {
            taken.entry(p).or_insert_with(|| path.to_owned());
        }
    }
    let mut upstreams: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, m) in c.mirrors.iter().enumerate() {
        let at = |field: &str| format!("mirrors[{i}].{field}");
        match bad_upstream(c, &m.upstream) {
            Some(why) => e.push(at("upstream"), quoted(&m.upstream), why),
            None => {
                if let Some(first) = upstreams.insert(&m.upstream, i) {
                    e.push(
                        at("upstream"),
                        quoted(&m.upstream),
                        format!("an upstream no other mirror has: mirrors[{first}] already mirrors it (one proxy-mode registry serves exactly one upstream, and nodes route each upstream to one mirror)"),
                    );
                    upstreams.insert(&m.upstream, first);
                } else {
                    let name = object_name(&c.name, &m.upstream);
                    if !is_dns1035_label(&name) {
                        e.push(
                            at("upstream"),
                            quoted(&m.upstream),
                            format!("an upstream that, with `name`, makes a Service name of at most 63 characters: `{name}` is too long; shorten `name`"),
                        );
                    }
                }
            }
        }
        let p = &m.ports;
        if p.host.is_none() && p.node.is_none() {
            e.push(
                at("ports"),
                "{}",
                "at least one of `host` (hostPort) or `node` (NodePort): nodes pull through the mirror by a node address",
            );
        }
        for (field, port) in [("host", p.host), ("node", p.node)] {
            let Some(port) = port else { continue };
            let path = at(&format!("ports.{field}"));
            if port == 0 {
                e.push(&path, 0, "a port from 1 to 65535");
                continue;
            }
            if field == "node" && !NODE_PORT_RANGE.contains(&port) {
                e.push(
                    &path,
                    port,
                    format!(
                        "a NodePort in the cluster's range {}-{}, or a hostPort (`host`)",
                        NODE_PORT_RANGE.start(),
                        NODE_PORT_RANGE.end()
                    ),
                );
            }
            match taken.get(&port) {
                Some(other) => e.push(
                    &path,
                    port,
                    format!("a port no other registry of the bundle uses: {other} is {port} already (each registry listens on its own port on the nodes)"),
                ),
                None => {
                    taken.insert(port, path);
                }
            }
        }
        check_storage_kind(&m.storage, &at("storage"), e);
        if let Some(ttl) = &m.ttl {
            if !is_go_duration(ttl) {
                e.push(
                    at("ttl"),
                    quoted(ttl),
                    "a Go duration such as `168h`, `72h30m` or `0` (never expire), or leave it out for 7 days",
                );
            }
        }
        match (&m.username_file, &m.password_file) {
            (Some(_), None) => e.push(
                at("password_file"),
                "absent",
                "a file with the upstream password or token, given with username_file",
            ),
            (None, Some(_)) => e.push(
                at("username_file"),
                "absent",
                "a file with the upstream user name, given with password_file",
            ),
            _ => {}
        }
        for (field, f) in [
            ("username_file", &m.username_file),
            ("password_file", &m.password_file),
            ("ca_file", &m.ca_file),
        ] {
            if f.as_ref().is_some_and(|f| f.as_os_str().is_empty()) {
                e.push(at(field), "\"\"", "the path of a file, or leave it out");
            }
        }
    }
}

/// Why `upstream` is not a registry host this bundle can mirror, if it isn't.
fn bad_upstream(c: &Config, upstream: &str) -> Option<String> {
    if let Some((scheme, _)) = upstream.split_once("://") {
        return Some(format!(
            "a registry host as image names spell it, such as `docker.io` or `quay.io`, without `{scheme}://` (the mirror always speaks HTTPS to it)"
        ));
    }
    if let Some((host, path)) = upstream.split_once('/') {
        return Some(format!(
            "a registry host without a path (`{host}`, not `/{path}`): a mirror proxies a whole registry, every repository of it"
        ));
    }
    if DOCKER_HUB_ALIASES.contains(&upstream) {
        return Some(format!(
            "`{DOCKER_HUB}`, as image names spell Docker Hub (the mirror then pulls from registry-1.docker.io)"
        ));
    }
    let (host, port) = match upstream.rsplit_once(':') {
        Some((h, p)) => match p.parse::<u16>() {
            Ok(p) if p > 0 => (h, Some(p)),
            _ => return Some("a host, or host:port with a port from 1 to 65535".to_owned()),
        },
        None => (upstream, None),
    };
    let ip = host.parse::<IpAddr>().ok();
    if (!is_dns_name(host) || host.contains('*')) && !matches!(ip, Some(IpAddr::V4(_))) {
        return Some(
            "a registry host (a lowercase DNS name or an IPv4 address, optionally with :port), e.g. `docker.io`, `registry.k8s.io`, `registry.example.com:5000`".to_owned(),
        );
    }
    // The registry itself: one of its own node addresses, on one of the
    // bundle's ports (or with no port given).
    let own_host = c.addresses.dns_names.iter().any(|n| n == host)
        || ip.is_some_and(|ip| c.addresses.node_ips.contains(&ip));
    let own_ports: Vec<u16> = [c.ports.host, c.ports.node]
        .into_iter()
        .chain(c.mirrors.iter().flat_map(|m| [m.ports.host, m.ports.node]))
        .flatten()
        .chain([443])
        .collect();
    if own_host && port.is_none_or(|p| own_ports.contains(&p)) {
        return Some(format!(
            "another registry than this bundle's own: `{upstream}` is one of its addresses (addresses.node_ips/dns_names), so the mirror would proxy itself"
        ));
    }
    None
}

/// A Go `time.ParseDuration` string of non-negative parts: `0`, or numbers
/// (with an optional fraction) each followed by a unit.
fn is_go_duration(s: &str) -> bool {
    if s == "0" {
        return true;
    }
    let mut rest = s;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..digits];
        if number.is_empty() || number.parse::<f64>().is_err() {
            return false;
        }
        rest = &rest[digits..];
        let Some(unit) = ["ns", "us", "µs", "ms", "s", "m", "h"]
            .into_iter()
            .filter(|u| rest.starts_with(u))
            .max_by_key(|u| u.len())
        else {
            return false;
        };
        rest = &rest[unit.len()..];
    }
    true
}
