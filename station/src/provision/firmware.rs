//! The firmware steps of a shift: which provisioning firmware to load and which product images to flash, read and
//! validated once before the first board is touched.
//!
//! [`FirmwareSetup::prepare`] reads every file (bounded) and runs the image validation of `keyline flash` on it:
//! ESP magic, segment table, checksum, appended SHA-256, app descriptor, sector-aligned and non-overlapping
//! offsets, app sizes against the partition table, and one chip for every image (helper, provisioning firmware,
//! product). Each board's chip and flash size are checked again when its ROM loader answers. A bad image stops
//! the shift before it starts, with the flashing error's code and hint.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use keyline_board::flash::{FlashError, FlashImage, FlashPlan, ImageRefusal, PartitionTable, RamImage, TargetInfo};
use keyline_board::{Clock, FirmwareKind};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::flash::{plan_images, read_ram_image, FlashProgress, FlashRequest, DEFAULT_FLASH_BAUD};
use crate::{Error, Result};

/// What the operator asked for (paths as given).
#[derive(Debug, Clone, Default)]
pub struct FirmwareSpec {
    /// RAM-load this esptool `.bin` (the Espressif helper) before provisioning.
    pub ram_load: Option<PathBuf>,
    /// Flash these `IMAGE@OFFSET` images (the rainbowtype provisioning firmware) before provisioning.
    pub load_images: Vec<String>,
    /// Flash these `IMAGE@OFFSET` images (the product firmware) once the device is verified.
    pub product_images: Vec<String>,
    /// A partition table to check app sizes against when an image set includes none.
    pub partition_table: Option<PathBuf>,
    /// ROM loader transfer rate (default 460800).
    pub flash_baud: Option<u32>,
}

impl FirmwareSpec {
    /// True when no firmware step is asked for.
    pub fn is_empty(&self) -> bool {
        self.ram_load.is_none() && self.load_images.is_empty() && self.product_images.is_empty()
    }
}

/// One validated file of an image set, as recorded in the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ImageFile {
    /// File name.
    pub name: String,
    /// Flash offset.
    pub offset: u32,
    /// Length in bytes.
    pub bytes: u64,
    /// SHA-256 of the file (hex).
    pub sha256: String,
}

/// A validated set of images for one flash step.
#[derive(Debug, Clone)]
pub struct ImageSet {
    /// The images.
    pub images: Vec<FlashImage>,
    /// The partition table the sizes were checked against, when not in the set.
    pub table: Option<PartitionTable>,
    /// The files, by offset.
    pub files: Vec<ImageFile>,
    /// SHA-256 over every file's offset and SHA-256: the set's identity in the ledger.
    pub sha256: String,
    /// Chip ID of the set's ESP images, when any has one.
    pub chip_id: Option<u16>,
}

impl ImageSet {
    fn prepare(what: &str, images: &[String], table: Option<&PathBuf>) -> Result<ImageSet> {
        let request = FlashRequest { port: String::new(), baud: DEFAULT_FLASH_BAUD, images: images.to_vec(), partition_table: table.cloned() };
        let (images, table) = plan_images(&request).map_err(|e| annotate(what, e))?;
        let offline = TargetInfo { chip_id: None, partition_table: table.clone(), flash_bytes: None };
        let plan = FlashPlan::validate(images.clone(), &offline).map_err(|e| annotate(what, FlashError::from(e).into()))?;
        let mut chip_id = None;
        for checked in &plan.checked {
            if let Some(chip) = checked.chip {
                let id = chip_id_of(chip);
                match chip_id {
                    Some(seen) if Some(seen) != id => return Err(mixed_chips(&checked.name, chip, seen)),
                    _ => chip_id = chip_id.or(id),
                }
            }
        }
        let files: Vec<ImageFile> = plan
            .images
            .iter()
            .map(|image| ImageFile { name: image.name.clone(), offset: image.offset, bytes: image.bytes.len() as u64, sha256: hex::encode(Sha256::digest(&image.bytes)) })
            .collect();
        let mut set = Sha256::new();
        for file in &files {
            set.update(file.offset.to_le_bytes());
            set.update(file.sha256.as_bytes());
        }
        Ok(ImageSet { images: plan.images, table, files, sha256: hex::encode(set.finalize()), chip_id })
    }

    /// Bytes to write.
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.bytes).sum()
    }
}

fn chip_id_of(chip: &str) -> Option<u16> {
    (0u16..32).find(|&id| keyline_ota::image::chip_name(id) == chip)
}

fn mixed_chips(name: &str, chip: &str, seen: u16) -> Error {
    let refusal = ImageRefusal::WrongChip { name: name.into(), image_chip: chip.into(), board_chip: format!("{} (the other firmware images)", keyline_ota::image::chip_name(seen)) };
    FlashError::from(refusal).into()
}

/// Says which set an image error is about (the provisioning or the product firmware).
fn annotate(what: &str, error: Error) -> Error {
    match error {
        Error::Flash(FlashError::Refused(ImageRefusal::BadImage { name, reason })) => {
            FlashError::from(ImageRefusal::BadImage { name: format!("{what} image {name}"), reason }).into()
        }
        other => other,
    }
}

/// How the provisioning firmware gets onto the board.
#[derive(Debug, Clone)]
pub enum FirmwareLoad {
    /// RAM-loaded (the Espressif helper): never written to flash.
    Ram(RamImage),
    /// Flashed (the rainbowtype provisioning firmware), then booted.
    Flash(ImageSet),
}

/// The firmware steps of a shift, validated.
#[derive(Debug, Clone)]
pub struct FirmwareSetup {
    /// Load the provisioning firmware first.
    pub load: Option<FirmwareLoad>,
    /// Flash the product firmware after the device is verified.
    pub product: Option<ImageSet>,
    /// ROM loader transfer rate.
    pub flash_baud: u32,
}

impl FirmwareSetup {
    /// Reads and validates every file of `spec` for boards running `firmware`. Nothing touches a board.
    pub fn prepare(spec: &FirmwareSpec, firmware: FirmwareKind) -> Result<FirmwareSetup> {
        let invalid = |reason: &str| Error::InvalidInput { what: "firmware".into(), reason: reason.into() };
        if spec.ram_load.is_some() && !spec.load_images.is_empty() {
            return Err(invalid("choose either a helper to RAM-load or provisioning firmware images to flash, not both"));
        }
        if spec.ram_load.is_some() && firmware != FirmwareKind::EspHelper {
            return Err(invalid("a RAM-loaded helper is the Espressif helper: use it with --firmware esp-helper"));
        }
        if !spec.load_images.is_empty() && firmware != FirmwareKind::Rainbowtype {
            return Err(invalid("the Espressif helper is RAM-loaded (--ram-load), never flashed; flashed provisioning firmware is rainbowtype's"));
        }
        let flash_baud = spec.flash_baud.unwrap_or(DEFAULT_FLASH_BAUD);
        if !(9600..=4_000_000).contains(&flash_baud) {
            return Err(invalid("the flash baud must be between 9600 and 4000000"));
        }
        let load = match (&spec.ram_load, spec.load_images.is_empty()) {
            (Some(helper), _) => Some(FirmwareLoad::Ram(read_ram_image(helper)?)),
            (None, false) => Some(FirmwareLoad::Flash(ImageSet::prepare("provisioning firmware", &spec.load_images, spec.partition_table.as_ref())?)),
            (None, true) => None,
        };
        let product = match spec.product_images.is_empty() {
            true => None,
            false => Some(ImageSet::prepare("product firmware", &spec.product_images, spec.partition_table.as_ref())?),
        };
        let load_chip = match &load {
            Some(FirmwareLoad::Ram(image)) => Some((image.name.clone(), image.chip_id)),
            Some(FirmwareLoad::Flash(set)) => set.chip_id.map(|id| (set.files[0].name.clone(), id)),
            None => None,
        };
        if let (Some((_, load_id)), Some(product)) = (&load_chip, &product) {
            if let Some(product_id) = product.chip_id.filter(|id| id != load_id) {
                return Err(mixed_chips(&product.files[0].name, keyline_ota::image::chip_name(product_id), *load_id));
            }
        }
        Ok(FirmwareSetup { load, product, flash_baud })
    }
}

/// Passes byte progress on at most every 2 % or 200 ms (and always the end), never per block.
pub(crate) struct Throttle {
    clock: Arc<dyn Clock>,
    last: Option<(Instant, u64)>,
}

impl Throttle {
    pub(crate) fn new(clock: Arc<dyn Clock>) -> Throttle {
        Throttle { clock, last: None }
    }

    /// Whether `progress` should be reported.
    pub(crate) fn pass(&mut self, progress: &FlashProgress) -> bool {
        let now = self.clock.now();
        let due = match self.last {
            None => true,
            Some((at, done)) => {
                progress.done > done
                    && (progress.done >= progress.total || (progress.done - done) * 50 >= progress.total || now.duration_since(at).as_millis() >= 200)
            }
        };
        if due {
            self.last = Some((now, progress.done));
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flash::FlashPhase;

    #[test]
    fn progress_is_throttled_and_always_ends_at_the_total() {
        let mut throttle = Throttle::new(Arc::new(keyline_board::SystemClock));
        let total = 100 * 1024;
        let passed: Vec<u64> = (1..=100u64)
            .map(|k| FlashProgress { phase: FlashPhase::Writing, name: "a".into(), offset: 0, done: k * 1024, total })
            .filter(|p| throttle.pass(p))
            .map(|p| p.done)
            .collect();
        assert!(passed.len() <= 51, "{} reports for 100 blocks", passed.len());
        assert_eq!(passed.last(), Some(&total));
        assert!(passed.windows(2).all(|w| w[0] < w[1]));
    }
}
