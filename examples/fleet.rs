//! A platform team's tool: one list of clusters in, one bundle per cluster
//! out. Every cluster starts from the same base config (the team's
//! defaults) and overrides only what differs: its name, its node IPs, its
//! DNS name and its NodePort. Each bundle gets its own CA, keys and
//! passwords; the bundles are written side by side under one directory.
//!
//! Run with `cargo run -p registry-gen --example fleet [OUT_DIR]` (default
//! `fleet-out/`); it prints one line per cluster.

use std::net::IpAddr;
use std::path::Path;

use registry_gen::{render, Bundle, Config, Inputs};

/// The fleet: in a real tool, a file the team keeps in git.
pub const CLUSTERS: &str = "\
# name      node IPs                    DNS name                    NodePort
edge-fra    10.1.0.11,10.1.0.12         registry.fra.example.test   30443
edge-ams    10.2.0.11                   registry.ams.example.test   30443
lab         192.168.56.10               registry.lab.example.test   31443
";

/// The team's defaults, shared by every cluster.
pub const BASE: &str = "\
namespace: registry
storage:
  pvc: {size: 50Gi}
auth:
  users:
    - name: ci
";

/// One cluster of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    /// Becomes the bundle's directory and the registry's object name.
    pub name: String,
    /// The nodes' IPs.
    pub node_ips: Vec<IpAddr>,
    /// The name clients use.
    pub dns_name: String,
    /// The Service's NodePort.
    pub node_port: u16,
}

/// Parse the whitespace-separated list (blank lines and `#` comments skipped).
pub fn parse_clusters(text: &str) -> Result<Vec<Cluster>, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let [name, ips, dns, port] = line.split_whitespace().collect::<Vec<_>>()[..] else {
                return Err(format!(
                    "{line:?}: expected name, node IPs, DNS name, NodePort"
                ));
            };
            let node_ips = ips
                .split(',')
                .map(|ip| {
                    ip.parse()
                        .map_err(|e| format!("{name}: node IP {ip:?}: {e}"))
                })
                .collect::<Result<_, _>>()?;
            let node_port = port
                .parse()
                .map_err(|e| format!("{name}: NodePort {port:?}: {e}"))?;
            Ok(Cluster {
                name: name.into(),
                node_ips,
                dns_name: dns.into(),
                node_port,
            })
        })
        .collect()
}

/// The base config with one cluster's values.
pub fn config_for(base: &Config, cluster: &Cluster) -> Config {
    let mut config = base.clone();
    config.name = format!("registry-{}", cluster.name);
    config.addresses.node_ips = cluster.node_ips.clone();
    config.addresses.dns_names = vec![cluster.dns_name.clone()];
    config.ports.host = None;
    config.ports.node = Some(cluster.node_port);
    config
}

/// Render every cluster's bundle at `now`, with fresh keys and passwords.
/// The first error stops the run, naming its cluster.
pub fn render_fleet(
    base: &Config,
    clusters: &[Cluster],
    now: time::OffsetDateTime,
) -> Result<Vec<(String, Bundle)>, String> {
    clusters
        .iter()
        .map(|cluster| {
            let config = config_for(base, cluster);
            let mut inputs = Inputs::new(now);
            let bundle = inputs
                .fill_missing(&config)
                .and_then(|()| render(&config, &inputs))
                .map_err(|e| format!("{}: {e}", cluster.name))?;
            Ok((cluster.name.clone(), bundle))
        })
        .collect()
}

/// One line per cluster: what a person checks after a fleet run.
pub fn report(fleet: &[(String, Bundle)]) -> String {
    fleet
        .iter()
        .map(|(name, bundle)| {
            let files = bundle.files().count();
            let secrets = bundle.generated_secrets().collect::<Vec<_>>().join(", ");
            let warnings = bundle.warnings().len();
            format!("{name}: {files} files, generated {secrets}, {warnings} warning(s)\n")
        })
        .collect()
}

#[allow(dead_code)] // the tests include this file for the functions above
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "fleet-out".into());
    let base = Config::from_yaml(BASE)?;
    let clusters = parse_clusters(CLUSTERS)?;
    let fleet = render_fleet(&base, &clusters, time::OffsetDateTime::now_utc())?;
    for (name, bundle) in &fleet {
        bundle.write_to(&Path::new(&out).join(name))?;
    }
    print!("{}", report(&fleet));
    Ok(())
}
