//! [`ResetStrategy`]: how the host resets a board into flash boot or download mode once its port is open.
//!
//! A board's boot output goes only to a host that has the port open while the board resets, so the
//! engine opens the port first, then resets, then waits for the boot output.
//!
//! - [`ResetStrategy::ClassicDtrRts`]: USB-UART bridges wired to EN and IO0 through the usual two
//!   transistors (RTS asserted pulls EN low, DTR asserted pulls IO0 low).
//! - [`ResetStrategy::UsbJtag`]: the chip's own USB-Serial-JTAG (VID:PID `303a:1001`), which decodes
//!   the DTR/RTS pair itself and must pass through the (DTR, RTS) = (1, 1) state.
//! - [`ResetStrategy::SimulatorFifo`]: a simulated board; a pseudo-terminal has no modem lines, so
//!   its simulator reads `boot\n` or `download\n` from a FIFO (docs/sim.md, `board-N/reset`).
//! - [`ResetStrategy::None`]: the board is not reset (an operator presses the button, or a test).
//!
//! This crate does not depend on the simulator: the FIFO protocol is one line, written here.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::{BoardError, SerialLink};

/// USB vendor:product id of the ESP32-S3/C3/C6 built-in USB-Serial-JTAG.
pub const USB_JTAG_ID: &str = "303a:1001";

/// What the board runs after the reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootMode {
    /// Boot the application in flash (IO0 high).
    Flash,
    /// Stay in the ROM serial download mode (IO0 low during reset).
    Download,
}

/// How to reset the board on one port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResetStrategy {
    /// DTR/RTS wired to IO0/EN through a USB-UART bridge (CP210x, CH340, FTDI).
    ClassicDtrRts,
    /// The chip's USB-Serial-JTAG peripheral.
    UsbJtag,
    /// A simulated board's reset FIFO.
    SimulatorFifo(PathBuf),
    /// No reset: the board is used in whatever state it is.
    None,
}

impl ResetStrategy {
    /// Picks the strategy for a port: a simulator's reset FIFO wins, then the USB id
    /// (`vid:pid`, lower-case hex) decides between USB-Serial-JTAG and a classic bridge;
    /// a port that is neither (no USB id, no FIFO) is not reset.
    pub fn for_port(usb_id: Option<&str>, reset_fifo: Option<&Path>) -> Self {
        match (reset_fifo, usb_id) {
            (Some(fifo), _) => ResetStrategy::SimulatorFifo(fifo.to_path_buf()),
            (None, Some(id)) if id.eq_ignore_ascii_case(USB_JTAG_ID) => ResetStrategy::UsbJtag,
            (None, Some(_)) => ResetStrategy::ClassicDtrRts,
            (None, None) => ResetStrategy::None,
        }
    }

    /// A short stable name for logs: `classic-dtr-rts`, `usb-jtag`, `simulator-fifo`, `none`.
    pub fn name(&self) -> &'static str {
        match self {
            ResetStrategy::ClassicDtrRts => "classic-dtr-rts",
            ResetStrategy::UsbJtag => "usb-jtag",
            ResetStrategy::SimulatorFifo(_) => "simulator-fifo",
            ResetStrategy::None => "none",
        }
    }

    /// Resets the board on the open `link` into `mode`. Bytes received before the reset are dropped,
    /// so what follows is the new boot's output. Returns at once; the board boots on its own.
    pub fn reset(&self, link: &mut SerialLink, mode: BootMode) -> Result<(), BoardError> {
        let download = mode == BootMode::Download;
        match self {
            ResetStrategy::None => Ok(()),
            ResetStrategy::SimulatorFifo(fifo) => {
                link.clear();
                request_fifo_reset(fifo, download)
            }
            ResetStrategy::ClassicDtrRts => {
                // (DTR, RTS): hold EN low, then release it with IO0 low (download) or high (flash).
                let mut steps: Vec<(bool, bool, u64)> = vec![(false, true, 100)];
                if download {
                    steps.push((true, false, 50));
                }
                steps.push((false, false, 0));
                link.clear();
                run_lines(link, &steps)
            }
            ResetStrategy::UsbJtag => {
                let steps: Vec<(bool, bool, u64)> = if download {
                    // Idle, IO0 low, then reset through (1, 1) and release.
                    vec![(false, false, 100), (true, false, 100), (true, true, 0), (false, true, 100), (false, false, 0)]
                } else {
                    vec![(false, true, 200), (false, false, 0)]
                };
                link.clear();
                run_lines(link, &steps)
            }
        }
    }
}

/// Sets (DTR, RTS) for each step and holds it for the given milliseconds (cancellation is checked).
fn run_lines(link: &mut SerialLink, steps: &[(bool, bool, u64)]) -> Result<(), BoardError> {
    for &(dtr, rts, hold_ms) in steps {
        link.set_control_lines(dtr, rts)?;
        link.pause(Duration::from_millis(hold_ms))?;
    }
    Ok(())
}

/// Writes one reset request line to a simulated board's FIFO (non-blocking: no reader is an error).
fn request_fifo_reset(fifo: &Path, download: bool) -> Result<(), BoardError> {
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let meta = std::fs::symlink_metadata(fifo).map_err(|e| reset_error(fifo, &e.to_string()))?;
    if !meta.file_type().is_fifo() {
        return Err(reset_error(fifo, "it is not a FIFO"));
    }
    let mut writer = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc_nonblock())
        .open(fifo)
        .map_err(|e| reset_error(fifo, &e.to_string()))?;
    let line: &[u8] = if download { b"download\n" } else { b"boot\n" };
    writer.write_all(line).map_err(|e| reset_error(fifo, &e.to_string()))
}

/// `O_NONBLOCK` (Linux and macOS values), without a libc dependency.
fn libc_nonblock() -> i32 {
    if cfg!(target_os = "linux") {
        0o4000
    } else {
        0x0004
    }
}

fn reset_error(fifo: &Path, reason: &str) -> BoardError {
    BoardError::Io { reason: format!("cannot reset the simulated board through {}: {reason}; is its simulator still running?", fifo.display()) }
}
