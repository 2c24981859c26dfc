//! [`RomSession`]: one board in the ESP ROM serial loader, driven through espflash without the stub.
//!
//! The session opens the port, resets the board into download mode with the port's
//! [`ResetStrategy`] (so simulated and real boards go through the same code), and lets espflash
//! sync, detect the chip and attach the flash. Writing is done block by block through espflash's
//! `Connection` so progress is reported in bytes and cancellation is seen between blocks; every
//! image is verified with SPI_FLASH_MD5. Blocking: call it from a blocking thread.

use std::sync::Arc;
use std::time::Duration;

use espflash::command::{Command, CommandType};
use espflash::connection::{Connection, ResetAfterOperation, ResetBeforeOperation};
use espflash::flasher::Flasher;
use espflash::target::Chip;
use md5::{Digest, Md5};
use serde::Serialize;
use serialport::TTYPort;

use super::{FlashError, FlashPlan, RamImage, TargetInfo};
use crate::{BootMode, CancelToken, Clock, ResetStrategy, SerialLink, DEFAULT_BAUD};

/// FLASH_DATA block size of the ROM loader (no stub).
pub const FLASH_BLOCK: usize = 0x400;
/// MEM_DATA block size of the ROM loader.
pub const RAM_BLOCK: usize = 0x1800;

/// How to reach the loader.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Line rate for the transfer (the loader starts at 115200; a higher rate is set with CHANGE_BAUDRATE).
    pub baud: u32,
    /// How to reset the board into download mode.
    pub reset: ResetStrategy,
}

/// What the step is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum FlashPhase {
    /// FLASH_BEGIN (the loader erases the region).
    Erasing,
    /// Blocks going out.
    Writing,
    /// Comparing the flash MD5 with the image.
    Verifying,
    /// RAM segments going out.
    Loading,
}

/// Progress of a write or RAM load, in bytes of the images (not blocks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct FlashProgress {
    /// Current phase.
    pub phase: FlashPhase,
    /// The image being written.
    pub name: String,
    /// Its flash offset or RAM address.
    pub offset: u32,
    /// Bytes acknowledged by the board, over all images.
    pub done: u64,
    /// Bytes to write, over all images.
    pub total: u64,
}

/// The connected chip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ChipInfo {
    /// Chip name (`esp32`, …).
    pub chip: String,
    /// Chip ID in image-header numbering.
    pub chip_id: u16,
    /// Base MAC address, when readable.
    pub mac: Option<String>,
    /// Detected flash size in bytes.
    pub flash_bytes: Option<u64>,
    /// Line rate in use.
    pub baud: u32,
}

/// What a write did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WriteSummary {
    /// Bytes written (and verified).
    pub bytes: u64,
    /// MD5 of each image as verified on the board (hex), in plan order.
    pub md5: Vec<String>,
}

/// A board in its ROM loader.
pub struct RomSession {
    flasher: Flasher,
    port: String,
    cancel: CancelToken,
    clock: Arc<dyn Clock>,
    reset: ResetStrategy,
    info: ChipInfo,
}

impl std::fmt::Debug for RomSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RomSession").field("port", &self.port).field("info", &self.info).finish()
    }
}

impl RomSession {
    /// Opens `port`, resets the board into download mode and connects to its ROM loader.
    pub fn connect(port: &str, options: &ConnectOptions, clock: Arc<dyn Clock>, cancel: CancelToken) -> Result<RomSession, FlashError> {
        let open_err = |reason: String| FlashError::PortOpen { port: port.into(), reason };
        match std::fs::metadata(port) {
            Err(e) => return Err(open_err(e.to_string())),
            Ok(meta) if meta.is_file() || meta.is_dir() => return Err(open_err("it is a file, not a serial port".into())),
            Ok(_) => {}
        }
        let serial = serialport::new(port, DEFAULT_BAUD)
            .flow_control(serialport::FlowControl::None)
            .timeout(Duration::from_millis(100))
            .open_native()
            .map_err(|e| open_err(e.to_string()))?;
        let clone = serial.try_clone_native().map_err(|e| open_err(e.to_string()))?;
        let mut link = SerialLink::from_port(Box::new(clone), port, clock.clone(), cancel.clone());
        match options.reset.reset(&mut link, BootMode::Download) {
            Ok(()) => {}
            Err(crate::BoardError::Cancelled) => return Err(FlashError::Cancelled { written: 0 }),
            Err(e) => return Err(FlashError::Reset(e.to_string())),
        }
        drop(link);
        let usb = serialport::UsbPortInfo { vid: 0, pid: 0, serial_number: None, manufacturer: None, product: None };
        let connection = Connection::new(serial, usb, ResetAfterOperation::NoResetNoStub, ResetBeforeOperation::NoReset, DEFAULT_BAUD);
        let not_loader = |e: espflash::Error| FlashError::NotRomLoader { port: port.into(), reset: options.reset.name().into(), reason: error_chain(&e) };
        let mut flasher = Flasher::connect(connection, false, false, false, None, None).map_err(not_loader)?;
        if cancel.is_cancelled() {
            return Err(FlashError::Cancelled { written: 0 });
        }
        if options.baud != DEFAULT_BAUD {
            change_rate(&mut flasher, options.baud).map_err(|e| FlashError::Loader { step: "CHANGE_BAUDRATE".into(), written: 0, reason: error_chain(&e) })?;
        }
        let chip = flasher.chip();
        let mac = flasher.device_info().ok().and_then(|info| info.mac_address);
        let flash_bytes = flasher.flash_detect().ok().flatten().map(|size| u64::from(size.size()));
        let info = ChipInfo { chip: chip.to_string(), chip_id: chip.id(), mac, flash_bytes, baud: options.baud };
        tracing::info!(port, chip = %info.chip, baud = options.baud, reset = options.reset.name(), "connected to the ROM loader");
        Ok(RomSession { flasher, port: port.into(), cancel, clock, reset: options.reset.clone(), info })
    }

    /// The connected chip.
    pub fn info(&self) -> &ChipInfo {
        &self.info
    }

    /// What validation needs to know about this board (`table`: a partition table the caller has).
    pub fn target(&self, table: Option<super::PartitionTable>) -> TargetInfo {
        TargetInfo { chip_id: Some(self.info.chip_id), partition_table: table, flash_bytes: self.info.flash_bytes }
    }

    /// Writes every image of a plan validated against [`RomSession::target`], verifying each with
    /// the flash MD5. Checks cancellation between blocks.
    pub fn write(&mut self, plan: &FlashPlan, progress: &mut dyn FnMut(&FlashProgress)) -> Result<WriteSummary, FlashError> {
        let total = plan.total_bytes();
        let encrypted_field = self.flasher.chip() != Chip::Esp32;
        let mut done = 0u64;
        let mut md5s = Vec::new();
        for image in &plan.images {
            let mut data = image.bytes.clone();
            data.resize(data.len().next_multiple_of(4), 0xFF);
            let report = |phase, done| FlashProgress { phase, name: image.name.clone(), offset: image.offset, done, total };
            progress(&report(FlashPhase::Erasing, done));
            let size = data.len() as u32;
            let begin = Command::FlashBegin { size, blocks: data.len().div_ceil(FLASH_BLOCK) as u32, block_size: FLASH_BLOCK as u32, offset: image.offset, supports_encryption: encrypted_field };
            self.command(begin, CommandType::FlashBegin.timeout_for_size(size), "FLASH_BEGIN (erase)", done, total)?;
            for (sequence, block) in data.chunks(FLASH_BLOCK).enumerate() {
                if self.cancel.is_cancelled() {
                    return Err(FlashError::Cancelled { written: done });
                }
                let command = Command::FlashData { data: block, pad_to: FLASH_BLOCK, pad_byte: 0xFF, sequence: sequence as u32 };
                self.command(command, CommandType::FlashData.timeout_for_size(FLASH_BLOCK as u32), "FLASH_DATA", done, total)?;
                done = (done + block.len() as u64).min(total);
                progress(&report(FlashPhase::Writing, done));
            }
            progress(&report(FlashPhase::Verifying, done));
            let expected = hex(&Md5::digest(&data));
            let found = self.flasher.checksum_md5(image.offset, size).map_err(|e| self.failure("SPI_FLASH_MD5", done, total, e))?;
            let found = hex(&found.to_be_bytes());
            if found != expected {
                return Err(FlashError::VerifyFailed { name: image.name.clone(), offset: image.offset, expected, found });
            }
            md5s.push(found);
        }
        Ok(WriteSummary { bytes: done, md5: md5s })
    }

    /// Leaves the loader and boots the flash: a reset into flash boot with the port's strategy
    /// (what esptool's `--after hard_reset` does); a port without one gets FLASH_END ("run user code").
    pub fn boot(mut self) -> Result<(), FlashError> {
        if self.reset == ResetStrategy::None {
            let end = Command::FlashEnd { reboot: false };
            return self.command(end, CommandType::FlashEnd.timeout(), "FLASH_END", 0, 0);
        }
        let (port, clock, cancel, reset) = (self.port.clone(), self.clock.clone(), self.cancel.clone(), self.reset.clone());
        let serial = self.flasher.into_connection().into_serial();
        let mut link = SerialLink::from_port(Box::new(serial), &port, clock, cancel);
        reset.reset(&mut link, BootMode::Flash).map_err(|e| FlashError::Reset(e.to_string()))
    }

    /// Loads `image` into RAM (MEM_BEGIN / MEM_DATA / MEM_END) and starts it. Returns the open port,
    /// back at 115200, so the caller can talk to the started program before it times out.
    pub fn load_ram(mut self, image: &RamImage, progress: &mut dyn FnMut(&FlashProgress)) -> Result<TTYPort, FlashError> {
        if image.chip_id != self.info.chip_id {
            let refusal = super::ImageRefusal::WrongChip { name: image.name.clone(), image_chip: image.chip.into(), board_chip: self.info.chip.clone() };
            return Err(refusal.into());
        }
        let total = image.total_bytes();
        let encrypted_field = self.flasher.chip() != Chip::Esp32;
        let mut done = 0u64;
        for segment in &image.segments {
            let report = |done| FlashProgress { phase: FlashPhase::Loading, name: image.name.clone(), offset: segment.addr, done, total };
            let begin = Command::MemBegin {
                size: segment.len as u32,
                blocks: segment.len.div_ceil(RAM_BLOCK) as u32,
                block_size: RAM_BLOCK as u32,
                offset: segment.addr,
                supports_encryption: encrypted_field,
            };
            self.command(begin, CommandType::MemBegin.timeout(), "MEM_BEGIN", done, total)?;
            for (sequence, block) in segment.data.chunks(RAM_BLOCK).enumerate() {
                if self.cancel.is_cancelled() {
                    return Err(FlashError::Cancelled { written: done });
                }
                let command = Command::MemData { data: block, pad_to: 0, pad_byte: 0, sequence: sequence as u32 };
                self.command(command, CommandType::MemData.timeout(), "MEM_DATA", done, total)?;
                done += block.len() as u64;
                progress(&report(done));
            }
        }
        let end = Command::MemEnd { no_entry: false, entry: image.entry };
        self.command(end, CommandType::MemEnd.timeout(), "MEM_END", done, total)?;
        let mut serial = self.flasher.into_connection().into_serial();
        serialport::SerialPort::set_baud_rate(&mut serial, DEFAULT_BAUD).map_err(|e| FlashError::Loader { step: "back to 115200".into(), written: done, reason: e.to_string() })?;
        Ok(serial)
    }

    fn command(&mut self, command: Command<'_>, timeout: Duration, step: &str, done: u64, total: u64) -> Result<(), FlashError> {
        let result = self.flasher.connection().with_timeout(timeout, |connection| connection.command(command));
        result.map(|_| ()).map_err(|e| self.failure(step, done, total, e))
    }

    /// A vanished board (port gone, I/O error) or a loader failure.
    fn failure(&self, step: &str, written: u64, total: u64, error: espflash::Error) -> FlashError {
        let reason = error_chain(&error);
        let lower = reason.to_ascii_lowercase();
        let gone = !std::path::Path::new(&self.port).exists() || lower.contains("i/o error") || lower.contains("input/output") || lower.contains("broken pipe");
        if gone {
            FlashError::Vanished { port: self.port.clone(), written, total, reason: format!("{step}: {reason}") }
        } else {
            FlashError::Loader { step: step.into(), written, reason }
        }
    }
}

/// `RTCCALICFG1`: the ESP32 ROM's calibration of its crystal against the 8 MHz RC oscillator.
const ESP32_RTC_CALI_CFG1: u32 = 0x3FF5_F06C;
/// eFuse BLK0 word 4 (`EFUSE_RD_CK8M_FREQ` in bits 0..7).
const ESP32_EFUSE_WORD4: u32 = 0x3FF5_A010;
/// The loader's time to change its rate after the reply (esptool and espflash wait the same).
const RATE_SETTLE: Duration = Duration::from_millis(50);

/// Switches the loader and the port to `baud`. The ESP32 ROM sets its divider from its own
/// RC-calibrated crystal estimate, so (as esptool does) ask it for the rate scaled by that estimate
/// to land on `baud`; other chips take the plain rate. The reply comes at the old rate.
fn change_rate(flasher: &mut Flasher, baud: u32) -> Result<(), espflash::Error> {
    if flasher.chip() != Chip::Esp32 {
        return flasher.change_baud(baud);
    }
    let connection = flasher.connection();
    let cali = u64::from((connection.read_reg(ESP32_RTC_CALI_CFG1)? >> 7) & 0x01FF_FFFF);
    let ck8m = u64::from(connection.read_reg(ESP32_EFUSE_WORD4)? & 0xFF);
    let estimate = cali * 15_625 * ck8m / 40;
    let crystal = if estimate > 33_000_000 { 40_000_000 } else { 26_000_000 };
    let scaled = u32::try_from(u64::from(baud) * estimate / crystal).unwrap_or(baud);
    let new_baud = if scaled == 0 { baud } else { scaled };
    connection.with_timeout(CommandType::ChangeBaudrate.timeout(), |c| c.command(Command::ChangeBaudrate { new_baud, prior_baud: 0 }))?;
    connection.set_baud(baud)?;
    // The loader's own switch time, as espflash's and esptool's change_baud allow it.
    std::thread::sleep(RATE_SETTLE);
    Ok(())
}

/// The error and its sources, one line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
