//! `registry-gen render`: config + flags → inputs → bundle → files or stdout.
//!
//! All reading (config, password and CA files, an earlier bundle, stdin) is
//! done before rendering, and nothing is written unless rendering succeeded.

pub mod check;
mod config;

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use registry_gen::layout::{CA_CERT, CA_FILES, CA_ROTATION, SCRIPT_START, SERVER_CERT};
use registry_gen::{
    Bundle, CaInput, CaStep, Config, Inputs, Password, S3Credentials, Secret, Storage,
    UpstreamInput,
};
use time::OffsetDateTime;

use crate::cli::{Format, RenderArgs};
use crate::term;
use config::effective_config;

pub fn run(args: RenderArgs, quiet: bool) -> Result<()> {
    let checking = args.check;
    let r = render(args, quiet);
    match r {
        Err(e) if checking && !e.is::<check::OutOfDate>() => Err(e.context(check::CouldNotCheck)),
        r => r,
    }
}

fn render(args: RenderArgs, quiet: bool) -> Result<()> {
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
        let mut upstream = UpstreamInput::default();
        upstream.username = m
            .username_file
            .as_deref()
            .map(|f| first_line(f, "username_file"))
            .transpose()?;
        upstream.password = m
            .password_file
            .as_deref()
            .map(|f| first_line(f, "password_file"))
            .transpose()?;
        upstream.ca_pem = m
            .ca_file
            .as_deref()
            .map(|f| read_text(f, &format!("mirrors[{i}].ca_file")))
            .transpose()?;
        inputs.upstreams.insert(m.upstream.clone(), upstream);
    }
    read_backend_files(&config, &mut inputs)?;
    if args.password_stdin {
        let user = args.user.clone().unwrap_or_default();
        inputs
            .passwords
            .insert(user, Password::given(read_password_stdin()?));
    }

    let Some(dir) = &args.out else {
        return render_to_stdout(&config, inputs, &args, quiet);
    };
    inputs.rotate_ca = args.rotate_ca;
    if args.check {
        return from_dir(&config, inputs, dir, args.new_ca).and_then(|r| check::run(&r, dir));
    }
    match args.format {
        None => render_to_dir(&config, inputs, dir, args.new_ca, quiet),
        Some(Format::Tar) => {
            if args.new_ca || args.rotate_ca.is_some() {
                bail!("--out DIR --format tar prints the bundle in DIR re-rendered and writes nothing: it takes no CA step (--new-ca, --rotate-ca); take the step with --out alone");
            }
            let r = from_dir(&config, inputs, dir, false)?;
            print_tar(&r.bundle, r.now, quiet)
        }
        Some(Format::Yaml) => bail!("--format yaml prints freshly made manifests and takes no --out; with --out DIR, kubectl apply -k DIR/manifests applies the bundle there (or --format tar prints all of it)"),
    }
}

/// A render that reuses what the bundle in `dir` holds (its CA,
/// passwords, salts, HTTP secret, and the certificate while it fits), for
/// a write, a `--check` or a tar of it.
pub(crate) struct FromDir {
    pub bundle: Bundle,
    /// The render clock.
    pub now: OffsetDateTime,
    /// The bundle's CA was kept.
    pub reused_ca: bool,
    /// The old CA is set aside (`--new-ca`, or a rotation's finish) at `now`.
    pub replacing_ca: bool,
    /// The CA rotation step the bundle is at after this render, if any.
    pub rotation: Option<registry_gen::RotationStep>,
}

fn from_dir(config: &Config, mut inputs: Inputs, dir: &Path, new_ca: bool) -> Result<FromDir> {
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
    let finishing = inputs.rotate_ca == Some(CaStep::Finish);
    Ok(FromDir {
        bundle,
        now,
        reused_ca,
        replacing_ca: new_ca || finishing,
        rotation: inputs.rotation.as_ref().map(|r| r.step),
    })
}

fn render_to_dir(
    config: &Config,
    inputs: Inputs,
    dir: &Path,
    new_ca: bool,
    quiet: bool,
) -> Result<()> {
    let FromDir {
        bundle,
        now,
        reused_ca,
        replacing_ca,
        rotation,
    } = from_dir(config, inputs, dir, new_ca)?;
    let finishing = replacing_ca && !new_ca;
    // --new-ca: the old CA is set aside inside the same all-or-nothing
    // write, named after the render clock (SOURCE_DATE_EPOCH honoured).
    let set_aside = if replacing_ca {
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

/// `--format tar` without --out: the whole bundle, secrets included (the
/// user asked for it), as a tar stream on stdout. Everything is generated
/// fresh, as in a first render into an empty directory.
fn render_tar(config: &Config, mut inputs: Inputs, quiet: bool) -> Result<()> {
    let now = inputs.now;
    inputs.fill_missing(config)?;
    let bundle = registry_gen::render(config, &inputs)?;
    print_tar(&bundle, now, quiet)
}

/// The bundle as a tar stream on stdout (a terminal is refused). Every
/// mtime is the server certificate's notBefore (when it was issued, by the
/// render clock of that render), so a bundle whose files are the same gives
/// the same stream, run after run.
fn print_tar(bundle: &Bundle, now: OffsetDateTime, quiet: bool) -> Result<()> {
    use std::io::IsTerminal;
    if std::io::stdout().is_terminal() {
        bail!("--format tar writes a binary tar stream that holds the CA key and passwords: redirect it to a file (> bundle.tar) or a pipe");
    }
    let issued = bundle.get(SERVER_CERT).and_then(|cert| {
        let named = [(SERVER_CERT, cert.contents.as_slice())];
        let report = registry_gen::inspect(&named, None, now).ok()?;
        report.certificates.first().map(|c| c.not_before)
    });
    let mtime = u64::try_from(issued.unwrap_or(now).unix_timestamp()).unwrap_or(0);
    let tar = crate::tarball::to_tar(bundle, mtime).context("building the tar stream")?;
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

/// The regular file stdout was redirected to, if it was (Linux's
/// /proc/self/fd/1), so the printed `next:` names the file the tar is in.
fn stdout_file() -> Option<PathBuf> {
    let path = std::fs::read_link("/proc/self/fd/1").ok()?;
    std::fs::metadata(&path).ok()?.is_file().then_some(path)
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
            inputs.backends.s3_credentials = Some(S3Credentials::new(
                first_line(a, "storage.s3.access_key_file")?,
                first_line(k, "storage.s3.secret_key_file")?,
            ));
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
