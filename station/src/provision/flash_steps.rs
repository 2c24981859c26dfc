//! The firmware steps of one board's run: load the provisioning firmware (RAM-load the helper or flash the
//! rainbowtype images) and flash the product images, each reporting byte progress from espflash's callback,
//! throttled; the product flash is recorded on the device's timeline (`product_flashed`).

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use keyline_board::{CancelToken, Clock, SerialLink};
use serde_json::{json, Value};

use super::firmware::{FirmwareLoad, ImageSet, Throttle};
use super::{Observer, ProvisionError, ProvisionEvent, Step};
use crate::flash::{ram_load_image_link, write_planned, FlashProgress};
use crate::ledger::{DeviceSerial, Ledger, DEVICE_STATUS_VERIFIED};

/// The device timeline event of a product flash.
pub const PRODUCT_FLASHED: &str = "product_flashed";

/// What the firmware steps need from the run.
pub(super) struct FlashContext<'a> {
    pub data_dir: &'a Path,
    pub port: &'a str,
    pub baud: u32,
    pub observer: Observer,
    pub cancel: CancelToken,
    pub clock: Arc<dyn Clock>,
}

impl FlashContext<'_> {
    /// A progress callback that emits throttled `StepProgress` events in bytes for `step`.
    fn progress(&self, step: Step) -> impl FnMut(&FlashProgress) + '_ {
        let mut throttle = Throttle::new(self.clock.clone());
        let started: Instant = self.clock.now();
        move |p: &FlashProgress| {
            if throttle.pass(p) {
                let message = format!("{} {} @ {:#x}", format!("{:?}", p.phase).to_lowercase(), p.name, p.offset);
                let elapsed_ms = self.clock.since(started).as_millis() as u64;
                (self.observer)(&ProvisionEvent::StepProgress { port: self.port.into(), step, message, done: Some(p.done), total: Some(p.total), elapsed_ms });
            }
        }
    }

    /// Loads the provisioning firmware. A RAM-loaded helper keeps the port open (its handshake window is too
    /// short for a reopen): the link is returned. A flashed firmware is booted and the port closed.
    pub fn load(&self, load: &FirmwareLoad) -> Result<(Option<SerialLink>, Value), ProvisionError> {
        let station = |e| ProvisionError::station(Step::LoadFirmware, e);
        match load {
            FirmwareLoad::Ram(image) => {
                let mut progress = self.progress(Step::LoadFirmware);
                let (link, loaded) = ram_load_image_link(self.data_dir, self.port, self.baud, image.clone(), &mut progress, &self.cancel, self.clock.clone()).map_err(station)?;
                let detail = json!({
                    "ramLoaded": loaded.image.name, "bytes": loaded.bytes, "sha256": loaded.image.sha256, "entry": loaded.image.entry,
                    "chip": loaded.chip.chip, "elapsedMs": loaded.elapsed_ms, "baud": loaded.chip.baud,
                });
                Ok((Some(link), detail))
            }
            FirmwareLoad::Flash(set) => Ok((None, self.write(Step::LoadFirmware, set)?)),
        }
    }

    /// Writes, verifies and boots an image set; the detail names every file with its SHA-256.
    fn write(&self, step: Step, set: &ImageSet) -> Result<Value, ProvisionError> {
        let mut progress = self.progress(step);
        let outcome = write_planned(self.data_dir, self.port, self.baud, set.images.clone(), set.table.clone(), &mut progress, &self.cancel, self.clock.clone())
            .map_err(|e| ProvisionError::station(step, e))?;
        Ok(json!({
            "images": set.files, "sha256": set.sha256, "bytes": outcome.bytes, "md5": outcome.md5, "chip": outcome.chip.chip,
            "elapsedMs": outcome.elapsed_ms, "bytesPerSecond": outcome.bytes_per_second.round(), "baud": outcome.chip.baud,
        }))
    }

    /// Flashes the product images onto a device the ledger has as verified with certificate `cert_id`, and
    /// records it on the device's timeline.
    pub fn product(&self, ledger: &mut Ledger, serial: &DeviceSerial, cert_id: &str, set: &ImageSet) -> Result<Value, ProvisionError> {
        let station = |e: crate::Error| ProvisionError::station(Step::ProductFlash, e);
        let device = ledger.get(serial).map_err(|e| ProvisionError::station(Step::ProductFlash, e))?;
        if !device.as_ref().is_some_and(|d| d.status == DEVICE_STATUS_VERIFIED && d.cert_id == cert_id) {
            let reason = format!("device {serial} is not verified with certificate {cert_id} in the ledger; the product firmware is flashed only after that");
            return Err(station(crate::Error::InvalidInput { what: "product flash".into(), reason }));
        }
        let mut detail = self.write(Step::ProductFlash, set)?;
        detail["certId"] = json!(cert_id);
        detail["port"] = json!(self.port);
        ledger.add_event(serial, PRODUCT_FLASHED, &detail).map_err(|e| ProvisionError::station(Step::ProductFlash, e))?;
        Ok(detail)
    }
}

/// Whether the device's timeline shows this image set flashed onto it with certificate `cert_id`.
pub(super) fn product_flashed(ledger: &Ledger, serial: &DeviceSerial, cert_id: &str, set: &ImageSet) -> Result<bool, ProvisionError> {
    let events = ledger.events(serial).map_err(|e| ProvisionError::station(Step::ProductFlash, e))?;
    Ok(events.iter().any(|e| e.kind == PRODUCT_FLASHED && e.detail["certId"] == cert_id && e.detail["sha256"] == set.sha256.as_str()))
}
