//! `keyline sim`: simulated boards on pseudo-terminals until Ctrl-C (practice and tests without hardware).

use clap::{ArgMatches, Args, Command, FromArgMatches};
use keyline_sim::firmware::CertChain;
use keyline_sim::{run_boards, FaultSpec, FirmwareKind, SimConfig, Timing};
use keyline_station::{ErrorCode, ErrorReport};

use super::output::emit;
use super::{CliResult, Context, Run};

/// Options of `keyline sim` (no subcommand).
#[derive(Args)]
pub struct SimArgs {
    /// Number of boards (1-64).
    #[arg(long, default_value_t = 1)]
    boards: usize,
    /// Firmware the boards run: rainbowtype, esp-helper or rom (download mode).
    #[arg(long, default_value = "rainbowtype")]
    firmware: String,
    /// Timing model: instant or datasheet (UART byte times and ATECC608A execution maxima).
    #[arg(long, default_value = "instant")]
    timing: String,
    /// Faults, e.g. `corrupt=0.01,drop=0.001,reset-after=500,vanish-after=2000,seed=7`.
    #[arg(long, value_name = "SPEC")]
    faults: Option<String>,
    /// Carry pre-provisioned Trust&Go parts instead of blank TrustCUSTOM ones.
    #[arg(long)]
    trust_and_go: bool,
    /// Directory with the rainbowtype build's sample certificates (signer.der|pem, device.der|pem),
    /// i.e. its compiled cert_chain.c; required for rainbowtype and rom boards unless --derive-templates.
    #[arg(long, value_name = "DIR")]
    cert_chain: Option<std::path::PathBuf>,
    /// Without `--cert-chain`: build the rainbowtype templates from each upload (lenient; a real
    /// board runs one compiled cert_chain.c and refuses other templates).
    #[arg(long)]
    derive_templates: bool,
    /// With `--timing datasheet`: also wait the charged time (feels like real hardware).
    #[arg(long)]
    realtime: bool,
}

/// `keyline sim` takes options only; this wrapper lets it sit in the command-group list.
pub struct SimCommand(SimArgs);

impl FromArgMatches for SimCommand {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        SimArgs::from_arg_matches(matches).map(SimCommand)
    }
    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches(matches)
    }
}

impl clap::Subcommand for SimCommand {
    fn augment_subcommands(cmd: Command) -> Command {
        SimArgs::augment_args(cmd).subcommand_required(false).arg_required_else_help(false)
    }
    fn augment_subcommands_for_update(cmd: Command) -> Command {
        SimArgs::augment_args_for_update(cmd).subcommand_required(false).arg_required_else_help(false)
    }
    fn has_subcommand(_name: &str) -> bool {
        false
    }
}

fn invalid(error: keyline_sim::SimError) -> ErrorReport {
    ErrorReport {
        code: ErrorCode::InvalidInput,
        message: error.to_string(),
        hint: "see `keyline sim --help`".into(),
    }
}

impl Run for SimCommand {
    fn run(self, ctx: &Context) -> CliResult {
        let args = self.0;
        let firmware: FirmwareKind = args.firmware.parse().map_err(invalid)?;
        let timing: Timing = args.timing.parse().map_err(invalid)?;
        let faults: FaultSpec = match &args.faults {
            Some(spec) => spec.parse().map_err(invalid)?,
            None => FaultSpec::default(),
        };
        let mut config = SimConfig::new(args.boards, firmware, ctx.data_dir.join("sim"));
        config.timing = timing;
        config.faults = faults;
        config.trust_and_go = args.trust_and_go;
        config.realtime = args.realtime;
        config.derive_templates = args.derive_templates;
        if let Some(dir) = &args.cert_chain {
            config.cert_chain = Some(std::sync::Arc::new(CertChain::from_dir(dir).map_err(invalid)?));
        }
        let handle = run_boards(config).map_err(|error| match error {
            keyline_sim::SimError::BadBoardCount(_) | keyline_sim::SimError::NoCertChain => invalid(error),
            other => ErrorReport {
                code: ErrorCode::SimFailed,
                message: other.to_string(),
                hint: "check that the data directory is writable and /dev/ptmx exists".into(),
            },
        })?;
        emit(ctx.json, &handle.ports(), || {
            let mut text: String =
                handle.ports().iter().map(|p| format!("{}: {} ({})\n", p.label, p.path.display(), p.firmware)).collect();
            text.push_str(&format!("Listed in {}. Press Ctrl-C to stop.\n", handle.boards_file().display()));
            text
        });
        use std::io::Write;
        let _ = std::io::stdout().flush();
        handle.wait_for_interrupt();
        Ok(())
    }
}
