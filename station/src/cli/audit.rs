//! `keyline audit verify`: recompute the signing audit log's hash chain and report the first broken link.

use clap::Subcommand;
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
                let report = station.ledger()?.verify_audit().map_err(keyline_station::Error::from)?;
                if let Some(broken) = &report.first_broken {
                    return Err(CliError(ErrorReport {
                        code: ErrorCode::AuditBroken,
                        message: format!("the audit log is broken at entry {}: {}", broken.seq, broken.reason),
                        hint: "Restore the ledger from a backup and find out who changed it; entries before this one are intact.".into(),
                    }));
                }
                emit(ctx.json, &report, || format!("Audit log intact: {} signing entries, every link verified.\n", report.entries));
                Ok(())
            }
        }
    }
}
