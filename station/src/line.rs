//! The desktop's factory line: a shift started from chosen settings, stopped softly or aborted, with
//! a failed board retried on the same port. The provisioning itself is [`run_shift`] and [`provision_board`].

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::device_template::parse_profile;
use crate::provision::{
    provision_board, run_shift, CancelToken, FirmwareKind, FirmwareSetup, FirmwareSpec, PortSource, ProvisionEvent, ProvisionRequest, ProvisioningCa, ShiftConfig,
    ShiftCounters, ShiftEvent, ShiftObserver, SystemClock,
};
use crate::{Audience, Error, Result, Station};

/// What the operator chose for a shift.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct LineSettings {
    /// `rainbowtype` or `esp-helper`.
    pub firmware: String,
    /// The signer CA (unlocked on the CAs screen or remembered in the keyring).
    pub ca: String,
    /// Certificate profile; the firmware's when unset.
    #[serde(default)]
    pub profile: Option<String>,
    /// These ports only; every ESP32 bridge and simulated board when unset or empty.
    #[serde(default)]
    pub ports: Option<Vec<String>>,
    /// Write again to boards the ledger has as verified.
    #[serde(default)]
    pub reprovision: bool,
    /// The station name recorded in the ledger; the host name when unset.
    #[serde(default)]
    pub station_name: Option<String>,
    /// Firmware steps: load the provisioning firmware, flash the product firmware (files picked in the open dialog).
    #[serde(default)]
    pub firmware_steps: Option<LineFirmware>,
}

/// The firmware steps of a shift as the window sets them up; files are the numbers of the shell's picked files
/// ([`LineFirmware::spec`] turns them into paths).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct LineFirmware {
    /// RAM-load this helper (esp-helper boards) before provisioning.
    #[serde(default)]
    pub ram_load: Option<u32>,
    /// Flash these provisioning firmware images (rainbowtype boards) before provisioning.
    #[serde(default)]
    pub load_images: Vec<LineImage>,
    /// Flash these product images once the device is verified.
    #[serde(default)]
    pub product_images: Vec<LineImage>,
    /// ROM loader transfer rate; 460800 when unset.
    #[serde(default)]
    pub flash_baud: Option<u32>,
}

/// One image file and its flash offset.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct LineImage {
    /// The picked file's number.
    pub file: u32,
    /// Flash offset.
    pub offset: u32,
}

impl LineFirmware {
    /// The firmware steps with each file's path: `helper` resolves the RAM-load file's number, `image` a flash
    /// image's (the shell's picked files, whose numbers the page holds).
    pub fn spec<E>(&self, helper: impl Fn(u32) -> std::result::Result<PathBuf, E>, image: impl Fn(u32) -> std::result::Result<PathBuf, E>) -> std::result::Result<FirmwareSpec, E> {
        let images = |list: &[LineImage]| -> std::result::Result<Vec<String>, E> { list.iter().map(|i| Ok(format!("{}@{:#x}", image(i.file)?.display(), i.offset))).collect() };
        Ok(FirmwareSpec {
            ram_load: self.ram_load.map(&helper).transpose()?,
            load_images: images(&self.load_images)?,
            product_images: images(&self.product_images)?,
            partition_table: None,
            flash_baud: self.flash_baud,
        })
    }
}

/// What a picked firmware file is, for the shift set-up and the Flash tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct FirmwareFacts {
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256 of the file (hex).
    pub sha256: String,
    /// Chip from the ESP image header, when it is one.
    pub chip: Option<String>,
    /// App version from the app descriptor, when it has one.
    pub version: Option<String>,
}

/// Reads a firmware file (bounded) and describes it; a helper to RAM-load (`ram`) must be a loadable RAM image.
pub fn describe_firmware(path: &Path, ram: bool) -> Result<FirmwareFacts> {
    use sha2::Digest;
    if ram {
        crate::flash::read_ram_image(path)?;
    }
    let bytes = crate::read_input_file(path, crate::flash::MAX_IMAGE_FILE)?;
    let image = keyline_ota::AppImage::parse(&bytes).ok();
    Ok(FirmwareFacts {
        bytes: bytes.len() as u64,
        sha256: hex::encode(sha2::Sha256::digest(&bytes[..])),
        chip: image.as_ref().map(|i| i.chip.to_string()),
        version: image.and_then(|i| i.app_desc.map(|d| d.version)),
    })
}

/// A running shift.
pub struct LineSession {
    station: Arc<Station>,
    /// The shift's signer, until the shift ends (an idle lock drops it while the session lives on).
    ca: Arc<Mutex<Option<Arc<ProvisioningCa>>>>,
    ca_name: String,
    config: ShiftConfig,
    observer: ShiftObserver,
    stop: CancelToken,
    abort: CancelToken,
    shift: Option<JoinHandle<ShiftCounters>>,
}

impl LineSession {
    /// Unlocks the CA for the profile and starts watching ports; every event goes to `observer`.
    /// Failure hints in the events are the window's (see [`ErrorReport::for_audience`](crate::ErrorReport::for_audience)).
    /// `spec` is `settings.firmware_steps` with its files' paths ([`LineFirmware::spec`]); every image is
    /// validated before the shift starts (a bad one is this call's error and no board is touched).
    pub fn start(station: Arc<Station>, settings: &LineSettings, spec: Option<&FirmwareSpec>, observer: ShiftObserver) -> Result<LineSession> {
        let observer = for_window(observer);
        let firmware = FirmwareKind::parse(&settings.firmware).ok_or_else(|| Error::InvalidInput {
            what: "firmware".into(),
            reason: format!("\"{}\" is not one of rainbowtype, esp-helper", settings.firmware),
        })?;
        let firmware_setup = spec.filter(|spec| !spec.is_empty()).map(|spec| FirmwareSetup::prepare(spec, firmware)).transpose()?.map(Arc::new);
        let profile = parse_profile(settings.profile.as_deref().filter(|p| !p.is_empty()).unwrap_or(firmware.profile_name()))?;
        let ca = Arc::new(Mutex::new(Some(Arc::new(station.provisioning_ca(&settings.ca, profile)?))));
        let source = match settings.ports.as_deref() {
            Some(list) if !list.is_empty() => PortSource::List(list.to_vec()),
            _ => PortSource::Auto,
        };
        let saved = station.settings()?;
        let station_name = settings.station_name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| saved.station_name());
        let config = ShiftConfig {
            source,
            firmware,
            reprovision: settings.reprovision,
            station_name,
            poll: Duration::from_millis(250),
            until_idle: false,
            serial_log: true,
            serial: saved.serial,
            firmware_setup,
        };
        let (stop, abort) = (CancelToken::new(), CancelToken::new());
        let shift = {
            let (station, ca, config, observer, stop, abort) = (station.clone(), ca.clone(), config.clone(), observer.clone(), stop.clone(), abort.clone());
            std::thread::Builder::new()
                .name("keyline-shift".into())
                .spawn(move || {
                    let signer = ca.lock().unwrap_or_else(|p| p.into_inner()).clone();
                    let counters = match signer {
                        Some(signer) => run_shift(&station, &signer, &config, observer, &stop, &abort, Arc::new(SystemClock)),
                        None => ShiftCounters::default(),
                    };
                    // The shift is over (stopped or idle-locked): drop the decrypted signer key.
                    ca.lock().unwrap_or_else(|p| p.into_inner()).take();
                    counters
                })
                .map_err(|error| Error::InvalidInput { what: "shift".into(), reason: format!("the shift thread could not start: {error}") })?
        };
        Ok(LineSession { station, ca, ca_name: settings.ca.clone(), config, observer, stop, abort, shift: Some(shift) })
    }

    /// Runs the board on `port` again (it resumes from what the ledger and the chip already hold).
    pub fn retry(&self, port: &str) {
        let request = ProvisionRequest {
            port: port.to_owned(),
            firmware: self.config.firmware,
            reprovision: self.config.reprovision,
            station_name: self.config.station_name.clone(),
            stop_before_issue: Some(self.stop.clone()),
            ram_load: None,
            serial: self.config.serial,
            firmware_setup: self.config.firmware_setup.clone(),
        };
        let ca = self.ca.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let ca_name = self.ca_name.clone();
        let (station, observer, abort) = (self.station.clone(), self.observer.clone(), self.abort.clone());
        std::thread::spawn(move || {
            observer(&ShiftEvent::PortAppeared { port: request.port.clone() });
            let Some(ca) = ca else {
                let locked = Error::PassphraseRequired {
                    purpose: format!("CA \"{ca_name}\" (the shift ended and locked it; start the shift again)"),
                    env_var: "KEYLINE_CA_PASSPHRASE".into(),
                };
                let error = Some(locked.report());
                observer(&ShiftEvent::BoardFinished { port: request.port, outcome: None, error, counters: ShiftCounters::default() });
                return;
            };
            let inner = observer.clone();
            let board: crate::provision::Observer = Arc::new(move |event: &ProvisionEvent| inner(&ShiftEvent::Board { inner: event.clone() }));
            let result = provision_board(&station, &ca, &request, board, &abort, Arc::new(SystemClock));
            let (outcome, error) = match result {
                Ok(outcome) => (Some(outcome), None),
                Err(error) => (None, Some(error.report())),
            };
            observer(&ShiftEvent::BoardFinished { port: request.port, outcome, error, counters: ShiftCounters::default() });
        });
    }

    /// Soft stop: boards that already hold a certificate finish, the others stop before signing.
    /// Blocks until the shift has ended and returns its counters.
    pub fn stop(mut self) -> ShiftCounters {
        self.stop.cancel();
        self.shift.take().and_then(|shift| shift.join().ok()).unwrap_or_default()
    }

    /// Cancels every run at its next wait.
    pub fn abort(mut self) -> ShiftCounters {
        self.stop.cancel();
        self.abort.cancel();
        self.shift.take().and_then(|shift| shift.join().ok()).unwrap_or_default()
    }
}

/// Passes every event on, with the failure hints written for the window instead of the CLI.
fn for_window(observer: ShiftObserver) -> ShiftObserver {
    Arc::new(move |event: &ShiftEvent| match window_event(event) {
        Some(retold) => observer(&retold),
        None => observer(event),
    })
}

/// The event with the window's hint, when it carries a failure whose hint the window words differently.
fn window_event(event: &ShiftEvent) -> Option<ShiftEvent> {
    match event {
        ShiftEvent::Board { inner: ProvisionEvent::StepFailed { port, step, code, message, .. } } => {
            let hint = code.window_hint()?.to_owned();
            let inner = ProvisionEvent::StepFailed { port: port.clone(), step: *step, code: *code, message: message.clone(), hint };
            Some(ShiftEvent::Board { inner })
        }
        ShiftEvent::BoardFinished { port, outcome, error: Some(report), counters } => {
            report.code.window_hint()?;
            let error = Some(report.clone().for_audience(Audience::Gui));
            Some(ShiftEvent::BoardFinished { port: port.clone(), outcome: outcome.clone(), error, counters: *counters })
        }
        _ => None,
    }
}

impl Drop for LineSession {
    fn drop(&mut self) {
        self.stop.cancel();
        self.abort.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provision::Step;
    use crate::{ErrorCode, ErrorReport};

    #[test]
    fn failures_reach_the_window_with_its_hints_and_other_events_pass_unchanged() {
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = seen.clone();
        let observer = for_window(Arc::new(move |event: &ShiftEvent| sink.lock().unwrap().push(serde_json::to_value(event).unwrap())));
        let cli_hint = "Pick the board's serial port (`keyline ports`), e.g. /dev/ttyUSB0.".to_owned();
        let failed = ProvisionEvent::StepFailed {
            port: "p".into(),
            step: Step::Open,
            code: ErrorCode::NotASerialPort,
            message: "not a tty".into(),
            hint: cli_hint.clone(),
        };
        observer(&ShiftEvent::Board { inner: failed });
        let report = ErrorReport { code: ErrorCode::NotASerialPort, message: "not a tty".into(), hint: cli_hint };
        observer(&ShiftEvent::BoardFinished { port: "p".into(), outcome: None, error: Some(report), counters: ShiftCounters::default() });
        let timeout = ErrorReport { code: ErrorCode::Timeout, message: "no answer".into(), hint: "Check that the board is powered.".into() };
        observer(&ShiftEvent::BoardFinished { port: "q".into(), outcome: None, error: Some(timeout), counters: ShiftCounters::default() });
        observer(&ShiftEvent::PortAppeared { port: "r".into() });

        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 4);
        for hint in [&seen[0]["inner"]["hint"], &seen[1]["error"]["hint"]] {
            let hint = hint.as_str().unwrap();
            assert!(!hint.contains("keyline") && hint.contains("shift set-up"), "{hint}");
        }
        assert_eq!(seen[1]["error"]["message"], "not a tty");
        assert_eq!(seen[2]["error"]["hint"], "Check that the board is powered.");
        assert_eq!(seen[3]["port"], "r");
    }
}
