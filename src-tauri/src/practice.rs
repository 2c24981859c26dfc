//! Practice mode: simulated boards run in-process on pseudo-terminals and the local AWS emulator (ministack) runs
//! on loopback, both owned by [`Practice`] and stopped when the app exits.
//!
//! Boards come from `keyline_sim` (only with the default-on `sim` feature) and publish themselves in
//! `<data_dir>/sim/boards.json`, so the station's port list shows them as "Simulated board N". The emulator
//! lifecycle lives in [`emulator`].

pub mod emulator;
pub mod ota_devices;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use keyline_station::{ErrorCode, ErrorReport};
use serde::Serialize;

pub use emulator::{EmulatorState, EmulatorStatus};

/// Boards started automatically in practice mode.
pub const DEFAULT_BOARDS: usize = 2;
/// Firmware of the automatically started boards.
pub const DEFAULT_FIRMWARE: &str = "rainbowtype";
/// Timing of the automatically started boards (datasheet times, felt in real time).
pub const DEFAULT_TIMING: &str = "datasheet";
/// Most boards the app starts at once.
pub const MAX_BOARDS: usize = 16;

/// One running simulated board, as the Settings screen lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[derive(specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SimBoard {
    /// 0-based board index.
    pub index: usize,
    /// "Simulated board N".
    pub label: String,
    /// The pseudo-terminal, e.g. `/dev/pts/7`.
    pub path: String,
    /// `rainbowtype`, `esp-helper` or `rom`.
    pub firmware: String,
}

/// Everything the practice panel shows.
#[derive(Debug, Clone, Serialize)]
#[derive(specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct PracticeStatus {
    /// The app was started with `--practice` / `KEYLINE_PRACTICE=1`.
    pub enabled: bool,
    /// This build can simulate boards (the `sim` feature).
    pub sim_available: bool,
    /// The running simulated boards, in board order.
    pub boards: Vec<SimBoard>,
    /// Their timing model (`instant` or `datasheet`), when boards run.
    pub timing: Option<String>,
    /// The local AWS emulator.
    pub emulator: EmulatorStatus,
}

/// What to simulate.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BoardRequest {
    /// Number of boards (1..=16).
    pub count: usize,
    /// `rainbowtype`, `esp-helper` or `rom`.
    pub firmware: String,
    /// `instant` or `datasheet`.
    pub timing: String,
}

impl Default for BoardRequest {
    fn default() -> Self {
        Self { count: DEFAULT_BOARDS, firmware: DEFAULT_FIRMWARE.into(), timing: DEFAULT_TIMING.into() }
    }
}

#[cfg(feature = "sim")]
struct RunningBoards {
    handle: keyline_sim::SimHandle,
    timing: String,
}

#[cfg(not(feature = "sim"))]
struct RunningBoards {
    timing: String,
}

/// The practice-mode resources of one app instance (managed Tauri state, shared as `Arc<Practice>`).
pub struct Practice {
    enabled: bool,
    data_dir: PathBuf,
    boards: Mutex<Option<RunningBoards>>,
    emulator: emulator::EmulatorSlot,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The report for a practice command used outside practice mode.
pub fn practice_off() -> ErrorReport {
    ErrorReport {
        code: ErrorCode::PracticeOff,
        message: "simulated boards and the local AWS emulator exist only in practice mode".into(),
        hint: "Restart Keyline with `--practice` (or KEYLINE_PRACTICE=1), e.g. `scripts/keyline-dev.sh start`.".into(),
    }
}

fn invalid(message: String, hint: &str) -> ErrorReport {
    ErrorReport { code: ErrorCode::InvalidInput, message, hint: hint.into() }
}

impl Practice {
    /// Practice resources for a station on `data_dir`; nothing starts until asked.
    pub fn new(data_dir: PathBuf, enabled: bool, source: emulator::EmulatorSource) -> Arc<Self> {
        let emulator = emulator::EmulatorSlot::new(data_dir.join("emulator"), source);
        Arc::new(Self { enabled, data_dir, boards: Mutex::new(None), emulator })
    }

    /// Whether practice mode is on.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// The station's data directory (boards publish in its `sim/`).
    pub fn data_dir(&self) -> &std::path::Path {
        &self.data_dir
    }

    /// The emulator part (start, stop, cloud settings).
    pub fn emulator(&self) -> &emulator::EmulatorSlot {
        &self.emulator
    }

    /// Boards, timing and emulator state.
    pub fn status(&self) -> PracticeStatus {
        let (boards, timing) = match &*lock(&self.boards) {
            Some(running) => (running.list(), Some(running.timing.clone())),
            None => (Vec::new(), None),
        };
        PracticeStatus {
            enabled: self.enabled,
            sim_available: cfg!(feature = "sim"),
            boards,
            timing,
            emulator: self.emulator.status(),
        }
    }

    /// Starts `request.count` boards, replacing any that run (blocking: spawns pty threads, writes files).
    pub fn start_boards(&self, request: &BoardRequest) -> Result<Vec<SimBoard>, ErrorReport> {
        if !self.enabled {
            return Err(practice_off());
        }
        if request.count == 0 || request.count > MAX_BOARDS {
            return Err(invalid(format!("{} boards requested", request.count), "Choose between 1 and 16 boards."));
        }
        let mut slot = lock(&self.boards);
        if slot.take().is_some() {
            tracing::info!("simulated boards stopped (restarting)");
        }
        let running = RunningBoards::start(&self.data_dir, request)?;
        let boards = running.list();
        let paths: Vec<&str> = boards.iter().map(|b| b.path.as_str()).collect();
        tracing::info!(
            boards = boards.len(),
            firmware = %request.firmware,
            timing = %request.timing,
            ports = %paths.join(", "),
            "simulated boards started"
        );
        *slot = Some(running);
        Ok(boards)
    }

    /// Stops the simulated boards (their chip state stays in `<data_dir>/sim/board-N/`). True when any ran.
    pub fn stop_boards(&self) -> bool {
        let stopped = lock(&self.boards).take();
        if let Some(running) = &stopped {
            tracing::info!(boards = running.list().len(), "simulated boards stopped");
        }
        stopped.is_some()
    }

    /// Starts what practice mode runs by default: two boards and, when installed, the emulator.
    pub fn start_defaults(self: &Arc<Self>) {
        if !self.enabled {
            return;
        }
        if cfg!(feature = "sim") {
            if let Err(report) = self.start_boards(&BoardRequest::default()) {
                tracing::error!(error = %report.message, hint = %report.hint, "simulated boards could not start");
            }
        }
        self.emulator.start_in_background();
    }

    /// Stops boards and the emulator (app exit).
    pub fn shutdown(&self) {
        self.stop_boards();
        self.emulator.shutdown();
    }
}

#[cfg(feature = "sim")]
impl RunningBoards {
    fn start(data_dir: &std::path::Path, request: &BoardRequest) -> Result<Self, ErrorReport> {
        use keyline_sim::{FirmwareKind, SimConfig, Timing};
        let bad = |e: keyline_sim::SimError| invalid(e.to_string(), "Firmware: rainbowtype, esp-helper or rom; timing: instant or datasheet.");
        let firmware: FirmwareKind = request.firmware.parse().map_err(bad)?;
        let timing: Timing = request.timing.parse().map_err(bad)?;
        let mut config = SimConfig::new(request.count, firmware, data_dir.join("sim"));
        config.timing = timing;
        config.realtime = timing == Timing::Datasheet;
        // Practice boards accept any template (explicit lenient build; a real board has one cert_chain.c).
        config.derive_templates = true;
        let handle = keyline_sim::run_boards(config).map_err(|e| ErrorReport {
            code: ErrorCode::SimFailed,
            message: format!("simulated boards could not start: {e}"),
            hint: "Check that the data directory is writable and that /dev/ptmx exists.".into(),
        })?;
        Ok(Self { handle, timing: request.timing.clone() })
    }

    fn list(&self) -> Vec<SimBoard> {
        self.handle
            .ports()
            .iter()
            .map(|port| SimBoard {
                index: port.index,
                label: port.label.clone(),
                path: port.path.display().to_string(),
                firmware: port.firmware.to_string(),
            })
            .collect()
    }
}

#[cfg(not(feature = "sim"))]
impl RunningBoards {
    fn start(_data_dir: &std::path::Path, _request: &BoardRequest) -> Result<Self, ErrorReport> {
        Err(ErrorReport {
            code: ErrorCode::SimUnavailable,
            message: "this build of Keyline has no simulated boards".into(),
            hint: "Build keyline-app with its default features (the `sim` feature).".into(),
        })
    }

    fn list(&self) -> Vec<SimBoard> {
        let _ = &self.timing;
        Vec::new()
    }
}
