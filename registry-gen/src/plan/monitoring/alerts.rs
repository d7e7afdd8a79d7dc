//! The alerts of the PrometheusRule: each one a condition an operator acts
//! on (registry-gen's docs/howto-monitoring.md has a runbook section per
//! alert, which its `runbook` annotation names). Thresholds are the
//! constants below, each with why.

use super::{Selectors, UPSTREAM_LABEL};

/// Where the runbooks are: one section per alert, anchored by its name. A
/// path in registry-gen's documentation, not a `runbook_url`: the project
/// names no repository URL yet (see the workspace's Cargo.toml), and a
/// made-up one would be a dead link in every alert.
const RUNBOOK: &str = "registry-gen docs/howto-monitoring.md";

/// How long a registry may have no ready pod: a rolled or rescheduled pod
/// is ready within a minute (readiness every 5 s), so 5 minutes is an
/// outage, not a roll.
const NO_READY_FOR: &str = "5m";
/// Share of 5xx answers above which a registry fails its clients: 5 %,
/// held 10 minutes. Only 5xx count: 401 (a client asking before it logs
/// in) and 404 (a push's HEAD of a blob not yet there) are normal traffic.
const ERROR_RATIO: f64 = 0.05;
/// p99 latency above which a non-blob handler (manifests, tags, the
/// base `/v2/`, catalog) is slow: these answer from metadata in
/// milliseconds, and clients time out at 30 s. Blob handlers are left out:
/// their time grows with the layer's size.
const LATENCY_P99_SECONDS: f64 = 2.0;
/// The handlers whose time is the transfer's (left out of the latency alert).
const BLOB_HANDLERS: &str = "blob|blob_upload|blob_upload_chunk";
/// p99 of one storage driver call above which storage is in trouble: a
/// filesystem or S3 call takes milliseconds to tens of milliseconds. `Walk`
/// is left out: it lists a whole tree (the catalog, garbage collection).
const STORAGE_P99_SECONDS: f64 = 1.0;
/// Share of 5xx a mirror may answer before its upstream counts as failing:
/// a pull-through cache answers 5xx when it cannot fetch what it has not
/// cached, so the same 5 % as the registry's, over 10 minutes.
const UPSTREAM_ERROR_RATIO: f64 = 0.05;
/// Free space below which a volume is nearly full: 10 % leaves room for a
/// few more pushes and a garbage collection.
const VOLUME_FREE_RATIO: f64 = 0.10;
/// "Full within days": the free space, extrapolated from the last 6 hours,
/// reaches zero within 4 days (a working week's notice less a weekend),
/// and less than 40 % is free (so a quiet volume's one big push does not
/// page).
const VOLUME_FULL_DAYS: u32 = 4;
const VOLUME_FULL_FREE_RATIO: f64 = 0.40;
/// The serving certificate's remaining validity that still gives time to
/// re-render and roll it; `inspect` warns at the same mark
/// (`Inputs::RENEW_BEFORE_DAYS`). A re-render renews it once two thirds of
/// its lifetime are gone, so this fires only when no one re-rendered.
const CERT_EXPIRY_DAYS: u32 = 30;

/// How urgent an alert is (its `severity` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Severity {
    /// Clients fail now.
    Critical,
    /// Clients will fail, or are slowed.
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
        }
    }
}

/// One alerting rule.
#[derive(Debug)]
pub(crate) struct Alert {
    pub name: &'static str,
    pub expr: String,
    pub for_: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    /// With `{{ $labels.x }}` templates.
    pub description: &'static str,
    pub runbook: String,
}

fn alert(
    name: &'static str,
    expr: String,
    for_: &'static str,
    severity: Severity,
    (summary, description): (&'static str, &'static str),
) -> Alert {
    Alert {
        name,
        expr,
        for_,
        severity,
        summary,
        description,
        runbook: format!("{RUNBOOK}#{}", name.to_ascii_lowercase()),
    }
}

/// The 5xx share of `registry_http_requests_total` over `window`, by `by`,
/// of the series matching `matchers`.
fn error_ratio(matchers: &str, by: &str, window: &str) -> String {
    format!(
        "sum by ({by}) (rate(registry_http_requests_total{{{matchers},code=~\"5..\"}}[{window}]))\n  / sum by ({by}) (rate(registry_http_requests_total{{{matchers}}}[{window}]))"
    )
}

/// Every alert, in the rule's order.
pub(super) fn alerts(s: &Selectors) -> Vec<Alert> {
    use Severity::{Critical, Warning};
    let pods = &s.pods;
    let main = format!(r#"{pods},{UPSTREAM_LABEL}="""#);
    let mirrors = format!(r#"{pods},{UPSTREAM_LABEL}!="""#);
    let mut v = vec![
        alert(
            "RegistryNoReadyPod",
            format!(
                "max by (namespace, deployment) (kube_deployment_status_replicas_available{{{}}}) < 1",
                s.deployments
            ),
            NO_READY_FOR,
            Critical,
            ("A registry has no ready pod.", "Deployment {{ $labels.namespace }}/{{ $labels.deployment }} has had no ready pod for 5 minutes: pushes and pulls through it fail."),
        ),
        alert(
            "RegistryErrorRatioHigh",
            format!("{} > {ERROR_RATIO}", error_ratio(&main, "namespace", "5m")),
            "10m",
            Critical,
            ("The registry answers many requests with 5xx.", "{{ $value | humanizePercentage }} of the requests to the registry in {{ $labels.namespace }} failed with a 5xx status over 5 minutes."),
        ),
        alert(
            "RegistryLatencyHigh",
            format!(
                "histogram_quantile(0.99, sum by (namespace, {UPSTREAM_LABEL}, handler, le) (rate(registry_http_request_duration_seconds_bucket{{{pods},handler!~\"{BLOB_HANDLERS}\"}}[5m]))) > {LATENCY_P99_SECONDS}"
            ),
            "15m",
            Warning,
            ("A registry handler is slow.", "p99 latency of handler {{ $labels.handler }} in {{ $labels.namespace }} {{ $labels.upstream }} is {{ $value | humanizeDuration }}."),
        ),
        alert(
            "RegistryStorageSlow",
            format!(
                "histogram_quantile(0.99, sum by (namespace, {UPSTREAM_LABEL}, driver, action, le) (rate(registry_storage_action_seconds_bucket{{{pods},action!=\"Walk\"}}[5m]))) > {STORAGE_P99_SECONDS}"
            ),
            "15m",
            Warning,
            ("Registry storage calls are slow.", "p99 of storage driver {{ $labels.driver }} action {{ $labels.action }} in {{ $labels.namespace }} {{ $labels.upstream }} is {{ $value | humanizeDuration }}."),
        ),
        // Distribution counts no storage errors (its storage driver base
        // only times calls): failing storage shows as 5xx. What it does
        // count is its blob-descriptor cache failing (Redis down or refusing
        // the login): 2.8 as `registry_storage_cache_total{type="Error"}`,
        // 3.x as `registry_storage_cache_errors_total`. An in-memory cache
        // never errs, so this stays silent without Redis.
        alert(
            "RegistryCacheFailing",
            format!(
                "(\n  sum by (namespace, {UPSTREAM_LABEL}) (rate(registry_storage_cache_total{{{pods},type=\"Error\"}}[5m]))\n  or sum by (namespace, {UPSTREAM_LABEL}) (rate(registry_storage_cache_errors_total{{{pods}}}[5m]))\n) > 0"
            ),
            "10m",
            Warning,
            ("The registry's blob-descriptor cache fails.", "The registry in {{ $labels.namespace }} {{ $labels.upstream }} gets errors from its blob-descriptor cache: it answers from storage instead, slower, and a stale cache may follow."),
        ),
        alert(
            "RegistryMirrorUpstreamFailing",
            format!(
                "{} > {UPSTREAM_ERROR_RATIO}",
                error_ratio(&mirrors, &format!("namespace, {UPSTREAM_LABEL}"), "10m")
            ),
            "10m",
            Warning,
            ("A mirror cannot fetch from its upstream.", "The mirror of {{ $labels.upstream }} in {{ $labels.namespace }} answered {{ $value | humanizePercentage }} of its requests with a 5xx status over 10 minutes: blobs it has not cached do not pull (a tag it never cached answers 404 meanwhile)."),
        ),
    ];
    if let Some(claims) = &s.claims {
        let free = format!(
            "kubelet_volume_stats_available_bytes{{{claims}}}\n  / kubelet_volume_stats_capacity_bytes{{{claims}}}"
        );
        v.push(alert(
            "RegistryVolumeNearlyFull",
            format!("{free} < {VOLUME_FREE_RATIO}"),
            "15m",
            Critical,
            ("A registry volume is nearly full.", "Claim {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} has {{ $value | humanizePercentage }} free: pushes will fail."),
        ));
        v.push(alert(
            "RegistryVolumeFullWithinDays",
            format!(
                "({free}) < {VOLUME_FULL_FREE_RATIO}\nand predict_linear(kubelet_volume_stats_available_bytes{{{claims}}}[6h], {VOLUME_FULL_DAYS} * 24 * 3600) < 0"
            ),
            "1h",
            Warning,
            ("A registry volume fills up within days.", "Claim {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} will be full within 4 days at the rate of the last 6 hours."),
        ));
    }
    if let Some(probe) = &s.probe {
        v.push(alert(
            "RegistryCertificateExpiresSoon",
            format!(
                "probe_ssl_earliest_cert_expiry{{{probe}}} - time() < {CERT_EXPIRY_DAYS} * 86400"
            ),
            "10m",
            Warning,
            ("The registry's certificate expires within 30 days.", "The certificate {{ $labels.instance }} serves expires in {{ $value | humanizeDuration }}."),
        ));
        v.push(alert(
            "RegistryProbeFailing",
            format!("probe_success{{{probe}}} == 0"),
            "5m",
            Critical,
            ("Clients cannot reach the registry over TLS.", "The blackbox probe of {{ $labels.instance }} has failed for 5 minutes (connection, TLS verification with the bundle's CA, or status)."),
        ));
    }
    v
}
