//! `keyline cloud devices ...`: device certificates registered under a CA, joined with the station's device
//! ledger by certificate id (SHA-256 of the DER).

use clap::{Args, Subcommand};
use keyline_cloud::{devices, CloudContext, CloudSettings};
use keyline_station::cloud::{cloud_report, connect};
use keyline_station::{ErrorReport, Station};

use super::cloud::resolve_ca;
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
            let list = devices::list_devices_of_ca(&cloud, &resolve_ca(ctx, &ca)?).await.map_err(cloud_report)?;
            let joined = station.join_cloud_summaries(list)?;
            emit(ctx.json, &joined, || text::joined_list(&joined));
        }
        DevicesCommand::Show { device } => {
            let found = find_device(&station, &cloud, &device).await?;
            let joined = station.join_cloud_device(found)?;
            emit(ctx.json, &joined, || text::device(&joined));
        }
        DevicesCommand::Activate { device } => {
            let found = find_device(&station, &cloud, &device).await?;
            devices::activate_device(&cloud, &found.certificate_id).await.map_err(cloud_report)?;
            let now = station.join_cloud_device(devices::find_device(&cloud, &found.certificate_id).await.map_err(cloud_report)?)?;
            emit(ctx.json, &now, || text::device(&now));
        }
        DevicesCommand::Revoke { device } => {
            let found = find_device(&station, &cloud, &device).await?;
            devices::revoke_device(&cloud, &found.certificate_id).await.map_err(cloud_report)?;
            let now = station.join_cloud_device(devices::find_device(&cloud, &found.certificate_id).await.map_err(cloud_report)?)?;
            emit(ctx.json, &now, || text::device(&now));
        }
    }
    Ok(())
}

/// A ledger serial goes to its current certificate; anything else (thing name, certificate id) to the cloud's
/// own lookup.
async fn find_device(
    station: &Station,
    cloud: &CloudContext,
    query: &str,
) -> Result<devices::DeviceCert, ErrorReport> {
    if let Some(cert_id) = station.ledger_cert_id(query)? {
        if let Some(found) = devices::describe_device(cloud, &cert_id).await.map_err(cloud_report)? {
            return Ok(found);
        }
    }
    devices::find_device(cloud, query).await.map_err(cloud_report)
}
