//! `registry-gen render`: config + flags → inputs → bundle → files or stdout.
//!
//! All reading (config, password and CA files, an earlier bundle, stdin) is
//! done before rendering, and nothing is written unless rendering succeeded.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use registry_gen::layout::{CA_CERT, CA_FILES, CA_ROTATION, SCRIPT_START};
use registry_gen::{
    CaFiles, CaInput, CaStep, Config, HostPathStorage, Inputs, NfsStorage, Password, S3Credentials,
    Secret, Storage, UpstreamInput, User,
};
use time::OffsetDateTime;

use crate::cli::{Format, RenderArgs};
use crate::term;

pub fn run(args: RenderArgs, quiet: bool) -> Result<()> {
    let (config, source) = effective_config(&args)?;
    registry_gen::validate(&config)?;
    if !quiet {
        if let Some(line) = source.describe(&config) {
            eprintln!("{line}");
        }
    }

    let mut inputs = Inputs::new(now()?);
    if let Some(ca) = &config.tls.ca {
        inputs.ca = Some(CaInput::External {
            cert_pem: read_text(&ca.cert_file, "tls.ca.cert_file")?,
            key: Secret::new(read_text(&ca.key_file, "tls.ca.key_file")?),
        });
    }
    if let Some(auth) = &config.auth {
        for user in &auth.users {
            if let Some(file) = &user.password_file {
                let text = read_text(file, &format!("password_file of user {:?}", user.name))?;
                let pw = text.lines().next().unwrap_or("").to_owned();
                inputs
                    .passwords
                    .insert(user.name.clone(), Password::given(Secret::new(pw)));
            }
        }
    }
    for (i, m) in config.mirrors.iter().enumerate() {
        let first_line = |f: &Path, field: &str| -> Result<Secret> {
            let text = read_text(f, &format!("mirrors[{i}].{field}"))?;
            Ok(Secret::new(text.lines().next().unwrap_or("").to_owned()))
        };
        let upstream = UpstreamInput {
            username: m
                .username_file
                .as_deref()
                .map(|f| first_line(f, "username_file"))
                .transpose()?,
            password: m
                .password_file
                .as_deref()
                .map(|f| first_line(f, "password_file"))
                .transpose()?,
            ca_pem: m
                .ca_file
                .as_deref()
                .map(|f| read_text(f, &format!("mirrors[{i}].ca_file")))
                .transpose()?,
        };
        inputs.upstreams.insert(m.upstream.clone(), upstream);
    }
    read_backend_files(&config, &mut inputs)?;
    if args.password_stdin {
        let user = args.user.clone().unwrap_or_default();
        inputs
            .passwords
            .insert(user, Password::given(read_password_stdin()?));
    }

    match &args.out {
        Some(dir) => {
            inputs.rotate_ca = args.rotate_ca;
            render_to_dir(&config, inputs, dir, args.new_ca, quiet)
        }
        None => render_to_stdout(&config, inputs, &args, quiet),
    }
}

fn render_to_dir(
    config: &Config,
    mut inputs: Inputs,
    dir: &Path,
    new_ca: bool,
    quiet: bool,
) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        bail!("--out {}: exists and is not a directory", dir.display());
    }
    let mut read_error = None;
    inputs.reuse_previous(config, &mut |rel| {
        if new_ca && (CA_FILES.contains(&rel) || rel == CA_ROTATION) {
            return None; // --new-ca: the old CAs are set aside below, not reused
        }
        match std::fs::read(dir.join(rel)) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                read_error.get_or_insert((dir.join(rel), e));
                None
            }
        }
    })?;
    if let Some((path, e)) = read_error {
        return Err(e).with_context(|| format!("reading the earlier bundle's {}", path.display()));
    }
    let reused_ca = matches!(inputs.ca, Some(CaInput::Kept { .. }));
    let now = inputs.now;
    inputs.fill_missing(config)?;
    let bundle = registry_gen::render(config, &inputs)?;
    // --new-ca: the old CA is set aside inside the same all-or-nothing
    // write, named after the render clock (SOURCE_DATE_EPOCH honoured).
    let finishing = inputs.rotate_ca == Some(CaStep::Finish);
    let rotation = inputs.rotation.as_ref().map(|r| r.step);
    let set_aside = if new_ca || finishing {
        bundle.write_replacing_ca(dir, now)?
    } else {
        bundle.write_to(dir)?;
        Vec::new()
    };
    if quiet {
        return Ok(());
    }

    let mut err = std::io::stderr().lock();
    for s in &set_aside {
        writeln!(
            err,
            "kept the old CA file {} as {}",
            dir.join(&s.path).display(),
            dir.join(&s.kept_as).display()
        )?;
    }
    match (rotation, finishing) {
        (Some(step), _) => writeln!(
            err,
            "CA rotation, {}: {}\nfirst: {}\nnext: registry-gen render --out {} --rotate-ca {}",
            step.taken(),
            step.describe(),
            step.before_next(),
            term::shell_word(&dir.display().to_string()),
            step.next().as_str()
        )?,
        (None, true) => writeln!(
            err,
            "CA rotation, {}: the old CA is no longer trusted; apply the trust files once more (scripts/trust-node.sh) to drop it from the nodes",
            CaStep::Finish
        )?,
        (None, false) => {}
    }
    for n in bundle.notices() {
        writeln!(err, "{n}")?;
    }
    for w in bundle.warnings() {
        term::warning(w);
    }
    writeln!(
        err,
        "wrote {} files to {}",
        bundle.files().count(),
        dir.display()
    )?;
    if reused_ca {
        writeln!(err, "kept the existing CA {}", dir.join(CA_CERT).display())?;
    }
    for path in bundle.generated_secrets() {
        let kind = if path.ends_with(".password") {
            "password"
        } else {
            "CA key"
        };
        if reused_ca && kind == "CA key" {
            continue;
        }
        writeln!(err, "{kind}: {} (mode 0600)", dir.join(path).display())?;
    }
    writeln!(
        err,
        "next: {}",
        term::shell_word(&dir.join(SCRIPT_START).display().to_string())
    )?;
    Ok(())
}

fn render_to_stdout(
    config: &Config,
    mut inputs: Inputs,
    args: &RenderArgs,
    quiet: bool,
) -> Result<()> {
    if args.new_ca {
        bail!("--new-ca replaces the CA of the bundle in --out; it needs --out DIR");
    }
    if args.rotate_ca.is_some() {
        bail!("--rotate-ca takes a step in the bundle in --out; it needs --out DIR");
    }
    if args.format == Some(Format::Tar) {
        return render_tar(config, inputs, quiet);
    }
    // Nothing generated may be thrown away: a CA key or a password that is
    // printed nowhere would be lost the moment this command ends.
    if inputs.ca.is_none() {
        bail!("without --out there is nowhere to keep a generated CA key: give --out DIR to write the whole bundle, or sign with an existing CA (--ca-cert FILE --ca-key FILE, e.g. /etc/kubernetes/pki/ca.crt and ca.key)");
    }
    if let Some(auth) = &config.auth {
        if let Some(u) = auth
            .users
            .iter()
            .find(|u| !inputs.passwords.contains_key(&u.name))
        {
            bail!(
                "without --out there is nowhere to keep a generated password for user {:?}: give --out DIR, or the password with --user {} --password-stdin or auth.users[].password_file",
                u.name,
                u.name
            );
        }
    }
    inputs.fill_missing(config)?;
    let bundle = registry_gen::render(config, &inputs)?;
    if !quiet {
        for w in bundle.warnings() {
            term::warning(w);
        }
    }
    let mut out = std::io::stdout().lock();
    out.write_all(bundle.manifest_stream().as_bytes())
        .and_then(|()| out.flush())
        .context("writing to stdout")?;
    Ok(())
}

/// `--format tar`: the whole bundle, secrets included (the user asked for
/// it), as a tar stream on stdout. Everything is generated fresh, as in a
/// first render into an empty directory; a terminal is refused.
fn render_tar(config: &Config, mut inputs: Inputs, quiet: bool) -> Result<()> {
    use std::io::IsTerminal;
    if std::io::stdout().is_terminal() {
        bail!("--format tar writes a binary tar stream that holds the CA key and passwords: redirect it to a file (> bundle.tar) or a pipe");
    }
    let mtime = u64::try_from(inputs.now.unix_timestamp()).unwrap_or(0);
    inputs.fill_missing(config)?;
    let bundle = registry_gen::render(config, &inputs)?;
    let tar = crate::tarball::to_tar(&bundle, mtime).context("building the tar stream")?;
    let mut out = std::io::stdout().lock();
    out.write_all(&tar)
        .and_then(|()| out.flush())
        .context("writing to stdout")?;
    if !quiet {
        for w in bundle.warnings() {
            term::warning(w);
        }
        eprintln!(
            "wrote {} files as a tar stream ({} bytes) to stdout; it holds the CA key and passwords",
            bundle.files().count(),
            tar.len()
        );
        match stdout_file() {
            Some(file) => eprintln!(
                "next: mkdir out && tar -xpf {} -C out && out/{SCRIPT_START}",
                term::shell_word(&file.display().to_string())
            ),
            None => eprintln!(
                "to deploy it: extract it with tar -xp into a new directory, then run that directory's {SCRIPT_START}"
            ),
        }
    }
    Ok(())
}

/// Where the settings of a render came from, for the line `render` prints
/// before it writes.
enum ConfigSource {
    /// --config FILE; with --out, the config the bundle there recorded
    /// (to name what the new file changes).
    File {
        recorded: Option<(PathBuf, Box<Config>)>,
    },
    /// The effective config an existing bundle in --out recorded.
    Bundle(PathBuf),
    /// Neither: the embedded default.
    Default,
}

impl ConfigSource {
    /// What `render` says before writing: which file it read, and what a
    /// newly given config changes of the bundle's identity (name,
    /// namespace, storage kind): objects under the old names, or the data
    /// in the old storage, stay where they are.
    fn describe(&self, new: &Config) -> Option<String> {
        match self {
            ConfigSource::Bundle(path) => Some(format!(
                "read the bundle's own config {} (give --config FILE to render from another)",
                path.display()
            )),
            ConfigSource::File {
                recorded: Some((path, old)),
            } => {
                let changes = identity_changes(old, new);
                (!changes.is_empty()).then(|| {
                    format!(
                        "note: this config changes {} of the bundle recorded in {}. scripts/start.sh will create new objects; the old ones ({} in namespace {}) stay on the cluster and the images stay in the old storage: nothing is moved or deleted. Delete the old objects with kubectl once you no longer need them.",
                        changes.join(", "),
                        path.display(),
                        old.name,
                        old.namespace
                    )
                })
            }
            ConfigSource::File { recorded: None } | ConfigSource::Default => None,
        }
    }
}

/// The settings that decide which objects and which data a bundle is,
/// each as "what: old -> new" when they differ.
fn identity_changes(old: &Config, new: &Config) -> Vec<String> {
    let mut changes = Vec::new();
    if old.name != new.name {
        changes.push(format!("the name {:?} -> {:?}", old.name, new.name));
    }
    if old.namespace != new.namespace {
        changes.push(format!(
            "the namespace {:?} -> {:?}",
            old.namespace, new.namespace
        ));
    }
    if old.storage.kind() != new.storage.kind() {
        changes.push(format!(
            "the storage {} -> {}",
            old.storage.kind(),
            new.storage.kind()
        ));
    }
    changes
}

/// The config an existing bundle in `dir` recorded (its effective
/// `registry-gen.yaml`), if there is one.
fn recorded_config(dir: &Path) -> Result<Option<(PathBuf, Box<Config>)>> {
    let path = dir.join(registry_gen::layout::CONFIG);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(e)
                .with_context(|| format!("reading the bundle's config {}", path.display()))
        }
    };
    let c = Config::from_yaml(&text).with_context(|| {
        format!(
            "{}: the config this bundle recorded does not read back; give the config to render from with --config FILE",
            path.display()
        )
    })?;
    Ok(Some((path, Box::new(c))))
}

/// The regular file stdout was redirected to, if it was (Linux's
/// /proc/self/fd/1), so the printed `next:` names the file the tar is in.
fn stdout_file() -> Option<PathBuf> {
    let path = std::fs::read_link("/proc/self/fd/1").ok()?;
    std::fs::metadata(&path).ok()?.is_file().then_some(path)
}

/// The --config file (fields it leaves out take their documented
/// defaults); without one, the config the bundle in --out recorded when
/// there is one, else the embedded default; then the flags on top.
fn effective_config(args: &RenderArgs) -> Result<(Config, ConfigSource)> {
    let recorded = match &args.out {
        Some(dir) if dir.is_dir() => recorded_config(dir)?,
        _ => None,
    };
    let (mut c, source) = match (&args.config, recorded) {
        (Some(path), recorded) => {
            let text = read_text(path, "--config")?;
            let mut c = Config::from_yaml(&text).with_context(|| format!("{}", path.display()))?;
            resolve_paths(&mut c, path.parent().unwrap_or(Path::new(".")));
            (c, ConfigSource::File { recorded })
        }
        (None, Some((path, c))) => (*c, ConfigSource::Bundle(path)),
        (None, None) => (Config::embedded_default(), ConfigSource::Default),
    };
    if let Some(v) = &args.name {
        c.name = v.clone();
    }
    if let Some(v) = &args.namespace {
        c.namespace = v.clone();
    }
    if let Some(v) = &args.image {
        c.image = v.clone();
    }
    if !args.node_ips.is_empty() {
        c.addresses.node_ips = args.node_ips.clone();
    }
    if !args.dns_names.is_empty() {
        c.addresses.dns_names = args.dns_names.clone();
    }
    if let Some(v) = args.container_port {
        c.ports.container = v;
    }
    if let Some(v) = args.host_port {
        c.ports.host = Some(v);
    }
    if let Some(v) = args.node_port {
        c.ports.node = Some(v);
    }
    if let (Some(server), Some(path)) = (&args.nfs_server, &args.nfs_path) {
        let mut nfs = match &c.storage {
            Storage::Nfs(n) => n.clone(),
            _ => NfsStorage {
                server: String::new(),
                path: String::new(),
                size: "10Gi".to_owned(),
                access_modes: vec![registry_gen::AccessMode::ReadWriteOnce],
                storage_class_name: String::new(),
            },
        };
        nfs.server = server.clone();
        nfs.path = path.clone();
        c.storage = Storage::Nfs(nfs);
    }
    if let Some(path) = &args.host_path {
        let node = match (&args.host_path_node, &c.storage) {
            (Some(n), _) => n.clone(),
            (None, Storage::HostPath(h)) => h.node.clone(),
            (None, _) => bail!("--host-path needs --host-path-node NODE: the pod must be pinned to the node that holds the directory"),
        };
        c.storage = Storage::HostPath(HostPathStorage {
            path: path.clone(),
            node,
        });
    }
    if let Some(size) = &args.storage_size {
        match &mut c.storage {
            Storage::Nfs(n) => n.size = size.clone(),
            Storage::Pvc(p) => p.size = size.clone(),
            _ => bail!("--storage-size applies to nfs or pvc storage only"),
        }
    }
    if let Some(user) = &args.user {
        let auth = c.auth.get_or_insert_with(Default::default);
        auth.users = vec![User {
            name: user.clone(),
            password_file: None,
        }];
    }
    if let (Some(cert), Some(key)) = (&args.ca_cert, &args.ca_key) {
        c.tls.ca = Some(CaFiles {
            cert_file: absolute(cert)?,
            key_file: absolute(key)?,
        });
    }
    if let Some(alg) = args.key_algorithm {
        c.tls.key_algorithm = alg;
    }
    Ok((c, source))
}

/// Paths in a config file are relative to the file's directory; they are
/// made absolute so the bundle's effective `registry-gen.yaml` still finds
/// them when re-rendered from anywhere.
fn resolve_paths(c: &mut Config, base: &Path) {
    let join = |p: &mut PathBuf| {
        if p.is_relative() && !p.as_os_str().is_empty() {
            let joined = base.join(&*p);
            *p = std::path::absolute(&joined).unwrap_or(joined);
        }
    };
    if let Some(ca) = &mut c.tls.ca {
        join(&mut ca.cert_file);
        join(&mut ca.key_file);
    }
    if let Some(auth) = &mut c.auth {
        for u in &mut auth.users {
            if let Some(f) = &mut u.password_file {
                join(f);
            }
        }
    }
    for m in &mut c.mirrors {
        for f in [&mut m.username_file, &mut m.password_file, &mut m.ca_file]
            .into_iter()
            .flatten()
        {
            join(f);
        }
    }
    if let Storage::S3(s3) = &mut c.storage {
        for f in [
            &mut s3.access_key_file,
            &mut s3.secret_key_file,
            &mut s3.ca_file,
        ]
        .into_iter()
        .flatten()
        {
            join(f);
        }
    }
    if let Some(f) = c
        .cache
        .redis
        .as_mut()
        .and_then(|r| r.password_file.as_mut())
    {
        join(f);
    }
}

/// The S3 keys, the S3 endpoint's CA and the Redis password, from the files
/// the config names (a key or password is the file's first line, exactly:
/// spaces kept, only its line ending dropped).
fn read_backend_files(config: &Config, inputs: &mut Inputs) -> Result<()> {
    let first_line = |path: &Path, what: &str| -> Result<Secret> {
        let text = read_text(path, what)?;
        Ok(Secret::new(text.lines().next().unwrap_or("")))
    };
    if let Storage::S3(s3) = &config.storage {
        if let (Some(a), Some(k)) = (&s3.access_key_file, &s3.secret_key_file) {
            inputs.backends.s3_credentials = Some(S3Credentials {
                access_key: first_line(a, "storage.s3.access_key_file")?,
                secret_key: first_line(k, "storage.s3.secret_key_file")?,
            });
        }
        if let Some(ca) = &s3.ca_file {
            inputs.backends.s3_ca_pem = Some(read_text(ca, "storage.s3.ca_file")?);
        }
    }
    if let Some(f) = config
        .cache
        .redis
        .as_ref()
        .and_then(|r| r.password_file.as_ref())
    {
        inputs.backends.redis_password = Some(first_line(f, "cache.redis.password_file")?);
    }
    Ok(())
}

fn absolute(p: &Path) -> Result<PathBuf> {
    std::path::absolute(p).with_context(|| format!("{}", p.display()))
}

pub(crate) fn read_text(path: &Path, what: &str) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("{what}: reading {}", path.display()))
}

fn read_password_stdin() -> Result<Secret> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("--password-stdin: reading standard input")?;
    let pw = line.trim_end_matches(['\n', '\r']);
    if pw.is_empty() {
        bail!("--password-stdin: standard input held no password (expected it on the first line)");
    }
    Ok(Secret::new(pw))
}

/// The clock: `SOURCE_DATE_EPOCH` (reproducible builds) when set, else now.
pub(crate) fn now() -> Result<OffsetDateTime> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) => {
            let secs: i64 = v.trim().parse().with_context(|| {
                format!("SOURCE_DATE_EPOCH={v:?}: expected seconds since 1970-01-01")
            })?;
            OffsetDateTime::from_unix_timestamp(secs)
                .with_context(|| format!("SOURCE_DATE_EPOCH={v:?}: out of range"))
        }
        Err(_) => Ok(OffsetDateTime::now_utc()),
    }
}
