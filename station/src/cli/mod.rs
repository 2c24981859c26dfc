//! Command-line parsing and dispatch for `keyline`.

use std::process::ExitCode;

/// Run the CLI.
pub fn main() -> ExitCode {
    ExitCode::SUCCESS
}
