//! Certificate serial numbers, injected for reproducible output or drawn
//! from the OS CSPRNG.

use super::random_bytes;
use crate::error::Result;

/// A certificate serial number: 16 bytes, positive (top bit clear) and
/// never starting with a zero byte, so it always encodes as 16 bytes.
///
/// ```
/// use registry_gen::{layout, render, Config, Inputs, Serial};
///
/// let config = Config::embedded_default();
/// let mut inputs = Inputs::new(time::OffsetDateTime::now_utc());
/// inputs.serials.server = Some(Serial::from_bytes([0x5e; 16]));
/// inputs.fill_missing(&config)?; // draws the others
/// let bundle = render(&config, &inputs)?;
///
/// let pem = &bundle.get(layout::SERVER_CERT).unwrap().contents;
/// let (_, block) = x509_parser::pem::parse_x509_pem(pem).unwrap();
/// assert_eq!(block.parse_x509().unwrap().raw_serial(), [0x5e; 16]);
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Serial(pub(super) [u8; 16]);

impl Serial {
    /// A serial from 16 bytes (e.g. injected by a test): made positive and
    /// of full length.
    ///
    /// ```
    /// use registry_gen::Serial;
    ///
    /// // The first byte's top bit is cleared and the next one set; the rest is kept.
    /// assert_eq!(Serial::from_bytes([0xff; 16]).bytes()[..2], [0x7f, 0xff]);
    /// assert_eq!(Serial::from_bytes([0x00; 16]).bytes()[..2], [0x40, 0x00]);
    /// // So bytes that differ only in those two bits give the same serial.
    /// let mut top_bit_set = [0x5e; 16];
    /// top_bit_set[0] = 0xde;
    /// assert_eq!(Serial::from_bytes(top_bit_set), Serial::from_bytes([0x5e; 16]));
    /// ```
    pub fn from_bytes(mut bytes: [u8; 16]) -> Serial {
        bytes[0] = (bytes[0] & 0x7f) | 0x40;
        Serial(bytes)
    }

    /// The serial's bytes, big-endian.
    ///
    /// ```
    /// let serial = registry_gen::Serial::from_bytes([0xab; 16]);
    /// // As `openssl x509 -noout -serial` prints it:
    /// let hex: String = serial.bytes().iter().map(|b| format!("{b:02X}")).collect();
    /// assert_eq!(hex, "6BABABABABABABABABABABABABABABAB");
    /// ```
    pub fn bytes(&self) -> &[u8; 16] {
        &self.0
    }

    pub(super) fn random() -> Result<Serial> {
        let mut b = [0u8; 16];
        random_bytes(&mut b)?;
        Ok(Serial::from_bytes(b))
    }
}

/// The serials of one render: it issues at most one CA, one server
/// certificate and one cross-signed CA.
///
/// With serials, keys, clock, passwords, salts and HTTP secret fixed, a
/// render is reproducible: byte-identical with RSA keys (an ECDSA
/// signature is randomised, so the certificates would differ).
///
/// ```
/// use registry_gen::{render, CaInput, Config, Inputs, KeyAlgorithm, Password, Secret, Serial};
///
/// let mut config = Config::embedded_default();
/// config.tls.key_algorithm = KeyAlgorithm::Rsa2048;
/// # let mut drawn = Inputs::new(time::OffsetDateTime::now_utc());
/// # drawn.fill_missing(&config)?; // keys kept elsewhere, e.g. in a vault
/// # let (Some(CaInput::New { key: ca_key }), Some(server_key)) = (drawn.ca, drawn.server_key) else { unreachable!() };
/// let fixed = || {
///     let mut inputs = Inputs::new(time::macros::datetime!(2026-01-01 00:00 UTC));
///     inputs.serials.ca = Some(Serial::from_bytes([1; 16]));
///     inputs.serials.server = Some(Serial::from_bytes([2; 16]));
///     inputs.ca = Some(CaInput::New { key: ca_key.clone() });
///     inputs.server_key = Some(server_key.clone());
///     inputs.http_secret = Some(Secret::new("fixed-http-secret"));
///     let mut password = Password::given(Secret::new("fixed password"));
///     password.salt = Some([7; 16]);
///     inputs.passwords.insert("admin".into(), password);
///     inputs
/// };
/// assert_eq!(render(&config, &fixed())?, render(&config, &fixed())?);
/// # Ok::<(), registry_gen::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Serials {
    /// For a CA this render generates (a new CA, or the next one of a rotation).
    pub ca: Option<Serial>,
    /// For a server certificate this render issues.
    pub server: Option<Serial>,
    /// For the new CA cross-signed by the old one, which a CA rotation's
    /// second step serves after the server certificate.
    pub cross: Option<Serial>,
}
