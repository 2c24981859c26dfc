//! One simulated board: an ESP32 with flash and an ATECC608A, running one firmware at a time.

pub mod flash;

use crate::atecc::Atecc608;
use crate::clock::{SimClock, Timing, WallClock};
use crate::faults::{FaultInjector, FaultSpec};
use crate::firmware::{self, CertChain, FirmwareKind};
use std::sync::Arc;
use crate::SimError;
use flash::Flash;
use std::path::PathBuf;

/// The parts a firmware can touch.
#[derive(Debug)]
pub struct Hardware {
    /// The secure element on I²C.
    pub chip: Atecc608,
    /// SPI flash.
    pub flash: Flash,
    /// The board's simulated clock (shared with the chip).
    pub clock: SimClock,
    /// Current UART baud rate (the ROM loader may change it).
    pub baud: u32,
    /// The factory MAC in eFuse.
    pub mac: [u8; 6],
    /// Simulated time of the last reset (log timestamps count from it).
    pub booted_at: std::time::Duration,
}

impl Hardware {
    /// Milliseconds since the last reset, as ESP-IDF log lines show them (boot takes ~300 ms).
    pub fn millis(&self) -> u64 {
        300 + (self.clock.now().saturating_sub(self.booted_at)).as_millis() as u64
    }
}

/// What a firmware asks the board to do after handling input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Keep running.
    Stay,
    /// Jump to the RAM-loaded provisioning helper (ROM MEM_END with an entry point).
    RunHelper,
    /// Reset and boot from flash.
    BootFlash,
}

/// A running firmware: turns received chunks (one UART event each) into output.
pub trait Firmware: Send + std::fmt::Debug {
    /// Output right after the firmware starts.
    fn start(&mut self, hw: &mut Hardware) -> Vec<u8>;
    /// Handles one chunk of received bytes.
    fn receive(&mut self, chunk: &[u8], hw: &mut Hardware, out: &mut Vec<u8>) -> Next;
    /// Called when the line has been quiet for a while (wall clock); output for timeouts.
    fn idle(&mut self, _hw: &mut Hardware) -> Vec<u8> {
        Vec::new()
    }
    /// Whether the firmware discards everything still buffered after handling an event
    /// (ESP-IDF `uart_flush()`), so bytes that arrived meanwhile are lost.
    fn flushes_input(&self) -> bool {
        false
    }
}

/// How to build a board.
#[derive(Debug, Clone)]
pub struct BoardConfig {
    /// Position of the board (0-based); also mixes into the fault seed.
    pub index: usize,
    /// What runs after power-on.
    pub firmware: FirmwareKind,
    /// Timing model.
    pub timing: Timing,
    /// Sleep for charged time too (practice-mode realism).
    pub realtime: bool,
    /// Faults on this board's line.
    pub faults: FaultSpec,
    /// Directory with the board's persisted chip and flash (None: in memory only).
    pub state_dir: Option<PathBuf>,
    /// Carry a pre-provisioned Trust&Go part instead of a blank TrustCUSTOM one.
    pub trust_and_go: bool,
    /// The rainbowtype build's compiled certificate templates (None: derived from the uploads).
    pub cert_chain: Option<Arc<CertChain>>,
    /// The host's wall clock (the RAM-loaded helper's handshake window).
    pub wall_clock: WallClock,
}

impl Default for BoardConfig {
    fn default() -> Self {
        BoardConfig {
            index: 0,
            firmware: FirmwareKind::default(),
            timing: Timing::Instant,
            realtime: false,
            faults: FaultSpec::default(),
            state_dir: None,
            trust_and_go: false,
            cert_chain: None,
            wall_clock: WallClock::default(),
        }
    }
}

/// What the board sent back for one received chunk.
#[derive(Debug, Default)]
pub struct Delivery {
    /// Bytes the host receives.
    pub output: Vec<u8>,
    /// The board disappeared: close its port.
    pub vanished: bool,
    /// Input that arrived while the chunk was handled is to be discarded.
    pub flush_input: bool,
}

/// A simulated ESP32 + ATECC608A board, independent of the transport.
#[derive(Debug)]
pub struct Board {
    config: BoardConfig,
    hw: Hardware,
    running: Box<dyn Firmware>,
    running_kind: Option<FirmwareKind>,
    faults: FaultInjector,
    vanished: bool,
}

impl Board {
    /// Builds (or re-opens from `state_dir`) a board. Nothing runs until `power_on`.
    pub fn new(config: BoardConfig) -> Result<Self, SimError> {
        let clock = SimClock::new(config.timing).with_realtime(config.realtime);
        let (mut chip, flash) = match &config.state_dir {
            Some(dir) => (Atecc608::open(&dir.join("chip.json"), clock.clone())?, Flash::open(&dir.join("flash.bin"))?),
            None => (Atecc608::new_blank(clock.clone()), Flash::default()),
        };
        if config.trust_and_go && !chip.is_trust_and_go() {
            chip.make_trust_and_go();
        }
        let serial = chip.peek_serial();
        let mac = [0x24, 0x0A, 0xC4, serial[5], serial[6], serial[7]];
        let hw = Hardware { chip, flash, clock, baud: 115_200, mac, booted_at: Default::default() };
        let faults = FaultInjector::new(config.faults, config.index);
        let running = firmware::halted();
        Ok(Board { config, hw, running, running_kind: None, faults, vanished: false })
    }

    /// Powers the board on: the configured firmware starts; returns its first output.
    pub fn power_on(&mut self) -> Vec<u8> {
        let kind = self.config.firmware;
        let raw = self.boot(kind);
        self.deliver(raw)
    }

    /// Resets the board, into the UART download mode or a normal flash boot.
    pub fn reset(&mut self, download_mode: bool) -> Vec<u8> {
        let raw = if download_mode { self.boot(FirmwareKind::Rom) } else { self.boot_flash() };
        self.deliver(raw)
    }

    /// Handles bytes the host wrote (one read from the line = one UART event).
    pub fn receive(&mut self, chunk: &[u8]) -> Delivery {
        self.receive_at(chunk, None)
    }

    /// Like `receive`, with the baud rate the host set on the line. The ROM loader auto-detects
    /// it; an app's fixed-rate UART at another rate sees only framing errors, so the bytes are
    /// lost and nothing comes back.
    pub fn receive_at(&mut self, chunk: &[u8], line_baud: Option<u32>) -> Delivery {
        if self.vanished {
            return Delivery { output: Vec::new(), vanished: true, flush_input: false };
        }
        if let Some(line) = line_baud {
            if self.running_kind == Some(FirmwareKind::Rom) {
                self.hw.baud = line;
            } else if line != self.hw.baud {
                tracing::warn!(board = self.config.index, line, uart = self.hw.baud, "host uses another baud rate: bytes lost");
                self.hw.clock.charge_uart(chunk.len(), line);
                return Delivery::default();
            }
        }
        self.hw.clock.charge_uart(chunk.len(), self.hw.baud);
        let inbound = self.faults.inbound(chunk);
        let mut raw = Vec::new();
        if !inbound.bytes.is_empty() {
            match self.running.receive(&inbound.bytes, &mut self.hw, &mut raw) {
                Next::Stay => {}
                Next::RunHelper => {
                    self.running = firmware::start_ram_loaded_helper(self.config.wall_clock.clone());
                    self.running_kind = Some(FirmwareKind::EspHelper);
                    raw.extend(self.start_running());
                }
                Next::BootFlash => raw.extend(self.boot_flash()),
            }
        }
        if inbound.reset {
            tracing::info!(board = self.config.index, "fault injection: reset mid-command");
            let kind = self.config.firmware;
            raw.extend(self.boot(kind));
        }
        if inbound.vanish {
            tracing::info!(board = self.config.index, "fault injection: board vanishes");
            self.vanished = true;
        }
        let flush_input = self.running.flushes_input();
        Delivery { output: self.deliver(raw), vanished: self.vanished, flush_input }
    }

    /// Lets the running firmware act on a quiet line (timeouts); returns its output.
    pub fn idle(&mut self) -> Vec<u8> {
        if self.vanished {
            return Vec::new();
        }
        let raw = self.running.idle(&mut self.hw);
        self.deliver(raw)
    }

    /// The board's hardware (tests inspect the chip and flash through it).
    pub fn hardware(&self) -> &Hardware {
        &self.hw
    }

    /// Mutable hardware access (tests prepare chips through it).
    pub fn hardware_mut(&mut self) -> &mut Hardware {
        &mut self.hw
    }

    /// What runs now: the ROM loader, an app, the RAM-loaded helper, or nothing (None: no bootable image).
    pub fn running(&self) -> Option<FirmwareKind> {
        self.running_kind
    }

    /// The board's configuration.
    pub fn config(&self) -> &BoardConfig {
        &self.config
    }

    fn boot(&mut self, kind: FirmwareKind) -> Vec<u8> {
        self.hw.booted_at = self.hw.clock.now();
        self.hw.baud = 115_200;
        self.running = firmware::start(kind, self.config.cert_chain.clone());
        self.running_kind = Some(kind);
        self.start_running()
    }

    /// A flash boot runs the app only when flash holds an app image (magic 0xE9 at 0x10000);
    /// boards configured with an app firmware are assumed flashed with it.
    fn boot_flash(&mut self) -> Vec<u8> {
        let app = match self.config.firmware {
            FirmwareKind::Rom => FirmwareKind::Rainbowtype,
            other => other,
        };
        let flashed = self.hw.flash.read(0x10000, 1) == Some(&[0xE9]);
        if flashed || self.config.firmware != FirmwareKind::Rom {
            self.boot(app)
        } else {
            self.hw.booted_at = self.hw.clock.now();
            self.running = firmware::halted();
            self.running_kind = None;
            let mut out = crate::firmware::console::rom_banner("boot:0x13 (SPI_FAST_FLASH_BOOT)");
            out.extend_from_slice(b"invalid header: 0xffffffff\r\n");
            out
        }
    }

    fn start_running(&mut self) -> Vec<u8> {
        self.running.start(&mut self.hw)
    }

    fn deliver(&mut self, raw: Vec<u8>) -> Vec<u8> {
        self.hw.clock.charge_uart(raw.len(), self.hw.baud);
        self.faults.outbound(&raw)
    }
}
