//! `keyline devices ...`: the local device ledger (every device this station issued a certificate to).

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use keyline_station::ledger::{export, Device, DeviceEvent, DeviceFilter, DeviceSerial, ExportFormat, Ledger};
use keyline_station::Error;
use serde::Serialize;

use super::output::emit;
use super::{CliError, CliResult, Context, Run};

/// Device ledger commands.
#[derive(Subcommand)]
pub enum DevicesCommand {
    /// List the devices in the ledger, by serial.
    List {
        /// Only devices signed by this CA.
        #[arg(long)]
        ca: Option<String>,
        /// Only this firmware profile.
        #[arg(long)]
        profile: Option<String>,
        /// Only this status (issued, provisioned, …).
        #[arg(long)]
        status: Option<String>,
    },
    /// Show one device, its certificate and its timeline.
    Show {
        /// Chip serial, 18 hex digits.
        serial: String,
    },
    /// Export every device as CSV or JSON (to stdout, or to a file).
    Export {
        /// Output format.
        #[arg(long, value_enum, default_value = "csv")]
        format: FormatArg,
        /// Write here instead of stdout.
        #[arg(short = 'o', long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

/// Export format.
#[derive(Clone, Copy, ValueEnum)]
pub enum FormatArg {
    /// CSV with a header row.
    Csv,
    /// A JSON array.
    Json,
}

/// `devices show`: the device and its events.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeviceWithEvents {
    #[serde(flatten)]
    device: Device,
    events: Vec<DeviceEvent>,
}

impl Run for DevicesCommand {
    fn run(self, ctx: &Context) -> CliResult {
        let station = ctx.station()?;
        let ledger = station.ledger_reader()?;
        match self {
            DevicesCommand::List { ca, profile, status } => {
                let devices = ledger.list(&DeviceFilter { ca_name: ca, profile, status }).map_err(Error::from)?;
                emit(ctx.json, &devices, || list_text(&devices));
            }
            DevicesCommand::Show { serial } => {
                let serial = DeviceSerial::from_user(&serial).map_err(Error::from)?;
                let device = ledger.require(&serial).map_err(Error::from)?;
                let shown = DeviceWithEvents { events: ledger.events(&serial).map_err(Error::from)?, device };
                emit(ctx.json, &shown, || show_text(&shown));
            }
            DevicesCommand::Export { format, output } => export_devices(ctx, &ledger, format, output)?,
        }
        Ok(())
    }
}

fn export_devices(ctx: &Context, ledger: &Ledger, format: FormatArg, output: Option<PathBuf>) -> CliResult {
    let format = match format {
        FormatArg::Csv => ExportFormat::Csv,
        FormatArg::Json => ExportFormat::Json,
    };
    let devices = ledger.list(&DeviceFilter::default()).map_err(Error::from)?;
    let bytes = export(&devices, format).map_err(Error::from)?;
    let Some(path) = output else {
        use std::io::Write;
        return std::io::stdout()
            .write_all(&bytes)
            .map_err(|source| CliError::from(Error::Io { action: "cannot write", path: "standard output".into(), source }));
    };
    std::fs::write(&path, &bytes).map_err(|source| CliError::from(Error::Io { action: "cannot write", path: path.clone(), source }))?;
    let summary = serde_json::json!({ "exported": devices.len(), "format": format, "path": path });
    emit(ctx.json, &summary, || format!("Exported {} device(s) to {}\n", devices.len(), path.display()));
    Ok(())
}

fn list_text(devices: &[Device]) -> String {
    if devices.is_empty() {
        return "No devices in the ledger yet; `keyline cert sign` records each device it issues a certificate to.\n".into();
    }
    let mut text = format!("{:<18}  {:<17}  {:<16}  {:<11}  {:<20}  {}\n", "SERIAL", "PROFILE", "CA", "STATUS", "ISSUED", "CERT ID");
    for d in devices {
        text.push_str(&format!(
            "{:<18}  {:<17}  {:<16}  {:<11}  {:<20}  {}…\n",
            d.serial,
            d.profile,
            d.ca_name,
            d.status,
            d.issued_at,
            &d.cert_id[..16]
        ));
    }
    text
}

fn show_text(shown: &DeviceWithEvents) -> String {
    let d = &shown.device;
    let mut text = format!(
        "Device {}\n  CN:          {}\n  profile:     {}\n  CA:          {}\n  status:      {}\n  issued:      {}\n  provisioned: {}\n  cert id:     {}\n  public key:  {}\n",
        d.serial,
        d.common_name,
        d.profile,
        d.ca_name,
        d.status,
        d.issued_at,
        d.provisioned_at.as_deref().unwrap_or("-"),
        d.cert_id,
        d.public_key
    );
    text.push_str("  timeline:\n");
    for event in &shown.events {
        text.push_str(&format!("    {:>3}  {}  {:<22} {}\n", event.seq, event.at, event.kind, event.detail));
    }
    text.push_str(&d.cert_pem);
    text
}
