//! `keyline flash`: write firmware images at their offsets (validated first, verified after), or RAM-load the provisioning helper.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use keyline_station::flash::{flash_images, ram_load, FlashOutcome, FlashPhase, FlashProgress, FlashRequest, RamLoadOutcome, DEFAULT_FLASH_BAUD};
use keyline_station::provision::{CancelToken, SystemClock};

use super::options_only::OptionsOnly;
use super::output::emit;
use super::{CliResult, Context, Run};

/// Options of `keyline flash`.
#[derive(Args)]
pub struct FlashArgs {
    /// Serial port of the board (e.g. /dev/ttyUSB0, or a simulated board's /dev/pts/N).
    #[arg(long, value_name = "PATH")]
    port: String,
    /// Transfer rate; the ROM loader starts at 115200 and is switched with CHANGE_BAUDRATE.
    #[arg(long, value_name = "B", default_value_t = DEFAULT_FLASH_BAUD)]
    baud: u32,
    /// Load this esptool .bin into RAM and start it (the Espressif provisioning helper); nothing is written to flash.
    #[arg(long, value_name = "HELPER.bin", conflicts_with_all = ["images", "partition_table"])]
    ram: Option<PathBuf>,
    /// Partition table to check app sizes against when the images include none.
    #[arg(long, value_name = "FILE")]
    partition_table: Option<PathBuf>,
    /// Images with their flash offsets, e.g. bootloader.bin@0x1000 partition-table.bin@0x8000 app.bin@0x10000
    /// (no offset: a merged image written at 0).
    #[arg(value_name = "IMAGE[@OFFSET]", required_unless_present = "ram")]
    images: Vec<String>,
}

/// `keyline flash`.
pub type FlashCommand = OptionsOnly<FlashArgs>;

/// Prints a progress line on stderr at each phase change and every 10 %.
fn progress_printer(json: bool) -> impl FnMut(&FlashProgress) {
    let mut last: Option<(FlashPhase, String, u64)> = None;
    move |p: &FlashProgress| {
        if json {
            return;
        }
        let tenth = (p.done * 10).checked_div(p.total).unwrap_or(10);
        let key = (p.phase, p.name.clone(), tenth);
        if last.as_ref() != Some(&key) {
            let percent = (p.done * 100).checked_div(p.total).unwrap_or(100);
            eprintln!("  {:<10} {} @ {:#x}: {} / {} bytes ({percent} %)", format!("{:?}", p.phase).to_lowercase(), p.name, p.offset, p.done, p.total);
            let _ = std::io::stderr().flush();
            last = Some(key);
        }
    }
}

fn flash_text(outcome: &FlashOutcome) -> String {
    let mut text = format!("Flashed {} on {} ({}, MAC {}):\n", outcome.chip.chip, outcome.port, outcome.chip.chip, outcome.chip.mac.as_deref().unwrap_or("unknown"));
    for (image, md5) in outcome.images.iter().zip(outcome.md5.iter().chain(std::iter::repeat(&String::new()))) {
        let version = image.version.as_deref().map(|v| format!(", version {v}")).unwrap_or_default();
        text.push_str(&format!("  {:#08x}  {:<24} {:>8} bytes  {:?}{version}  {md5}\n", image.offset, image.name, image.len, image.kind));
    }
    text.push_str(&format!(
        "{} bytes written and verified in {} ms ({:.0} bytes/s at {} baud); the board is booting\n",
        outcome.bytes, outcome.elapsed_ms, outcome.bytes_per_second, outcome.chip.baud
    ));
    text
}

fn ram_text(outcome: &RamLoadOutcome) -> String {
    format!(
        "Loaded {} ({} segments, {} bytes) into the RAM of the {} on {} in {} ms; it started at {:#010x} and talks at {} baud\n",
        outcome.image.name,
        outcome.image.segments.len(),
        outcome.bytes,
        outcome.chip.chip,
        outcome.port,
        outcome.elapsed_ms,
        outcome.image.entry,
        outcome.program_baud
    )
}

impl Run for FlashCommand {
    fn run(self, ctx: &Context) -> CliResult {
        let args = self.0;
        let mut progress = progress_printer(ctx.json);
        let cancel = CancelToken::new();
        if let Some(helper) = &args.ram {
            let outcome = ram_load(&ctx.data_dir, &args.port, args.baud, helper, &mut progress, &cancel, Arc::new(SystemClock))?;
            emit(ctx.json, &outcome, || ram_text(&outcome));
            return Ok(());
        }
        let request = FlashRequest { port: args.port, baud: args.baud, images: args.images, partition_table: args.partition_table };
        let outcome = flash_images(&ctx.data_dir, &request, &mut progress, &cancel, Arc::new(SystemClock))?;
        emit(ctx.json, &outcome, || flash_text(&outcome));
        Ok(())
    }
}
