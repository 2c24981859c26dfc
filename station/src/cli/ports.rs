//! `keyline ports`: the serial ports a board can be on, simulated boards first.

use clap::{ArgMatches, Args, Command, FromArgMatches};
use keyline_station::ports::{list_ports, PortInfo, PortKind};

use super::output::emit;
use super::{CliResult, Context, Run};

/// Options of `keyline ports` (none besides the global `--json` and `--data-dir`).
#[derive(Args)]
pub struct PortsArgs {}

/// `keyline ports` takes no subcommand; this wrapper lets it sit in the command-group list.
pub struct PortsCommand;

impl FromArgMatches for PortsCommand {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        PortsArgs::from_arg_matches(matches).map(|_| PortsCommand)
    }
    fn update_from_arg_matches(&mut self, _matches: &ArgMatches) -> Result<(), clap::Error> {
        Ok(())
    }
}

impl clap::Subcommand for PortsCommand {
    fn augment_subcommands(cmd: Command) -> Command {
        PortsArgs::augment_args(cmd).subcommand_required(false).arg_required_else_help(false)
    }
    fn augment_subcommands_for_update(cmd: Command) -> Command {
        PortsArgs::augment_args_for_update(cmd).subcommand_required(false).arg_required_else_help(false)
    }
    fn has_subcommand(_name: &str) -> bool {
        false
    }
}

fn line(port: &PortInfo) -> String {
    let mut details = Vec::new();
    if let Some(firmware) = &port.firmware {
        details.push(format!("firmware {firmware}"));
    }
    if let Some(id) = &port.usb_id {
        details.push(format!("USB {id}"));
    }
    if let Some(serial) = &port.serial_number {
        details.push(format!("serial {serial}"));
    }
    let marker = match port.kind {
        PortKind::Simulated => " [simulated]",
        _ if port.likely_esp32 => " [ESP32 bridge]",
        _ => "",
    };
    let details = if details.is_empty() { String::new() } else { format!(" ({})", details.join(", ")) };
    format!("{:<16} {}{}{}\n", port.path, port.label, details, marker)
}

impl Run for PortsCommand {
    fn run(self, ctx: &Context) -> CliResult {
        let list = list_ports(&ctx.data_dir)?;
        for warning in &list.warnings {
            eprintln!("warning: {warning}");
        }
        emit(ctx.json, &list, || {
            if list.ports.is_empty() {
                return "No serial ports found. Plug in a board, or start simulated boards with `keyline sim`.\n".into();
            }
            list.ports.iter().map(line).collect()
        });
        Ok(())
    }
}
