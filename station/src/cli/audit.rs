//! `keyline audit verify`: recompute the signing audit log's hash chain and report the first broken link.

use clap::Subcommand;
use keyline_station::ledger::AuditReport;
use keyline_station::{ErrorCode, ErrorReport};

use super::output::emit;
use super::{CliError, CliResult, Context, Run};

/// Audit log commands.
#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check every link of the hash-chained audit log of signing operations.
    Verify,
}

impl Run for AuditCommand {
    fn run(self, ctx: &Context) -> CliResult {
        match self {
            AuditCommand::Verify => {
                let station = ctx.station()?;
                let report = station.ledger_reader()?.verify_audit().map_err(keyline_station::Error::from)?;
                if let Some(error) = broken_chain(&report) {
                    return Err(error);
                }
                emit(ctx.json, &report, || format!("Audit log intact: {} signing entries, every link verified.\n", report.entries));
                Ok(())
            }
        }
    }
}

/// The `audit_broken` error for a chain with a broken link (shared with `keyline ledger check`).
pub(super) fn broken_chain(report: &AuditReport) -> Option<CliError> {
    let broken = report.first_broken.as_ref()?;
    Some(CliError(ErrorReport {
        code: ErrorCode::AuditBroken,
        message: format!("the audit log is broken at entry {}: {}", broken.seq, broken.reason),
        hint: "Restore the ledger from a backup (`keyline ledger backup`) and find out who changed it; entries before this one are intact.".into(),
    }))
}
