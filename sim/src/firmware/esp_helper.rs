//! Espressif esp_cryptoauth_utility helper v1.2.0: handshake, `>>` prompt, echoed command lines
//! and NUL-terminated payloads. The commands themselves live in `esp_helper_commands`.

use super::console::{self, Level};
use super::esp_helper_commands::{run_command, Session};
use super::libc_text::split_argv;
use crate::board::{Firmware, Hardware, Next};
use std::time::Duration;

/// The helper's version string.
pub const VERSION: &str = "v1.2.0";
/// The handshake prompt (no newline).
pub const HANDSHAKE_PROMPT: &[u8] = b"Initializing Command line: >>";
/// The command prompt, written raw before every command.
pub const PROMPT: &[u8] = b"\n>>\n";
/// Payload buffer (`CRYPT_BUF_LEN`); at most `PAYLOAD_BUF - 1` bytes are read.
pub const PAYLOAD_BUF: usize = 1200;
/// How long the helper waits for the 7 handshake bytes after its prompt (100 ms + 1000 ms read).
pub const HANDSHAKE_WINDOW: Duration = Duration::from_millis(1100);
/// Longest command line before it is cut.
const MAX_LINE: usize = 1023;
/// `esp_console_config_t.max_cmdline_args`.
const MAX_ARGS: usize = 8;
/// What waits for the CLI while it talks to the chip: the driver's 2048-byte RX ring
/// (`ECU_CONSOLE_INTERFACE_RX_BUFFER_SIZE`) plus the 128-byte hardware FIFO.
pub const RX_CAPACITY: usize = 2048 + 128;
/// Commands whose handler talks to the ATECC608A (the CLI reads nothing meanwhile).
const CHIP_COMMANDS: [&str; 9] = [
    "init",
    "print-chip-info",
    "generate-keys",
    "generate-pubkey",
    "generate-csr",
    "program-dev-cert",
    "program-signer-cert",
    "get-tngtls-signer-cert",
    "get-tngtls-device-cert",
];
/// Characters of the 18 four-digit fields of a cert-def string.
const CERT_DEF_FIELDS: usize = 72;
/// What the ESP-IDF panic handler prints first when the helper stores through NULL; it then
/// reboots from flash (exact register dump not modelled).
pub const PANIC_TEXT: &[u8] =
    b"Guru Meditation Error: Core  0 panic'ed (StoreProhibited). Exception was unhandled.\r\n";

#[derive(Debug)]
enum Phase {
    /// Waiting for exactly 7 bytes after the handshake prompt.
    Handshake(Vec<u8>),
    /// The handshake failed: the CLI never starts.
    Dead,
    /// Reading a command line.
    Line(Vec<u8>),
    /// Reading the raw payload of a command (until NUL).
    Payload { args: Vec<String>, data: Vec<u8> },
    /// The firmware crashed (panic): the RAM-loaded image is gone until the board is reset.
    Crashed,
}

/// The helper firmware, RAM-loaded and running.
#[derive(Debug)]
pub struct EspHelper {
    phase: Phase,
    session: Session,
    /// Handshake window; None for boards that start with the helper already waiting
    /// (`--firmware esp-helper`), where no host could have answered within 1.1 s.
    window: Option<Duration>,
    /// End of the handshake window on the board's clock.
    deadline: Option<Duration>,
    /// The last byte completed a command that talked to the chip.
    chip_command_ran: bool,
}

impl Default for EspHelper {
    fn default() -> Self {
        EspHelper {
            phase: Phase::Handshake(Vec::new()),
            session: Session::default(),
            window: None,
            deadline: None,
            chip_command_ran: false,
        }
    }
}

impl EspHelper {
    /// A helper that gives up on the handshake `window` after printing its prompt.
    pub fn with_handshake_window(window: Duration) -> Self {
        EspHelper { window: Some(window), ..EspHelper::default() }
    }

    /// `ecu_initialize_console_interface()` fails, then `scli_task` logs and stops (app_main.c).
    fn handshake_failed(&mut self, hw: &Hardware, out: &mut Vec<u8>) {
        out.extend(console::log(Level::Error, hw.millis(), "ECU Console Interface", "Failed to initialize ECU console interface"));
        out.extend(console::log(Level::Error, hw.millis(), "CMD Handler", "Failed to initialize ECU console interface"));
        self.phase = Phase::Dead;
    }

    fn window_expired(&self, hw: &Hardware) -> bool {
        self.deadline.is_some_and(|d| hw.clock.now() > d)
    }
}

impl Firmware for EspHelper {
    fn start(&mut self, hw: &mut Hardware) -> Vec<u8> {
        let mut out = console::log(Level::Info, hw.millis(), "cpu_start", "Pro cpu up.");
        out.extend(console::log(Level::Info, hw.millis(), "main_task", "Calling app_main()"));
        out.extend(console::log(Level::Info, hw.millis(), "ECU Console Interface", "Free heap: 245000 bytes"));
        out.extend_from_slice(HANDSHAKE_PROMPT);
        self.deadline = self.window.map(|w| hw.clock.now() + w);
        out
    }

    /// The always-waiting helper of `--firmware esp-helper` repeats its prompt for a host that
    /// opens the port after it was printed (a simulator convenience; a RAM-loaded helper does not).
    fn host_attached(&mut self, _hw: &mut Hardware) -> Vec<u8> {
        match &self.phase {
            Phase::Handshake(got) if got.is_empty() && self.window.is_none() => HANDSHAKE_PROMPT.to_vec(),
            _ => Vec::new(),
        }
    }

    fn idle(&mut self, hw: &mut Hardware) -> Vec<u8> {
        let mut out = Vec::new();
        if matches!(self.phase, Phase::Handshake(_)) && self.window_expired(hw) {
            self.handshake_failed(hw, &mut out);
        }
        out
    }

    /// Bytes are read one at a time; while a command talks to the chip, what follows in the same
    /// burst waits in the RX ring and FIFO, and whatever exceeds `RX_CAPACITY` is lost.
    fn receive(&mut self, chunk: &[u8], hw: &mut Hardware, out: &mut Vec<u8>) -> Next {
        let mut end = chunk.len();
        let mut i = 0;
        while i < end {
            self.chip_command_ran = false;
            self.byte(chunk[i], hw, out);
            i += 1;
            if matches!(self.phase, Phase::Crashed) {
                return Next::Crash;
            }
            if self.chip_command_ran && end - i > RX_CAPACITY {
                tracing::debug!(lost = end - i - RX_CAPACITY, "helper: RX ring overflow while talking to the chip");
                end = i + RX_CAPACITY;
            }
        }
        Next::Stay
    }
}

impl EspHelper {
    fn byte(&mut self, byte: u8, hw: &mut Hardware, out: &mut Vec<u8>) {
        if matches!(self.phase, Phase::Handshake(_)) && self.window_expired(hw) {
            return self.handshake_failed(hw, out);
        }
        match &mut self.phase {
            Phase::Dead | Phase::Crashed => {}
            Phase::Handshake(got) => {
                got.push(byte);
                if got.len() == 7 {
                    if got == b"version" {
                        out.extend_from_slice(format!("{VERSION}\n").as_bytes());
                        out.extend_from_slice(PROMPT);
                        self.phase = Phase::Line(Vec::new());
                    } else {
                        self.handshake_failed(hw, out);
                    }
                }
            }
            Phase::Line(line) => {
                if byte == b'\r' {
                    out.extend_from_slice(b"\r\n");
                } else {
                    out.push(byte);
                }
                line.push(byte);
                if byte == b'\r' || line.len() >= MAX_LINE {
                    // `linebuf[strlen(linebuf) - 1] = '\0'`: the last byte before the first NUL goes,
                    // whatever it is; every other byte (`\n`, tabs) stays in the line.
                    let mut text = std::mem::take(line);
                    let strlen = text.iter().position(|&b| b == 0).unwrap_or(text.len());
                    text.truncate(strlen.saturating_sub(1));
                    self.execute(&text, hw, out);
                }
            }
            Phase::Payload { data, .. } => {
                if byte != 0 {
                    data.push(byte);
                }
                if byte == 0 || data.len() >= PAYLOAD_BUF - 1 {
                    let Phase::Payload { args, mut data } = std::mem::replace(&mut self.phase, Phase::Line(Vec::new())) else {
                        unreachable!("phase checked above")
                    };
                    if byte != 0 {
                        // No NUL consumed: the buffer stays unterminated (its 0xFF fill follows).
                        data.push(0xFF);
                    }
                    if args[0] == "provide-cert-def" && data.len() < CERT_DEF_FIELDS {
                        // get_cert_def: (strlen - 72) / 2 in 32-bit size_t is ~2^31, calloc fails and
                        // the template loop stores through NULL (StoreProhibited panic).
                        out.extend_from_slice(PANIC_TEXT);
                        self.phase = Phase::Crashed;
                        return;
                    }
                    run_command(&mut self.session, &args, Some(&data), hw, out);
                    self.chip_command_ran = CHIP_COMMANDS.contains(&args[0].as_str());
                    out.extend_from_slice(PROMPT);
                }
            }
        }
    }

    fn execute(&mut self, line: &[u8], hw: &mut Hardware, out: &mut Vec<u8>) {
        let args: Vec<String> =
            split_argv(line, MAX_ARGS).iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect();
        if self.session.wants_payload(&args) {
            self.phase = Phase::Payload { args, data: Vec::new() };
            return;
        }
        self.phase = Phase::Line(Vec::new());
        run_command(&mut self.session, &args, None, hw, out);
        self.chip_command_ran = args.first().is_some_and(|a| CHIP_COMMANDS.contains(&a.as_str()));
        out.extend_from_slice(PROMPT);
    }
}
