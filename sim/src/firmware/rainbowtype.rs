//! kmwebnet rainbowtype-provisioning2: single-byte commands, PEM accept modes and the `q` provisioning run.

use super::console::{self, Level};
use super::rainbowtype_provision;
use crate::atecc::config::RAINBOWTYPE_CONFIG;
use crate::atecc::{ChipError, Zone};
use crate::board::{Firmware, Hardware, Next};
use base64::Engine;

/// Sizes of the firmware's static PEM buffers.
const CERT_PEM_SIZE: usize = 1000;
const ROOT_PEM_SIZE: usize = 200;
const CERT_FOOTER: &[u8] = b"----END CERTIFICATE----";
const PUBKEY_FOOTER: &[u8] = b"----END PUBLIC KEY----";
/// DER header of a P-256 SubjectPublicKeyInfo up to the uncompressed point marker.
pub const SPKI_HEADER: [u8; 27] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE,
    0x3D, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
];

/// `stateflag` of the firmware.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    #[default]
    Command,
    SignerCert,
    DeviceCert,
    RootKey,
    /// After `q`: the UART task is gone, nothing is processed any more.
    Provisioned,
}

/// The firmware's RAM state; PEM buffers are never cleared (a shorter upload leaves a stale tail).
#[derive(Debug)]
pub struct Rainbowtype {
    state: State,
    offset: usize,
    serial_text: [u8; 20],
    pub(crate) signer_pem: Vec<u8>,
    pub(crate) device_pem: Vec<u8>,
    pub(crate) root_pem: Vec<u8>,
    pub(crate) cert_chain: Option<std::sync::Arc<super::CertChain>>,
}

impl Default for Rainbowtype {
    fn default() -> Self {
        Rainbowtype {
            state: State::Command,
            offset: 0,
            serial_text: [0; 20],
            signer_pem: vec![0; CERT_PEM_SIZE],
            device_pem: vec![0; CERT_PEM_SIZE],
            root_pem: vec![0; ROOT_PEM_SIZE],
            cert_chain: None,
        }
    }
}

impl Rainbowtype {
    /// A firmware build with the given compiled templates (None: derived from the uploads).
    pub fn with_cert_chain(cert_chain: Option<std::sync::Arc<super::CertChain>>) -> Self {
        Rainbowtype { cert_chain, ..Rainbowtype::default() }
    }
}

impl Firmware for Rainbowtype {
    fn start(&mut self, hw: &mut Hardware) -> Vec<u8> {
        let mut out = console::flash_boot_banner(hw.millis());
        let serial = hw.chip.serial();
        let text: String = serial.iter().map(|b| format!("{b:02x}")).collect();
        self.serial_text[..18].copy_from_slice(text.as_bytes());
        let config = hw.chip.read_config_zone();
        out.extend(console::log(Level::Info, hw.millis(), "MAIN", "Config Zone data:"));
        for row in config.chunks(8) {
            let line: String = row.iter().map(|b| format!("{b:02x} ")).collect();
            out.extend(console::printf(&format!("{line}\n")));
        }
        out
    }

    fn receive(&mut self, chunk: &[u8], hw: &mut Hardware, out: &mut Vec<u8>) -> Next {
        match self.state {
            State::Provisioned => {}
            State::SignerCert => self.accept(chunk, Buffer::Signer),
            State::DeviceCert => self.accept(chunk, Buffer::Device),
            State::RootKey => self.accept(chunk, Buffer::Root),
            State::Command => self.command(chunk[0], hw, out),
        }
        Next::Stay
    }

    /// The UART task calls `uart_flush()` after every event (until `q` deletes it).
    fn flushes_input(&self) -> bool {
        self.state != State::Provisioned
    }
}

#[derive(Clone, Copy)]
enum Buffer {
    Signer,
    Device,
    Root,
}

impl Rainbowtype {
    fn buffer(&mut self, which: Buffer) -> &mut Vec<u8> {
        match which {
            Buffer::Signer => &mut self.signer_pem,
            Buffer::Device => &mut self.device_pem,
            Buffer::Root => &mut self.root_pem,
        }
    }

    /// Appends one UART event to the active PEM buffer; the mode ends when this chunk (up to its
    /// first NUL, like `strstr`) holds the footer. The firmware has no bounds check; the model
    /// drops what would overflow the buffer instead of corrupting its neighbour.
    fn accept(&mut self, chunk: &[u8], which: Buffer) {
        let offset = self.offset;
        let buffer = self.buffer(which);
        let room = buffer.len().saturating_sub(offset);
        let n = chunk.len().min(room);
        buffer[offset..offset + n].copy_from_slice(&chunk[..n]);
        self.offset += chunk.len();
        let footer = if matches!(which, Buffer::Root) { PUBKEY_FOOTER } else { CERT_FOOTER };
        let text = chunk.split(|&b| b == 0).next().unwrap_or(&[]);
        if text.windows(footer.len()).any(|w| w == footer) {
            self.state = State::Command;
            self.offset = 0;
        }
    }

    fn command(&mut self, byte: u8, hw: &mut Hardware, out: &mut Vec<u8>) {
        match byte {
            b'r' => {
                configure(hw, out);
                out.extend(console::printf("Ready.\n"));
            }
            b'k' => create_keys(hw, out),
            b'c' => self.state = State::SignerCert,
            b'v' => self.state = State::DeviceCert,
            b'b' => self.state = State::RootKey,
            b's' => out.extend_from_slice(&self.serial_text[..18]),
            b'p' => {
                echo_chunks(&self.signer_pem, out);
                echo_chunks(&self.device_pem, out);
            }
            b'o' => echo_chunks(&self.root_pem, out),
            b'q' => {
                self.state = State::Provisioned;
                out.extend(rainbowtype_provision::run(self, &self.serial_text, hw));
            }
            _ => {}
        }
    }
}

/// `strlen(buf)/65 + 1` raw chunks of 65 bytes, NUL-padded.
fn echo_chunks(buffer: &[u8], out: &mut Vec<u8>) {
    let len = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
    for i in 0..len / 65 + 1 {
        let mut chunk = [0u8; 65];
        let start = (i * 65).min(buffer.len());
        let end = (start + 65).min(buffer.len());
        chunk[..end - start].copy_from_slice(&buffer[start..end]);
        out.extend_from_slice(&chunk);
    }
}

/// `atca_configure()`: write + lock the config table while unlocked, lock data + GenKey slot 0.
fn configure(hw: &mut Hardware, out: &mut Vec<u8>) {
    let chip = &mut hw.chip;
    chip.info();
    let fail = |what: &str, e: ChipError| console::printf(&format!("{what}: {:x}\r\n", e.atca_status()));
    if !chip.is_locked(Zone::Config) {
        if let Err(e) = chip.write_config_zone(&RAINBOWTYPE_CONFIG) {
            return out.extend(fail("Unable to program config zone", e));
        }
        if let Err(e) = chip.lock_zone(Zone::Config) {
            return out.extend(fail("Unable to lock config zone", e));
        }
    }
    if !chip.is_locked(Zone::Data) {
        if let Err(e) = chip.lock_zone(Zone::Data) {
            return out.extend(fail("Unable to lock data zone", e));
        }
        if let Err(e) = chip.genkey(0) {
            out.extend(fail("Genkey on slot 0 failed", e));
        }
    }
}

/// `createkeys()`: print slot 0's public key as PEM, then regenerate slot 1.
fn create_keys(hw: &mut Hardware, out: &mut Vec<u8>) {
    match hw.chip.get_pubkey(0) {
        Err(e) => return out.extend(console::printf(&format!("get_pubkey on slot 0 failed: {:x}\r\n", e.atca_status()))),
        Ok(xy) => out.extend(console::printf(&public_key_pem(&xy))),
    }
    if let Err(e) = hw.chip.genkey(1) {
        out.extend(console::printf(&format!("Genkey on slot 1 failed: {:x}\r\n", e.atca_status())));
    }
}

/// The PEM text the firmware prints: CryptoAuthLib base64 with `\r\n` after every 64 characters.
pub fn public_key_pem(xy: &[u8; 64]) -> String {
    let mut der = SPKI_HEADER.to_vec();
    der.extend_from_slice(xy);
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let body: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).expect("ascii")).collect();
    format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", body.join("\r\n"))
}
