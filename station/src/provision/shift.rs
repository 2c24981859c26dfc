//! A shift: watch for boards on ports (hot-plug), provision several at once, count PASS/FAIL, stop cleanly.
//!
//! Each port that appears gets one run on its own thread; a port is provisioned again only after it
//! disappeared and came back (a new board). A soft stop lets runs that already hold a certificate
//! finish and stops the others before they sign; an abort cancels every wait. A shift with no board in flight for
//! the station's idle-lock time ([`Station::idle_lock`]) ends by itself with [`ShiftEvent::IdleLocked`], so its
//! caller drops the signer key it decrypted for the shift.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

use super::{provision_board, CancelToken, Clock, FirmwareKind, OutcomeKind, ProvisionEvent, ProvisionOutcome, ProvisionRequest, ProvisioningCa};
use crate::{ErrorReport, Station};

/// Where boards come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortSource {
    /// ESP32 USB bridges and the simulated boards listed in `<data_dir>/sim/boards.json`, as they appear.
    Auto,
    /// These paths, whenever they exist.
    List(Vec<String>),
}

/// How to run a shift.
#[derive(Debug, Clone)]
pub struct ShiftConfig {
    /// Where boards come from.
    pub source: PortSource,
    /// The firmware the boards run.
    pub firmware: FirmwareKind,
    /// Rewrite boards the ledger has as verified.
    pub reprovision: bool,
    /// This station's name.
    pub station_name: String,
    /// How often ports are looked for.
    pub poll: Duration,
    /// End when every port seen has finished and no run is in flight (tests, benches).
    pub until_idle: bool,
    /// Pass the bytes on the wire (`SerialBytes`) to the observer (the desktop's per-port serial log).
    pub serial_log: bool,
    /// Console and loader rates and the step deadlines (the station's settings).
    pub serial: crate::settings::SerialSettings,
    /// The validated firmware steps (load the provisioning firmware, flash the product firmware), if any.
    pub firmware_setup: Option<Arc<super::FirmwareSetup>>,
}

/// PASS/FAIL counters of a shift.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ShiftCounters {
    /// Runs started.
    pub started: u64,
    /// Boards written and verified.
    pub passed: u64,
    /// Boards found already provisioned (left alone).
    pub already_provisioned: u64,
    /// Runs that failed.
    pub failed: u64,
    /// Runs in flight.
    pub in_flight: u64,
}

/// What a shift reports.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "event", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum ShiftEvent {
    /// A port appeared; a run starts on it.
    PortAppeared {
        /// The port.
        port: String,
    },
    /// An event of one board's run.
    Board {
        /// The event.
        inner: ProvisionEvent,
    },
    /// No board was in flight for the idle-lock time: the shift ended, and the signer key it held is dropped.
    IdleLocked {
        /// The idle-lock time, in seconds.
        idle_seconds: u64,
    },
    /// A run ended.
    BoardFinished {
        /// The port.
        port: String,
        /// The outcome, when it ended well.
        outcome: Option<ProvisionOutcome>,
        /// The error, when it failed.
        error: Option<ErrorReport>,
        /// Counters after this board.
        counters: ShiftCounters,
    },
}

/// Receives shift events (from several threads).
pub type ShiftObserver = Arc<dyn Fn(&ShiftEvent) + Send + Sync>;

fn current_ports(station: &Station, source: &PortSource) -> BTreeSet<String> {
    match source {
        PortSource::List(paths) => paths.iter().filter(|p| std::path::Path::new(p).exists()).cloned().collect(),
        PortSource::Auto => match crate::ports::list_ports(station.data_dir()) {
            Ok(list) => list.ports.into_iter().filter(|p| p.likely_esp32 && p.firmware.as_deref() != Some("rom")).map(|p| p.path).collect(),
            Err(error) => {
                tracing::warn!(%error, "cannot list ports");
                BTreeSet::new()
            }
        },
    }
}

/// Runs a shift until `stop` (soft: in-flight boards finish at a safe step) or, with `until_idle`,
/// until every board seen is done. `abort` cancels every run at once. Returns the counters.
pub fn run_shift(
    station: &Station,
    ca: &ProvisioningCa,
    config: &ShiftConfig,
    observer: ShiftObserver,
    stop: &CancelToken,
    abort: &CancelToken,
    clock: Arc<dyn Clock>,
) -> ShiftCounters {
    let counters = Arc::new(Mutex::new(ShiftCounters::default()));
    // Ports with a run in flight (true) or finished (false) and still present.
    let ports: Arc<Mutex<BTreeMap<String, bool>>> = Arc::default();
    let idle_lock = station.idle_lock();
    let mut last_busy = clock.now();
    std::thread::scope(|scope| {
        loop {
            let present = current_ports(station, &config.source);
            {
                let mut known = ports.lock().expect("ports lock");
                known.retain(|port, running| *running || present.contains(port));
            }
            if !stop.is_cancelled() && !abort.is_cancelled() {
                for port in &present {
                    let mut known = ports.lock().expect("ports lock");
                    if known.contains_key(port) {
                        continue;
                    }
                    known.insert(port.clone(), true);
                    drop(known);
                    counters.lock().expect("counters").started += 1;
                    counters.lock().expect("counters").in_flight += 1;
                    observer(&ShiftEvent::PortAppeared { port: port.clone() });
                    let request = ProvisionRequest {
                        port: port.clone(),
                        firmware: config.firmware,
                        reprovision: config.reprovision,
                        station_name: config.station_name.clone(),
                        stop_before_issue: Some(stop.clone()),
                        ram_load: None,
                        serial: config.serial,
                        firmware_setup: config.firmware_setup.clone(),
                    };
                    let (observer, counters, ports, clock, abort) = (observer.clone(), counters.clone(), ports.clone(), clock.clone(), abort.clone());
                    let serial_log = config.serial_log;
                    scope.spawn(move || {
                        let inner_observer = observer.clone();
                        let board_observer: super::Observer = Arc::new(move |event: &ProvisionEvent| {
                            if serial_log || !matches!(event, ProvisionEvent::SerialBytes { .. }) {
                                inner_observer(&ShiftEvent::Board { inner: event.clone() });
                            }
                        });
                        let result = provision_board(station, ca, &request, board_observer, &abort, clock);
                        let snapshot = {
                            let mut c = counters.lock().expect("counters");
                            c.in_flight -= 1;
                            match &result {
                                Ok(outcome) if outcome.outcome == OutcomeKind::AlreadyProvisioned => c.already_provisioned += 1,
                                Ok(_) => c.passed += 1,
                                Err(_) => c.failed += 1,
                            }
                            *c
                        };
                        ports.lock().expect("ports lock").insert(request.port.clone(), false);
                        let (outcome, error) = match result {
                            Ok(outcome) => (Some(outcome), None),
                            Err(error) => (None, Some(error.report())),
                        };
                        observer(&ShiftEvent::BoardFinished { port: request.port, outcome, error, counters: snapshot });
                    });
                }
            }
            let in_flight = counters.lock().expect("counters").in_flight;
            if in_flight == 0 && (stop.is_cancelled() || abort.is_cancelled()) {
                break;
            }
            if in_flight > 0 {
                last_busy = clock.now();
            } else if let Some(after) = idle_lock.filter(|after| clock.now() - last_busy >= *after) {
                tracing::info!(idle_seconds = after.as_secs(), "no board for the idle-lock time: the shift ends and its signer key is dropped");
                observer(&ShiftEvent::IdleLocked { idle_seconds: after.as_secs() });
                break;
            }
            if config.until_idle && in_flight == 0 {
                let started = counters.lock().expect("counters").started;
                let known = ports.lock().expect("ports lock");
                if started > 0 && present.iter().all(|p| known.get(p) == Some(&false)) {
                    break;
                }
            }
            std::thread::sleep(config.poll);
        }
    });
    let result = *counters.lock().expect("counters");
    result
}
