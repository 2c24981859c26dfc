//! The typed events one board's run emits, the same for the CLI and the GUI.

use keyline_board::Direction;
use serde::Serialize;

/// The pipeline steps, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Load the provisioning firmware: RAM-load the Espressif helper or flash the rainbowtype firmware (when configured).
    LoadFirmware,
    /// Open the serial port.
    Open,
    /// Wait for the firmware and check it is the selected one.
    Handshake,
    /// Configure (rainbowtype) and lock the chip; refuse foreign configurations.
    ConfigureLock,
    /// Read the chip serial and look the chip up in the ledger.
    ReadSerial,
    /// Read the device public key (and CSR).
    PublicKey,
    /// Check the CSR signature and that its key is the chip's.
    CheckKey,
    /// Issue (or reuse) the device certificate; the ledger row is committed here.
    Issue,
    /// Send the signer and device certificates to the board.
    Write,
    /// Verify the stored certificates by every means the firmware offers.
    Verify,
    /// Flash the product firmware (when configured), only once the device is verified in the ledger.
    ProductFlash,
    /// The run is complete (recorded when firmware steps are configured).
    Finish,
}

impl Step {
    /// Every step in pipeline order.
    pub const ALL: [Step; 12] = [
        Step::LoadFirmware,
        Step::Open,
        Step::Handshake,
        Step::ConfigureLock,
        Step::ReadSerial,
        Step::PublicKey,
        Step::CheckKey,
        Step::Issue,
        Step::Write,
        Step::Verify,
        Step::ProductFlash,
        Step::Finish,
    ];

    /// The snake_case name (ledger and events).
    pub fn as_str(self) -> &'static str {
        match self {
            Step::LoadFirmware => "load_firmware",
            Step::Open => "open",
            Step::Handshake => "handshake",
            Step::ConfigureLock => "configure_lock",
            Step::ReadSerial => "read_serial",
            Step::PublicKey => "public_key",
            Step::CheckKey => "check_key",
            Step::Issue => "issue",
            Step::Write => "write",
            Step::Verify => "verify",
            Step::ProductFlash => "product_flash",
            Step::Finish => "finish",
        }
    }

    /// A short label for tables.
    pub fn label(self) -> &'static str {
        match self {
            Step::LoadFirmware => "load firmware",
            Step::Open => "open port",
            Step::Handshake => "handshake",
            Step::ConfigureLock => "configure + lock",
            Step::ReadSerial => "read serial",
            Step::PublicKey => "public key / CSR",
            Step::CheckKey => "check key",
            Step::Issue => "issue certificate",
            Step::Write => "write certificates",
            Step::Verify => "verify",
            Step::ProductFlash => "product_flash",
            Step::Finish => "finish",
        }
    }
}

/// One thing that happened on one board. Serialised as `{"event": "stepDone", "port": …, …}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "event", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum ProvisionEvent {
    /// A step began.
    StepStarted {
        /// The board's port.
        port: String,
        /// The step.
        step: Step,
    },
    /// Progress inside a step; for steps with a size (flash, RAM load) in bytes, throttled (not per block).
    StepProgress {
        /// The board's port.
        port: String,
        /// The step.
        step: Step,
        /// What happens (`writing app.bin @ 0x10000`).
        message: String,
        /// Bytes acknowledged by the board so far, over the whole step.
        done: Option<u64>,
        /// Bytes of the whole step.
        total: Option<u64>,
        /// Time since the step started (throughput = done / elapsed).
        elapsed_ms: u64,
    },
    /// A step finished.
    StepDone {
        /// The board's port.
        port: String,
        /// The step.
        step: Step,
        /// How long it took.
        elapsed_ms: u64,
        /// What it learned (JSON object).
        detail: serde_json::Value,
    },
    /// A step failed; the run ends.
    StepFailed {
        /// The board's port.
        port: String,
        /// The step.
        step: Step,
        /// Stable error code.
        code: crate::ErrorCode,
        /// What went wrong.
        message: String,
        /// What to do.
        hint: String,
    },
    /// Bytes on the wire (the per-port serial log).
    SerialBytes {
        /// The board's port.
        port: String,
        /// Which way.
        direction: Direction,
        /// The bytes.
        bytes: Vec<u8>,
    },
}

/// Receives a run's events (from the run's thread; keep it quick).
pub type Observer = std::sync::Arc<dyn Fn(&ProvisionEvent) + Send + Sync>;
