//! Espressif esp_cryptoauth_utility helper v1.2.0: handshake, `>>` prompt, echoed command lines
//! and NUL-terminated payloads. The commands themselves live in `esp_helper_commands`.

use super::console::{self, Level};
use super::esp_helper_commands::{run_command, Session};
use crate::board::{Firmware, Hardware, Next};
use crate::clock::WallClock;
use std::time::{Duration, Instant};

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
}

/// The helper firmware, RAM-loaded and running.
#[derive(Debug)]
pub struct EspHelper {
    phase: Phase,
    session: Session,
    /// Handshake window; None for boards that start with the helper already waiting
    /// (`--firmware esp-helper`), where no host could have answered within 1.1 s.
    window: Option<Duration>,
    deadline: Option<Instant>,
    wall_clock: WallClock,
}

impl Default for EspHelper {
    fn default() -> Self {
        EspHelper { phase: Phase::Handshake(Vec::new()), session: Session::default(), window: None, deadline: None, wall_clock: WallClock::default() }
    }
}

impl EspHelper {
    /// A helper that gives up on the handshake `window` after printing its prompt.
    pub fn with_handshake_window(window: Duration, wall_clock: WallClock) -> Self {
        EspHelper { window: Some(window), wall_clock, ..EspHelper::default() }
    }

    fn handshake_failed(&mut self, hw: &Hardware, out: &mut Vec<u8>) {
        out.extend(console::log(Level::Error, hw.millis(), "ecu_console", "Failed to initialize console interface"));
        out.extend(console::log(Level::Error, hw.millis(), "app_main", "Failed to initialize the command line interface"));
        self.phase = Phase::Dead;
    }

    fn window_expired(&self) -> bool {
        self.deadline.is_some_and(|d| self.wall_clock.now() > d)
    }
}

impl Firmware for EspHelper {
    fn start(&mut self, hw: &mut Hardware) -> Vec<u8> {
        let mut out = console::log(Level::Info, hw.millis(), "cpu_start", "Pro cpu up.");
        out.extend(console::log(Level::Info, hw.millis(), "main_task", "Calling app_main()"));
        out.extend_from_slice(HANDSHAKE_PROMPT);
        self.deadline = self.window.map(|w| self.wall_clock.now() + w);
        out
    }

    fn idle(&mut self, hw: &mut Hardware) -> Vec<u8> {
        let mut out = Vec::new();
        if matches!(self.phase, Phase::Handshake(_)) && self.window_expired() {
            self.handshake_failed(hw, &mut out);
        }
        out
    }

    fn receive(&mut self, chunk: &[u8], hw: &mut Hardware, out: &mut Vec<u8>) -> Next {
        for &byte in chunk {
            self.byte(byte, hw, out);
        }
        Next::Stay
    }
}

impl EspHelper {
    fn byte(&mut self, byte: u8, hw: &mut Hardware, out: &mut Vec<u8>) {
        if matches!(self.phase, Phase::Handshake(_)) && self.window_expired() {
            return self.handshake_failed(hw, out);
        }
        match &mut self.phase {
            Phase::Dead => {}
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
                    let mut text = std::mem::take(line);
                    if text.last() == Some(&b'\r') {
                        text.pop();
                    }
                    self.execute(&String::from_utf8_lossy(&text), hw, out);
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
                    run_command(&mut self.session, &args, Some(&data), hw, out);
                    out.extend_from_slice(PROMPT);
                }
            }
        }
    }

    fn execute(&mut self, line: &str, hw: &mut Hardware, out: &mut Vec<u8>) {
        let args: Vec<String> = line.split_whitespace().take(8).map(str::to_string).collect();
        if self.session.wants_payload(&args) {
            self.phase = Phase::Payload { args, data: Vec::new() };
            return;
        }
        self.phase = Phase::Line(Vec::new());
        run_command(&mut self.session, &args, None, hw, out);
        out.extend_from_slice(PROMPT);
    }
}
