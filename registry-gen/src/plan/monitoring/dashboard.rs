//! The Grafana dashboard's panels: each a title, a unit and its PromQL
//! queries over this bundle's series. `$__rate_interval` is Grafana's.

use super::{Selectors, UPSTREAM_LABEL};

/// One dashboard panel (a time series).
#[derive(Debug)]
pub(crate) struct Panel {
    pub title: &'static str,
    pub description: &'static str,
    /// Grafana's unit id (`reqps`, `s`, `percentunit`...).
    pub unit: &'static str,
    pub queries: Vec<Query>,
}

/// One query of a panel.
#[derive(Debug)]
pub(crate) struct Query {
    pub expr: String,
    pub legend: String,
}

fn q(expr: String, legend: &str) -> Query {
    Query {
        expr,
        legend: legend.to_owned(),
    }
}

/// `rate(<metric>{<matchers>}[$__rate_interval])`.
fn rate(metric: &str, matchers: &str) -> String {
    format!("rate({metric}{{{matchers}}}[$__rate_interval])")
}

fn quantile(phi: &str, by: &str, metric: &str, matchers: &str) -> String {
    format!(
        "histogram_quantile({phi}, sum by ({by}, le) ({}))",
        rate(metric, matchers)
    )
}

pub(super) fn panels(s: &Selectors) -> Vec<Panel> {
    let p = &s.pods;
    let u = UPSTREAM_LABEL;
    let mut v = vec![
        Panel {
            title: "Requests by handler and code",
            description: "Requests per second the registries answer, by handler and HTTP status (401 and 404 are normal: a client before its login, a push's check for a blob).",
            unit: "reqps",
            queries: vec![q(
                format!("sum by ({u}, handler, code) ({})", rate("registry_http_requests_total", p)),
                "{{upstream}} {{handler}} {{code}}",
            )],
        },
        Panel {
            title: "Request latency by handler",
            description: "p50, p90 and p99 of the time to answer, by handler. Blob handlers take as long as the transfer.",
            unit: "s",
            queries: [("0.5", "p50"), ("0.9", "p90"), ("0.99", "p99")]
                .into_iter()
                .map(|(phi, name)| {
                    q(
                        quantile(phi, &format!("{u}, handler"), "registry_http_request_duration_seconds_bucket", p),
                        &format!("{name} {{{{upstream}}}} {{{{handler}}}}"),
                    )
                })
                .collect(),
        },
        Panel {
            title: "In-flight requests",
            description: "Requests being served now, by handler.",
            unit: "short",
            queries: vec![q(
                format!("sum by ({u}, handler) (registry_http_in_flight_requests{{{p}}})"),
                "{{upstream}} {{handler}}",
            )],
        },
        Panel {
            title: "Storage action latency (p99)",
            description: "p99 of one storage driver call, by driver and action.",
            unit: "s",
            queries: vec![q(
                quantile("0.99", &format!("{u}, driver, action"), "registry_storage_action_seconds_bucket", p),
                "{{upstream}} {{driver}} {{action}}",
            )],
        },
        Panel {
            title: "Blob-descriptor cache hit ratio",
            description: "Share of blob lookups the cache answered. Registry 2.8 counts them in registry_storage_cache_total{type}, 3.x in registry_storage_cache_hits_total and _requests_total: one query answers per version.",
            unit: "percentunit",
            queries: vec![
                q(
                    format!(
                        "sum by ({u}) ({}) / sum by ({u}) ({})",
                        rate("registry_storage_cache_total", &format!(r#"{p},type="Hit""#)),
                        rate("registry_storage_cache_total", &format!(r#"{p},type="Request""#)),
                    ),
                    "2.8 {{upstream}}",
                ),
                q(
                    format!(
                        "sum by ({u}) ({}) / sum by ({u}) ({})",
                        rate("registry_storage_cache_hits_total", p),
                        rate("registry_storage_cache_requests_total", p),
                    ),
                    "3.x {{upstream}}",
                ),
            ],
        },
        Panel {
            title: "Mirror hits and misses (registry 3.x)",
            description: "Blobs and manifests a mirror served from its cache (hits) and fetched from its upstream (misses). Registry 3.x only: 2.8 keeps these in expvar, not Prometheus.",
            unit: "reqps",
            queries: vec![
                q(format!("sum by ({u}, type) ({})", rate("registry_proxy_hits_total", p)), "hits {{upstream}} {{type}}"),
                q(format!("sum by ({u}, type) ({})", rate("registry_proxy_misses_total", p)), "misses {{upstream}} {{type}}"),
            ],
        },
        Panel {
            title: "Mirror bytes pulled from upstream (registry 3.x)",
            description: "Bytes per second the mirrors fetch from their upstreams. Registry 3.x only.",
            unit: "Bps",
            queries: vec![q(
                format!("sum by ({u}, type) ({})", rate("registry_proxy_pulled_bytes_total", p)),
                "{{upstream}} {{type}}",
            )],
        },
    ];
    if let Some(c) = &s.claims {
        v.push(Panel {
            title: "Volume usage",
            description: "Used share of each data or cache claim (the kubelet's volume statistics).",
            unit: "percentunit",
            queries: vec![q(
                format!("kubelet_volume_stats_used_bytes{{{c}}} / kubelet_volume_stats_capacity_bytes{{{c}}}"),
                "{{persistentvolumeclaim}}",
            )],
        });
    }
    if let Some(probe) = &s.probe {
        v.push(Panel {
            title: "Days until the certificate expires",
            description:
                "As clients see it: the blackbox exporter's TLS probe, trusting the bundle's CA.",
            unit: "d",
            queries: vec![q(
                format!("(probe_ssl_earliest_cert_expiry{{{probe}}} - time()) / 86400"),
                "{{instance}}",
            )],
        });
    }
    v
}
