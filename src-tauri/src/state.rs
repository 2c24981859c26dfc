//! What every command can reach: the open station, the log buffer and the launch options.

use std::sync::Arc;

use keyline_station::Station;

use crate::log_panel::LogBuffer;
use crate::practice::emulator::EmulatorSource;

/// Managed Tauri state (`State<'_, AppState>`).
pub struct AppState {
    /// The station on the chosen data directory; shared with blocking tasks.
    pub station: Arc<Station>,
    /// Recent log lines for the log panel.
    pub logs: Arc<LogBuffer>,
    /// Practice mode (simulated boards, local AWS emulator).
    pub practice: bool,
    /// Where practice mode finds ministack.
    pub emulator_source: EmulatorSource,
}
