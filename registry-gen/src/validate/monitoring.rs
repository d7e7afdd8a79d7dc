//! The rules of the `monitoring` section: something to scrape, a blackbox
//! exporter address without a scheme, labels the API server accepts.

use super::{is_label_value, quoted, Errors};
use crate::config::Config;

pub(super) fn check(c: &Config, e: &mut Errors) {
    let Some(m) = &c.monitoring else {
        return;
    };
    let metrics = c.registry.debug.as_ref().map(|d| d.metrics);
    if metrics != Some(true) {
        e.push(
            "registry.debug.metrics",
            metrics.map_or("null (no registry.debug)".to_owned(), |m| m.to_string()),
            "`true`, with `registry.debug.port`, when `monitoring` is set: the PodMonitor, the annotations, the alerts and the dashboard read the registries' `/metrics` on their debug listener",
        );
    }
    if let Some(b) = &m.blackbox {
        if super::host_port(&b.address, true).is_err() {
            e.push(
                "monitoring.blackbox.address",
                quoted(&b.address),
                "`host:port` of the blackbox exporter, e.g. `prometheus-blackbox-exporter.monitoring.svc:9115` (no scheme, no path)",
            );
        }
        if b.module.is_empty()
            || !b
                .module
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
        {
            e.push(
                "monitoring.blackbox.module",
                quoted(&b.module),
                "a module name of letters, digits, '_' or '-'",
            );
        }
    }
    for (key, value) in &m.labels {
        let name = key.rsplit('/').next().unwrap_or(key);
        if name.is_empty() || !is_label_value(name) || !is_label_value(value) {
            e.push(
                format!("monitoring.labels.{key}"),
                quoted(value),
                "a Kubernetes label: a key of up to 63 letters, digits, '-', '_' or '.' (after an optional `prefix/`) and a value of the same",
            );
        }
    }
}
