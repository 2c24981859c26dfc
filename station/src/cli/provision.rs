//! `keyline provision`: one board from blank chip to verified certificate, printing each step with its time.

use std::sync::Arc;

use clap::Args;
use keyline_station::device_template::parse_profile;
use keyline_station::provision::{
    provision_board, CancelToken, FirmwareKind, FirmwareSetup, FirmwareSpec, Observer, OutcomeKind, ProvisionEvent, ProvisionOutcome, ProvisionRequest, SystemClock,
};
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
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    firmware: FirmwareArgs,
    /// With --json: print every step event (started, byte progress, done, failed) as a JSON line before the
    /// result, which then comes as the last line (`{"event": "finished", "outcome": …}`).
    #[arg(long)]
    events: bool,
}

/// The firmware steps `keyline provision` and `keyline station` take; every image is validated before a board is touched.
#[derive(Args)]
pub struct FirmwareArgs {
    /// First RAM-load this esptool .bin (the Espressif helper, e.g. secure_cert_mfg_esp32.bin) through the ROM loader.
    #[arg(long, value_name = "HELPER.bin", conflicts_with = "load_firmware")]
    pub ram_load: Option<std::path::PathBuf>,
    /// First flash the provisioning firmware (rainbowtype), e.g. bootloader.bin@0x1000 partitions.bin@0x8000 app.bin@0x10000.
    #[arg(long, value_name = "IMAGE@OFFSET", num_args = 1..)]
    pub load_firmware: Vec<String>,
    /// After the device is verified, flash the product firmware, e.g. app.bin@0x10000 (with its partition table).
    #[arg(long, value_name = "IMAGE@OFFSET", num_args = 1..)]
    pub product_firmware: Vec<String>,
    /// Partition table to check app sizes against when an image set includes none.
    #[arg(long, value_name = "FILE")]
    pub partition_table: Option<std::path::PathBuf>,
    /// ROM loader transfer rate for the firmware steps [default: 460800].
    #[arg(long, value_name = "B")]
    pub flash_baud: Option<u32>,
}

impl FirmwareArgs {
    /// The validated firmware steps (None: none asked for). Reads and checks every image now.
    pub fn prepare(&self, firmware: FirmwareKind) -> Result<Option<Arc<FirmwareSetup>>, CliError> {
        let spec = FirmwareSpec {
            ram_load: self.ram_load.clone(),
            load_images: self.load_firmware.clone(),
            product_images: self.product_firmware.clone(),
            partition_table: self.partition_table.clone(),
            flash_baud: self.flash_baud,
        };
        if spec.is_empty() {
            return Ok(None);
        }
        Ok(Some(Arc::new(FirmwareSetup::prepare(&spec, firmware)?)))
    }
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
        ProvisionEvent::StepProgress { step, message, done: Some(done), total: Some(total), .. } => {
            Some(format!("  {:<20} {message}: {done} / {total} bytes ({} %)", step.label(), if *total == 0 { 100 } else { done * 100 / total }))
        }
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
        OutcomeKind::ProductFlashed => format!(
            "PASS {} ({}) on {}: already verified with certificate {}; the product firmware was flashed now\n",
            outcome.serial, outcome.common_name, outcome.port, outcome.cert_id
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
        let setup = args.firmware.prepare(firmware)?;
        let ca = prepare_ca(&station, &args.run.ca, firmware, args.run.profile.as_deref())?;
        let request = ProvisionRequest {
            port: args.port.clone(),
            firmware,
            reprovision: args.run.reprovision,
            station_name: settings.station_name(),
            stop_before_issue: None,
            ram_load: None,
            firmware_setup: setup,
            serial: settings.serial,
        };
        let (json, events) = (ctx.json, args.events);
        let observer: Observer = Arc::new(move |event: &ProvisionEvent| {
            if json && events && !matches!(event, ProvisionEvent::SerialBytes { .. }) {
                println!("{}", serde_json::to_string(event).unwrap_or_default());
            } else if !json {
                if let Some(line) = event_line(event) {
                    println!("{line}");
                }
            }
        });
        if !json {
            println!("Provisioning the {} board on {} with CA {}", firmware.as_str(), args.port, args.run.ca);
        }
        let outcome = provision_board(&station, &ca, &request, observer, &CancelToken::new(), Arc::new(SystemClock)).map_err(|e| e.report())?;
        if json && events {
            println!("{}", serde_json::json!({ "event": "finished", "outcome": outcome }));
            return Ok(());
        }
        emit(ctx.json, &outcome, || outcome_text(&outcome));
        Ok(())
    }
}
