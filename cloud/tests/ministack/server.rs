//! Starts ministack 1.5.33 from the project venv (through the library's practice-mode [`Emulator`]) in a scratch
//! directory, with optional policy enforcement and log level from the environment, and keeps its log on failure.

use std::path::PathBuf;

use keyline_cloud::emulator::{Emulator, EmulatorConfig};

/// The HTTP API port inside the namespace.
pub const API_PORT: u16 = 4566;
/// The MQTT-over-TLS port inside the namespace.
pub const MQTT_PORT: u16 = 8883;

pub struct Ministack {
    pub emulator: Emulator,
    _workdir: tempfile::TempDir,
}

/// Where the ministack console script is: `KEYLINE_MINISTACK`, else `$KEYLINE_VENV/bin/ministack`, else
/// `<workspace>/.venv/bin/ministack`.
pub fn ministack_binary() -> PathBuf {
    std::env::var_os("KEYLINE_MINISTACK").map(PathBuf::from).unwrap_or_else(|| {
        std::env::var_os("KEYLINE_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv"))
            .join("bin/ministack")
    })
}

impl Ministack {
    /// Starts a fresh emulator; policies are evaluated when asked or with `KEYLINE_MINISTACK_AUTH=true`.
    pub async fn start(enforce_policies: bool) -> Result<Self, String> {
        let workdir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let config = EmulatorConfig {
            binary: ministack_binary(),
            api_port: API_PORT,
            mqtt_port: MQTT_PORT,
            workdir: workdir.path().to_path_buf(),
            enforce_policies: enforce_policies || std::env::var("KEYLINE_MINISTACK_AUTH").is_ok_and(|v| v == "true"),
        };
        let emulator = Emulator::start(config).await.map_err(|e| e.to_string())?;
        Ok(Self { emulator, _workdir: workdir })
    }

    pub fn endpoint_url(&self) -> String {
        self.emulator.endpoint_url()
    }

    pub async fn broker_ca_pem(&self) -> Result<String, String> {
        self.emulator.broker_ca_pem().await.map_err(|e| e.to_string())
    }

    /// Copies the full log next to the build's test scratch files and returns that path.
    pub fn keep_log(&self, case: &str) -> PathBuf {
        let kept = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("ministack-{case}.log"));
        let _ = std::fs::copy(self.emulator.log_path(), &kept);
        kept
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.emulator.log_path()).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}
