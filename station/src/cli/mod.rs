//! Command-line parsing and dispatch for `keyline`.
//!
//! Each command group is one module with a clap `Subcommand` enum that implements [`Run`].
//! To add a group, write `cli/<group>.rs` and add one line to the `command_groups!` list below.

mod audit;
mod bench;
#[cfg(feature = "sim")]
mod bench_flash;
mod ca;
mod ca_custody;
mod cert;
mod cert_sign;
mod devices;
mod flash;
mod ledger;
#[cfg(feature = "cloud")]
mod cloud_devices;
#[cfg(feature = "cloud")]
mod cloud_output;
#[cfg(feature = "cloud")]
mod cloud;
mod ota;
mod output;
mod options_only;
mod passphrase;
mod ports;
mod provision;
mod settings;
mod shift;
#[cfg(feature = "sim")]
mod sim;
mod template;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use keyline_station::logging::{self, LogOptions};
use keyline_station::{Audience, Error, ErrorReport, Station, DATA_DIR_ENV};

/// A failure as the CLI reports it: code, message and a hint that names commands and flags.
#[derive(Debug)]
pub struct CliError(pub ErrorReport);

impl From<Error> for CliError {
    fn from(error: Error) -> Self {
        CliError(error.report_for(Audience::Cli))
    }
}

impl From<ErrorReport> for CliError {
    fn from(report: ErrorReport) -> Self {
        CliError(report)
    }
}

impl From<keyline_station::ports::PortsError> for CliError {
    fn from(error: keyline_station::ports::PortsError) -> Self {
        Error::from(error).into()
    }
}

/// Result of one command; errors carry a code and a hint for `--json` output.
pub type CliResult = Result<(), CliError>;

/// Shared state of one CLI invocation.
pub struct Context {
    /// The data directory (`--data-dir`, `KEYLINE_DATA_DIR` or the OS default).
    pub data_dir: PathBuf,
    /// Print machine-readable JSON on stdout instead of text.
    pub json: bool,
}

impl Context {
    /// Open the station on the data directory.
    pub fn station(&self) -> Result<Station, CliError> {
        Ok(Station::open(self.data_dir.clone())?)
    }
}

/// A command group.
pub trait Run {
    /// Execute the command.
    fn run(self, ctx: &Context) -> CliResult;
}

macro_rules! command_groups {
    ($($(#[doc = $doc:literal])* $(#[cfg($cfg:meta)])? $variant:ident => $module:ident :: $command:ident,)*) => {
        #[derive(Subcommand)]
        enum Group {
            $($(#[doc = $doc])* $(#[cfg($cfg)])? #[command(subcommand)] $variant($module::$command),)*
        }

        impl Run for Group {
            fn run(self, ctx: &Context) -> CliResult {
                match self {
                    $($(#[cfg($cfg)])? Group::$variant(command) => command.run(ctx),)*
                }
            }
        }
    };
}

command_groups! {
    /// Certificate authorities: create, import, list, show, export, unlock, forget.
    Ca => ca::CaCommand,
    /// Certificates issued by a CA (AWS IoT verification certificates).
    Cert => cert::CertCommand,
    /// Firmware certificate definitions (cert_chain.c) for the ATECC608A.
    Template => template::TemplateCommand,
    /// AWS IoT: register a CA, deploy JITR/JITP, allow-list, device certificates, connection test.
    #[cfg(feature = "cloud")]
    Cloud => cloud::CloudCommand,
    /// The local device ledger: list, show, export (CSV/JSON) the devices this station issued certificates to.
    Devices => devices::DevicesCommand,
    /// Provision one board: lock the chip, issue, write and verify its certificate.
    Provision => provision::ProvisionCommand,
    /// Write firmware images at their offsets (validated before, verified after), or `--ram` load the provisioning helper.
    Flash => flash::FlashCommand,
    /// Run a shift: provision boards on several ports at once as they appear; live table and counters.
    Station => shift::ShiftCommand,
    /// Benchmarks: `keyline bench issue`, `keyline bench station`, `keyline bench flash` (ratios to the goals).
    Bench => bench::BenchCommand,
    /// The hash-chained audit log of signing operations: `keyline audit verify`.
    Audit => audit::AuditCommand,
    /// The ledger file itself: `keyline ledger backup -o FILE` (online, consistent) and `keyline ledger check`.
    Ledger => ledger::LedgerCommand,
    /// OTA: inspect and sign firmware images, the signing key, push images through a device-management server.
    Ota => ota::OtaCommand,
    /// Station settings: the station name in the ledger, serial rates and step timeouts: `keyline settings show|set|reset`.
    Settings => settings::SettingsCommand,
    /// Serial ports a board can be on (real ports and simulated boards): `keyline ports --json`.
    Ports => ports::PortsCommand,
    /// Simulated boards on pseudo-terminals (practice mode, tests): `keyline sim --boards 2`.
    #[cfg(feature = "sim")]
    Sim => sim::SimCommand,
}

/// Keyline: factory provisioning station for ESP32 + ATECC608A boards.
#[derive(Parser)]
#[command(name = "keyline", version)]
struct Cli {
    /// Data directory [default: the OS application-data directory, e.g. ~/.local/share/keyline].
    #[arg(long, global = true, env = DATA_DIR_ENV, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Print results (and errors) as JSON on stdout.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    group: Group,
}

/// Parse the command line, set up logging, run the command and report errors.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    let result = (|| {
        let data_dir = match cli.data_dir {
            Some(dir) => dir,
            None => Station::default_data_dir()?,
        };
        if let Err(error) = logging::init(LogOptions::new(data_dir.clone())) {
            eprintln!("warning: logging is off: {error}");
        }
        let ctx = Context { data_dir, json };
        cli.group.run(&ctx)
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError(report)) => {
            // Only to the log file: the stderr filter leaves out this target (printed below).
            tracing::error!(target: logging::REPORT_TARGET, code = %report.code, error = %report.message, "command failed");
            output::print_error(json, &report);
            ExitCode::FAILURE
        }
    }
}
