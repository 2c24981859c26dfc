//! Flashing and RAM-loading boards from the station: image files in, validation, then `keyline_board::flash` on a blocking thread.
//!
//! [`flash_images`] reads every `IMAGE[@OFFSET]` file (bounded), validates the plan before
//! connecting (offsets, overlaps, image format) and again against the connected chip and its flash
//! (chip ID, size), then writes and verifies. [`ram_load`] loads an esptool `.bin` (the Espressif
//! provisioning helper) into RAM and starts it. The reset strategy comes from the port list, so a
//! simulated board is reset through its FIFO and a real one through DTR/RTS or USB-Serial-JTAG.
//! Both block: the desktop shell runs them with `spawn_blocking`, off its async runtime.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use keyline_board::flash::{parse_image_arg, ConnectOptions, FlashError, FlashImage, FlashPlan, PartitionTable, RamImage, RomSession, TargetInfo};
use keyline_board::{CancelToken, Clock, SerialLink};
use serde::Serialize;

pub use keyline_board::flash::{CheckedImage, ChipInfo, FlashPhase, FlashProgress, ImageKind};

use crate::{Error, Result};

/// Largest image file read (the largest ESP flash).
pub const MAX_IMAGE_FILE: u64 = 16 * 1024 * 1024;
/// Default transfer rate of the ROM loader (what esptool uses without `--baud`: 460800).
pub const DEFAULT_FLASH_BAUD: u32 = 460_800;

/// What to write where.
#[derive(Debug, Clone)]
pub struct FlashRequest {
    /// Serial port of the board.
    pub port: String,
    /// Transfer rate.
    pub baud: u32,
    /// `IMAGE[@OFFSET]` arguments (no offset: a merged image at 0).
    pub images: Vec<String>,
    /// A partition table file to check app sizes against when the plan writes none.
    pub partition_table: Option<PathBuf>,
}

/// A finished write.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct FlashOutcome {
    /// The port.
    pub port: String,
    /// The connected chip.
    pub chip: ChipInfo,
    /// The images as validated, by offset.
    pub images: Vec<CheckedImage>,
    /// Bytes written and verified.
    pub bytes: u64,
    /// MD5 of each file as read back from flash.
    pub md5: Vec<String>,
    /// Time from connecting to the last verify, in ms.
    pub elapsed_ms: u64,
    /// Write throughput (bytes written per second, verification included).
    pub bytes_per_second: f64,
}

/// A finished RAM load.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RamLoadOutcome {
    /// The port.
    pub port: String,
    /// The connected chip.
    pub chip: ChipInfo,
    /// The loaded image (segments, entry point).
    pub image: RamImage,
    /// Bytes loaded.
    pub bytes: u64,
    /// Time from connecting to MEM_END, in ms.
    pub elapsed_ms: u64,
    /// The started program's line rate.
    pub program_baud: u32,
}

fn read_image(path: &Path) -> Result<Vec<u8>> {
    if !path.is_file() {
        return Err(FlashError::File { path: path.display().to_string(), reason: "no such file".into() }.into());
    }
    Ok(crate::read_input_file(path, MAX_IMAGE_FILE)?.to_vec())
}

fn name_of(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}

/// Reads the files of `request` and validates the plan without a board (format, offsets, overlaps).
pub fn plan_images(request: &FlashRequest) -> Result<(Vec<FlashImage>, Option<PartitionTable>)> {
    if request.images.is_empty() {
        return Err(Error::InvalidInput { what: "images".into(), reason: "name at least one IMAGE[@OFFSET]".into() });
    }
    let mut images = Vec::new();
    for arg in &request.images {
        let (path, offset) = parse_image_arg(arg).map_err(FlashError::from)?;
        images.push(FlashImage { name: name_of(&path), offset, bytes: read_image(&path)? });
    }
    let table = match &request.partition_table {
        Some(path) => Some(PartitionTable::parse(&read_image(path)?).map_err(FlashError::from)?),
        None => None,
    };
    let offline = TargetInfo { chip_id: None, partition_table: table.clone(), flash_bytes: None };
    FlashPlan::validate(images.clone(), &offline).map_err(FlashError::from)?;
    Ok((images, table))
}

fn connect(data_dir: &Path, port: &str, baud: u32, cancel: &CancelToken, clock: Arc<dyn Clock>) -> Result<RomSession> {
    let reset = crate::ports::reset_strategy_for(data_dir, port);
    Ok(RomSession::connect(port, &ConnectOptions { baud, reset }, clock, cancel.clone())?)
}

/// Writes and verifies the images of `request`, then boots the board. Nothing is written unless
/// every image passes validation against the connected chip. Blocking.
pub fn flash_images(data_dir: &Path, request: &FlashRequest, progress: &mut dyn FnMut(&FlashProgress), cancel: &CancelToken, clock: Arc<dyn Clock>) -> Result<FlashOutcome> {
    let (images, table) = plan_images(request)?;
    write_planned(data_dir, &request.port, request.baud, images, table, progress, cancel, clock)
}

/// Writes images already checked by [`plan_images`]: validated again against the connected chip and
/// its flash (chip ID, size) before the first byte, then written, verified and booted. Blocking.
#[allow(clippy::too_many_arguments)]
pub fn write_planned(
    data_dir: &Path,
    port: &str,
    baud: u32,
    images: Vec<FlashImage>,
    table: Option<PartitionTable>,
    progress: &mut dyn FnMut(&FlashProgress),
    cancel: &CancelToken,
    clock: Arc<dyn Clock>,
) -> Result<FlashOutcome> {
    let start = Instant::now();
    let mut session = connect(data_dir, port, baud, cancel, clock)?;
    let plan = FlashPlan::validate(images, &session.target(table)).map_err(FlashError::from)?;
    let summary = session.write(&plan, progress)?;
    let chip = session.info().clone();
    session.boot()?;
    let elapsed = start.elapsed();
    Ok(FlashOutcome {
        port: port.to_string(),
        chip,
        images: plan.checked,
        bytes: summary.bytes,
        md5: summary.md5,
        elapsed_ms: elapsed.as_millis() as u64,
        bytes_per_second: summary.bytes as f64 / elapsed.as_secs_f64().max(1e-9),
    })
}

/// Parses a RAM image file strictly (see [`RamImage`]).
pub fn read_ram_image(path: &Path) -> Result<RamImage> {
    let bytes = read_image(path)?;
    Ok(RamImage::parse_for_loader(&name_of(path), &bytes).map_err(FlashError::from)?)
}

/// Loads the RAM image at `helper` into the board on `port` and starts it. Returns once MEM_END is
/// acknowledged; the program then boots and talks at 115200 (the port is closed on return, so the
/// next host must open it within the program's start-up window). Blocking.
pub fn ram_load(data_dir: &Path, port: &str, baud: u32, helper: &Path, progress: &mut dyn FnMut(&FlashProgress), cancel: &CancelToken, clock: Arc<dyn Clock>) -> Result<RamLoadOutcome> {
    let (link, outcome) = ram_load_link(data_dir, port, baud, helper, progress, cancel, clock)?;
    drop(link);
    Ok(outcome)
}

/// Like [`ram_load`], and keeps the port open: the link is at 115200, ready for the started program.
pub fn ram_load_link(data_dir: &Path, port: &str, baud: u32, helper: &Path, progress: &mut dyn FnMut(&FlashProgress), cancel: &CancelToken, clock: Arc<dyn Clock>) -> Result<(SerialLink, RamLoadOutcome)> {
    let image = read_ram_image(helper)?;
    ram_load_image_link(data_dir, port, baud, image, progress, cancel, clock)
}

/// Like [`ram_load_link`] for an image already read and checked with [`read_ram_image`].
pub fn ram_load_image_link(data_dir: &Path, port: &str, baud: u32, image: RamImage, progress: &mut dyn FnMut(&FlashProgress), cancel: &CancelToken, clock: Arc<dyn Clock>) -> Result<(SerialLink, RamLoadOutcome)> {
    let start = Instant::now();
    let session = connect(data_dir, port, baud, cancel, clock.clone())?;
    let chip = session.info().clone();
    let serial = session.load_ram(&image, progress)?;
    let link = SerialLink::from_port(Box::new(serial), port, clock, cancel.clone());
    let outcome = RamLoadOutcome {
        port: port.into(),
        chip,
        bytes: image.total_bytes(),
        image,
        elapsed_ms: start.elapsed().as_millis() as u64,
        program_baud: keyline_board::DEFAULT_BAUD,
    };
    Ok((link, outcome))
}

/// Error code of a flashing failure.
pub(crate) fn code(error: &FlashError) -> crate::ErrorCode {
    use crate::ErrorCode as C;
    match error.code() {
        "bad_image" => C::FlashBadImage,
        "bad_partition_table" => C::FlashBadPartitionTable,
        "wrong_chip" => C::FlashWrongChip,
        "does_not_fit" => C::FlashDoesNotFit,
        "unaligned_offset" => C::FlashUnalignedOffset,
        "overlapping_images" => C::FlashOverlappingImages,
        "file_unreadable" => C::FlashFileUnreadable,
        "port_open" => C::PortOpen,
        "not_rom_loader" => C::FlashNotRomLoader,
        "board_vanished" => C::Disconnected,
        "verify_failed" => C::FlashVerifyFailed,
        "cancelled" => C::Cancelled,
        "bad_argument" => C::InvalidInput,
        _ => C::FlashLoaderFailed,
    }
}

/// What to do about a flashing failure.
pub(crate) fn hint(error: &FlashError) -> String {
    match error {
        FlashError::Refused(_) => "Nothing was written. Fix the image or its offset (check the build's flasher_args.json), then flash again.".into(),
        FlashError::File { .. } => "Check the file path.".into(),
        FlashError::PortOpen { .. } => "Check the port path with `keyline ports`, and that no other program has it open.".into(),
        FlashError::NotRomLoader { .. } => "Hold BOOT (IO0) while pressing EN/RESET to enter download mode, or check the USB cable and the port; a simulated board must be listed by `keyline ports` (its reset channel).".into(),
        FlashError::Vanished { .. } => "The board was unplugged or lost power: reconnect it and flash again (a partly written image does not boot).".into(),
        FlashError::Loader { .. } => "Try again at a lower rate (--baud 115200); if it keeps failing, the cable or the USB-UART bridge may be faulty.".into(),
        FlashError::VerifyFailed { .. } => "The flash did not keep what was written: flash again; a repeat failure points to a faulty flash chip.".into(),
        FlashError::Reset(_) => "Reset the board into download mode by hand (BOOT + EN), then flash again.".into(),
        _ => "Flash again when ready.".into(),
    }
}
