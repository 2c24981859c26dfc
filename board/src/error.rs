//! [`BoardError`]: everything that can go wrong talking to a board, with a stable code and an operator hint.

use serde::Serialize;

/// Stable machine-readable kinds of [`BoardError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BoardErrorCode {
    /// The port could not be opened.
    PortOpen,
    /// The path is not a serial port.
    NotASerialPort,
    /// Nothing answered, or not in time.
    Timeout,
    /// The port went away.
    Disconnected,
    /// The caller cancelled.
    Cancelled,
    /// The board runs another firmware.
    WrongFirmware,
    /// A reply broke the firmware's documented format.
    Malformed,
    /// The chip is locked with a configuration the firmware did not write.
    ForeignConfig,
    /// The chip is not a kind the firmware flow provisions.
    UnsupportedChip,
    /// The firmware reported a failure.
    FirmwareFailure,
    /// What the board stored differs from what was sent.
    EchoMismatch,
    /// Data does not fit the firmware's buffers.
    TooLarge,
    /// The board must be reset before it can be provisioned.
    NeedsReset,
    /// The RAM-loaded Espressif helper crashed or never started its command line.
    HelperNotAnswering,
    /// Local I/O failure on the port.
    Io,
}

/// An error talking to a board.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BoardError {
    /// The port could not be opened.
    #[error("cannot open {port}: {reason}")]
    PortOpen {
        /// The port path.
        port: String,
        /// What the OS said.
        reason: String,
    },
    /// The path exists but is not a serial port (a file, /dev/null, …).
    #[error("{port} is not a serial port: {reason}")]
    NotASerialPort {
        /// The port path.
        port: String,
        /// What the OS said.
        reason: String,
    },
    /// No (complete) answer before the step's deadline.
    #[error("no answer from the board within {waited_ms} ms while waiting for {waiting_for}")]
    Timeout {
        /// The token or reply being waited for.
        waiting_for: &'static str,
        /// How long was waited.
        waited_ms: u64,
        /// The last bytes received (normalised, at most 200 characters), for the log.
        tail: String,
    },
    /// The port closed or failed while in use (board unplugged or reset into nothing).
    #[error("the board disconnected: {reason}")]
    Disconnected {
        /// What the OS said.
        reason: String,
    },
    /// Cancelled by the caller.
    #[error("cancelled")]
    Cancelled,
    /// The board speaks another firmware.
    #[error("the board runs {found}, not {expected}")]
    WrongFirmware {
        /// The firmware the driver speaks.
        expected: &'static str,
        /// What the board looks like.
        found: String,
    },
    /// A reply broke the firmware's format.
    #[error("malformed {what} from the board: {reason}")]
    Malformed {
        /// Which reply.
        what: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// The chip's configuration zone is locked with a configuration that is not the firmware's.
    #[error("the chip is locked with a foreign configuration (first difference at config byte {offset}: {found:#04x}, firmware writes {expected:#04x})")]
    ForeignConfig {
        /// First differing config-zone byte.
        offset: usize,
        /// The chip's byte.
        found: u8,
        /// The firmware's byte.
        expected: u8,
    },
    /// The chip is a kind this flow does not provision (e.g. a pre-provisioned Trust&Go part).
    #[error("the chip is a {chip} part; this flow provisions TrustCUSTOM parts only")]
    UnsupportedChip {
        /// The type the firmware reported.
        chip: String,
    },
    /// The firmware printed a failure.
    #[error("the firmware reported a failure during {step}: {detail}")]
    FirmwareFailure {
        /// The step (command).
        step: &'static str,
        /// The failure text (normalised, bounded).
        detail: String,
    },
    /// The board's copy of an upload differs from what was sent.
    #[error("the board's copy of the {what} differs from what was sent")]
    EchoMismatch {
        /// Which upload.
        what: &'static str,
    },
    /// Data does not fit the firmware's buffers.
    #[error("the {what} is {size} bytes; the firmware takes at most {limit}")]
    TooLarge {
        /// What.
        what: &'static str,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The board is in a state only a reset clears.
    #[error("the board must be reset: {reason}")]
    NeedsReset {
        /// Why.
        reason: String,
    },
    /// The RAM-loaded Espressif helper stopped for good: it crashed, or its command line never started.
    /// Only a reset and a new RAM load bring it back (the reset boots the flash, not the helper).
    #[error("the Espressif helper is not answering: {seen}")]
    HelperNotAnswering {
        /// What the probe saw (a panic, a failed console, or silence).
        seen: String,
    },
    /// Local I/O error on the port.
    #[error("serial I/O error: {reason}")]
    Io {
        /// What the OS said.
        reason: String,
    },
}

impl BoardError {
    /// The stable kind.
    pub fn code(&self) -> BoardErrorCode {
        use BoardErrorCode as C;
        match self {
            BoardError::PortOpen { .. } => C::PortOpen,
            BoardError::NotASerialPort { .. } => C::NotASerialPort,
            BoardError::Timeout { .. } => C::Timeout,
            BoardError::Disconnected { .. } => C::Disconnected,
            BoardError::Cancelled => C::Cancelled,
            BoardError::WrongFirmware { .. } => C::WrongFirmware,
            BoardError::Malformed { .. } => C::Malformed,
            BoardError::ForeignConfig { .. } => C::ForeignConfig,
            BoardError::UnsupportedChip { .. } => C::UnsupportedChip,
            BoardError::FirmwareFailure { .. } => C::FirmwareFailure,
            BoardError::EchoMismatch { .. } => C::EchoMismatch,
            BoardError::TooLarge { .. } => C::TooLarge,
            BoardError::NeedsReset { .. } => C::NeedsReset,
            BoardError::HelperNotAnswering { .. } => C::HelperNotAnswering,
            BoardError::Io { .. } => C::Io,
        }
    }

    /// What the operator should do.
    pub fn hint(&self) -> &'static str {
        match self {
            BoardError::PortOpen { .. } => "Check the cable and that no other program (a serial monitor, another Keyline) has the port open.",
            BoardError::NotASerialPort { .. } => "Pick the board's serial port (`keyline ports`), e.g. /dev/ttyUSB0.",
            BoardError::Timeout { .. } => "Check that the board is powered, runs the provisioning firmware, and is on this port; then run again.",
            BoardError::Disconnected { .. } => "Reconnect the board and run again; Keyline resumes where it stopped.",
            BoardError::Cancelled => "Run again to finish the board; Keyline resumes where it stopped.",
            BoardError::WrongFirmware { .. } => "Flash (or RAM-load) the firmware you selected, or select the firmware the board runs.",
            BoardError::Malformed { .. } => "Check the cable and the baud rate (115200) and run again; if it repeats, the firmware build differs from the supported version.",
            BoardError::ForeignConfig { .. } => "Set this chip aside: its configuration is locked for good and does not fit this firmware.",
            BoardError::UnsupportedChip { .. } => "Use a blank TrustCUSTOM ATECC608A, or provision this part with Microchip's manifest flow.",
            BoardError::FirmwareFailure { .. } => "Check the I2C wiring of the ATECC608A and run again; if it repeats, set the board aside.",
            BoardError::EchoMismatch { .. } => "Check the cable and run again; Keyline re-sends the data.",
            BoardError::TooLarge { .. } => "Use a signer CA whose certificate fits the firmware's template (see `keyline template cert-chain`).",
            BoardError::NeedsReset { .. } => "Press the board's reset (EN) button, then run again; Keyline resumes where it stopped.",
            BoardError::HelperNotAnswering { .. } => {
                "Reset the board and RAM-load the helper again: run with --ram-load HELPER.bin (e.g. secure_cert_mfg_esp32.bin) and Keyline does both, then resumes where it stopped."
            }
            BoardError::Io { .. } => "Reconnect the board and run again.",
        }
    }

    /// Whether repeating the same idempotent step can help.
    pub fn is_transient(&self) -> bool {
        matches!(self, BoardError::Timeout { .. } | BoardError::Malformed { .. } | BoardError::EchoMismatch { .. })
    }
}
