//! Command-line types. Their doc comments are the `--help` text.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use registry_gen::KeyAlgorithm;

/// Generate everything a private TLS Docker registry on Kubernetes needs:
/// manifests, CA and server certificates, htpasswd, client and node trust
/// files, and start/delete/verify scripts, from one config.
#[derive(Debug, Parser)]
#[command(
    name = "registry-gen",
    version,
    propagate_version = true,
    after_help = "Start here:
  registry-gen init                  write a commented registry-gen.yaml
  registry-gen check --config registry-gen.yaml
  registry-gen render --config registry-gen.yaml --out out/

Exit codes: 0 ok, 1 failure (unreadable input, refused or failed write,
inspect found a problem), 2 usage or an invalid config. render --check:
0 up to date, 1 the bundle would change, 2 any error.
NO_COLOR (any value) turns colour off."
)]
pub struct Cli {
    /// Print only errors: no summary, notices or warnings on stderr.
    #[arg(
        long,
        short,
        global = true,
        env = "REGISTRY_GEN_QUIET",
        value_parser = clap::builder::FalseyValueParser::new()
    )]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented config to start from: every field with its default
    /// and a one-line explanation.
    ///
    /// Also writes the config's JSON Schema as registry-gen.schema.json beside
    /// it (unless that file exists), which the config's
    /// `# yaml-language-server: $schema=` line points editors at. Never
    /// overwrites an existing config. FILE `-` prints the config to stdout.
    #[command(
        after_help = "Examples:\n  registry-gen init\n  registry-gen init cluster/registry-gen.yaml\n  registry-gen init - | less"
    )]
    Init(InitArgs),

    /// Validate a config and print the plan: endpoints, ports, storage,
    /// TLS, auth, and what each client needs. Writes nothing.
    ///
    /// Given a bundle directory, checks its registry-gen.yaml and adds its
    /// certificates' expiry table and CA rotation step. Exits 2 when the
    /// config does not parse or is invalid, listing every problem at once.
    #[command(
        after_help = "Examples:\n  registry-gen check --config registry-gen.yaml\n  registry-gen check out/\n  REGISTRY_GEN_CONFIG=registry-gen.yaml registry-gen check"
    )]
    Check(CheckArgs),

    /// Render the bundle into a directory, or to stdout (the manifests, or a tar of it all).
    ///
    /// Settings come from the flags, then the --config file (fields it leaves
    /// out take their documented defaults), or without --config from the
    /// embedded default. With --out, an existing bundle there keeps its CA,
    /// its generated passwords and its HTTP secret. Without --out, every
    /// manifest is printed as one YAML stream for `kubectl apply -f -`, or
    /// with --format tar the whole bundle, secrets included, as a tar stream.
    #[command(after_help = "Examples:
  registry-gen render --out out/
  registry-gen render --config examples/minikube-nfs.yaml --out out/
  registry-gen render --node-ip 10.131.82.54 --dns-name yuan.test \\
      --node-port 30443 --out out/
  registry-gen render --user alice --password-stdin --out out/ < password.txt
  registry-gen render --config registry-gen.yaml --format tar > bundle.tar
  registry-gen render --out out/ --check       # in CI: exit 1 if out/ is stale
  registry-gen render --out out/ --format tar > bundle.tar   # reproducible
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
    /// certificate does not name. Then an expiry table (certificate,
    /// expires, residual time, certificate authority) and, for a bundle in
    /// a CA rotation, its step and the next one. Exits 1 when there is a
    /// problem, or with --fail-within when a certificate expires that soon.
    #[command(
        after_help = "Examples:\n  registry-gen inspect out/\n  registry-gen inspect out/ --fail-within 30d   # in a cron job or CI\n  registry-gen inspect /etc/docker/certs.d/10.131.82.54:30443/ca.crt"
    )]
    Inspect(InspectArgs),

    /// Print the JSON Schema of the config file (for editors and CI).
    #[command(after_help = "Example:\n  registry-gen schema > registry-gen.schema.json")]
    Schema,

    /// Print a shell completion script.
    #[command(after_help = "Examples:
  registry-gen completions bash > ~/.local/share/bash-completion/completions/registry-gen
  registry-gen completions zsh > ~/.zfunc/_registry-gen
  registry-gen completions fish > ~/.config/fish/completions/registry-gen.fish")]
    Completions(CompletionsArgs),

    /// Print the man page (roff).
    #[command(
        after_help = "Example:\n  registry-gen man > registry-gen.1 && man ./registry-gen.1"
    )]
    Man,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write the config; `-` for stdout.
    #[arg(value_name = "FILE", default_value = "registry-gen.yaml")]
    pub path: PathBuf,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// A bundle directory: check its registry-gen.yaml (unless --config is
    /// given) and show its certificates' expiry and CA rotation step.
    #[arg(value_name = "DIR")]
    pub bundle: Option<PathBuf>,
    /// Config file (YAML). Without it, the embedded default is checked.
    #[arg(long, value_name = "FILE", env = "REGISTRY_GEN_CONFIG")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// What `render` prints on stdout when there is no --out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The Kubernetes manifests as one YAML stream, for `kubectl apply -f -`.
    Yaml,
    /// The whole bundle as a tar stream, file modes kept, CA key and
    /// passwords included.
    Tar,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A bundle directory (its certs/ca.crt and certs/server.crt) or a PEM file.
    #[arg(value_name = "DIR|FILE")]
    pub path: PathBuf,

    /// Check the SANs against this config (default for a bundle: its registry-gen.yaml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Exit 1 when a certificate expires within DURATION (e.g. 30d, 12h,
    /// 2w, 90m; units s, m, h, d, w), for a cron job or CI.
    #[arg(long, value_name = "DURATION", value_parser = parse_within)]
    pub fail_within: Option<Within>,
}

/// A `--fail-within` duration, with the text it was given as.
#[derive(Debug, Clone)]
pub struct Within(pub time::Duration, pub String);

/// `30d`, `12h`, `2w`, `90m`, `45s`, or several (`1d12h`).
fn parse_within(s: &str) -> Result<Within, String> {
    let bad = || {
        format!("{s:?}: expected a duration such as 30d, 12h, 2w or 1d12h (units s, m, h, d, w)")
    };
    let mut total = time::Duration::ZERO;
    let mut digits = String::new();
    for c in s.trim().chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let n: i64 = digits.parse().map_err(|_| bad())?;
        digits.clear();
        let unit = match c {
            's' => time::Duration::SECOND,
            'm' => time::Duration::MINUTE,
            'h' => time::Duration::HOUR,
            'd' => time::Duration::DAY,
            'w' => time::Duration::WEEK,
            _ => return Err(bad()),
        };
        total = unit
            .checked_mul(i32::try_from(n).map_err(|_| bad())?)
            .and_then(|d| total.checked_add(d))
            .ok_or_else(bad)?;
    }
    if !digits.is_empty() || total.is_zero() {
        return Err(bad());
    }
    Ok(Within(total, s.trim().to_owned()))
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Write the bundle into DIR (created if missing). Without it, print the manifests to stdout.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Print the manifests (yaml) or the whole bundle (tar) on stdout. The
    /// tar stream holds the secrets too (CA key, server key, passwords,
    /// htpasswd), with their 0600 modes: keep it like a key. With --out DIR
    /// (tar only): the bundle in DIR re-rendered, its CA, passwords and
    /// salts kept, and DIR left as it is; the same bundle gives the same
    /// bytes run after run.
    #[arg(long, value_name = "FORMAT", value_enum)]
    pub format: Option<Format>,

    /// With --out DIR: write nothing; list each path a render would add,
    /// change, remove or set aside in DIR (a changed config, a certificate
    /// due for renewal, a CA rotation step), never contents. Exit 0 when
    /// nothing would change, 1 when something would, 2 on any error.
    #[arg(long, requires = "out", conflicts_with = "format")]
    pub check: bool,

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
    /// the old certs/ca.crt and certs/ca.key are kept beside it under a
    /// timestamped name (a counter added if that name is taken; never
    /// deleted) and every client must be given the new certs/ca.crt.
    #[arg(long, conflicts_with = "rotate_ca")]
    pub new_ca: bool,
    /// Replace the CA of --out in three steps, with no failed pull in
    /// between: `start` trusts a new CA (generated, or the one given with
    /// --ca-cert/--ca-key) beside the old one, which still signs; `switch`,
    /// once every node trusts both, signs the server certificate with the
    /// new CA; `finish` stops trusting the old CA and sets its files aside.
    /// The bundle records its step; re-renders keep it.
    #[arg(long, value_name = "STEP", value_parser = parse_ca_step)]
    pub rotate_ca: Option<registry_gen::CaStep>,

    /// Key algorithm of generated keys [config: tls.key_algorithm].
    #[arg(long, value_name = "ALG", value_parser = parse_key_algorithm, env = "REGISTRY_GEN_KEY_ALGORITHM")]
    pub key_algorithm: Option<KeyAlgorithm>,
}

fn parse_ca_step(s: &str) -> Result<registry_gen::CaStep, String> {
    s.parse()
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
