//! One board's run as a state machine: open, handshake, configure+lock, serial, key, check, issue, write, verify.
//!
//! Each step has its own deadline inside the driver, is checked against the cancel token before it
//! starts, is timed with the injected clock, emits `StepStarted` then `StepDone`/`StepFailed`, and is
//! recorded in `provision_steps`. The ledger row is committed in the issue step, before any byte of
//! the certificate goes to the board; a rerun on the same chip finds that row and writes the same
//! certificate again (no second certificate for the same key).

use std::sync::Arc;
use std::time::Instant;

use keyline_board::{open_driver_with, ByteLog, CancelToken, CertUpload, Clock, FirmwareKind, KeyMaterial, ProvisioningFirmware};
use keyline_certs::device::request::{der_from_pem_or_der, public_key_from_csr, verifying_key};
use serde::Serialize;
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::firmware::{FirmwareLoad, FirmwareSetup};
use super::flash_steps::{product_flashed, FlashContext};
use super::{Observer, ProvisionError, ProvisionEvent, ProvisioningCa, Step};
use crate::ledger::{certificate_id, Device, DeviceSerial, Ledger, StepRecord, DEVICE_STATUS_FAILED, DEVICE_STATUS_VERIFIED, DEVICE_STATUS_WRITTEN};
use crate::Station;

/// What to provision.
#[derive(Debug, Clone)]
pub struct ProvisionRequest {
    /// Serial port path.
    pub port: String,
    /// The firmware the board runs.
    pub firmware: FirmwareKind,
    /// Write again to a board the ledger has as verified.
    pub reprovision: bool,
    /// This station's name in the ledger.
    pub station_name: String,
    /// A soft stop: checked only before steps up to the issue step, so a board that already has
    /// its certificate is finished (the shift runner's Ctrl-C).
    pub stop_before_issue: Option<CancelToken>,
    /// RAM-load this esptool `.bin` (the esp-helper) through the ROM loader in the open step, then
    /// provision on the same open port (the helper's handshake window is too short for a reopen).
    pub ram_load: Option<std::path::PathBuf>,
    /// Console and loader rates and the step deadlines (the station's settings).
    pub serial: crate::settings::SerialSettings,
    /// The shift's validated firmware steps: load the provisioning firmware first, flash the product
    /// firmware once the device is verified (see [`FirmwareSetup::prepare`]).
    pub firmware_setup: Option<Arc<FirmwareSetup>>,
}

/// How a run ended well.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum OutcomeKind {
    /// Written and verified now.
    Verified,
    /// The ledger already had it verified and the chip holds its key; nothing was written.
    AlreadyProvisioned,
    /// The ledger already had it verified; only the product firmware was flashed now (a resumed run).
    ProductFlashed,
}

/// Time one step took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct StepTiming {
    /// The step.
    pub step: Step,
    /// Milliseconds.
    pub elapsed_ms: u64,
}

/// A finished board.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ProvisionOutcome {
    /// Verified now, or already provisioned.
    pub outcome: OutcomeKind,
    /// Serial port.
    pub port: String,
    /// Firmware.
    pub firmware: FirmwareKind,
    /// Chip serial.
    pub serial: DeviceSerial,
    /// Certificate subject CN.
    pub common_name: String,
    /// SHA-256 of the certificate DER.
    pub cert_id: String,
    /// The certificate was issued in an earlier run and written again (resume).
    pub reused_certificate: bool,
    /// How the board proved it holds the certificate.
    pub verified_by: Vec<String>,
    /// Step times.
    pub steps: Vec<StepTiming>,
    /// Whole run.
    pub total_ms: u64,
    /// Bytes sent to / received from the board.
    pub bytes_out: u64,
    /// Bytes received.
    pub bytes_in: u64,
    /// The product flash of this run (images, SHA-256, bytes), when one was made.
    pub product_flash: Option<Value>,
}

struct Run<'a> {
    request: &'a ProvisionRequest,
    observer: Observer,
    cancel: CancelToken,
    clock: Arc<dyn Clock>,
    run_id: String,
    seq: i64,
    serial: Option<DeviceSerial>,
    timings: Vec<StepTiming>,
}

fn run_id(clock: &dyn Clock) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = clock.wall().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{:x}-{:x}-{:x}", nanos, std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

impl Run<'_> {
    fn emit(&self, event: ProvisionEvent) {
        (self.observer)(&event);
    }

    fn record(&mut self, ledger: &mut Ledger, step: Step, outcome: &str, elapsed_ms: u64, detail: Value) {
        self.seq += 1;
        let record = StepRecord {
            run_id: self.run_id.clone(),
            seq: self.seq,
            serial: self.serial.clone(),
            station: self.request.station_name.clone(),
            port: self.request.port.clone(),
            firmware: self.request.firmware.as_str().into(),
            step: step.as_str().into(),
            outcome: outcome.into(),
            elapsed_ms,
            detail,
        };
        if let Err(error) = ledger.record_step(&record) {
            tracing::warn!(%error, step = step.as_str(), "cannot record the provisioning step");
        }
    }

    /// Runs one step: cancel check, events, timing, ledger record.
    fn step<T>(&mut self, ledger: &mut Ledger, step: Step, f: impl FnOnce(&mut Ledger) -> Result<(T, Value), ProvisionError>) -> Result<T, ProvisionError> {
        self.step_or_retry(ledger, step, None, f)
    }

    /// Like [`Run::step`]; a failure that `retry` names (what the run does next) is recorded as `retried` and
    /// announced with a progress event instead of a failure, and handed back for the caller to recover from.
    fn step_or_retry<T>(
        &mut self,
        ledger: &mut Ledger,
        step: Step,
        retry: Option<&dyn Fn(&ProvisionError) -> Option<&'static str>>,
        f: impl FnOnce(&mut Ledger) -> Result<(T, Value), ProvisionError>,
    ) -> Result<T, ProvisionError> {
        let soft_stop = self.request.stop_before_issue.as_ref().is_some_and(CancelToken::is_cancelled) && step <= Step::Issue;
        if self.cancel.is_cancelled() || soft_stop {
            let error = ProvisionError::Cancelled { step };
            self.fail(ledger, step, &error, 0);
            return Err(error);
        }
        self.emit(ProvisionEvent::StepStarted { port: self.request.port.clone(), step });
        let start: Instant = self.clock.now();
        let result = f(ledger);
        let elapsed_ms = self.clock.since(start).as_millis() as u64;
        match result {
            Ok((value, detail)) => {
                if let Some(serial) = detail.get("serial").and_then(Value::as_str).and_then(|s| DeviceSerial::parse(s).ok()) {
                    self.serial = Some(serial);
                }
                self.timings.push(StepTiming { step, elapsed_ms });
                self.record(ledger, step, "done", elapsed_ms, detail.clone());
                self.emit(ProvisionEvent::StepDone { port: self.request.port.clone(), step, elapsed_ms, detail });
                Ok(value)
            }
            Err(error) => match retry.and_then(|retry| retry(&error)) {
                Some(next) => {
                    let report = error.report();
                    self.record(ledger, step, "retried", elapsed_ms, json!({ "code": report.code, "message": report.message, "next": next }));
                    let message = format!("{}: {next}", report.message);
                    self.emit(ProvisionEvent::StepProgress { port: self.request.port.clone(), step, message, done: None, total: None, elapsed_ms });
                    Err(error)
                }
                None => {
                    self.fail(ledger, step, &error, elapsed_ms);
                    Err(error)
                }
            },
        }
    }

    fn fail(&mut self, ledger: &mut Ledger, step: Step, error: &ProvisionError, elapsed_ms: u64) {
        let report = error.report();
        self.record(ledger, step, "failed", elapsed_ms, json!({ "code": report.code, "message": report.message, "hint": report.hint }));
        self.emit(ProvisionEvent::StepFailed { port: self.request.port.clone(), step, code: report.code, message: report.message, hint: report.hint });
    }
}

impl PartialOrd for Step {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Step {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let index = |s: &Step| Step::ALL.iter().position(|x| x == s).unwrap_or(0);
        index(self).cmp(&index(other))
    }
}

fn hex64(key: &[u8; 64]) -> String {
    hex::encode(key)
}

/// Whether the ledger's certificate for this chip can be written again: same key, CA and profile.
fn reusable(existing: &Device, ca: &ProvisioningCa, key: &[u8; 64]) -> bool {
    existing.public_key == hex64(key) && existing.ca_name == ca.ca && existing.profile == ca.profile.as_str()
}

/// The key check: a valid P-256 point; a CSR, when the firmware gives one, with a valid self-signature
/// over exactly the chip's key.
pub fn check_key_material(material: &KeyMaterial) -> Result<Value, ProvisionError> {
    verifying_key(&material.public_key).map_err(|_| ProvisionError::BadPublicKey)?;
    let Some(csr) = &material.csr_der else {
        return Ok(json!({ "csr": false }));
    };
    let (csr_key, _) = public_key_from_csr(csr).map_err(|e| ProvisionError::BadCsrSignature { reason: e.to_string() })?;
    if csr_key != material.public_key {
        return Err(ProvisionError::CsrKeyMismatch);
    }
    Ok(json!({ "csr": true, "csrSignature": "valid", "csrKeyIsChipKey": true }))
}

/// Provisions the board on `request.port` with certificates from `ca`. Blocking; run it on its own thread.
/// Events go to `observer`; `cancel` stops the run at the next wait (≤ 50 ms); `clock` times steps and dates certificates.
pub fn provision_board(
    station: &Station,
    ca: &ProvisioningCa,
    request: &ProvisionRequest,
    observer: Observer,
    cancel: &CancelToken,
    clock: Arc<dyn Clock>,
) -> Result<ProvisionOutcome, ProvisionError> {
    let mut ledger = station.ledger().map_err(|e| ProvisionError::station(Step::Open, e))?;
    let mut run = Run {
        request,
        observer: observer.clone(),
        cancel: cancel.clone(),
        clock: clock.clone(),
        run_id: run_id(clock.as_ref()),
        seq: 0,
        serial: None,
        timings: Vec::new(),
    };
    let started = clock.now();
    let mut issued_cert: Option<(DeviceSerial, String)> = None;
    let result = run_steps(&mut run, station.data_dir(), &mut ledger, ca, &mut issued_cert);
    let outcome = match result {
        Ok(mut outcome) => {
            outcome.total_ms = clock.since(started).as_millis() as u64;
            outcome.steps = std::mem::take(&mut run.timings);
            Ok(outcome)
        }
        Err(error) => {
            if let Some((serial, cert_id)) = &issued_cert {
                let detail = json!({ "step": error.step().map(Step::as_str), "code": error.code(), "message": error.to_string(), "port": request.port });
                if let Err(e) = ledger.set_provisioning_status(serial, cert_id, DEVICE_STATUS_FAILED, &detail) {
                    tracing::warn!(error = %e, "cannot mark the device failed");
                }
            }
            Err(error)
        }
    };
    outcome
}

fn run_steps(run: &mut Run<'_>, data_dir: &std::path::Path, ledger: &mut Ledger, ca: &ProvisioningCa, issued_cert: &mut Option<(DeviceSerial, String)>) -> Result<ProvisionOutcome, ProvisionError> {
    let request = run.request;
    let port = request.port.clone();
    let log: ByteLog = {
        let observer = run.observer.clone();
        let port = port.clone();
        Arc::new(move |direction, bytes: &[u8]| observer(&ProvisionEvent::SerialBytes { port: port.clone(), direction, bytes: bytes.to_vec() }))
    };
    let (cancel, clock) = (run.cancel.clone(), run.clock.clone());
    let setup = request.firmware_setup.clone();
    let flash = FlashContext {
        data_dir,
        port: &port,
        baud: setup.as_ref().map_or(request.serial.loader_baud, |s| s.flash_baud),
        observer: run.observer.clone(),
        cancel: cancel.clone(),
        clock: clock.clone(),
    };
    // `--ram-load HELPER.bin` without a prepared setup: read and check it now.
    let load = match (setup.as_ref().and_then(|s| s.load.clone()), &request.ram_load) {
        (Some(load), _) => Some(load),
        (None, Some(helper)) => Some(FirmwareLoad::Ram(crate::flash::read_ram_image(helper).map_err(|e| ProvisionError::station(Step::LoadFirmware, e))?)),
        (None, None) => None,
    };
    // A RAM-loaded helper that does not answer its handshake (its window missed, or it crashed) is reset and
    // loaded again, once: the reload's reset is all it needs.
    let mut reload: Option<ProvisionError> = None;
    let (mut driver, hello) = loop {
        let mut ram_link = match &load {
            Some(load) => run.step(ledger, Step::LoadFirmware, |_| {
                let (link, mut detail) = flash.load(load)?;
                if let Some(after) = &reload {
                    detail["reload"] = json!({ "after": after.code(), "reason": after.to_string() });
                }
                Ok((link, detail))
            })?,
            None => None,
        };
        let mut driver: Box<dyn ProvisioningFirmware> = run.step(ledger, Step::Open, |_| {
            let reset = crate::ports::reset_strategy_for(data_dir, &port);
            let serial = &request.serial;
            let deadlines = serial.timeouts(request.firmware).deadlines();
            if let Some(mut link) = ram_link.take() {
                link.set_log(log.clone());
                let detail = json!({ "baud": keyline_board::DEFAULT_BAUD, "reset": reset.name(), "ramLoaded": true });
                return Ok((keyline_board::driver_with(request.firmware, link, &deadlines), detail));
            }
            let driver = open_driver_with(request.firmware, &port, serial.console_baud, &deadlines, &reset, clock.clone(), cancel.clone(), Some(log.clone()))
                .map_err(|e| ProvisionError::board(Step::Open, e))?;
            Ok((driver, json!({ "baud": serial.console_baud, "reset": reset.name(), "handshakeMs": serial.timeouts(request.firmware).handshake_ms })))
        })?;
        let may_reload = matches!(load, Some(FirmwareLoad::Ram(_))) && reload.is_none();
        let retry = |error: &ProvisionError| (may_reload && error.helper_lost()).then_some("resetting the board and RAM-loading the helper again");
        let handshake = run.step_or_retry(ledger, Step::Handshake, Some(&retry), |_| {
            let hello = driver.handshake().map_err(|e| ProvisionError::board(Step::Handshake, e))?;
            let detail = json!({ "version": hello.version, "resumed": hello.resumed, "configLocked": hello.config_locked, "serial": hello.serial.map(hex::encode) });
            Ok((hello, detail))
        });
        match handshake {
            Ok(hello) => break (driver, hello),
            Err(error) if retry(&error).is_some() => {
                drop(driver);
                reload = Some(error);
            }
            Err(error) => return Err(error),
        }
    };
    if let Some(serial) = hello.serial {
        run.serial = Some(DeviceSerial::from_chip(&serial));
    }
    run.step(ledger, Step::ConfigureLock, |ledger| {
        if hello.resumed && request.firmware == FirmwareKind::Rainbowtype {
            // Without the boot dump the config cannot be checked; only a chip this station configured may go on.
            // This station saw its boot dump (and checked the config) in an earlier run.
            let known = match &hello.serial {
                Some(serial) => ledger.config_checked(&DeviceSerial::from_chip(serial)).map_err(|e| ProvisionError::station(Step::ConfigureLock, e))?,
                None => false,
            };
            if !known {
                return Err(ProvisionError::ConfigUnknown);
            }
        }
        let lock = driver.configure_and_lock().map_err(|e| ProvisionError::board(Step::ConfigureLock, e))?;
        Ok(((), json!({ "chipType": lock.chip_type, "lockedNow": lock.locked_now })))
    })?;
    let chip_serial = run.step(ledger, Step::ReadSerial, |_| {
        let serial = driver.read_serial().map_err(|e| ProvisionError::board(Step::ReadSerial, e))?;
        Ok((serial, json!({ "serial": hex::encode(serial) })))
    })?;
    let serial = DeviceSerial::from_chip(&chip_serial);
    run.serial = Some(serial.clone());
    if let Err(error) = ledger.attach_run_to(&run.run_id, &serial) {
        tracing::warn!(%error, "cannot file the run's first steps under the chip");
    }
    let existing = ledger.get(&serial).map_err(|e| ProvisionError::station(Step::ReadSerial, e))?;
    // The key the ledger has a certificate for, else the key an interrupted run read: keep it.
    let known_hex = match existing.as_ref() {
        Some(device) => Some(device.public_key.clone()),
        None => ledger.last_public_key(&serial).map_err(|e| ProvisionError::station(Step::ReadSerial, e))?,
    };
    let known_key: Option<[u8; 64]> = known_hex.and_then(|k| hex::decode(k).ok()).and_then(|k| k.try_into().ok());
    let material = run.step(ledger, Step::PublicKey, |_| {
        let material = driver.public_key(known_key.as_ref()).map_err(|e| ProvisionError::board(Step::PublicKey, e))?;
        let detail = json!({ "publicKey": hex64(&material.public_key), "generated": material.generated, "csr": material.csr_der.is_some() });
        Ok((material, detail))
    })?;
    run.step(ledger, Step::CheckKey, |_| Ok(((), check_key_material(&material)?)))?;

    if let Some(device) = existing.as_ref().filter(|d| d.status == DEVICE_STATUS_VERIFIED && reusable(d, ca, &material.public_key)) {
        if !request.reprovision {
            let stats = driver.link().stats();
            drop(driver);
            let product = setup.as_ref().and_then(|s| s.product.as_ref());
            let mut product_flash = None;
            if let Some(set) = product.filter(|set| !product_flashed(ledger, &serial, &device.cert_id, set).unwrap_or(false)) {
                // Verified in an earlier run, not yet product-flashed: only flash it now.
                product_flash = Some(run.step(ledger, Step::ProductFlash, |ledger| {
                    let detail = flash.product(ledger, &serial, &device.cert_id, set)?;
                    Ok((detail.clone(), detail))
                })?);
                finish(run, ledger, "product_flashed")?;
            }
            return Ok(ProvisionOutcome {
                outcome: if product_flash.is_some() { OutcomeKind::ProductFlashed } else { OutcomeKind::AlreadyProvisioned },
                port: request.port.clone(),
                firmware: request.firmware,
                serial: serial.clone(),
                common_name: device.common_name.clone(),
                cert_id: device.cert_id.clone(),
                reused_certificate: true,
                verified_by: Vec::new(),
                steps: Vec::new(),
                total_ms: 0,
                bytes_out: stats.bytes_out,
                bytes_in: stats.bytes_in,
                product_flash,
            });
        }
    }

    let wall = OffsetDateTime::from(run.clock.wall());
    let (device_der, common_name, reused) = run.step(ledger, Step::Issue, |ledger| {
        let reuse = existing.as_ref().filter(|d| reusable(d, ca, &material.public_key));
        let (der, cn, reused, recorded) = match reuse {
            Some(device) => {
                let der = der_from_pem_or_der(device.cert_pem.as_bytes(), "CERTIFICATE").map_err(|e| ProvisionError::station(Step::Issue, crate::Error::Issue { detail: e.to_string() }))?;
                (der, device.common_name.clone(), true, "reused".to_string())
            }
            None => {
                let (issued, recorded) = ca.issue(ledger, &chip_serial, &material.public_key, wall).map_err(|e| ProvisionError::station(Step::Issue, e))?;
                (issued.der, issued.common_name, false, format!("{recorded:?}"))
            }
        };
        let detail = json!({ "certId": certificate_id(&der), "commonName": cn, "reused": reused, "ledger": recorded });
        Ok(((der, cn, reused), detail))
    })?;
    let cert_id = certificate_id(&device_der);
    *issued_cert = Some((serial.clone(), cert_id.clone()));
    let upload = CertUpload {
        signer_der: ca.signer_der.clone(),
        device_der: device_der.clone(),
        root_public_key: ca.root_public_key,
        device_cert_def: ca.device_cert_def(&device_der).map_err(|e| ProvisionError::station(Step::Issue, e))?,
        signer_cert_def: ca.signer_cert_def.clone(),
    };
    run.step(ledger, Step::Write, |ledger| {
        let report = driver.write_certificates(&upload).map_err(|e| ProvisionError::board(Step::Write, e))?;
        let detail = json!({ "checks": report.checks, "attempts": report.attempts });
        ledger.set_provisioning_status(&serial, &cert_id, DEVICE_STATUS_WRITTEN, &detail).map_err(|e| ProvisionError::station(Step::Write, e))?;
        Ok(((), detail))
    })?;
    let verification = run.step(ledger, Step::Verify, |ledger| {
        let verification = driver.verify(&upload).map_err(|e| ProvisionError::board(Step::Verify, e))?;
        let detail = json!({ "verifiedBy": verification.methods, "port": request.port, "firmware": request.firmware.as_str(), "station": request.station_name });
        ledger.set_provisioning_status(&serial, &cert_id, DEVICE_STATUS_VERIFIED, &detail).map_err(|e| ProvisionError::station(Step::Verify, e))?;
        Ok((verification, detail))
    })?;
    *issued_cert = None;
    let stats = driver.link().stats();
    drop(driver);
    let mut product_flash = None;
    if let Some(set) = setup.as_ref().and_then(|s| s.product.as_ref()) {
        product_flash = Some(run.step(ledger, Step::ProductFlash, |ledger| {
            let detail = flash.product(ledger, &serial, &cert_id, set)?;
            Ok((detail.clone(), detail))
        })?);
    }
    if setup.is_some() || load.is_some() {
        finish(run, ledger, "verified")?;
    }
    Ok(ProvisionOutcome {
        outcome: OutcomeKind::Verified,
        port: request.port.clone(),
        firmware: request.firmware,
        serial,
        common_name,
        cert_id,
        reused_certificate: reused,
        verified_by: verification.methods,
        steps: Vec::new(),
        total_ms: 0,
        bytes_out: stats.bytes_out,
        bytes_in: stats.bytes_in,
        product_flash,
    })
}

/// The finish step: the run is complete and recorded.
fn finish(run: &mut Run<'_>, ledger: &mut Ledger, outcome: &str) -> Result<(), ProvisionError> {
    let steps: Vec<&str> = run.timings.iter().map(|t| t.step.as_str()).collect();
    let detail = json!({ "outcome": outcome, "steps": steps });
    run.step(ledger, Step::Finish, |_| Ok(((), detail)))
}
