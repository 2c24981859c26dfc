//! `keyline cloud devices ...`: device certificates registered under a CA, joined with the station's device
//! ledger by certificate id (SHA-256 of the DER).

use clap::{Args, Subcommand};
use keyline_station::cloud_ops::{connect, CloudSettings};

use super::cloud_output as text;
use super::output::emit;
use super::{CliResult, Context};

/// `devices` options.
#[derive(Args)]
pub struct DevicesArgs {
    #[command(subcommand)]
    command: DevicesCommand,
}

/// `devices` subcommands; DEVICE is a ledger serial, a thing name or a certificate id (SHA-256 of the DER).
/// Results are joined with the device ledger by certificate id.
#[derive(Subcommand)]
pub enum DevicesCommand {
    /// List the device certificates registered under a CA.
    List {
        #[arg(long)]
        ca: String,
    },
    /// Show one device certificate, its thing and policies.
    Show { device: String },
    /// Activate a device certificate.
    Activate { device: String },
    /// Revoke a device certificate.
    Revoke { device: String },
}

/// Runs `keyline cloud devices ...`.
pub async fn run(ctx: &Context, settings: &CloudSettings, args: DevicesArgs) -> CliResult {
    let cloud = connect(settings).await?;
    let station = ctx.station()?;
    match args.command {
        DevicesCommand::List { ca } => {
            let joined = station.cloud_devices_of_ca(&cloud, &ca).await?;
            emit(ctx.json, &joined, || text::joined_list(&joined));
        }
        DevicesCommand::Show { device } => {
            let joined = station.cloud_device(&cloud, &device).await?;
            emit(ctx.json, &joined, || text::device(&joined));
        }
        DevicesCommand::Activate { device } => {
            let now = station.cloud_device_set_active(&cloud, &device, true).await?;
            emit(ctx.json, &now, || text::device(&now));
        }
        DevicesCommand::Revoke { device } => {
            let now = station.cloud_device_set_active(&cloud, &device, false).await?;
            emit(ctx.json, &now, || text::device(&now));
        }
    }
    Ok(())
}
