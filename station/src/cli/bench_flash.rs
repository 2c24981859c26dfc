//! `keyline bench flash`: Keyline's flasher and the pinned `esptool --no-stub` write the same image to the same simulated ROM loader; bytes/s and the ratio to the line rate.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use keyline_sim::{run_boards, FirmwareKind as SimFirmware, SimConfig, Timing};
use keyline_station::flash::{flash_images, FlashRequest};
use keyline_station::provision::{CancelToken, SystemClock};
use keyline_station::{Error, ErrorCode, ErrorReport};
use serde::Serialize;

use super::CliError;

/// The esptool release the simulator is checked against.
const ESPTOOL_PIN: &str = "esptool==4.8.1";
/// Where the benchmark image goes (a data region: no partition table needed).
const OFFSET: u32 = 0x10_0000;

/// One tool's run.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FlashRun {
    tool: String,
    seconds: f64,
    bytes_per_second: f64,
    ratio_to_line_rate: f64,
}

/// The benchmark's result.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FlashBench {
    bytes: u64,
    baud: u32,
    line_rate_bytes_per_second: f64,
    keyline: FlashRun,
    esptool: FlashRun,
    includes: String,
}

impl FlashBench {
    /// The text report.
    pub fn text(&self) -> String {
        let line = |r: &FlashRun| format!("  {:<30} {:>7.2} s  {:>8.0} bytes/s  {:.2} of the line rate\n", r.tool, r.seconds, r.bytes_per_second, r.ratio_to_line_rate);
        let mut text = format!(
            "bench flash: {} bytes at {:#x}, {} baud (line rate {:.0} bytes/s at 8N1), simulated ESP32 ROM loader with datasheet timing in real time:\n",
            self.bytes, OFFSET, self.baud, self.line_rate_bytes_per_second
        );
        text.push_str(&line(&self.keyline));
        text.push_str(&line(&self.esptool));
        let ratio = self.keyline.bytes_per_second / self.esptool.bytes_per_second.max(1e-9);
        text.push_str(&format!("  keyline / esptool: {ratio:.2}x; goal >= 1.00x (at least esptool's throughput): {}\n", if ratio >= 1.0 { "met" } else { "NOT met" }));
        text.push_str(&format!("  each run includes {}.\n", self.includes));
        text
    }
}

/// Parses `1MiB`, `512KiB`, `64k`, `1M` or a plain byte count.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let lower = text.trim().to_ascii_lowercase();
    let (digits, unit) = match lower.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => lower.split_at(at),
        None => (lower.as_str(), ""),
    };
    let unit = match unit {
        "" | "b" => 1,
        "k" | "kib" | "kb" => 1024,
        "m" | "mib" | "mb" => 1024 * 1024,
        other => return Err(format!("unknown unit \"{other}\" (use KiB or MiB)")),
    };
    let size = digits.parse::<u64>().map_err(|_| format!("\"{text}\" is not a size"))? * unit;
    if size == 0 || size > 3 * 1024 * 1024 - u64::from(OFFSET) + 1024 * 1024 {
        return Err(format!("{size} bytes: choose 1 byte to 3 MiB (the simulated flash is 4 MiB, the image goes at {OFFSET:#x})"));
    }
    Ok(size)
}

fn sim_error(message: String) -> CliError {
    ErrorReport { code: ErrorCode::SimFailed, message, hint: "Check that /dev/ptmx is usable and the data directory is writable.".into() }.into()
}

fn esptool() -> Result<PathBuf, CliError> {
    let venv = std::env::var_os("KEYLINE_VENV").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(".venv"));
    let path = std::env::var_os("KEYLINE_ESPTOOL").map(PathBuf::from).unwrap_or_else(|| venv.join("bin/esptool.py"));
    if !path.exists() {
        let reason = format!("esptool not found at {}: install it with `python3 -m venv .venv && .venv/bin/pip install {ESPTOOL_PIN}` (or set KEYLINE_VENV / KEYLINE_ESPTOOL)", path.display());
        return Err(Error::InvalidInput { what: "esptool".into(), reason }.into());
    }
    Ok(path)
}

fn run_of(tool: &str, bytes: u64, seconds: f64, line_rate: f64) -> FlashRun {
    let bytes_per_second = bytes as f64 / seconds.max(1e-9);
    FlashRun { tool: tool.into(), seconds, bytes_per_second, ratio_to_line_rate: bytes_per_second / line_rate }
}

/// Runs both tools against one simulated board.
pub fn bench_flash(size: u64, baud: u32, scratch: &Path) -> Result<FlashBench, CliError> {
    let esptool = esptool()?;
    let data = scratch.join("data");
    let mut config = SimConfig::new(1, SimFirmware::Rom, data.join("sim"));
    config.timing = Timing::Datasheet;
    config.realtime = true;
    config.derive_templates = true;
    let sim = run_boards(config).map_err(|e| sim_error(e.to_string()))?;
    let port = sim.ports()[0].path.display().to_string();
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let image: Vec<u8> = (0..size)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8 & 0x7F // no SLIP escapes: both tools send the same bytes
        })
        .collect();
    let file = scratch.join("bench.bin");
    std::fs::write(&file, &image).map_err(|e| Error::Io { action: "cannot write", path: file.clone(), source: e })?;
    let line_rate = f64::from(baud) / 10.0;

    let request = FlashRequest { port: port.clone(), baud, images: vec![format!("{}@{OFFSET:#x}", file.display())], partition_table: None };
    let start = Instant::now();
    flash_images(&data, &request, &mut |_| {}, &CancelToken::new(), Arc::new(SystemClock))?;
    let keyline = run_of("keyline (espflash, no stub)", size, start.elapsed().as_secs_f64(), line_rate);

    // Same board, erased region, back in download mode (esptool runs with --before no_reset) once
    // the simulator has handled the flash-boot reset Keyline requested through the FIFO.
    let board = sim.board(0).expect("board").board().clone();
    let waited = Instant::now();
    while board.lock().unwrap_or_else(|p| p.into_inner()).running() == Some(SimFirmware::Rom) && waited.elapsed().as_secs() < 5 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    board.lock().unwrap_or_else(|p| p.into_inner()).hardware_mut().flash.erase(OFFSET as usize, size as usize);
    sim.reset(0, true);
    let start = Instant::now();
    let out = Command::new(&esptool)
        .args(["--chip", "esp32", "--no-stub", "--port", &port, "--baud", &baud.to_string(), "--before", "no_reset", "--after", "no_reset"])
        .args(["write_flash", "--no-compress", &format!("{OFFSET:#x}")])
        .arg(&file)
        .output()
        .map_err(|e| sim_error(format!("cannot run {}: {e}", esptool.display())))?;
    let seconds = start.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(sim_error(format!("esptool failed: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))));
    }
    let written = board.lock().unwrap_or_else(|p| p.into_inner()).hardware().flash.read(OFFSET as usize, image.len()).map(<[u8]>::to_vec);
    if written.as_deref() != Some(&image[..]) {
        return Err(sim_error("after esptool the simulated flash does not hold the image".into()));
    }
    let esptool = run_of(&format!("{ESPTOOL_PIN} --no-stub"), size, seconds, line_rate);
    let includes = "connecting (SYNC), chip detection, CHANGE_BAUDRATE, the erase in FLASH_BEGIN (45 ms per 4 KiB sector), every block, and the MD5 verify (esptool also its process start)".into();
    Ok(FlashBench { bytes: size, baud, line_rate_bytes_per_second: line_rate, keyline, esptool, includes })
}
