//! `keyline provision`: one board from blank chip to verified certificate, printing each step with its time.

use std::sync::Arc;

use clap::Args;
use keyline_station::device_template::parse_profile;
use keyline_station::provision::{provision_board, CancelToken, FirmwareKind, Observer, OutcomeKind, ProvisionEvent, ProvisionOutcome, ProvisionRequest, SystemClock};
use keyline_station::{Error, Station};

use super::options_only::OptionsOnly;
use super::output::emit;
use super::{passphrase, CliError, CliResult, Context, Run};

/// Options of `keyline provision`.
#[derive(Args)]
pub struct ProvisionArgs {
    /// Serial port of the board (e.g. /dev/ttyUSB0, or a simulated board's /dev/pts/N).
    #[arg(long, value_name = "PATH")]
    port: String,
    /// First RAM-load this esptool .bin (the Espressif helper, e.g. secure_cert_mfg_esp32.bin) through the ROM loader.
    #[arg(long, value_name = "HELPER.bin")]
    ram_load: Option<std::path::PathBuf>,
    #[command(flatten)]
    run: RunArgs,
}

/// What `keyline provision` and `keyline station` both take: firmware, signer CA, profile, re-provisioning.
#[derive(Args)]
pub struct RunArgs {
    /// Firmware the boards run: rainbowtype or esp-helper.
    #[arg(long)]
    pub firmware: String,
    /// Signer CA that issues the device certificates.
    #[arg(long, value_name = "SIGNER")]
    pub ca: String,
    /// Certificate profile [default: the firmware's: rainbowtype, or esp-cryptoauthlib for esp-helper].
    #[arg(long)]
    pub profile: Option<String>,
    /// Write again to boards the ledger already has as verified.
    #[arg(long)]
    pub reprovision: bool,
}

/// `keyline provision`.
pub type ProvisionCommand = OptionsOnly<ProvisionArgs>;

/// Parses `--firmware`.
pub fn parse_firmware(text: &str) -> Result<FirmwareKind, CliError> {
    FirmwareKind::parse(text).ok_or_else(|| {
        Error::InvalidInput { what: "firmware".into(), reason: format!("\"{text}\" is not one of rainbowtype, esp-helper") }.into()
    })
}

/// Unlocks the CA for the firmware's profile (or `profile`).
pub fn prepare_ca(station: &Station, ca: &str, firmware: FirmwareKind, profile: Option<&str>) -> Result<keyline_station::provision::ProvisioningCa, CliError> {
    let profile = parse_profile(profile.unwrap_or(firmware.profile_name()))?;
    passphrase::unlock_existing(station, ca)?;
    Ok(station.provisioning_ca(ca, profile)?)
}

/// One text line for an event (None: not shown).
pub fn event_line(event: &ProvisionEvent) -> Option<String> {
    match event {
        ProvisionEvent::StepDone { step, elapsed_ms, .. } => Some(format!("  {:<20} done  {elapsed_ms:>6} ms", step.label())),
        ProvisionEvent::StepFailed { step, code, message, .. } => Some(format!("  {:<20} FAIL  {message} ({code})", step.label())),
        ProvisionEvent::StepProgress { step, message, .. } => Some(format!("  {:<20} {message}", step.label())),
        _ => None,
    }
}

/// The closing text of a finished board.
pub fn outcome_text(outcome: &ProvisionOutcome) -> String {
    match outcome.outcome {
        OutcomeKind::AlreadyProvisioned => format!(
            "Board {} ({}) is already provisioned with certificate {}; nothing was written (use --reprovision to write again).\n",
            outcome.serial, outcome.common_name, outcome.cert_id
        ),
        OutcomeKind::Verified => format!(
            "PASS {} ({}) on {}: certificate {}{} verified by {} in {} ms ({} bytes out, {} in)\n",
            outcome.serial,
            outcome.common_name,
            outcome.port,
            outcome.cert_id,
            if outcome.reused_certificate { " (issued earlier, written again)" } else { "" },
            outcome.verified_by.join(", "),
            outcome.total_ms,
            outcome.bytes_out,
            outcome.bytes_in
        ),
    }
}

impl Run for ProvisionCommand {
    fn run(self, ctx: &Context) -> CliResult {
        let args = self.0;
        let firmware = parse_firmware(&args.run.firmware)?;
        let station = ctx.station()?;
        let settings = station.settings()?;
        let ca = prepare_ca(&station, &args.run.ca, firmware, args.run.profile.as_deref())?;
        let request = ProvisionRequest {
            port: args.port.clone(),
            firmware,
            reprovision: args.run.reprovision,
            station_name: settings.station_name(),
            stop_before_issue: None,
            ram_load: args.ram_load.clone(),
            serial: settings.serial,
        };
        let json = ctx.json;
        let observer: Observer = Arc::new(move |event: &ProvisionEvent| {
            if !json {
                if let Some(line) = event_line(event) {
                    println!("{line}");
                }
            }
        });
        if !json {
            println!("Provisioning the {} board on {} with CA {}", firmware.as_str(), args.port, args.run.ca);
        }
        let outcome = provision_board(&station, &ca, &request, observer, &CancelToken::new(), Arc::new(SystemClock)).map_err(|e| e.report())?;
        emit(ctx.json, &outcome, || outcome_text(&outcome));
        Ok(())
    }
}
