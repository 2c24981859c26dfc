//! One simulated board: an ESP32 with flash and an ATECC608A, running one firmware at a time.

pub mod flash;
pub mod uart;

use crate::atecc::Atecc608;
use crate::clock::{SimClock, Timing};
use crate::faults::{FaultInjector, FaultSpec};
use crate::firmware::{self, CertChain, FirmwareKind};
use std::sync::Arc;
use crate::SimError;
use flash::Flash;
use std::path::PathBuf;
use std::time::Duration;

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
    /// A rate the firmware switches to once its current reply is out (ROM CHANGE_BAUDRATE).
    pub next_baud: Option<u32>,
    /// Board time at which the firmware's output for the current input was complete, when it
    /// keeps working afterwards (rainbowtype `k`: GenKey on slot 1 after the PEM is printed).
    pub output_done_at: Option<Duration>,
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
    /// The firmware crashed: the board stays silent until it is reset.
    Crash,
}

/// A running firmware: turns received chunks (one burst on the wire each; see `rx_burst`) into output.
pub trait Firmware: Send + std::fmt::Debug {
    /// Output right after the firmware starts.
    fn start(&mut self, hw: &mut Hardware) -> Vec<u8>;
    /// Handles one chunk of received bytes.
    fn receive(&mut self, chunk: &[u8], hw: &mut Hardware, out: &mut Vec<u8>) -> Next;
    /// Called whenever time passed on the board's clock; output for timeouts.
    fn idle(&mut self, _hw: &mut Hardware) -> Vec<u8> {
        Vec::new()
    }
    /// A host opened the port (only the always-waiting `esp-helper` board uses this).
    fn host_attached(&mut self, _hw: &mut Hardware) -> Vec<u8> {
        Vec::new()
    }
    /// Bytes that arrived while the firmware was busy with the previous input and that its
    /// `uart_flush()` then discarded (their UART events may stay queued). Default: just lost.
    fn arrived_while_busy(&mut self, _chunk: &[u8], _hw: &mut Hardware, _out: &mut Vec<u8>) {}
    /// Whether the firmware discards everything still buffered after handling an event
    /// (ESP-IDF `uart_flush()`), so bytes that arrived meanwhile are lost.
    fn flushes_input(&self) -> bool {
        false
    }
}

/// Reset to a running app console: ROM, 2nd-stage bootloader, app start and `uart_driver_install`
/// of a flashed ESP-IDF 4.2 app (about a second; input before is lost, output appears at its end).
pub const FLASH_BOOT_TIME: Duration = Duration::from_millis(1000);
/// MEM_END to the RAM-loaded helper's console (about 300 ms of ESP-IDF start-up).
pub const HELPER_BOOT_TIME: Duration = Duration::from_millis(300);

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
    /// The rainbowtype build's compiled certificate templates (`cert_chain.c`). Boards that may
    /// run rainbowtype (firmware `rainbowtype` or `rom`) need it unless `derive_templates` is set.
    pub cert_chain: Option<Arc<CertChain>>,
    /// Lenient: without `cert_chain`, the rainbowtype build takes its templates from each upload
    /// (any subject, issuer or validity then "fits"; a real board has one compiled build).
    pub derive_templates: bool,
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
            derive_templates: false,
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
    /// The line rate the output was sent at (a host at another rate receives nothing usable).
    pub baud: u32,
    /// Board time the firmware spent handling the input (chip commands); with `flush_input`,
    /// input arriving within this time after the input is discarded (`receive_while_busy`).
    pub busy: Duration,
    /// When (after the input, within `busy`) the output was complete; a transport shows it then.
    pub output_after: Duration,
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
    /// The running firmware is still booting: it starts (prints, reads input) at this board time.
    start_at: Option<Duration>,
}

impl Board {
    /// Builds (or re-opens from `state_dir`) a board. Nothing runs until `power_on`.
    pub fn new(config: BoardConfig) -> Result<Self, SimError> {
        let may_run_rainbowtype = matches!(config.firmware, FirmwareKind::Rainbowtype | FirmwareKind::Rom);
        if may_run_rainbowtype && config.cert_chain.is_none() && !config.derive_templates {
            return Err(SimError::NoCertChain);
        }
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
        let hw = Hardware { chip, flash, clock, baud: 115_200, next_baud: None, output_done_at: None, mac, booted_at: Default::default() };
        let faults = FaultInjector::new(config.faults, config.index);
        let running = firmware::halted();
        Ok(Board { config, hw, running, running_kind: None, faults, vanished: false, start_at: None })
    }

    /// Powers the board on and lets it boot (the clock advances by the boot time); returns
    /// everything it printed. A transport uses `begin_power_on` and `advance` instead.
    pub fn power_on(&mut self) -> Vec<u8> {
        let mut out = self.begin_power_on();
        out.extend(self.finish_boot());
        out
    }

    /// Powers the board on; the firmware starts after its boot time (see `advance`).
    pub fn begin_power_on(&mut self) -> Vec<u8> {
        let kind = self.config.firmware;
        let raw = self.boot(kind);
        self.deliver(raw)
    }

    /// Resets the board into the UART download mode or a normal flash boot and lets it boot;
    /// returns everything it printed.
    pub fn reset(&mut self, download_mode: bool) -> Vec<u8> {
        let mut out = self.begin_reset(download_mode);
        out.extend(self.finish_boot());
        out
    }

    /// Resets the board; the firmware starts after its boot time (see `advance`).
    pub fn begin_reset(&mut self, download_mode: bool) -> Vec<u8> {
        let raw = if download_mode { self.boot(FirmwareKind::Rom) } else { self.boot_flash() };
        self.deliver(raw)
    }

    /// Lets `interval` of idle time pass on the board's clock; returns what the board printed
    /// meanwhile (a finished boot, timeouts).
    pub fn advance(&mut self, interval: Duration) -> Vec<u8> {
        self.hw.clock.elapse(interval);
        self.idle()
    }

    /// Whether the firmware is still booting (input is lost until it runs).
    pub fn booting(&self) -> bool {
        self.start_at.is_some()
    }

    /// A host opened the board's port.
    pub fn host_attached(&mut self) -> Vec<u8> {
        if self.vanished || self.start_at.is_some() {
            return Vec::new();
        }
        let raw = self.running.host_attached(&mut self.hw);
        self.deliver(raw)
    }

    fn finish_boot(&mut self) -> Vec<u8> {
        match self.start_at {
            Some(at) => self.advance(at.saturating_sub(self.hw.clock.now())),
            None => Vec::new(),
        }
    }

    /// Handles bytes the host wrote as one burst (no idle gap of the RX timeout inside it; over a
    /// pty the transport forms bursts from the host's write times).
    pub fn receive(&mut self, chunk: &[u8]) -> Delivery {
        self.receive_at(chunk, None)
    }

    /// Like `receive`, with the baud rate the host set on the line. The ROM loader auto-detects
    /// it; an app's fixed-rate UART at another rate sees only framing errors, so the bytes are
    /// lost and nothing comes back.
    pub fn receive_at(&mut self, chunk: &[u8], line_baud: Option<u32>) -> Delivery {
        if self.vanished {
            return Delivery { vanished: true, baud: self.hw.baud, ..Delivery::default() };
        }
        let mut raw = self.tick();
        if self.start_at.is_some() {
            tracing::debug!(board = self.config.index, bytes = chunk.len(), "input before the UART driver runs: lost");
            self.hw.clock.charge_uart(chunk.len(), line_baud.unwrap_or(self.hw.baud));
            return Delivery { output: self.deliver(raw), baud: self.hw.baud, ..Delivery::default() };
        }
        if let Some(line) = line_baud {
            let rom = self.running_kind == Some(FirmwareKind::Rom);
            let understood = uart::rates_match(line, self.hw.baud);
            if rom && !understood && crate::firmware::rom::contains_sync(chunk) {
                // The ROM detects the host's rate from a SYNC frame; other frames at another rate are noise.
                self.hw.baud = line;
            } else if !understood {
                tracing::warn!(board = self.config.index, line, uart = self.hw.baud, "host uses another baud rate: bytes lost");
                self.hw.clock.charge_uart(chunk.len(), line);
                return Delivery { output: self.deliver(raw), baud: self.hw.baud, ..Delivery::default() };
            }
        }
        self.hw.clock.charge_uart(chunk.len(), self.hw.baud);
        let handling_from = self.hw.clock.now();
        let inbound = self.faults.inbound(chunk);
        if !inbound.bytes.is_empty() {
            match self.running.receive(&inbound.bytes, &mut self.hw, &mut raw) {
                Next::Stay => {}
                Next::RunHelper => {
                    // The ROM jumps to the image; the helper's ESP-IDF start-up re-inits UART0 at 115200.
                    self.running = firmware::start_ram_loaded_helper();
                    self.running_kind = Some(FirmwareKind::EspHelper);
                    self.hw.booted_at = self.hw.clock.now();
                    // The MEM_END reply still goes out at the loader's rate; 115200 applies after it.
                    self.hw.next_baud = Some(115_200);
                    self.start_at = Some(self.hw.clock.now() + HELPER_BOOT_TIME);
                }
                Next::BootFlash => {
                    // The FLASH_END reply still goes out at the loader's rate; the reset brings
                    // UART0 back to 115200, and an immediate boot log at 115200 is lost on a host
                    // still at the loader's rate.
                    let loader_rate = self.hw.baud;
                    let boot_log = self.boot_flash();
                    if uart::rates_match(loader_rate, self.hw.baud) {
                        raw.extend(boot_log);
                    }
                    self.hw.next_baud = Some(self.hw.baud);
                    self.hw.baud = loader_rate;
                }
                Next::Crash => {
                    tracing::info!(board = self.config.index, "firmware crashed; silent until reset");
                    self.running = firmware::halted();
                    self.running_kind = None;
                    self.start_at = None;
                }
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
        let busy = self.hw.clock.now().saturating_sub(handling_from);
        let output_after = self.hw.output_done_at.take().map_or(busy, |at| at.saturating_sub(handling_from).min(busy));
        let baud = self.hw.baud;
        let output = self.deliver(raw);
        if let Some(next) = self.hw.next_baud.take() {
            self.hw.baud = next;
        }
        Delivery { output, vanished: self.vanished, flush_input, baud, busy, output_after }
    }

    /// Bytes that reached the board while its firmware was still handling the previous input
    /// (within `Delivery::busy`): a flushing firmware loses them but may keep their events.
    pub fn receive_while_busy(&mut self, chunk: &[u8]) -> Vec<u8> {
        if self.vanished || self.start_at.is_some() {
            return Vec::new();
        }
        self.hw.clock.charge_uart(chunk.len(), self.hw.baud);
        let inbound = self.faults.inbound(chunk);
        let mut raw = Vec::new();
        self.running.arrived_while_busy(&inbound.bytes, &mut self.hw, &mut raw);
        self.deliver(raw)
    }

    /// Lets the firmware act on the current board time (a finished boot, timeouts); returns its output.
    pub fn idle(&mut self) -> Vec<u8> {
        if self.vanished {
            return Vec::new();
        }
        let raw = self.tick();
        self.deliver(raw)
    }

    fn tick(&mut self) -> Vec<u8> {
        let mut raw = Vec::new();
        if self.start_at.is_some_and(|at| self.hw.clock.now() >= at) {
            self.start_at = None;
            raw.extend(self.start_running());
        }
        if self.start_at.is_none() {
            raw.extend(self.running.idle(&mut self.hw));
        }
        raw
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

    /// Whether the running firmware sees input as UART events (rainbowtype): then what a host
    /// writes without an idle gap of the RX timeout on the wire is one burst to it.
    pub fn takes_uart_events(&self) -> bool {
        self.start_at.is_none() && self.running.flushes_input()
    }

    /// The faults injected on this board's line so far.
    pub fn fault_tally(&self) -> crate::faults::FaultTally {
        self.faults.tally()
    }

    /// The board's configuration.
    pub fn config(&self) -> &BoardConfig {
        &self.config
    }

    /// Starts `kind` after its boot time: the ROM loader at once, a flashed app (or the
    /// always-waiting helper of `--firmware esp-helper`) after `FLASH_BOOT_TIME`.
    fn boot(&mut self, kind: FirmwareKind) -> Vec<u8> {
        self.hw.booted_at = self.hw.clock.now();
        self.hw.baud = 115_200;
        self.running = firmware::start(kind, self.config.cert_chain.clone());
        self.running_kind = Some(kind);
        self.start_at = None;
        if kind == FirmwareKind::Rom {
            return self.start_running();
        }
        self.start_at = Some(self.hw.clock.now() + FLASH_BOOT_TIME);
        Vec::new()
    }

    /// A flash boot runs the app only when flash holds a bootloader at 0x1000, a partition table at
    /// 0x8000 and an app image in an app partition; boards configured with an app firmware are
    /// assumed flashed with it.
    fn boot_flash(&mut self) -> Vec<u8> {
        let app = match self.config.firmware {
            FirmwareKind::Rom => FirmwareKind::Rainbowtype,
            other => other,
        };
        if self.config.firmware != FirmwareKind::Rom {
            return self.boot(app);
        }
        match crate::firmware::flash_boot::find_app(&self.hw.flash, 30) {
            Ok(_) => self.boot(app),
            Err(log) => {
                self.hw.booted_at = self.hw.clock.now();
                self.hw.baud = 115_200;
                self.running = firmware::halted();
                self.running_kind = None;
                self.start_at = None;
                let mut out = crate::firmware::console::rom_banner("boot:0x13 (SPI_FAST_FLASH_BOOT)");
                out.extend(log);
                out
            }
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
