//! Driver for the rainbowtype provisioning firmware: single command bytes, paced PEM uploads, echo checks, the `q` run.
//!
//! The firmware handles one UART event at a time, looks only at the first byte of a chunk in
//! command mode and discards whatever arrived meanwhile (`uart_flush()`). So the driver sends one
//! command byte per write and waits for its reply (or, where there is none, for the line to stay
//! idle long enough for the event to be handled) before the next write. Success is never taken
//! from the success line alone: the `p`/`o` echoes must equal the uploads, and the `q` transcript
//! must show every read-back comparison and no failure marker.

mod config;

use std::time::Duration;

use crate::firmware::{CertUpload, ChipLock, FirmwareKind, Hello, KeyMaterial, ProvisioningFirmware, Verification, WriteReport};
use crate::parse::{self, normalise, rainbowtype as p};
use crate::{pem, BoardError, SerialLink};

pub use config::{check_locked_config, RAINBOWTYPE_CONFIG};

/// Largest PEM text a certificate buffer takes (1000 bytes with its NUL).
const MAX_CERT_PEM: usize = 999;
/// Largest DER a certificate decodes into.
const MAX_CERT_DER: usize = 500;
/// Largest root-key PEM text (200-byte buffer).
const MAX_ROOT_PEM: usize = 199;
/// Upload attempts before giving up.
const UPLOAD_ATTEMPTS: u32 = 3;
/// Attempts of idempotent single-byte commands (`r`, `s`, `k`).
const COMMAND_ATTEMPTS: u32 = 3;

/// Idle gaps the firmware's receive model needs between writes that get no reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pacing {
    /// Quiet time after a command's reply (or a mode byte) before the next write, on top of the bytes' wire time.
    pub command_gap: Duration,
    /// Quiet time after each PEM line, on top of its wire time.
    pub line_gap: Duration,
}

impl Default for Pacing {
    fn default() -> Self {
        Pacing { command_gap: Duration::from_millis(5), line_gap: Duration::from_millis(5) }
    }
}

/// Per-step deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RainbowtypeTimeouts {
    /// Boot output (config dump) after opening.
    pub boot: Duration,
    /// Silence after opening that makes the driver probe with `s` (boot output already read elsewhere).
    pub silent_probe: Duration,
    /// `r` until `Ready.`.
    pub configure: Duration,
    /// `s` until 18 bytes.
    pub serial: Duration,
    /// `k` until the PEM end line.
    pub key: Duration,
    /// `p` / `o` until the echo is complete.
    pub echo: Duration,
    /// `q` until the success line or an abort.
    pub provision: Duration,
}

impl Default for RainbowtypeTimeouts {
    fn default() -> Self {
        RainbowtypeTimeouts {
            boot: Duration::from_secs(5),
            silent_probe: Duration::from_millis(1500),
            configure: Duration::from_secs(10),
            serial: Duration::from_secs(1),
            key: Duration::from_secs(3),
            echo: Duration::from_secs(3),
            provision: Duration::from_secs(30),
        }
    }
}

/// A board running the rainbowtype firmware.
#[derive(Debug)]
pub struct Rainbowtype {
    link: SerialLink,
    pacing: Pacing,
    timeouts: RainbowtypeTimeouts,
    dump: Option<p::BootDump>,
    probed_serial: Option<[u8; 9]>,
    /// The boot output was not seen: an interrupted host may have left an accept mode open.
    resumed: bool,
}

enum Boot {
    Dump(p::BootDump),
    Other(&'static str),
    Silent,
}

/// Line time of `bytes` bytes at 115200 8N1.
fn wire_time(bytes: usize) -> Duration {
    Duration::from_micros(bytes as u64 * 10 * 1_000_000 / u64::from(crate::DEFAULT_BAUD))
}

impl Rainbowtype {
    /// A driver on an open link with default pacing and deadlines.
    pub fn new(link: SerialLink) -> Self {
        Rainbowtype { link, pacing: Pacing::default(), timeouts: RainbowtypeTimeouts::default(), dump: None, probed_serial: None, resumed: false }
    }

    /// Other pacing (tune on hardware).
    pub fn with_pacing(mut self, pacing: Pacing) -> Self {
        self.pacing = pacing;
        self
    }

    /// Other deadlines.
    pub fn with_timeouts(mut self, timeouts: RainbowtypeTimeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// The boot dump seen by the handshake, if any.
    pub fn boot_dump(&self) -> Option<&p::BootDump> {
        self.dump.as_ref()
    }

    /// Sends one command byte, after the line has been idle for the command gap.
    fn command(&mut self, byte: u8) -> Result<(), BoardError> {
        self.link.clear();
        self.link.write(&[byte])
    }

    /// Waits until the handler that produced a reply has finished (its `uart_flush()` ran).
    fn settle(&mut self, bytes: usize) -> Result<(), BoardError> {
        self.link.wait_quiet(wire_time(bytes) + self.pacing.command_gap, Duration::from_secs(5))
    }

    fn wait_boot(&mut self) -> Result<Boot, BoardError> {
        let mut quiet = crate::link::QuietTracker::new(self.link.clock().clone());
        let silent_after = self.timeouts.silent_probe;
        self.link.read_until("the board's boot output (Config Zone data)", self.timeouts.boot, |raw| {
            let text = normalise(raw);
            match p::boot_dump(&text) {
                Ok(Some(dump)) => return Some(Ok(Boot::Dump(dump))),
                Err(e) => return Some(Err(e)),
                Ok(None) => {}
            }
            if let Some(other) = parse::identify(&text).filter(|f| *f != "rainbowtype") {
                return Some(Ok(Boot::Other(other)));
            }
            quiet.quiet_for(raw.len(), silent_after).then_some(Ok(Boot::Silent))
        })?
    }

    /// `s` with retries; the reply is exactly 18 raw bytes.
    fn serial_command(&mut self) -> Result<[u8; 9], BoardError> {
        let mut last = None;
        for _ in 0..COMMAND_ATTEMPTS {
            self.command(b's')?;
            match self.link.read_until("18 serial characters after `s`", self.timeouts.serial, |raw| p::serial_reply(raw).transpose()) {
                Ok(Ok(serial)) => {
                    self.settle(18)?;
                    return Ok(serial);
                }
                Ok(Err(e)) | Err(e) if e.is_transient() => {
                    self.settle(0)?;
                    last = Some(e);
                }
                Ok(Err(e)) | Err(e) => return Err(e),
            }
        }
        Err(last.expect("at least one attempt"))
    }

    /// Sends a PEM text in the accept mode `mode`: the mode byte alone, then one line per write.
    fn upload(&mut self, mode: u8, text: &str, gap_scale: u32) -> Result<(), BoardError> {
        self.command(mode)?;
        self.link.wait_quiet(wire_time(1) + self.pacing.command_gap * gap_scale, Duration::from_secs(5))?;
        for line in text.split_inclusive('\n') {
            self.link.write(line.as_bytes())?;
            // The line's own wire time, plus once more for a bridge (or simulator) that delivers it late,
            // plus the handler's gap: the next line must not land before `uart_flush()` ran. A lost footer
            // leaves the accept mode open and sends the next upload into this buffer, so it waits longer.
            let footer = line.starts_with("-----END");
            let gap = if footer { self.pacing.command_gap * 4 } else { self.pacing.line_gap };
            self.link.wait_quiet(wire_time(line.len()) * 2 + gap * gap_scale, Duration::from_secs(5))?;
        }
        // The reference host's final empty line (ignored in command mode).
        self.link.write(b"\n")?;
        self.link.wait_quiet(wire_time(1) + self.pacing.command_gap * gap_scale, Duration::from_secs(5))
    }

    /// Ends any accept mode a lost footer left open (footers are ignored in command mode).
    fn leave_accept_modes(&mut self, gap_scale: u32) -> Result<(), BoardError> {
        // The short root-key buffer (200 bytes) first: its footer adds less to a certificate buffer than the
        // certificate footer would add to it.
        for footer in ["-----END PUBLIC KEY-----\n", "-----END CERTIFICATE-----\n"] {
            self.link.write(footer.as_bytes())?;
            self.link.wait_quiet(wire_time(footer.len()) + self.pacing.line_gap * gap_scale, Duration::from_secs(5))?;
        }
        Ok(())
    }

    /// `p` and `o`: the board's buffers must start with exactly what was sent (a stale tail may follow).
    fn echo_check(&mut self, signer: &str, device: &str, root: &str) -> Result<(), BoardError> {
        self.command(b'p')?;
        let parts = self.link.read_until("the `p` echo", self.timeouts.echo, |raw| p::echo_reply(raw, 2).transpose())??;
        self.settle(0)?;
        if !parts[0].starts_with(signer.as_bytes()) {
            return Err(BoardError::EchoMismatch { what: "signer certificate" });
        }
        if !parts[1].starts_with(device.as_bytes()) {
            return Err(BoardError::EchoMismatch { what: "device certificate" });
        }
        self.command(b'o')?;
        let parts = self.link.read_until("the `o` echo", self.timeouts.echo, |raw| p::echo_reply(raw, 1).transpose())??;
        self.settle(0)?;
        if !parts[0].starts_with(root.as_bytes()) {
            return Err(BoardError::EchoMismatch { what: "root public key" });
        }
        Ok(())
    }
}

fn check_size(what: &'static str, size: usize, limit: usize) -> Result<(), BoardError> {
    if size > limit {
        return Err(BoardError::TooLarge { what, size, limit });
    }
    Ok(())
}

/// The three PEM texts of an upload, size-checked against the firmware's buffers.
fn upload_texts(upload: &CertUpload) -> Result<(String, String, String), BoardError> {
    check_size("signer certificate DER", upload.signer_der.len(), MAX_CERT_DER)?;
    check_size("device certificate DER", upload.device_der.len(), MAX_CERT_DER)?;
    let signer = pem::encode("CERTIFICATE", &upload.signer_der);
    let device = pem::encode("CERTIFICATE", &upload.device_der);
    let root = pem::encode("PUBLIC KEY", &pem::spki(&upload.root_public_key));
    check_size("signer certificate PEM", signer.len(), MAX_CERT_PEM)?;
    check_size("device certificate PEM", device.len(), MAX_CERT_PEM)?;
    check_size("root public key PEM", root.len(), MAX_ROOT_PEM)?;
    Ok((signer, device, root))
}

impl ProvisioningFirmware for Rainbowtype {
    fn kind(&self) -> FirmwareKind {
        FirmwareKind::Rainbowtype
    }

    fn handshake(&mut self) -> Result<Hello, BoardError> {
        match self.wait_boot()? {
            Boot::Dump(dump) => {
                if dump.config_locked() {
                    check_locked_config(&dump.config)?;
                }
                let hello = Hello { version: None, serial: Some(dump.serial()), config_locked: Some(dump.config_locked()), resumed: false };
                self.dump = Some(dump);
                // Bytes sent before the UART driver is installed are lost: let the boot finish.
                self.settle(0)?;
                Ok(hello)
            }
            Boot::Other(found) => Err(BoardError::WrongFirmware { expected: "rainbowtype", found: found.into() }),
            Boot::Silent => {
                // Someone read the boot output already: ask for the serial to learn what answers. No
                // answer may mean an accept mode left open by an interrupted host: close it, ask again.
                self.resumed = true;
                let first = match self.serial_command() {
                    Err(BoardError::Timeout { .. }) => {
                        self.leave_accept_modes(1)?;
                        self.serial_command()
                    }
                    other => other,
                };
                let serial = first.map_err(|e| match e {
                    BoardError::Timeout { waited_ms, tail, .. } => BoardError::Timeout {
                        waiting_for: "boot output or a reply to `s` (a rainbowtype board answers nothing after a finished run until it is reset)",
                        waited_ms,
                        tail,
                    },
                    BoardError::Malformed { .. } => {
                        let text = self.link.tail();
                        BoardError::WrongFirmware { expected: "rainbowtype", found: parse::identify(&text).unwrap_or("another program").into() }
                    }
                    other => other,
                })?;
                self.probed_serial = Some(serial);
                Ok(Hello { version: None, serial: Some(serial), config_locked: None, resumed: true })
            }
        }
    }

    fn configure_and_lock(&mut self) -> Result<ChipLock, BoardError> {
        let locked_before = match &self.dump {
            Some(dump) if dump.config_locked() => {
                check_locked_config(&dump.config)?;
                dump.data_locked()
            }
            Some(_) => false,
            None => true,
        };
        let mut last = None;
        for _ in 0..COMMAND_ATTEMPTS {
            self.command(b'r')?;
            match self.link.read_until("`Ready.` after `r`", self.timeouts.configure, |raw| p::configure_reply(&normalise(raw)).transpose()) {
                Ok(result) => {
                    result?;
                    self.settle(0)?;
                    return Ok(ChipLock { chip_type: "TrustCustom".into(), locked_now: Some(!locked_before) });
                }
                Err(e @ BoardError::Timeout { .. }) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.expect("at least one attempt"))
    }

    fn read_serial(&mut self) -> Result<[u8; 9], BoardError> {
        let serial = self.serial_command()?;
        if let Some(dump) = &self.dump {
            if dump.serial() != serial {
                return Err(BoardError::Malformed { what: "serial", reason: "`s` and the boot dump name different chips".into() });
            }
        }
        Ok(serial)
    }

    fn public_key(&mut self, _known: Option<&[u8; 64]>) -> Result<KeyMaterial, BoardError> {
        let mut last = None;
        for _ in 0..2 {
            self.command(b'k')?;
            match self.link.read_until("the public key PEM after `k`", self.timeouts.key, |raw| p::public_key_reply(&normalise(raw)).transpose()) {
                Ok(result) => {
                    let key = result?;
                    self.settle(0)?;
                    return Ok(KeyMaterial { public_key: key, csr_der: None, generated: false });
                }
                Err(e @ BoardError::Timeout { .. }) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.expect("at least one attempt"))
    }

    fn write_certificates(&mut self, upload: &CertUpload) -> Result<WriteReport, BoardError> {
        let (signer, device, root) = upload_texts(upload)?;
        if self.resumed {
            self.leave_accept_modes(1)?;
        }
        let mut last = None;
        for attempt in 1..=UPLOAD_ATTEMPTS {
            let scale = 1 << (attempt - 1);
            if attempt > 1 {
                self.leave_accept_modes(scale)?;
            }
            self.upload(b'c', &signer, scale)?;
            self.upload(b'v', &device, scale)?;
            self.upload(b'b', &root, scale)?;
            match self.echo_check(&signer, &device, &root) {
                Ok(()) => return Ok(WriteReport { checks: vec!["upload-echo-p".into(), "upload-echo-o".into()], attempts: attempt }),
                Err(e) if e.is_transient() => {
                    tracing::debug!(attempt, error = %e, "rainbowtype upload not confirmed; sending again");
                    last = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.expect("at least one attempt"))
    }

    fn verify(&mut self, _upload: &CertUpload) -> Result<Verification, BoardError> {
        self.command(b'q')?;
        let report = self.link.read_until("the provisioning transcript after `q`", self.timeouts.provision, |raw| {
            p::provisioning_transcript(&normalise(raw)).transpose()
        })??;
        let mut methods = vec!["upload-echo".to_string(), "no-failure-markers".to_string()];
        if report.read_back_compared {
            methods.push("firmware-read-back-compare".into());
        }
        if report.serial_compared {
            methods.push("slot13-serial-compare".into());
        }
        Ok(Verification { methods })
    }

    fn link(&self) -> &SerialLink {
        &self.link
    }
}
