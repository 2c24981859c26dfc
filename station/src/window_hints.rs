//! The desktop window's hint for each failure whose CLI hint names a command, a flag or an environment variable.
//! Keyed by [`ErrorCode`], so a report made for the CLI elsewhere (a board's run in a shift) is retold for the
//! window by [`ErrorReport::for_audience`], and [`Error::hint_for`](crate::Error::hint_for) uses the same words.

use crate::{Audience, ErrorCode, ErrorReport};

impl ErrorCode {
    /// What the window says to do, where the CLI's hint would name a command, a flag or an environment variable.
    pub fn window_hint(self) -> Option<&'static str> {
        Some(match self {
            ErrorCode::NotFound => "Pick a CA from the list on the Certificate authorities screen.",
            ErrorCode::PassphraseRequired => {
                "Unlock the CA with its passphrase (the Unlock button on the Certificate authorities screen), then try again."
            }
            ErrorCode::WrongPassphrase => "Check the passphrase and try again.",
            ErrorCode::KeyringUnavailable => {
                "Enter the passphrase when asked; on Linux start a Secret Service (e.g. gnome-keyring) in the desktop session to remember passphrases."
            }
            ErrorCode::FlashNotRomLoader => {
                "Hold BOOT (IO0) while pressing EN/RESET to put the board in download mode, or check the cable and the port; a simulated board must be running (Settings, Practice mode)."
            }
            ErrorCode::FlashLoaderFailed => "Try again at a lower baud (115200); if it keeps failing, the cable or the USB-UART bridge may be faulty.",
            ErrorCode::PortOpen => "Choose the board's port again (the list shows every port found) and close any other program that has it open.",
            ErrorCode::FlashFileUnreadable => "Choose the file again: it may have been moved, renamed or deleted.",
            ErrorCode::InvalidSetting => "Nothing was saved: enter a value in the range named beside the field.",
            ErrorCode::InvalidSerial => "Use the chip serial as the Devices screen shows it (18 hex digits).",
            ErrorCode::DeviceNotFound => "The Devices screen lists the devices this station has issued certificates to.",
            ErrorCode::NotASerialPort => "Choose the board's serial port in the shift set-up (the port cards show every port found).",
            ErrorCode::TooLarge => {
                "Use a signer CA whose certificate fits the firmware's template (the Device template screen shows the template for each CA)."
            }
            ErrorCode::HelperNotAnswering => {
                "Reset the board and RAM-load the helper again: choose the helper under Firmware steps (Helper to RAM-load) in the shift set-up and Keyline does both for every board, then resumes where it stopped."
            }
            _ => return None,
        })
    }
}

impl ErrorReport {
    /// The same report with the hint for `audience`: the window's hint where the CLI's names commands or flags.
    pub fn for_audience(mut self, audience: Audience) -> ErrorReport {
        if audience == Audience::Gui {
            if let Some(hint) = self.code.window_hint() {
                self.hint = hint.to_owned();
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_hints_name_no_command_flag_or_environment_variable() {
        for code in ErrorCode::ALL {
            if let Some(hint) = code.window_hint() {
                assert!(!hint.contains("--") && !hint.contains('`') && !hint.contains("KEYLINE_"), "{}: {hint}", code.as_str());
            }
        }
    }

    #[test]
    fn a_cli_report_is_retold_for_the_window_and_left_alone_for_the_cli() {
        let report = ErrorReport {
            code: ErrorCode::NotASerialPort,
            message: "/dev/null is not a serial port".into(),
            hint: "Pick the board's serial port (`keyline ports`), e.g. /dev/ttyUSB0.".into(),
        };
        assert_eq!(report.clone().for_audience(Audience::Cli), report);
        let window = report.clone().for_audience(Audience::Gui);
        assert_eq!((window.code, window.message.as_str()), (report.code, report.message.as_str()));
        assert!(window.hint.contains("shift set-up"), "{}", window.hint);
        let timeout = ErrorReport { code: ErrorCode::Timeout, message: "no answer".into(), hint: "Check the board.".into() };
        assert_eq!(timeout.clone().for_audience(Audience::Gui), timeout, "hints without commands stay");
    }
}
