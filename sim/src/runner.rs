//! Starting N boards on pseudo-terminals and publishing them in `<state_dir>/boards.json`.

use crate::board::{Board, BoardConfig};
use crate::transport::PtyBoard;
use crate::{FaultSpec, FirmwareKind, SimError, Timing};
use nix::sys::signal::{SigSet, Signal};
use std::path::{Path, PathBuf};

/// Most boards one simulator runs.
pub const MAX_BOARDS: usize = 64;
/// File name of each board's reset FIFO inside `board-N/`.
pub const RESET_FIFO: &str = "reset";
/// File name of the published board list inside the state directory.
pub const BOARDS_FILE: &str = "boards.json";

/// What to simulate.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Number of boards (1..=64).
    pub boards: usize,
    /// Firmware every board runs after power-on.
    pub firmware: FirmwareKind,
    /// Timing model.
    pub timing: Timing,
    /// Faults, applied to every board (each board draws its own stream from the seed).
    pub faults: FaultSpec,
    /// Where boards keep their chip and flash (`board-N/`) and where `boards.json` is written.
    /// The app expects `<data_dir>/sim`.
    pub state_dir: PathBuf,
    /// Sleep for charged time too (practice-mode realism with `Timing::Datasheet`).
    pub realtime: bool,
    /// Boards carry pre-provisioned Trust&Go parts instead of blank TrustCUSTOM ones.
    pub trust_and_go: bool,
    /// The rainbowtype build's compiled certificate templates; required for `rainbowtype` and
    /// `rom` boards unless `derive_templates` is set.
    pub cert_chain: Option<std::sync::Arc<crate::firmware::CertChain>>,
    /// Lenient, explicit: without `cert_chain`, derive the rainbowtype templates from each upload.
    pub derive_templates: bool,
}

impl SimConfig {
    /// `boards` boards of `firmware` with instant timing, no faults, state in `state_dir`.
    pub fn new(boards: usize, firmware: FirmwareKind, state_dir: PathBuf) -> Self {
        SimConfig {
            boards,
            firmware,
            timing: Timing::Instant,
            faults: FaultSpec::default(),
            state_dir,
            realtime: false,
            trust_and_go: false,
            cert_chain: None,
            derive_templates: false,
        }
    }
}

/// One entry of `boards.json` (the format the app's port list reads).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SimPort {
    /// 0-based board index.
    pub index: usize,
    /// "Simulated board N" (1-based).
    pub label: String,
    /// The pseudo-terminal to open, e.g. `/dev/pts/7`.
    pub path: PathBuf,
    /// `rainbowtype`, `esp-helper` or `rom`.
    pub firmware: FirmwareKind,
    /// FIFO through which any process resets the board: write `download\n` (download mode) or
    /// `boot\n` (flash boot), e.g. with [`crate::transport::request_reset`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset: Option<PathBuf>,
}

/// Running boards. Dropping the handle stops them and removes `boards.json`.
#[derive(Debug)]
pub struct SimHandle {
    boards: Vec<PtyBoard>,
    ports: Vec<SimPort>,
    list_file: PathBuf,
}

/// Starts the boards described by `config` and writes `<state_dir>/boards.json`.
pub fn run_boards(config: SimConfig) -> Result<SimHandle, SimError> {
    if config.boards == 0 || config.boards > MAX_BOARDS {
        return Err(SimError::BadBoardCount(config.boards));
    }
    std::fs::create_dir_all(&config.state_dir).map_err(|e| SimError::io(&config.state_dir, e))?;
    let mut boards = Vec::with_capacity(config.boards);
    let mut ports = Vec::with_capacity(config.boards);
    for index in 0..config.boards {
        let board = Board::new(BoardConfig {
            index,
            firmware: config.firmware,
            timing: config.timing,
            realtime: config.realtime,
            faults: config.faults,
            state_dir: Some(config.state_dir.join(format!("board-{index}"))),
            trust_and_go: config.trust_and_go,
            cert_chain: config.cert_chain.clone(),
            derive_templates: config.derive_templates,
        })?;
        let fifo = config.state_dir.join(format!("board-{index}")).join(RESET_FIFO);
        let pty = PtyBoard::spawn_with_reset(board, Some(fifo))?;
        ports.push(SimPort {
            index,
            label: format!("Simulated board {}", index + 1),
            path: pty.path().to_path_buf(),
            firmware: config.firmware,
            reset: pty.reset_path().map(Path::to_path_buf),
        });
        boards.push(pty);
    }
    let list_file = config.state_dir.join(BOARDS_FILE);
    let json = serde_json::to_vec_pretty(&ports).expect("port list serialises");
    crate::persist::write_atomically(&list_file, &json)?;
    tracing::info!(boards = ports.len(), file = %list_file.display(), "simulated boards running");
    Ok(SimHandle { boards, ports, list_file })
}

/// Reads a `boards.json` written by a running simulator (entries whose pty is gone are skipped).
pub fn read_boards_file(path: &Path) -> Result<Vec<SimPort>, SimError> {
    let bytes = std::fs::read(path).map_err(|e| SimError::io(path, e))?;
    let ports: Vec<SimPort> =
        serde_json::from_slice(&bytes).map_err(|e| SimError::BadState { path: path.to_path_buf(), why: e.to_string() })?;
    Ok(ports.into_iter().filter(|p| p.path.exists()).collect())
}

impl SimHandle {
    /// The boards' ports, in board order.
    pub fn ports(&self) -> &[SimPort] {
        &self.ports
    }

    /// The published list file.
    pub fn boards_file(&self) -> &Path {
        &self.list_file
    }

    /// Board `index` with its pty.
    pub fn board(&self, index: usize) -> Option<&PtyBoard> {
        self.boards.get(index)
    }

    /// Resets board `index` into download mode or a flash boot (what an EN/IO0 pulse would do).
    /// The board boots on its own clock (a flashed app about 1 s); its boot output reaches a host
    /// only if one has the port open.
    pub fn reset(&self, index: usize, download_mode: bool) -> bool {
        let Some(pty) = self.boards.get(index) else { return false };
        pty.reset(download_mode);
        true
    }

    /// Blocks the calling thread until SIGINT or SIGTERM (Ctrl-C), then returns.
    pub fn wait_for_interrupt(&self) {
        let mut signals = SigSet::empty();
        signals.add(Signal::SIGINT);
        signals.add(Signal::SIGTERM);
        if signals.thread_block().is_ok() {
            let _ = signals.wait();
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.boards.clear();
        let _ = std::fs::remove_file(&self.list_file);
    }
}
