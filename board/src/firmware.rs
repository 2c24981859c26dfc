//! The [`ProvisioningFirmware`] trait the station's pipeline drives, and the data crossing it.

use std::sync::Arc;

use serde::Serialize;

use crate::{BoardError, CancelToken, Clock, EspHelper, Rainbowtype, SerialLink, DEFAULT_BAUD};

/// The provisioning firmwares Keyline drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "kebab-case")]
pub enum FirmwareKind {
    /// kmwebnet rainbowtype-provisioning2 (flashed).
    Rainbowtype,
    /// Espressif esp_cryptoauth_utility helper v1.2.0 (RAM-loaded).
    EspHelper,
}

impl FirmwareKind {
    /// The CLI / ledger name.
    pub fn as_str(self) -> &'static str {
        match self {
            FirmwareKind::Rainbowtype => "rainbowtype",
            FirmwareKind::EspHelper => "esp-helper",
        }
    }
    /// Parses `rainbowtype` or `esp-helper`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "rainbowtype" => Some(FirmwareKind::Rainbowtype),
            "esp-helper" => Some(FirmwareKind::EspHelper),
            _ => None,
        }
    }
    /// The console rates this firmware's UART can run at (both are built for 115200 8N1 only).
    pub fn console_bauds(self) -> &'static [u32] {
        match self {
            FirmwareKind::Rainbowtype | FirmwareKind::EspHelper => &[DEFAULT_BAUD],
        }
    }
    /// The certificate profile whose definitions this firmware compiles.
    pub fn profile_name(self) -> &'static str {
        match self {
            FirmwareKind::Rainbowtype => "rainbowtype",
            FirmwareKind::EspHelper => "esp-cryptoauthlib",
        }
    }
}

/// What the handshake learned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Hello {
    /// Firmware version, when the firmware tells it.
    pub version: Option<String>,
    /// The chip serial, when the boot output shows it.
    pub serial: Option<[u8; 9]>,
    /// Whether the config zone was already locked (when known).
    pub config_locked: Option<bool>,
    /// Whether the board had to be probed because its boot output had been read by someone else.
    pub resumed: bool,
}

/// The chip after configure-and-lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChipLock {
    /// Chip type as the firmware names it (TrustCustom, …).
    pub chip_type: String,
    /// Whether this run locked the zones (None: the firmware does not tell).
    pub locked_now: Option<bool>,
}

/// The device key the board reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMaterial {
    /// Slot-0 public key, X ‖ Y.
    pub public_key: [u8; 64],
    /// A CSR signed by the chip, when the firmware makes one (DER).
    pub csr_der: Option<Vec<u8>>,
    /// Whether a new key pair was generated now.
    pub generated: bool,
}

/// The certificates to store on the chip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertUpload {
    /// Signer CA certificate, DER.
    pub signer_der: Vec<u8>,
    /// Device certificate, DER.
    pub device_der: Vec<u8>,
    /// Root CA public key, X ‖ Y (rainbowtype stores it in slot 15).
    pub root_public_key: [u8; 64],
    /// Espressif cert-def string of the device certificate (`provide-cert-def 0`).
    pub device_cert_def: Option<String>,
    /// Espressif cert-def string of the signer certificate (`provide-cert-def 1`).
    pub signer_cert_def: Option<String>,
}

/// What writing proved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WriteReport {
    /// Checks done while writing (e.g. `upload-echo`, `crc32`).
    pub checks: Vec<String>,
    /// Upload attempts needed (1 = first try).
    pub attempts: u32,
}

/// How the write was verified on the board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    /// Every means used, e.g. `firmware-read-back-compare`, `crc32-status`, `slot0-public-key`.
    pub methods: Vec<String>,
}

/// A provisioning firmware on one board. Each method is one pipeline step with its own deadline.
pub trait ProvisioningFirmware: Send + std::fmt::Debug {
    /// Which firmware this driver speaks.
    fn kind(&self) -> FirmwareKind;
    /// Waits for the firmware to be ready (boot output or handshake) and checks it is this firmware.
    fn handshake(&mut self) -> Result<Hello, BoardError>;
    /// Configures (where the firmware does) and locks the chip; refuses foreign configurations.
    fn configure_and_lock(&mut self) -> Result<ChipLock, BoardError>;
    /// Reads the 9-byte chip serial.
    fn read_serial(&mut self) -> Result<[u8; 9], BoardError>;
    /// Reads (or, with `known` = None and a firmware that can, generates) the device key and CSR.
    /// `known` is the key the ledger holds for this chip: a driver then keeps the key if the chip has it.
    fn public_key(&mut self, known: Option<&[u8; 64]>) -> Result<KeyMaterial, BoardError>;
    /// Sends the certificates to the board.
    fn write_certificates(&mut self, upload: &CertUpload) -> Result<WriteReport, BoardError>;
    /// Verifies the stored certificates by every means the firmware offers.
    fn verify(&mut self, upload: &CertUpload) -> Result<Verification, BoardError>;
    /// The link (byte counts, log).
    fn link(&self) -> &SerialLink;
}

/// Opens `port` at 115200 and wraps it in the driver for `kind`, whose handshake reads the board's
/// start-up output.
///
/// A rainbowtype board is flashed: it is reset into a flash boot with `reset` once the port is open,
/// so its boot output (the config dump the handshake needs) reaches this host. The Espressif helper
/// lives in RAM: a reset would boot the flash and lose it, so its board is never reset here; the
/// handshake copes with a helper whose prompt was already printed.
pub fn open_driver(kind: FirmwareKind, port: &str, reset: &crate::ResetStrategy, clock: Arc<dyn Clock>, cancel: CancelToken, log: Option<crate::ByteLog>) -> Result<Box<dyn ProvisioningFirmware>, BoardError> {
    open_driver_with(kind, port, DEFAULT_BAUD, &crate::StepDeadlines::defaults(kind), reset, clock, cancel, log)
}

/// [`open_driver`] at the console rate `baud` (one of [`FirmwareKind::console_bauds`]) with the step `deadlines`.
#[allow(clippy::too_many_arguments)]
pub fn open_driver_with(
    kind: FirmwareKind,
    port: &str,
    baud: u32,
    deadlines: &crate::StepDeadlines,
    reset: &crate::ResetStrategy,
    clock: Arc<dyn Clock>,
    cancel: CancelToken,
    log: Option<crate::ByteLog>,
) -> Result<Box<dyn ProvisioningFirmware>, BoardError> {
    let mut link = SerialLink::open(port, baud, clock, cancel)?;
    if let Some(log) = log {
        link.set_log(log);
    }
    if kind == FirmwareKind::Rainbowtype {
        reset.reset(&mut link, crate::BootMode::Flash)?;
    }
    Ok(driver_with(kind, link, deadlines))
}

/// The driver for `kind` on a link that is already open (e.g. the port a RAM load left open, so
/// the started helper's prompt is not missed).
pub fn driver_on(kind: FirmwareKind, link: SerialLink) -> Box<dyn ProvisioningFirmware> {
    driver_with(kind, link, &crate::StepDeadlines::defaults(kind))
}

/// [`driver_on`] with the step `deadlines`.
pub fn driver_with(kind: FirmwareKind, link: SerialLink, deadlines: &crate::StepDeadlines) -> Box<dyn ProvisioningFirmware> {
    match kind {
        FirmwareKind::Rainbowtype => Box::new(Rainbowtype::new(link).with_timeouts(crate::RainbowtypeTimeouts::from_steps(deadlines))),
        FirmwareKind::EspHelper => Box::new(EspHelper::new(link).with_timeouts(crate::EspHelperTimeouts::from_steps(deadlines))),
    }
}
