//! `keyline ledger backup -o FILE` and `keyline ledger check`: the ledger file itself, copied while the station
//! runs and checked (SQLite's integrity check plus the audit chain that `keyline audit verify` checks).

use std::path::PathBuf;

use clap::Subcommand;
use keyline_station::ledger::LedgerCheck;
use keyline_station::{Error, ErrorCode, ErrorReport};

use super::audit::broken_chain;
use super::output::emit;
use super::{CliError, CliResult, Context, Run};

/// Ledger file commands.
#[derive(Subcommand)]
pub enum LedgerCommand {
    /// Copy the ledger to FILE with SQLite's online backup (safe while the station provisions), then check the copy.
    Backup {
        /// The backup file (written beside it first, then renamed into place; owner-only permissions).
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
        /// Replace FILE if it exists.
        #[arg(long)]
        force: bool,
    },
    /// SQLite's integrity check of the ledger file and every link of the audit chain.
    Check,
}

impl Run for LedgerCommand {
    fn run(self, ctx: &Context) -> CliResult {
        let ledger = ctx.station()?.ledger_reader()?;
        match self {
            LedgerCommand::Backup { output, force } => {
                let report = ledger.backup(&output, force).map_err(Error::from)?;
                emit(ctx.json, &report, || {
                    format!(
                        "Backed up {} devices and {} audit entries to {} ({} bytes); the copy checks.\n",
                        report.devices,
                        report.check.audit.entries,
                        report.path.display(),
                        report.bytes
                    )
                });
            }
            LedgerCommand::Check => {
                let check = ledger.check().map_err(Error::from)?;
                if let Some(error) = damaged(&check).or_else(|| broken_chain(&check.audit)) {
                    return Err(error);
                }
                emit(ctx.json, &check, || {
                    format!("Ledger {} is sound: integrity check ok, {} audit entries, every link verified.\n", check.path.display(), check.audit.entries)
                });
            }
        }
        Ok(())
    }
}

/// The `ledger_corrupt` error when SQLite's integrity check lists problems.
fn damaged(check: &LedgerCheck) -> Option<CliError> {
    let first = check.problems.first()?;
    Some(CliError(ErrorReport {
        code: ErrorCode::LedgerCorrupt,
        message: format!("the ledger {} is damaged ({} problems; first: {first})", check.path.display(), check.problems.len()),
        hint: "Stop the station, keep a copy of the damaged file, and restore ledger.sqlite3 from the last `keyline ledger backup`.".into(),
    }))
}
