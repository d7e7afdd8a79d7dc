//! Inspecting certificates: an existing bundle's or any PEM file's.
//!
//! Pure like `render`: the caller reads the files and passes their bytes.
//! The report names each certificate's subject, issuer, SANs, validity with
//! days left and key; whether the server certificate verifies under the CA;
//! and what to worry about (expiry, SANs that miss a configured address,
//! a CN without SANs, which Go clients reject).

use std::fmt;

use time::{Duration, OffsetDateTime};
use x509_parser::certificate::X509Certificate;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::inputs::Inputs;
use crate::plan::Plan;
use crate::x509;

/// One decoded certificate.
///
/// ```
/// # let config = registry_gen::Config::embedded_default();
/// # let mut inputs = registry_gen::Inputs::new(time::OffsetDateTime::now_utc());
/// # inputs.fill_missing(&config)?;
/// # let bundle = registry_gen::render(&config, &inputs)?;
/// let files = ["certs/ca.crt", "certs/server.crt"].map(|p| (p, bundle.get(p).unwrap().contents.as_slice()));
/// let report = registry_gen::inspect(&files, Some(&config), inputs.now)?;
/// let server = report.certificates.iter().find(|c| !c.is_ca).unwrap();
/// assert_eq!(server.source, "certs/server.crt");
/// assert!(server.sans.iter().any(|san| san.contains("localhost")));
/// assert_eq!(server.days_left, 824); // tls.server_validity_days, less today
/// assert_eq!(server.serial.split(':').count(), 16); // 128 random bits, made positive
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CertReport {
    /// Where it came from, e.g. `certs/server.crt` or `ca.pem #2`.
    pub source: String,
    /// Subject DN.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// Subject alternative names, as `DNS:name` and `IP:addr`.
    pub sans: Vec<String>,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// Whole days from `now` to `not_after` (negative once expired).
    pub days_left: i64,
    /// Key algorithm, e.g. `ECDSA P-256` or `RSA 2048`.
    pub key: String,
    /// basicConstraints CA:TRUE.
    pub is_ca: bool,
    /// The serial number in colon-separated lowercase hex (`5e:5e:...`;
    /// `openssl x509 -noout -serial` prints the same digits in upper case
    /// without colons): which certificate a server really serves.
    pub serial: String,
}

/// The result of [`inspect`].
///
/// ```
/// # let config = registry_gen::Config::embedded_default();
/// # let mut inputs = registry_gen::Inputs::new(time::OffsetDateTime::now_utc());
/// # inputs.fill_missing(&config)?;
/// # let bundle = registry_gen::render(&config, &inputs)?;
/// let files = ["certs/ca.crt", "certs/server.crt"].map(|p| (p, bundle.get(p).unwrap().contents.as_slice()));
/// let report = registry_gen::inspect(&files, Some(&config), inputs.now)?;
/// assert_eq!(report.certificates.len(), 2);
/// assert!(report.problems.is_empty() && report.warnings.is_empty());
/// assert!(matches!(report.chain, Some(Ok(_)))); // the CA verifies the server certificate
/// print!("{report}"); // as `registry-gen inspect` prints it
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Inspection {
    /// Every certificate found, in order.
    pub certificates: Vec<CertReport>,
    /// The chain verdict, when there is a leaf and a CA to check it against.
    pub chain: Option<std::result::Result<String, String>>,
    /// Things that break clients now: expired, chain fails, a configured
    /// address missing from the SANs, a server certificate without SANs.
    pub problems: Vec<String>,
    /// Things that will: expiry within [`Inputs::RENEW_BEFORE_DAYS`] days.
    pub warnings: Vec<String>,
    /// (certificate, the certificate of this inspection that signed it, or
    /// `self-signed`), for each one whose signer is known.
    pub signers: Vec<(String, String)>,
}

/// Inspect PEM files. Each entry is `(name, bytes)`; a file may hold several
/// certificates. When a `config` is given, the first non-CA certificate is
/// checked against the addresses it configures; the first CA certificate
/// is used to verify the first non-CA one.
///
/// ```
/// use registry_gen::{inspect, render, Config, Inputs};
///
/// let config = Config::embedded_default();
/// let mut inputs = Inputs::new(time::OffsetDateTime::now_utc());
/// inputs.fill_missing(&config)?;
/// let bundle = render(&config, &inputs)?;
/// let files = ["certs/ca.crt", "certs/server.crt"]
///     .map(|p| (p, bundle.get(p).unwrap().contents.as_slice()));
/// let report = inspect(&files, Some(&config), inputs.now)?;
/// assert!(report.problems.is_empty(), "{:?}", report.problems);
/// println!("{}", report.expiry_table(inputs.now));
/// # Ok::<(), registry_gen::Error>(())
/// ```
pub fn inspect(
    files: &[(&str, &[u8])],
    config: Option<&Config>,
    now: OffsetDateTime,
) -> Result<Inspection> {
    let ders = certificate_ders(files)?;
    let mut certs = Vec::new();
    for (source, der) in &ders {
        let cert = x509::parse(der).map_err(|e| Error::Input {
            what: source.clone(),
            problem: format!("is not a valid X.509 certificate ({e})"),
        })?;
        certs.push((source.clone(), cert));
    }
    let mut report = Inspection {
        certificates: Vec::new(),
        chain: None,
        problems: Vec::new(),
        warnings: Vec::new(),
        signers: signers(&certs),
    };
    for (source, cert) in &certs {
        let r = describe(source, cert, now);
        if r.days_left < 0 {
            report
                .problems
                .push(format!("{source}: expired on {}", r.not_after.date()));
        } else if r.days_left < Inputs::RENEW_BEFORE_DAYS {
            report.warnings.push(format!(
                "{source}: expires in {} days, on {}",
                r.days_left,
                r.not_after.date()
            ));
        }
        if !r.is_ca && r.sans.is_empty() {
            report.problems.push(format!(
                "{source}: has no subjectAltName, only a CN ({}): Go clients (Docker, containerd, kubelet, skopeo) reject it",
                r.subject
            ));
        }
        report.certificates.push(r);
    }
    let leaf = certs.iter().position(|(_, c)| !x509::is_ca(c));
    let ca = certs.iter().position(|(_, c)| x509::is_ca(c));
    if let (Some(l), Some(c)) = (leaf, ca) {
        let verdict = chain(&certs[l], &certs[c]);
        if let Err(e) = &verdict {
            report.problems.push(format!("chain: {e}"));
        }
        report.chain = Some(verdict);
    }
    if let (Some(config), Some(l)) = (config, leaf) {
        let unnamed = unnamed(config, &certs[l].1)?;
        for want in unnamed {
            report.problems.push(format!(
                "{}: does not name {want}, which the config lists: clients using it fail with a certificate error; re-render",
                report.certificates[l].source
            ));
        }
    }
    Ok(report)
}

/// Every certificate in `files`, as (source, DER): `name` when a file holds
/// one, `name #i` when it holds several. A file with none is an error.
fn certificate_ders(files: &[(&str, &[u8])]) -> Result<Vec<(String, Vec<u8>)>> {
    let mut ders = Vec::new();
    for (name, bytes) in files {
        let before = ders.len();
        for (i, pem) in x509::pems(bytes).enumerate() {
            let pem = pem.map_err(|e| Error::Input {
                what: (*name).to_owned(),
                problem: format!("is not PEM ({e})"),
            })?;
            if x509::is_certificate(&pem) {
                ders.push((format!("{name} #{}", i + 1), pem.contents));
            }
        }
        let found = ders.len() - before;
        if found == 0 {
            return Err(Error::Input {
                what: (*name).to_owned(),
                problem: "holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into(),
            });
        }
        if found == 1 {
            ders.last_mut().expect("one was pushed").0 = (*name).to_owned();
        }
    }
    Ok(ders)
}

/// Who signed each certificate: itself, or another one of them (a
/// self-signed root before a cross-signed copy of it).
fn signers(certs: &[(String, X509Certificate<'_>)]) -> Vec<(String, String)> {
    let signs = |ca: &X509Certificate<'_>, cert: &X509Certificate<'_>| {
        x509::is_ca(ca)
            && cert.issuer() == ca.subject()
            && cert.verify_signature(Some(ca.public_key())).is_ok()
    };
    let mut out = Vec::new();
    for (name, cert) in certs {
        let mut signers: Vec<&(String, X509Certificate<'_>)> = certs
            .iter()
            .filter(|(n, ca)| n != name && signs(ca, cert))
            .collect();
        signers.sort_by_key(|(_, ca)| !signs(ca, ca));
        if signs(cert, cert) {
            out.push((name.clone(), "self-signed".to_owned()));
        } else if let Some((ca_name, _)) = signers.first() {
            out.push((name.clone(), ca_name.clone()));
        }
    }
    out
}

/// Whether the first leaf is signed by the first CA, said either way.
fn chain(
    (leaf_name, leaf_cert): &(String, X509Certificate<'_>),
    (ca_name, ca_cert): &(String, X509Certificate<'_>),
) -> std::result::Result<String, String> {
    if leaf_cert.issuer() != ca_cert.subject() {
        Err(format!(
            "{leaf_name} was issued by {}, not by {ca_name} ({})",
            leaf_cert.issuer(),
            ca_cert.subject()
        ))
    } else if leaf_cert
        .verify_signature(Some(ca_cert.public_key()))
        .is_err()
    {
        Err(format!(
            "{leaf_name}'s signature does not verify with {ca_name}'s key"
        ))
    } else {
        Ok(format!("{leaf_name} is signed by {ca_name}"))
    }
}

/// The addresses the config's plan lists that the leaf does not name.
fn unnamed(config: &Config, leaf: &X509Certificate<'_>) -> Result<Vec<x509::San>> {
    crate::validate::validate(config)?;
    let plan = Plan::new(config, false)?;
    let sans = x509::sans(leaf);
    let ips = (plan.tls.ip_sans.iter())
        .filter(|ip| !x509::names_ip(&sans, **ip))
        .map(|ip| x509::San::Ip(*ip));
    let dns = (plan.tls.dns_sans.iter())
        .filter(|d| !x509::names_dns(&sans, d))
        .map(|d| x509::San::Dns(d.clone()));
    Ok(ips.chain(dns).collect())
}

fn describe(source: &str, cert: &X509Certificate<'_>, now: OffsetDateTime) -> CertReport {
    let not_after = x509::not_after(cert);
    CertReport {
        source: source.to_owned(),
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        sans: x509::sans(cert).iter().map(x509::San::to_string).collect(),
        not_before: x509::not_before(cert),
        not_after,
        days_left: (not_after - now).whole_days(),
        key: x509::key_description(cert),
        is_ca: x509::is_ca(cert),
        serial: cert.raw_serial_as_string(),
    }
}

impl Inspection {
    /// The certificates that expire within `within` of `now` (or already
    /// have), for `registry-gen inspect --fail-within`.
    ///
    /// ```
    /// use time::Duration;
    /// # let config = registry_gen::Config::embedded_default();
    /// # let mut inputs = registry_gen::Inputs::new(time::OffsetDateTime::now_utc());
    /// # inputs.fill_missing(&config)?;
    /// # let bundle = registry_gen::render(&config, &inputs)?;
    /// let files = ["certs/ca.crt", "certs/server.crt"].map(|p| (p, bundle.get(p).unwrap().contents.as_slice()));
    /// let report = registry_gen::inspect(&files, Some(&config), inputs.now)?;
    /// assert!(report.expiring_within(inputs.now, Duration::days(30)).is_empty());
    /// let soon = report.expiring_within(inputs.now, Duration::days(900));
    /// assert_eq!(soon.len(), 1); // the server certificate (825 days), not the CA (3650)
    /// # Ok::<(), registry_gen::Error>(())
    /// ```
    pub fn expiring_within(&self, now: OffsetDateTime, within: Duration) -> Vec<&CertReport> {
        self.certificates
            .iter()
            .filter(|c| c.not_after <= now + within)
            .collect()
    }

    /// kubeadm's `certs check-expiration` table of these certificates at
    /// `now`: name, expiry, residual time, and the certificate authority.
    ///
    /// ```
    /// # let config = registry_gen::Config::embedded_default();
    /// # let mut inputs = registry_gen::Inputs::new(time::OffsetDateTime::now_utc());
    /// # inputs.fill_missing(&config)?;
    /// # let bundle = registry_gen::render(&config, &inputs)?;
    /// let files = ["certs/ca.crt", "certs/server.crt"].map(|p| (p, bundle.get(p).unwrap().contents.as_slice()));
    /// let report = registry_gen::inspect(&files, Some(&config), inputs.now)?;
    /// let table = report.expiry_table(inputs.now).to_string();
    /// let header = table.lines().next().unwrap();
    /// assert!(header.starts_with("CERTIFICATE"));
    /// assert!(table.contains("certs/server.crt") && table.contains("2y")); // 824 days
    /// # Ok::<(), registry_gen::Error>(())
    /// ```
    pub fn expiry_table(&self, now: OffsetDateTime) -> ExpiryTable<'_> {
        ExpiryTable {
            inspection: self,
            now,
        }
    }

    /// Which certificate of this inspection signed `c`: the source of the
    /// CA whose subject is its issuer and whose key verifies it (a root
    /// first), `self-signed` for a root, else the issuer's name.
    fn authority(&self, c: &CertReport) -> String {
        self.signers
            .iter()
            .find(|(leaf, _)| *leaf == c.source)
            .map(|(_, ca)| ca.clone())
            .unwrap_or_else(|| c.issuer.clone())
    }
}

/// See [`Inspection::expiry_table`].
///
/// ```
/// # let config = registry_gen::Config::embedded_default();
/// # let mut inputs = registry_gen::Inputs::new(time::OffsetDateTime::now_utc());
/// # inputs.fill_missing(&config)?;
/// # let bundle = registry_gen::render(&config, &inputs)?;
/// let files = ["certs/ca.crt", "certs/server.crt"].map(|p| (p, bundle.get(p).unwrap().contents.as_slice()));
/// let report = registry_gen::inspect(&files, Some(&config), inputs.now)?;
/// let table: registry_gen::ExpiryTable<'_> = report.expiry_table(inputs.now);
/// print!("{table}"); // CERTIFICATE  EXPIRES  RESIDUAL TIME  CERTIFICATE AUTHORITY
/// # Ok::<(), registry_gen::Error>(())
/// ```
pub struct ExpiryTable<'a> {
    inspection: &'a Inspection,
    now: OffsetDateTime,
}

/// A residual time as kubeadm prints it: `45s`, `59m`, `47h`, `364d`, `9y`;
/// `<invalid>` once expired.
///
/// ```
/// use registry_gen::residual;
/// use time::Duration;
///
/// assert_eq!(residual(Duration::seconds(45)), "45s");
/// assert_eq!(residual(Duration::hours(47)), "47h");
/// assert_eq!(residual(Duration::days(364)), "364d");
/// assert_eq!(residual(Duration::days(3650)), "10y");
/// assert_eq!(residual(Duration::seconds(-1)), "<invalid>");
/// ```
pub fn residual(left: Duration) -> String {
    if left.is_negative() {
        return "<invalid>".into();
    }
    let (s, m, h, d) = (
        left.whole_seconds(),
        left.whole_minutes(),
        left.whole_hours(),
        left.whole_days(),
    );
    if s < 60 {
        format!("{s}s")
    } else if m < 60 {
        format!("{m}m")
    } else if h < 48 {
        format!("{h}h")
    } else if d < 365 * 2 {
        format!("{d}d")
    } else {
        format!("{}y", d / 365)
    }
}

impl fmt::Display for ExpiryTable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fmt_time = time::macros::format_description!(
            "[month repr:short] [day], [year] [hour]:[minute] UTC"
        );
        let rows: Vec<[String; 4]> = std::iter::once([
            "CERTIFICATE".to_owned(),
            "EXPIRES".to_owned(),
            "RESIDUAL TIME".to_owned(),
            "CERTIFICATE AUTHORITY".to_owned(),
        ])
        .chain(self.inspection.certificates.iter().map(|c| {
            [
                c.source.clone(),
                c.not_after
                    .to_offset(time::UtcOffset::UTC)
                    .format(fmt_time)
                    .unwrap_or_else(|_| c.not_after.to_string()),
                residual(c.not_after - self.now),
                self.inspection.authority(c),
            ]
        }))
        .collect();
        let width = |i: usize| rows.iter().map(|r| r[i].len()).max().unwrap_or(0);
        let widths = [width(0), width(1), width(2)];
        for r in &rows {
            writeln!(
                f,
                "{:w0$}   {:w1$}   {:w2$}   {}",
                r[0],
                r[1],
                r[2],
                r[3],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2]
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for Inspection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.certificates {
            writeln!(f, "{}{}", c.source, if c.is_ca { " (CA)" } else { "" })?;
            writeln!(f, "  subject:  {}", c.subject)?;
            writeln!(f, "  issuer:   {}", c.issuer)?;
            writeln!(f, "  key:      {}", c.key)?;
            writeln!(f, "  serial:   {}", c.serial)?;
            writeln!(
                f,
                "  valid:    {} to {} ({} days left)",
                c.not_before.date(),
                c.not_after.date(),
                c.days_left
            )?;
            if !c.sans.is_empty() {
                writeln!(f, "  names:    {}", c.sans.join(", "))?;
            }
        }
        match &self.chain {
            Some(Ok(s)) => writeln!(f, "chain: ok, {s}")?,
            Some(Err(s)) => writeln!(f, "chain: FAILS, {s}")?,
            None => {}
        }
        for p in &self.problems {
            writeln!(f, "problem: {p}")?;
        }
        for w in &self.warnings {
            writeln!(f, "warning: {w}")?;
        }
        Ok(())
    }
}
