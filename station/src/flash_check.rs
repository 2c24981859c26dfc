//! The Flash tool's view of a plan before anything is written: each image file's own validation result (ESP magic,
//! segments, checksum, SHA-256, app descriptor, chip, size against the partition) and the plan's (offsets, overlaps).
//!
//! [`check_images`] reads each file once (bounded), checks it alone (with the partition tables of the plan, so an
//! app is measured against its partition), then checks the whole plan. It never touches a board: the chip ID is
//! compared with the connected chip again by [`flash_images`](crate::flash::flash_images) before its first write.

use std::path::PathBuf;

use keyline_board::flash::{FlashError, FlashImage, FlashPlan, PartitionTable, TargetInfo, PARTITION_TABLE_OFFSET};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::flash::{CheckedImage, FlashRequest, MAX_IMAGE_FILE};
use crate::{Error, ErrorCode};

/// One image file and where it goes.
#[derive(Debug, Clone)]
pub struct ImageFile {
    /// The file (picked by the user).
    pub path: PathBuf,
    /// Flash offset.
    pub offset: u32,
}

/// Why an image or the plan would be refused.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Refusal {
    /// Stable code (`flash_bad_image`, `flash_wrong_chip`, `flash_does_not_fit`, …).
    pub code: ErrorCode,
    /// What is wrong, naming the image.
    pub message: String,
}

/// One image file as checked.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ImageCheck {
    /// File name.
    pub name: String,
    /// Flash offset.
    pub offset: u32,
    /// File size in bytes.
    pub bytes: u64,
    /// SHA-256 of the whole file (hex), to compare with the build's.
    pub sha256: String,
    /// What the file holds (one entry, or the parts of a merged image); empty when refused.
    pub parts: Vec<CheckedImage>,
    /// Why this image would be refused, if it would.
    pub refusal: Option<Refusal>,
}

/// Every image of a plan, and the plan as a whole.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct PlanCheck {
    /// Each image, in the order given.
    pub images: Vec<ImageCheck>,
    /// Why the plan would be refused although each image passes (overlaps), or the first image refusal.
    pub refusal: Option<Refusal>,
    /// Bytes to write.
    pub total_bytes: u64,
}

impl PlanCheck {
    /// Whether flashing may start.
    pub fn ready(&self) -> bool {
        self.refusal.is_none() && !self.images.is_empty()
    }
}

fn refusal(error: impl Into<Error>) -> Refusal {
    let error: Error = error.into();
    Refusal { code: error.code(), message: error.to_string() }
}

fn name_of(path: &std::path::Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}

/// Checks every image of `files` alone and the plan together; an unreadable file is a refusal of that image.
pub fn check_images(files: &[ImageFile]) -> PlanCheck {
    let mut loaded: Vec<(FlashImage, std::result::Result<(), Refusal>)> = Vec::new();
    for file in files {
        let name = name_of(&file.path);
        let read = if file.path.is_file() {
            crate::read_input_file(&file.path, MAX_IMAGE_FILE).map(|bytes| bytes.to_vec()).map_err(refusal)
        } else {
            Err(refusal(FlashError::File { path: file.path.display().to_string(), reason: "no such file".into() }))
        };
        match read {
            Ok(bytes) => loaded.push((FlashImage { name, offset: file.offset, bytes }, Ok(()))),
            Err(refused) => loaded.push((FlashImage { name, offset: file.offset, bytes: Vec::new() }, Err(refused))),
        }
    }
    // The partition tables of the plan: an app is measured against them.
    let tables: Vec<FlashImage> = loaded
        .iter()
        .filter(|(image, read)| read.is_ok() && image.offset == PARTITION_TABLE_OFFSET && PartitionTable::looks_like(&image.bytes))
        .map(|(image, _)| image.clone())
        .collect();
    let offline = TargetInfo::default();
    let mut images = Vec::new();
    for (image, read) in &loaded {
        let mut check = ImageCheck {
            name: image.name.clone(),
            offset: image.offset,
            bytes: image.bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(&image.bytes)),
            parts: Vec::new(),
            refusal: read.clone().err(),
        };
        if check.refusal.is_none() {
            let mut alone = vec![image.clone()];
            alone.extend(tables.iter().filter(|t| t.offset != image.offset).cloned());
            match FlashPlan::validate(alone, &offline) {
                Ok(plan) => check.parts = plan.checked.into_iter().filter(|p| p.name == image.name && (p.offset >= image.offset)).collect(),
                Err(refused) => check.refusal = Some(refusal(FlashError::from(refused))),
            }
        }
        images.push(check);
    }
    let total_bytes = images.iter().map(|i| i.bytes).sum();
    let refusal = match images.iter().find_map(|i| i.refusal.clone()) {
        Some(first) => Some(first),
        None if images.is_empty() => Some(refusal(Error::InvalidInput { what: "images".into(), reason: "choose at least one image".into() })),
        None => FlashPlan::validate(loaded.into_iter().map(|(image, _)| image).collect(), &offline).err().map(|e| refusal(FlashError::from(e))),
    };
    PlanCheck { images, refusal, total_bytes }
}

/// The [`FlashRequest`] that writes `files` to `port` at `baud`.
pub fn flash_request(port: &str, baud: u32, files: &[ImageFile]) -> FlashRequest {
    FlashRequest {
        port: port.to_owned(),
        baud,
        images: files.iter().map(|f| format!("{}@{:#x}", f.path.display(), f.offset)).collect(),
        partition_table: None,
    }
}

fn check_baud(baud: u32) -> crate::Result<()> {
    if !crate::settings::LOADER_BAUDS.contains(&baud) {
        let allowed: Vec<String> = crate::settings::LOADER_BAUDS.iter().map(u32::to_string).collect();
        return Err(Error::InvalidSetting { setting: "flash baud".into(), value: baud.to_string(), reason: format!("the ROM loader syncs at {}", allowed.join(", ")) });
    }
    Ok(())
}

/// Writes and verifies `files` on the board at `port` (the Flash tool): the rate is one the ROM loader syncs at, and
/// every image passes validation against the connected chip before the first write. Blocking; `cancel` stops it
/// between blocks.
pub fn flash_files(
    data_dir: &std::path::Path,
    port: &str,
    baud: u32,
    files: &[ImageFile],
    progress: &mut dyn FnMut(&crate::flash::FlashProgress),
    cancel: &keyline_board::CancelToken,
    clock: std::sync::Arc<dyn keyline_board::Clock>,
) -> crate::Result<crate::flash::FlashOutcome> {
    check_baud(baud)?;
    crate::flash::flash_images(data_dir, &flash_request(port, baud, files), progress, cancel, clock)
}

/// RAM-loads the helper `file` into the board at `port` and starts it (the Flash tool's RAM-load mode). Blocking.
pub fn ram_load_file(
    data_dir: &std::path::Path,
    port: &str,
    baud: u32,
    file: &std::path::Path,
    progress: &mut dyn FnMut(&crate::flash::FlashProgress),
    cancel: &keyline_board::CancelToken,
    clock: std::sync::Arc<dyn keyline_board::Clock>,
) -> crate::Result<crate::flash::RamLoadOutcome> {
    check_baud(baud)?;
    crate::flash::ram_load(data_dir, port, baud, file, progress, cancel, clock)
}
