//! kmwebnet rainbowtype-provisioning2: single-byte commands, PEM accept modes and the `q` provisioning run.

use super::console::{self, Level};
use super::rainbowtype_provision;
use crate::atecc::config::RAINBOWTYPE_CONFIG;
use crate::atecc::{ChipError, Zone};
use crate::board::{Firmware, Hardware, Next};
use base64::Engine;

/// The firmware's static buffers (`signercert[1000]`, `devicecert[1000]`, `rootpubkey[200]`,
/// `serialstr[20]`), modelled as laid out back to back: an upload past its buffer's end overwrites
/// the next one (there is no bounds check; the real link order is unconfirmed).
const SIGNER_AT: usize = 0;
const DEVICE_AT: usize = 1000;
const ROOT_AT: usize = 2000;
const SERIAL_AT: usize = 2200;
const STATIC_END: usize = 2220;
/// ESP-IDF 4.2 `UART_FULL_THRESH_DEFAULT`: the RX ISR raises an event at 120 bytes in the FIFO
/// (or at the RX timeout, 10 symbol times after the last byte).
pub const RX_EVENT_BYTES: usize = 120;
/// `uart_driver_install(.., rx 4096, .., queue 10, ..)` in main.c.
const RX_RING: usize = 4096;
const EVENT_QUEUE: usize = 10;
const CERT_FOOTER: &[u8] = b"----END CERTIFICATE----";
const PUBKEY_FOOTER: &[u8] = b"----END PUBLIC KEY----";
/// DER header of a P-256 SubjectPublicKeyInfo up to the uncompressed point marker.
pub const SPKI_HEADER: [u8; 27] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE,
    0x3D, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
];

/// The build talks to the ATECC608A at 7-bit address 0x60 only (main.c `get_atecc608cfg`), i.e.
/// the 8-bit 0xC0 of a TrustCUSTOM part; a Trust&Go (0x6A) or TrustFLEX (0x6C) part never answers.
const FIRMWARE_I2C_ADDRESS: u8 = 0xC0;
/// `ATCA_COMM_FAIL`: what `atcab_init` returns when nothing answers (exact code unconfirmed).
pub(crate) const NO_DEVICE: u32 = 0xF0;

/// Whether the chip answers at the firmware's I²C address.
pub(crate) fn answers(hw: &Hardware) -> bool {
    hw.chip.i2c_address() == FIRMWARE_I2C_ADDRESS
}

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
    /// `certificateoffset` (uint16_t).
    offset: u16,
    /// The static buffers, see `SIGNER_AT`.
    mem: Vec<u8>,
    /// UART driver RX ring buffer and the UART_DATA events queued for the UART task.
    ring: std::collections::VecDeque<u8>,
    events: std::collections::VecDeque<usize>,
    pub(crate) cert_chain: Option<std::sync::Arc<super::CertChain>>,
}

impl Default for Rainbowtype {
    fn default() -> Self {
        Rainbowtype {
            state: State::Command,
            offset: 0,
            mem: vec![0; STATIC_END],
            ring: Default::default(),
            events: Default::default(),
            cert_chain: None,
        }
    }
}

impl Rainbowtype {
    /// A firmware build with the given compiled templates (None: derived from the uploads).
    pub fn with_cert_chain(cert_chain: Option<std::sync::Arc<super::CertChain>>) -> Self {
        Rainbowtype { cert_chain, ..Rainbowtype::default() }
    }

    /// `signercert` as a C string sees it (may run into the next buffer).
    pub(crate) fn signer_pem(&self) -> &[u8] {
        &self.mem[SIGNER_AT..]
    }
    /// `devicecert` as a C string sees it.
    pub(crate) fn device_pem(&self) -> &[u8] {
        &self.mem[DEVICE_AT..]
    }
    /// `rootpubkey` as a C string sees it.
    pub(crate) fn root_pem(&self) -> &[u8] {
        &self.mem[ROOT_AT..]
    }
    /// `serialstr` (20 bytes).
    pub(crate) fn serial_text(&self) -> [u8; 20] {
        self.mem[SERIAL_AT..STATIC_END].try_into().expect("20 bytes")
    }

    /// The RX ISR: bytes enter the ring buffer and raise UART_DATA events of at most
    /// `RX_EVENT_BYTES` (a full queue loses the event, a full ring flushes everything).
    fn isr(&mut self, chunk: &[u8], hw: &Hardware, out: &mut Vec<u8>) {
        for piece in chunk.chunks(RX_EVENT_BYTES) {
            if self.ring.len() + piece.len() > RX_RING {
                out.extend(console::log(Level::Info, hw.millis(), "MAIN", "ring buffer full"));
                self.ring.clear();
                self.events.clear();
                continue;
            }
            self.ring.extend(piece);
            if self.events.len() < EVENT_QUEUE {
                self.events.push_back(piece.len());
            }
        }
    }
}

impl Firmware for Rainbowtype {
    fn start(&mut self, hw: &mut Hardware) -> Vec<u8> {
        let mut out = console::flash_boot_banner(hw.millis());
        let (serial, config) = if answers(hw) {
            (hw.chip.serial(), hw.chip.read_config_zone())
        } else {
            // `ret=0x%08d` prints the status in decimal; the arrays stay as the stack left them (zeros here).
            for call in ["atcab_init() failed with ret=0x%\r\n", "atcab_read_serial_number() failed with ret=0x%/r/n", "atcab_read_config_zone() failed with ret=0x%/r/n"] {
                let text = call.replace('%', &format!("{:08}", NO_DEVICE));
                out.extend(console::log(Level::Error, hw.millis(), "MAIN", &text));
            }
            ([0u8; 9], [0u8; 128])
        };
        let text: String = serial.iter().map(|b| format!("{b:02x}")).collect();
        self.mem[SERIAL_AT..SERIAL_AT + 18].copy_from_slice(text.as_bytes());
        out.extend(console::log(Level::Info, hw.millis(), "MAIN", "Config Zone data:"));
        for row in config.chunks(8) {
            let line: String = row.iter().map(|b| format!("{b:02x} ")).collect();
            out.extend(console::printf(&format!("{line}\n")));
        }
        out
    }

    /// `uart_event_task`: for each queued UART_DATA event read exactly `event.size` bytes (waiting
    /// for them if the ring holds fewer), handle them, then `uart_flush()`: bytes that arrived
    /// meanwhile are gone, their events stay queued and later take bytes sent after them.
    fn receive(&mut self, chunk: &[u8], hw: &mut Hardware, out: &mut Vec<u8>) -> Next {
        if self.state == State::Provisioned {
            return Next::Stay;
        }
        self.isr(chunk, hw, out);
        while let Some(&size) = self.events.front() {
            if self.ring.len() < size || self.state == State::Provisioned {
                break;
            }
            self.events.pop_front();
            let data: Vec<u8> = self.ring.drain(..size).collect();
            match self.state {
                State::Provisioned => {}
                State::SignerCert => self.accept(&data, SIGNER_AT),
                State::DeviceCert => self.accept(&data, DEVICE_AT),
                State::RootKey => self.accept(&data, ROOT_AT),
                State::Command => self.command(data[0], hw, out),
            }
            if self.state != State::Provisioned {
                self.ring.clear();
            }
        }
        Next::Stay
    }

    /// Bytes that arrived while the task was busy handling an event: queued with their events,
    /// then discarded by that handler's `uart_flush()`.
    fn arrived_while_busy(&mut self, chunk: &[u8], hw: &mut Hardware, out: &mut Vec<u8>) {
        if self.state == State::Provisioned {
            return;
        }
        self.isr(chunk, hw, out);
        self.ring.clear();
    }

    /// The UART task calls `uart_flush()` after every event (until `q` deletes it).
    fn flushes_input(&self) -> bool {
        self.state != State::Provisioned
    }
}

impl Rainbowtype {
    /// `memcpy(&buf[certificateoffset], dtmp, event.size)` without a bounds check, then the footer
    /// test on this event's bytes only (`strstr` stops at the first NUL).
    fn accept(&mut self, chunk: &[u8], at: usize) {
        let start = at + usize::from(self.offset);
        for (i, &byte) in chunk.iter().enumerate() {
            // Past the modelled statics the bytes land in memory the model does not track.
            if let Some(slot) = self.mem.get_mut(start + i) {
                *slot = byte;
            }
        }
        self.offset = self.offset.wrapping_add(chunk.len() as u16);
        let footer = if at == ROOT_AT { PUBKEY_FOOTER } else { CERT_FOOTER };
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
            b's' => out.extend_from_slice(&self.mem[SERIAL_AT..SERIAL_AT + 18]),
            b'p' => {
                echo_chunks(&self.mem[SIGNER_AT..], out);
                echo_chunks(&self.mem[DEVICE_AT..], out);
            }
            b'o' => echo_chunks(&self.mem[ROOT_AT..], out),
            b'q' => {
                self.state = State::Provisioned;
                out.extend(rainbowtype_provision::run(self, &self.serial_text(), hw));
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
    if !answers(hw) {
        return out.extend(console::printf(&format!("Unable to initialize interface: {NO_DEVICE:x}\r\n")));
    }
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
    if !answers(hw) {
        return out.extend(console::printf(&format!("Unable to initialize interface: {NO_DEVICE:x}\r\n")));
    }
    match hw.chip.get_pubkey(0) {
        Err(e) => return out.extend(console::printf(&format!("get_pubkey on slot 0 failed: {:x}\r\n", e.atca_status()))),
        Ok(xy) => out.extend(console::printf(&public_key_pem(&xy))),
    }
    hw.output_done_at = Some(hw.clock.now());
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
