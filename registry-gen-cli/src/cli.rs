//! Command-line types. Their doc comments are the `--help` text.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use registry_gen::KeyAlgorithm;

/// Generate everything a private TLS Docker registry on Kubernetes needs:
/// manifests, CA and server certificates, htpasswd, client and node trust
/// files, and start/delete/verify scripts, from one config.
#[derive(Debug, Parser)]
#[command(name = "registry-gen", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render the bundle into a directory, or the manifests to stdout.
    ///
    /// Settings come from the flags, then the --config file (fields it leaves
    /// out take their documented defaults), or without --config from the
    /// embedded default. With --out, an existing bundle there keeps its CA,
    /// its generated passwords and its HTTP secret. Without --out, every
    /// manifest is printed as one YAML stream for `kubectl apply -f -`.
    #[command(after_help = "Examples:
  registry-gen render --out out/
  registry-gen render --config examples/minikube-nfs.yaml --out out/
  registry-gen render --node-ip 10.131.82.54 --dns-name yuan.test \\
      --node-port 30443 --out out/
  registry-gen render --user alice --password-stdin --out out/ < password.txt
  registry-gen render --ca-cert /etc/kubernetes/pki/ca.crt \\
      --ca-key /etc/kubernetes/pki/ca.key \\
      --user alice --password-stdin < password.txt | kubectl apply -f -")]
    Render(Box<RenderArgs>),

    /// Inspect the certificates of a bundle directory or of any PEM file.
    ///
    /// Prints subject, issuer, key, validity with days left and names of
    /// each certificate, whether the server certificate verifies under the
    /// CA, and problems: expired, expiring within 30 days, a CN without
    /// SANs, or (for a bundle, or with --config) a configured address the
    /// certificate does not name. Exits 1 when there is a problem.
    #[command(
        after_help = "Examples:\n  registry-gen inspect out/\n  registry-gen inspect /etc/docker/certs.d/10.131.82.54:30443/ca.crt"
    )]
    Inspect(InspectArgs),
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A bundle directory (its certs/ca.crt and certs/server.crt) or a PEM file.
    #[arg(value_name = "DIR|FILE")]
    pub path: PathBuf,

    /// Check the SANs against this config (default for a bundle: its registry-gen.yaml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Write the bundle into DIR (created if missing). Without it, print the manifests to stdout.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Config file (YAML). Without it, the embedded default is used.
    #[arg(long, value_name = "FILE", env = "REGISTRY_GEN_CONFIG")]
    pub config: Option<PathBuf>,

    /// Base name of every object [config: name].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// Namespace to run in [config: namespace].
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,

    /// Registry image, e.g. registry:2.8.3 [config: image].
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,

    /// A node IP clients use; repeat for several. Replaces addresses.node_ips.
    #[arg(long = "node-ip", value_name = "IP")]
    pub node_ips: Vec<IpAddr>,

    /// A DNS name clients use; repeat for several. Replaces addresses.dns_names.
    #[arg(long = "dns-name", value_name = "NAME")]
    pub dns_names: Vec<String>,

    /// Port the registry listens on inside the pod [config: ports.container].
    #[arg(long, value_name = "PORT")]
    pub container_port: Option<u16>,

    /// Open this port on the node running the pod (hostPort) [config: ports.host].
    #[arg(long, value_name = "PORT")]
    pub host_port: Option<u16>,

    /// Expose the Service on this NodePort of every node [config: ports.node].
    #[arg(long, value_name = "PORT")]
    pub node_port: Option<u16>,

    /// Store images on this NFS server (with --nfs-path) [config: storage.nfs].
    #[arg(
        long,
        value_name = "HOST",
        requires = "nfs_path",
        conflicts_with = "host_path"
    )]
    pub nfs_server: Option<String>,

    /// Exported NFS directory (with --nfs-server).
    #[arg(long, value_name = "PATH", requires = "nfs_server")]
    pub nfs_path: Option<String>,

    /// Store images in this directory of one node [config: storage.host_path].
    #[arg(long, value_name = "PATH")]
    pub host_path: Option<String>,

    /// The node (kubernetes.io/hostname) that holds --host-path.
    #[arg(long, value_name = "NODE", requires = "host_path")]
    pub host_path_node: Option<String>,

    /// Size of the NFS volume or claim, e.g. 23Gi.
    #[arg(long, value_name = "QUANTITY")]
    pub storage_size: Option<String>,

    /// The registry's user (replaces auth.users). Its password comes from
    /// --password-stdin, or is generated into auth/NAME.password.
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,

    /// Read the password of --user from the first line of standard input.
    #[arg(long, requires = "user")]
    pub password_stdin: bool,

    /// Sign with this existing CA certificate (PEM), e.g. /etc/kubernetes/pki/ca.crt.
    #[arg(long, value_name = "FILE", requires = "ca_key")]
    pub ca_cert: Option<PathBuf>,

    /// The key of --ca-cert (PEM). It is never copied into the bundle.
    #[arg(long, value_name = "FILE", requires = "ca_cert")]
    pub ca_key: Option<PathBuf>,

    /// Start a new CA in --out, generated or the one given with --ca-cert:
    /// the old certs/ca.crt and certs/ca.key are renamed with a timestamp
    /// (never deleted) and every client must be given the new certs/ca.crt.
    #[arg(long)]
    pub new_ca: bool,

    /// Key algorithm of generated keys [config: tls.key_algorithm].
    #[arg(long, value_name = "ALG", value_parser = parse_key_algorithm)]
    pub key_algorithm: Option<KeyAlgorithm>,
}

fn parse_key_algorithm(s: &str) -> Result<KeyAlgorithm, String> {
    s.parse()
}

#[cfg(test)]
mod tests {
    #[test]
    fn verify_cli() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
