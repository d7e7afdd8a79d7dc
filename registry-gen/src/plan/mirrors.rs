//! The mirrors' part of the plan: one pull-through cache per upstream
//! registry, each its own proxy-mode registry (Deployment, Service, data,
//! optional upstream credentials and CA) with its own endpoints, and what
//! the node runtimes need to route pulls of the upstream through it.
//!
//! Every name, port, path and key of a mirror is derived here, once, from
//! its `mirrors[]` entry and the main registry's plan.

use std::collections::BTreeMap;

use crate::config::{Config, Mirror};

use super::{
    data_plan, Endpoint, EnvValue, Literal, Manifest, ManifestKind, Plan, PortPlan, SecretText,
    Via, LABEL_INSTANCE, LABEL_MANAGED_BY, LABEL_NAME,
};

/// The host Docker Hub's images name (`docker.io/library/busybox`), and the
/// host that really serves them.
pub(crate) const DOCKER_HUB: &str = "docker.io";
const DOCKER_HUB_SERVER: &str = "registry-1.docker.io";
/// Other spellings of Docker Hub that validation turns away (write `docker.io`).
pub(crate) const DOCKER_HUB_ALIASES: [&str; 2] = ["index.docker.io", DOCKER_HUB_SERVER];

/// The label that tells the mirrors' pods apart (the selector's third key).
pub(super) const LABEL_MIRROR: &str = "registry-gen/mirror";

/// The Deployment's pod-template annotation for the upstream credentials
/// Secret (an env value from a Secret is fixed for a container's life).
pub(crate) const CHECKSUM_UPSTREAM: &str = "registry-gen/checksum-upstream";
/// ... and for the upstream CA ConfigMap (read when the registry starts).
pub(crate) const CHECKSUM_UPSTREAM_CA: &str = "registry-gen/checksum-upstream-ca";

/// The object name of the mirror of `upstream` in the bundle `name`:
/// `<name>-mirror-<upstream with '.' and ':' as '-'>`.
pub(crate) fn object_name(name: &str, upstream: &str) -> String {
    format!("{name}-mirror-{}", slug(upstream))
}

fn slug(upstream: &str) -> String {
    upstream
        .chars()
        .map(|c| if c == '.' || c == ':' { '-' } else { c })
        .collect()
}

/// The URL the mirror proxies (`proxy.remoteurl`): Docker Hub's real host
/// for `docker.io`, else the upstream itself over HTTPS.
pub(crate) fn remote_url(upstream: &str) -> String {
    if upstream == DOCKER_HUB {
        format!("https://{DOCKER_HUB_SERVER}")
    } else {
        format!("https://{upstream}")
    }
}

/// One pull-through cache.
#[derive(Debug)]
pub(crate) struct MirrorPlan {
    /// The registry host image names use (`docker.io`, `registry.k8s.io`):
    /// containerd's `certs.d` directory, CRI-O's prefix, k3s's mirror key.
    pub upstream: String,
    /// Name of its Deployment and Service (and the prefix of its other objects).
    pub name: String,
    /// `proxy.remoteurl`, and containerd's `server` when nodes may fall back.
    pub remote_url: String,
    /// Whether nodes may reach the upstream themselves.
    pub fallback: bool,
    /// `REGISTRY_PROXY_TTL` (registry 3.x).
    pub ttl: Option<String>,
    pub ports: PortPlan,
    pub data: super::DataPlan,
    /// Node addresses (hostPort and/or NodePort), then the Service.
    pub endpoints: Vec<Endpoint>,
    /// The Secret with the upstream login, if any.
    pub credentials: Option<UpstreamCredentials>,
    /// The ConfigMap with the CA it trusts for the upstream, if any.
    pub upstream_ca: Option<UpstreamCa>,
    pub strategy: &'static str,
    pub security: super::SecurityPlan,
    /// The registry's command in the image: see [`MirrorStart`].
    pub registry_command: Vec<String>,
}

/// The upstream login: a Secret read through env `secretKeyRef`s.
#[derive(Debug)]
pub(crate) struct UpstreamCredentials {
    pub secret: String,
    pub username: SecretText,
    pub password: SecretText,
}

/// The CA the mirror trusts for its upstream: a ConfigMap mounted in the
/// pod, named by `SSL_CERT_FILE`. Go reads it instead of its default
/// bundle file but still reads its default directories (`/etc/ssl/certs`,
/// the bundle file among them): the CA is added to the public roots.
#[derive(Debug)]
pub(crate) struct UpstreamCa {
    pub config_map: String,
    pub key: &'static str,
    pub volume: &'static str,
    pub mount_path: &'static str,
}

/// Where the upstream CA is mounted in a mirror's pod.
pub(crate) const UPSTREAM_CA_MOUNT: &str = "/upstream-ca";

/// How often a mirror serving its cache alone asks whether its upstream
/// answers again (the most the mirror lags behind the upstream's return).
const RETRY_SECONDS: u32 = 10;
/// How long one such question may take (the registry's own client gives
/// up on a connection after 30 s and on a TLS handshake after 10 s).
const PROBE_TIMEOUT_SECONDS: u32 = 10;

/// How a mirror's container starts: the registry image's `/bin/sh` runs
/// `scripts/mirror-start.sh` (embedded in the Deployment) around the
/// registry. Distribution in proxy mode asks the upstream for `/v2/` while
/// it starts and panics when no HTTP answer comes (`configureAuth`'s
/// `http.Get` in `registry/proxy`, then `panic(err.Error())` in
/// `handlers/app.go`; 2.8 and 3.x alike, distribution#4038), so a mirror
/// restarted while its upstream is unreachable would crash-loop. The
/// script starts the proxy only once the upstream gives any HTTP answer
/// (a 401 too: that is all the registry needs); until then it serves the
/// cache read-only from the same storage, with the proxy variables unset.
#[derive(Debug, Clone)]
pub(crate) struct MirrorStart {
    /// The shell, `-c` and the script come first in the command.
    pub shell: &'static str,
    /// The script's `$0` (what its messages are known by).
    pub name: &'static str,
    /// What the registry itself asks at start: `<remote url>/v2/`.
    pub probe_url: String,
    pub retry_seconds: u32,
    pub probe_timeout_seconds: u32,
    /// The variables unset for the cache-only registry: every
    /// `REGISTRY_PROXY_*` of [`MirrorPlan::proxy_env`].
    pub proxy_vars: Vec<&'static str>,
    /// The read-only switch (the garbage collection's, see `gc.rs`).
    pub readonly_env: &'static str,
    pub readonly_value: &'static str,
    /// The registry: `registry serve` and the image's own config file
    /// (`/etc/distribution/config.yml` in 3.x, kept as the image has it).
    pub registry: Vec<String>,
}

impl MirrorPlan {
    /// `main`: the private registry's ports, whose container port and
    /// debug listener (`registry.debug`) every mirror shares.
    pub(super) fn new(
        config: &Config,
        m: &Mirror,
        hosts: &[String],
        main: &PortPlan,
    ) -> MirrorPlan {
        let name = object_name(&config.name, &m.upstream);
        let ports = PortPlan {
            container: main.container,
            service: main.container,
            host: m.ports.host,
            node: m.ports.node,
            name: main.name,
            debug: main.debug,
        };
        let data = data_plan(
            &m.storage,
            &name,
            &config.namespace,
            &config.registry.data_path,
        );
        let mut endpoints = Vec::new();
        for host in hosts {
            for (port, via) in [(ports.host, Via::HostPort), (ports.node, Via::NodePort)] {
                if let Some(port) = port {
                    endpoints.push(Endpoint {
                        host: host.clone(),
                        port,
                        via,
                    });
                }
            }
        }
        endpoints.push(Endpoint {
            host: format!("{name}.{}.svc", config.namespace),
            port: ports.service,
            via: Via::Service,
        });
        let credentials = m.username_file.as_ref().map(|_| {
            let secret = format!("{name}-upstream");
            UpstreamCredentials {
                username: SecretText::new(secret.clone(), "username"),
                password: SecretText::new(secret.clone(), "password"),
                secret,
            }
        });
        let upstream_ca = m.ca_file.as_ref().map(|_| UpstreamCa {
            config_map: format!("{name}-upstream-ca"),
            key: "ca.crt",
            volume: "upstream-ca",
            mount_path: UPSTREAM_CA_MOUNT,
        });
        let (strategy, security) = super::workload_policy(&ports, &data);
        MirrorPlan {
            upstream: m.upstream.clone(),
            remote_url: remote_url(&m.upstream),
            fallback: m.fallback,
            ttl: m.ttl.clone(),
            name,
            ports,
            data,
            endpoints,
            credentials,
            upstream_ca,
            strategy,
            security,
            registry_command: vec![
                "registry".to_owned(),
                "serve".to_owned(),
                super::gc::image_config_file(&config.image).to_owned(),
            ],
        }
    }

    /// How its container starts: see [`MirrorStart`].
    pub fn start(&self) -> MirrorStart {
        MirrorStart {
            shell: "/bin/sh",
            name: "mirror-start",
            probe_url: format!("{}/v2/", self.remote_url),
            retry_seconds: RETRY_SECONDS,
            probe_timeout_seconds: PROBE_TIMEOUT_SECONDS,
            proxy_vars: self
                .proxy_env()
                .into_iter()
                .map(|(name, _)| name)
                .filter(|name| name.starts_with("REGISTRY_PROXY_"))
                .collect(),
            readonly_env: super::READONLY_ENV,
            readonly_value: super::READONLY_VALUE,
            registry: self.registry_command.clone(),
        }
    }

    /// The mirror's own manifests, in apply order: `manifests/mirror-<upstream>-<object>.yaml`.
    pub(super) fn manifests(&self, index: usize) -> Vec<Manifest> {
        let file = |what: &str| format!("manifests/mirror-{}-{what}.yaml", slug(&self.upstream));
        let mut v = Vec::new();
        if let super::DataSource::Claim(c) = &self.data.source {
            if c.pv.is_some() {
                v.push((
                    file("persistentvolume"),
                    ManifestKind::MirrorPersistentVolume(index),
                ));
            }
            v.push((
                file("persistentvolumeclaim"),
                ManifestKind::MirrorPersistentVolumeClaim(index),
            ));
        }
        if self.credentials.is_some() {
            v.push((
                file("secret-upstream"),
                ManifestKind::MirrorUpstreamSecret(index),
            ));
        }
        if self.upstream_ca.is_some() {
            v.push((file("upstream-ca"), ManifestKind::MirrorUpstreamCa(index)));
        }
        v.push((file("deployment"), ManifestKind::MirrorDeployment(index)));
        v.push((file("service"), ManifestKind::MirrorService(index)));
        v.into_iter()
            .map(|(path, kind)| Manifest { path, kind })
            .collect()
    }

    /// The Deployment's and the Service's selector.
    pub fn selector(&self, plan: &Plan) -> BTreeMap<String, String> {
        BTreeMap::from([
            (LABEL_NAME.to_owned(), "registry-mirror".to_owned()),
            (LABEL_INSTANCE.to_owned(), plan.name.to_owned()),
            (LABEL_MIRROR.to_owned(), slug(&self.upstream)),
        ])
    }

    /// Labels every object of this mirror carries.
    pub fn labels(&self, plan: &Plan) -> BTreeMap<String, String> {
        let mut l = self.selector(plan);
        l.insert(LABEL_MANAGED_BY.to_owned(), "registry-gen".to_owned());
        l
    }

    /// The endpoints nodes use (not the Service).
    pub fn node_endpoints(&self) -> impl Iterator<Item = &Endpoint> {
        self.endpoints.iter().filter(|e| e.via != Via::Service)
    }

    /// The endpoint runtimes try first: the first node address, else the Service.
    pub fn primary_endpoint(&self) -> &Endpoint {
        super::primary_endpoint(&self.endpoints)
    }

    /// containerd's `server` for the upstream: the upstream itself when
    /// nodes may fall back, else the mirror, so containerd never reaches
    /// for the upstream.
    pub fn containerd_server(&self) -> String {
        if self.fallback {
            self.remote_url.clone()
        } else {
            self.primary_endpoint().url()
        }
    }

    /// Whether the nodes trust the upstream's CA (`ca_file`) themselves:
    /// when they may fall back to the upstream.
    pub fn nodes_trust_upstream_ca(&self) -> bool {
        self.fallback && self.upstream_ca.is_some()
    }

    /// The proxy settings on top of the registry's own environment.
    pub fn proxy_env(&self) -> Vec<(&'static str, EnvValue)> {
        let mut env = vec![(
            "REGISTRY_PROXY_REMOTEURL",
            EnvValue::Text(self.remote_url.clone()),
        )];
        if let Some(c) = &self.credentials {
            env.push((
                "REGISTRY_PROXY_USERNAME",
                EnvValue::Secret(c.username.clone()),
            ));
            env.push((
                "REGISTRY_PROXY_PASSWORD",
                EnvValue::Secret(c.password.clone()),
            ));
        }
        if let Some(ttl) = &self.ttl {
            env.push(("REGISTRY_PROXY_TTL", EnvValue::Text(ttl.clone())));
        }
        if let Some(ca) = &self.upstream_ca {
            env.push((
                "SSL_CERT_FILE",
                EnvValue::Literal(Literal::path(ca.mount_path, ca.key)),
            ));
        }
        env
    }
}
