//! [`ProvisionError`]: why a board's run stopped, with the step it stopped at, a stable code and a hint.

use keyline_board::BoardError;

use super::Step;

/// Why a provisioning run stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProvisionError {
    /// The board or its firmware failed or refused.
    #[error("{step_label}: {error}", step_label = step.label())]
    Board {
        /// Where.
        step: Step,
        /// What the driver reported.
        error: BoardError,
    },
    /// The CSR's self-signature does not verify.
    #[error("the board's CSR is not signed by its key: {reason}")]
    BadCsrSignature {
        /// What failed.
        reason: String,
    },
    /// The CSR carries another key than the one the chip reports for slot 0.
    #[error("the board's CSR carries another public key than the chip's slot 0")]
    CsrKeyMismatch,
    /// The chip's public key is not a P-256 point.
    #[error("the chip's public key is not a valid P-256 key")]
    BadPublicKey,
    /// A rainbowtype board whose boot output was not seen and that the ledger does not know.
    #[error("the chip's configuration is unknown: the board's boot output was read by another program")]
    ConfigUnknown,
    /// The caller cancelled.
    #[error("cancelled during {step_label}", step_label = step.label())]
    Cancelled {
        /// Where.
        step: Step,
    },
    /// A station operation failed (CA, ledger, issuance).
    #[error("{step_label}: {error}", step_label = step.label())]
    Station {
        /// Where.
        step: Step,
        /// The station error.
        error: crate::Error,
    },
}

impl ProvisionError {
    pub(crate) fn board(step: Step, error: BoardError) -> Self {
        match error {
            BoardError::Cancelled => ProvisionError::Cancelled { step },
            error => ProvisionError::Board { step, error },
        }
    }

    pub(crate) fn station(step: Step, error: impl Into<crate::Error>) -> Self {
        ProvisionError::Station { step, error: error.into() }
    }

    /// The step the run stopped at (None: before a step or not step-bound).
    pub fn step(&self) -> Option<Step> {
        match self {
            ProvisionError::Board { step, .. } | ProvisionError::Cancelled { step } | ProvisionError::Station { step, .. } => Some(*step),
            ProvisionError::BadCsrSignature { .. } | ProvisionError::CsrKeyMismatch | ProvisionError::BadPublicKey => Some(Step::CheckKey),
            ProvisionError::ConfigUnknown => Some(Step::ConfigureLock),
        }
    }

    /// Whether a RAM-loaded helper is gone (crashed, or its command line never started) or never answered: a
    /// reset and a new RAM load bring it back.
    pub fn helper_lost(&self) -> bool {
        matches!(self, ProvisionError::Board { error: BoardError::HelperNotAnswering { .. } | BoardError::Timeout { .. }, .. })
    }

    /// Stable code (one of the station's [`ErrorCode`](crate::ErrorCode)s).
    pub fn code(&self) -> crate::ErrorCode {
        use crate::ErrorCode as C;
        match self {
            ProvisionError::Board { error, .. } => board_code(error.code()),
            ProvisionError::BadCsrSignature { .. } => C::BadCsrSignature,
            ProvisionError::CsrKeyMismatch => C::CsrKeyMismatch,
            ProvisionError::BadPublicKey => C::BadPublicKey,
            ProvisionError::ConfigUnknown => C::ConfigUnknown,
            ProvisionError::Cancelled { .. } => C::Cancelled,
            ProvisionError::Station { error, .. } => error.code(),
        }
    }

    /// What the operator should do.
    pub fn hint(&self) -> String {
        match self {
            ProvisionError::Board { error, .. } => error.hint().into(),
            ProvisionError::BadCsrSignature { .. } | ProvisionError::CsrKeyMismatch | ProvisionError::BadPublicKey => {
                "Set the board aside: its chip or firmware does not prove possession of its key. Nothing was signed.".into()
            }
            ProvisionError::ConfigUnknown => "Press the board's reset (EN) button so Keyline sees its boot output, then run again.".into(),
            ProvisionError::Cancelled { .. } => "Run again to finish the board; Keyline resumes where it stopped.".into(),
            ProvisionError::Station { error, .. } => error.hint(),
        }
    }

    /// The `{code, message, hint}` form for `--json` and the UI.
    pub fn report(&self) -> crate::ErrorReport {
        crate::ErrorReport { code: self.code(), message: self.to_string(), hint: self.hint() }
    }
}

/// The station's code for a board driver's code.
pub(crate) fn board_code(code: keyline_board::BoardErrorCode) -> crate::ErrorCode {
    use crate::ErrorCode as C;
    use keyline_board::BoardErrorCode as B;
    match code {
        B::PortOpen => C::PortOpen,
        B::NotASerialPort => C::NotASerialPort,
        B::Timeout => C::Timeout,
        B::Disconnected => C::Disconnected,
        B::Cancelled => C::Cancelled,
        B::WrongFirmware => C::WrongFirmware,
        B::Malformed => C::Malformed,
        B::ForeignConfig => C::ForeignConfig,
        B::UnsupportedChip => C::UnsupportedChip,
        B::FirmwareFailure => C::FirmwareFailure,
        B::EchoMismatch => C::EchoMismatch,
        B::TooLarge => C::TooLarge,
        B::NeedsReset => C::NeedsReset,
        B::HelperNotAnswering => C::HelperNotAnswering,
        B::Io => C::Io,
        _ => C::FirmwareFailure,
    }
}
