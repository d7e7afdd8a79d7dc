//! The bundle: an in-memory tree of files with their unix modes.
//!
//! Renderers add files; nothing here touches the filesystem: writing the
//! tree to a directory ([`Bundle::write_to`]) is the `write` module's job, the
//! library's only I/O. The same value gives the stdout YAML stream
//! ([`Bundle::manifest_stream`]), the snapshots and the CLI's tar stream.

use std::collections::{BTreeMap, BTreeSet};

use crate::plan::paths;

/// Mode of ordinary files.
pub const MODE_FILE: u32 = 0o644;
/// Mode of scripts.
pub const MODE_EXEC: u32 = 0o755;
/// Mode of private keys, password files and manifests holding Secret data.
pub const MODE_SECRET: u32 = 0o600;

/// One file of the bundle.
///
/// ```
/// # let config = registry_gen::Config::embedded_default();
/// # let mut inputs = registry_gen::Inputs::new(time::OffsetDateTime::now_utc());
/// # inputs.fill_missing(&config)?;
/// let bundle = registry_gen::render(&config, &inputs)?;
/// let start = bundle.get("scripts/start.sh").unwrap();
/// assert_eq!(start.mode, registry_gen::MODE_EXEC);
/// assert!(start.contents.starts_with(b"#!"));
/// // Debug shows the size and mode, never the bytes: a file may be a key.
/// let key = bundle.get("certs/ca.key").unwrap();
/// assert_eq!(key.mode, registry_gen::MODE_SECRET);
/// assert!(!format!("{key:?}").contains("PRIVATE KEY"));
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct File {
    /// The file's bytes.
    pub contents: Vec<u8>,
    /// Its unix permission bits.
    pub mode: u32,
}

impl std::fmt::Debug for File {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Contents may be secret: show only their size.
        write!(f, "File({} bytes, {:o})", self.contents.len(), self.mode)
    }
}

/// A rendered bundle: relative path → file, in stable (sorted) order.
///
/// ```
/// use registry_gen::{render, Config, Inputs};
///
/// let config = Config::from_yaml("name: hub\naddresses: {node_ips: [10.0.0.5]}\nports: {node: 30443}\n")?;
/// let mut inputs = Inputs::new(time::OffsetDateTime::now_utc());
/// inputs.fill_missing(&config)?;
/// let bundle = render(&config, &inputs)?;
/// // Paths are relative, `/`-separated, and iterate in sorted order.
/// let paths: Vec<&str> = bundle.files().map(|(path, _)| path).collect();
/// assert!(paths.windows(2).all(|w| w[0] < w[1]));
/// assert!(paths.contains(&"trust/docker/certs.d/10.0.0.5:30443/ca.crt"));
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bundle {
    files: BTreeMap<String, File>,
    manifests: Vec<String>,
    warnings: Vec<String>,
    notices: Vec<String>,
}

impl Bundle {
    pub(crate) fn add(&mut self, path: impl Into<String>, contents: impl Into<Vec<u8>>, mode: u32) {
        let path = path.into();
        debug_assert!(is_safe_relative(&path), "bundle path {path:?}");
        self.files.insert(
            path,
            File {
                contents: contents.into(),
                mode,
            },
        );
    }

    /// Record a Kubernetes manifest (already added as a file), in apply order.
    pub(crate) fn add_manifest(&mut self, path: &str, yaml: String, mode: u32) {
        self.manifests.push(path.to_owned());
        self.add(path, yaml, mode);
    }

    pub(crate) fn warn(&mut self, warning: String) {
        self.warnings.push(warning);
    }

    pub(crate) fn notice(&mut self, notice: String) {
        self.notices.push(notice);
    }

    /// Every file, sorted by path.
    ///
    /// ```
    /// # let config = registry_gen::Config::embedded_default();
    /// # let mut inputs = registry_gen::Inputs::new(time::macros::datetime!(2026-01-01 00:00 UTC));
    /// # inputs.fill_missing(&config)?;
    /// # let bundle = registry_gen::render(&config, &inputs)?;
    /// for (path, file) in bundle.files() {
    ///     println!("{:04o} {path}", file.mode);
    /// }
    /// assert!(bundle.files().any(|(path, _)| path == "certs/ca.crt"));
    /// # Ok::<(), registry_gen::Error>(())
    /// ```
    pub fn files(&self) -> impl Iterator<Item = (&str, &File)> {
        self.files.iter().map(|(p, f)| (p.as_str(), f))
    }

    /// One file by its bundle path, e.g. `manifests/deployment.yaml`.
    ///
    /// ```
    /// # let config = registry_gen::Config::embedded_default();
    /// # let mut inputs = registry_gen::Inputs::new(time::macros::datetime!(2026-01-01 00:00 UTC));
    /// # inputs.fill_missing(&config)?;
    /// # let bundle = registry_gen::render(&config, &inputs)?;
    /// let key = bundle.get(registry_gen::layout::SERVER_KEY).unwrap();
    /// assert_eq!(key.mode, registry_gen::MODE_SECRET);
    /// assert!(bundle.get("no/such/file").is_none());
    /// # Ok::<(), registry_gen::Error>(())
    /// ```
    pub fn get(&self, path: &str) -> Option<&File> {
        self.files.get(path)
    }

    /// Things the user should know (e.g. storage that loses data).
    ///
    /// ```
    /// # let config = registry_gen::Config::embedded_default();
    /// # let mut inputs = registry_gen::Inputs::new(time::macros::datetime!(2026-01-01 00:00 UTC));
    /// # inputs.fill_missing(&config)?;
    /// # let bundle = registry_gen::render(&config, &inputs)?;
    /// for warning in bundle.warnings() {
    ///     eprintln!("warning: {warning}");
    /// }
    /// # Ok::<(), registry_gen::Error>(())
    /// ```
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// What the render decided that a user may want to know (a certificate
    /// kept or renewed, and why).
    ///
    /// ```
    /// # let config = registry_gen::Config::embedded_default();
    /// # let mut inputs = registry_gen::Inputs::new(time::macros::datetime!(2026-01-01 00:00 UTC));
    /// # inputs.fill_missing(&config)?;
    /// # let bundle = registry_gen::render(&config, &inputs)?;
    /// // A first render keeps nothing, so it has nothing to explain.
    /// assert!(bundle.notices().is_empty());
    /// # Ok::<(), registry_gen::Error>(())
    /// ```
    pub fn notices(&self) -> &[String] {
        &self.notices
    }

    /// Paths of files whose contents registry-gen generated a secret for
    /// this render (a new CA key, generated passwords): the CLI tells the user where they are.
    ///
    /// ```
    /// # let config = registry_gen::Config::embedded_default();
    /// # let mut inputs = registry_gen::Inputs::new(time::macros::datetime!(2026-01-01 00:00 UTC));
    /// # inputs.fill_missing(&config)?;
    /// # let bundle = registry_gen::render(&config, &inputs)?;
    /// let generated: Vec<_> = bundle.generated_secrets().collect();
    /// assert_eq!(generated, ["auth/admin.password", "certs/ca.key"]);
    /// # Ok::<(), registry_gen::Error>(())
    /// ```
    pub fn generated_secrets(&self) -> impl Iterator<Item = &str> {
        self.files
            .keys()
            .map(String::as_str)
            .filter(|p| *p == paths::CA_KEY || paths::is_password(p))
    }

    /// Every directory of the bundle, parents first, with the mode
    /// [`Bundle::write_to`] gives it: 0700 where it holds a secret file,
    /// else 0755. For writers of other forms (a tar stream).
    ///
    /// ```
    /// # let config = registry_gen::Config::embedded_default();
    /// # let mut inputs = registry_gen::Inputs::new(time::macros::datetime!(2026-01-01 00:00 UTC));
    /// # inputs.fill_missing(&config)?;
    /// # let bundle = registry_gen::render(&config, &inputs)?;
    /// let dirs = bundle.directories();
    /// assert!(dirs.contains(&("auth".to_owned(), 0o700)));
    /// assert!(dirs.contains(&("scripts".to_owned(), 0o755)));
    /// # Ok::<(), registry_gen::Error>(())
    /// ```
    pub fn directories(&self) -> Vec<(String, u32)> {
        let mut dirs = BTreeSet::new();
        for path in self.files.keys() {
            let mut rest = path.as_str();
            while let Some((dir, _)) = rest.rsplit_once('/') {
                dirs.insert(dir);
                rest = dir;
            }
        }
        dirs.into_iter()
            .map(|d| {
                let secret = self.dir_holds_secret(&format!("{d}/x"));
                (d.to_owned(), if secret { 0o700 } else { 0o755 })
            })
            .collect()
    }

    /// Every Kubernetes manifest as one multi-document YAML stream, in apply
    /// order, for `kubectl apply -f -`.
    ///
    /// ```
    /// # let config = registry_gen::Config::embedded_default();
    /// # let mut inputs = registry_gen::Inputs::new(time::macros::datetime!(2026-01-01 00:00 UTC));
    /// # inputs.fill_missing(&config)?;
    /// # let bundle = registry_gen::render(&config, &inputs)?;
    /// let stream = bundle.manifest_stream();
    /// assert!(stream.contains("kind: Deployment"));
    /// assert!(stream.contains("\n---\n"));
    /// # Ok::<(), registry_gen::Error>(())
    /// ```
    pub fn manifest_stream(&self) -> String {
        crate::yaml::stream(self.manifests.iter().filter_map(|p| {
            self.files
                .get(p)
                .and_then(|f| std::str::from_utf8(&f.contents).ok())
        }))
    }

    /// Whether the directory of bundle path `rel` holds a secret file (it
    /// is then 0700).
    pub(crate) fn dir_holds_secret(&self, rel: &str) -> bool {
        let dir = rel.rsplit_once('/').map_or("", |(d, _)| d);
        self.files
            .iter()
            .any(|(p, f)| f.mode == MODE_SECRET && p.rsplit_once('/').map_or("", |(d, _)| d) == dir)
    }
}

/// A bundle path: relative, no empty, `.` or `..` component.
pub(crate) fn is_safe_relative(p: &str) -> bool {
    !p.is_empty()
        && !p.starts_with('/')
        && p.split('/').all(|s| !s.is_empty() && s != "." && s != "..")
}
