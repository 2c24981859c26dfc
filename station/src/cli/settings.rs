//! `keyline settings show|set|reset`: the station name recorded in the ledger and the serial defaults
//! (console and loader rates, per-step timeouts), as the window's Settings screen shows them.

use clap::Subcommand;
use keyline_station::provision::FirmwareKind;
use keyline_station::settings::{StationSettings, StepTimeouts};
use keyline_station::Error;

use super::output::emit;
use super::{CliResult, Context, Run};

/// Station settings commands.
#[derive(Subcommand)]
pub enum SettingsCommand {
    /// Print the settings in use (the defaults where none were saved).
    Show,
    /// Change some settings; every value is checked and nothing is saved if one is refused.
    Set {
        /// The station name recorded in the ledger ("" for the host name).
        #[arg(long, value_name = "NAME")]
        station_name: Option<String>,
        /// The provisioning console's rate (both firmwares run at 115200 only).
        #[arg(long, value_name = "B")]
        console_baud: Option<u32>,
        /// The ROM loader's rate for RAM-loading the helper: 115200, 230400, 460800, 576000 or 921600.
        #[arg(long, value_name = "B")]
        loader_baud: Option<u32>,
        /// A step timeout, `[FIRMWARE:]STEP=MS` with STEP handshake, configure, key or write; without a
        /// firmware (rainbowtype, esp-helper) it is set for both. Repeat for several.
        #[arg(long, value_name = "[FIRMWARE:]STEP=MS")]
        timeout: Vec<String>,
    },
    /// Back to the defaults (the host name, 115200, 460800, the drivers' own timeouts).
    Reset,
}

fn timeout_arg(settings: &mut StationSettings, arg: &str) -> Result<(), Error> {
    let invalid = |reason: &str| Error::InvalidSetting { setting: "timeout".into(), value: arg.into(), reason: reason.into() };
    let (target, ms) = arg.split_once('=').ok_or_else(|| invalid("write [FIRMWARE:]STEP=MS, e.g. esp-helper:handshake=10000"))?;
    let ms: u32 = ms.trim().parse().map_err(|_| invalid("the timeout is a whole number of milliseconds"))?;
    let (kinds, step) = match target.split_once(':') {
        Some((firmware, step)) => {
            let kind = FirmwareKind::parse(firmware).ok_or_else(|| invalid("the firmware is rainbowtype or esp-helper"))?;
            (vec![kind], step)
        }
        None => (vec![FirmwareKind::Rainbowtype, FirmwareKind::EspHelper], target),
    };
    for kind in kinds {
        settings.serial.timeouts_mut(kind).set(step, ms)?;
    }
    Ok(())
}

fn timeouts_line(kind: FirmwareKind, timeouts: &StepTimeouts) -> String {
    let steps: Vec<String> = timeouts.named().iter().map(|(step, ms)| format!("{step} {ms} ms")).collect();
    format!("  {:<12} {}\n", kind.as_str(), steps.join(", "))
}

fn text(settings: &StationSettings) -> String {
    let name = match &settings.station_name {
        Some(name) => name.clone(),
        None => format!("{} (the host name)", settings.station_name()),
    };
    let serial = &settings.serial;
    format!(
        "Station name: {name}\nConsole baud: {}\nLoader baud:  {}\nStep timeouts:\n{}{}",
        serial.console_baud,
        serial.loader_baud,
        timeouts_line(FirmwareKind::Rainbowtype, &serial.rainbowtype),
        timeouts_line(FirmwareKind::EspHelper, &serial.esp_helper)
    )
}

impl Run for SettingsCommand {
    fn run(self, ctx: &Context) -> CliResult {
        let station = ctx.station()?;
        let settings = match self {
            SettingsCommand::Show => station.settings()?,
            SettingsCommand::Set { station_name, console_baud, loader_baud, timeout } => {
                let mut settings = station.settings()?;
                if let Some(name) = station_name {
                    settings.station_name = Some(name);
                }
                if let Some(baud) = console_baud {
                    settings.serial.console_baud = baud;
                }
                if let Some(baud) = loader_baud {
                    settings.serial.loader_baud = baud;
                }
                for arg in &timeout {
                    timeout_arg(&mut settings, arg)?;
                }
                station.save_settings(&settings)?
            }
            SettingsCommand::Reset => station.save_settings(&StationSettings::default())?,
        };
        emit(ctx.json, &settings, || text(&settings));
        Ok(())
    }
}
