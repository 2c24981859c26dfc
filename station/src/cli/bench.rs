//! `keyline bench`: issuance throughput and the provisioning station against the physical limit of simulated boards.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Subcommand;
use keyline_station::provision::{bench_issue, run_shift, CancelToken, FirmwareKind, PortSource, ShiftConfig, SystemClock};
use keyline_station::device_template::parse_profile;
use keyline_station::{Error, ErrorCode, ErrorReport, Station};
use serde::Serialize;

use super::output::emit;
use super::provision::parse_firmware;
use super::{CliError, CliResult, Context, Run};

/// Benchmarks (performance claims come from here, not from timed tests).
#[derive(Subcommand)]
pub enum BenchCommand {
    /// Certificates issued per second on one core, each with its ledger commit and audit entry.
    Issue {
        /// How many certificates.
        #[arg(long, default_value_t = 20000)]
        count: u64,
    },
    /// Provision simulated boards (datasheet timing, real time) and compare with the physical limit.
    #[cfg(feature = "sim")]
    Station {
        /// Boards provisioned at once.
        #[arg(long, default_value_t = 4)]
        boards: usize,
        /// rainbowtype or esp-helper.
        #[arg(long)]
        firmware: String,
    },
    /// Write an image to a simulated ROM loader with Keyline and with the pinned esptool --no-stub; bytes/s and ratio to the line rate.
    #[cfg(feature = "sim")]
    Flash {
        /// Image size (`1MiB`, `256KiB`, bytes).
        #[arg(long, default_value = "1MiB", value_parser = super::bench_flash::parse_size)]
        size: u64,
        /// Line rate of the transfer (both tools connect at 115200, then send CHANGE_BAUDRATE).
        #[arg(long, default_value_t = 460_800)]
        baud: u32,
    },
}

fn scratch() -> Result<tempfile::TempDir, CliError> {
    tempfile::tempdir().map_err(|e| Error::Io { action: "cannot create", path: std::env::temp_dir(), source: e }.into())
}

impl Run for BenchCommand {
    fn run(self, ctx: &Context) -> CliResult {
        match self {
            BenchCommand::Issue { count } => {
                let dir = scratch()?;
                let report = bench_issue(dir.path().join("data"), count, parse_profile(FirmwareKind::Rainbowtype.profile_name())?)?;
                emit(ctx.json, &report, || {
                    format!(
                        "bench issue: {} certificates, each signed, its signature checked against the signer certificate's key, proven to rebuild, committed with its ledger row and audit entry ({} audit entries)\n  \
                         one core: {:.0} per CPU second, the median of {} batches (slowest {:.0}, fastest {:.0}); goal {:.0}/s: {}\n  \
                         whole run: {:.2} CPU s = {:.0} per CPU second\n  \
                         durable:  {:.2} wall s = {:.0} per second, one fsync each; this disk's fsync takes {:.2} ms, a limit of {:.0}/s; {:.2}x the limit\n",
                        report.count,
                        report.audit_entries,
                        report.median_per_cpu_second,
                        report.batches,
                        report.min_per_cpu_second,
                        report.max_per_cpu_second,
                        report.goal_per_second,
                        if report.median_per_cpu_second >= report.goal_per_second { "met" } else { "NOT met" },
                        report.cpu_seconds,
                        report.per_cpu_second,
                        report.seconds,
                        report.per_second,
                        report.fsync_seconds * 1e3,
                        report.durable_limit_per_second,
                        report.durable_limit_per_second / report.per_second,
                    )
                });
                Ok(())
            }
            #[cfg(feature = "sim")]
            BenchCommand::Station { boards, firmware } => {
                let firmware = parse_firmware(&firmware)?;
                let one = station_round(firmware, 1)?;
                let many = station_round(firmware, boards)?;
                let report = StationBench { firmware: firmware.as_str().into(), one_port: one, n_ports: many, includes: LIMIT_INCLUDES.into() };
                emit(ctx.json, &report, || report.text());
                Ok(())
            }
            #[cfg(feature = "sim")]
            BenchCommand::Flash { size, baud } => {
                let dir = scratch()?;
                let report = super::bench_flash::bench_flash(size, baud, dir.path())?;
                emit(ctx.json, &report, || report.text());
                Ok(())
            }
        }
    }
}

/// What the physical limit is made of.
const LIMIT_INCLUDES: &str = "bytes on the wire in both directions at 115200 8N1 (10 bits per byte), the ATECC608A datasheet maximum of every chip command, \
the firmware's own handler time during which it reads nothing, and for rainbowtype the board's boot after the engine's reset (1 s) \
and the UART receive timeout (10 symbol times) the firmware's event model needs after each host write; idle time is not counted";

/// ESP-IDF's default RX timeout: 10 symbol times of 10 bits at 115200.
const RX_IDLE: Duration = Duration::from_nanos(10 * 10 * 1_000_000_000 / 115_200);

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Round {
    boards: usize,
    passed: u64,
    wall_seconds: f64,
    seconds_per_board: f64,
    boards_per_hour: f64,
    limit_seconds_per_board: f64,
    ratio: f64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct StationBench {
    firmware: String,
    one_port: Round,
    n_ports: Round,
    includes: String,
}

impl StationBench {
    fn text(&self) -> String {
        let line = |label: &str, r: &Round| {
            format!(
                "  {label:<9} {} boards, {} passed: {:.2} s wall, {:.2} s per board, {:.0} boards/hour; physical limit {:.2} s per board; ratio {:.2}x\n",
                r.boards, r.passed, r.wall_seconds, r.seconds_per_board, r.boards_per_hour, r.limit_seconds_per_board, r.ratio
            )
        };
        let mut text = format!("bench station ({}, datasheet timing, real time):\n", self.firmware);
        text.push_str(&line("1 port", &self.one_port));
        text.push_str(&line(&format!("{} ports", self.n_ports.boards), &self.n_ports));
        text.push_str(&format!("  limit includes {}.\n", self.includes));
        let goal = self.one_port.ratio <= 1.25 && self.n_ports.ratio <= 1.25;
        let parallel = self.n_ports.wall_seconds <= self.one_port.wall_seconds * 1.05;
        text.push_str(&format!(
            "  goal ratio <= 1.25x: {}; {} ports at once not slower per board than 1: {}\n",
            if goal { "met" } else { "NOT met" },
            self.n_ports.boards,
            if parallel { "met" } else { "NOT met" }
        ));
        text
    }
}

/// Provisions `boards` fresh simulated boards at once; the limit is the largest board's simulated-clock charge plus forced idle gaps.
#[cfg(feature = "sim")]
fn station_round(firmware: FirmwareKind, boards: usize) -> Result<Round, CliError> {
    use keyline_sim::{run_boards, FirmwareKind as SimFirmware, SimConfig, Timing};
    let dir = scratch()?;
    let data = dir.path().join("data");
    let station = Station::open(data.clone())?;
    let passphrase = keyline_station::Passphrase::new("keyline bench station".into());
    station.create_ca(keyline_station::ca::CreateCa { name: "bench-root".into(), org: "Keyline Bench".into(), signer: Some("bench-signer".into()), years: 20 }, &passphrase)?;
    station.unlock_ca("bench-signer", &passphrase, false)?;
    let profile = parse_profile(firmware.profile_name())?;
    let ca = station.provisioning_ca("bench-signer", profile)?;
    let sim_firmware = match firmware {
        FirmwareKind::Rainbowtype => SimFirmware::Rainbowtype,
        FirmwareKind::EspHelper => SimFirmware::EspHelper,
    };
    let mut config = SimConfig::new(boards, sim_firmware, data.join("sim"));
    // The boards run one firmware build, compiled with this CA's cert_chain.c templates.
    let defs = station.profile_defs("bench-signer", profile)?;
    config.cert_chain = Some(Arc::new(keyline_sim::firmware::CertChain { signer: defs.signer.template.clone(), device: defs.device.template.clone() }));
    config.timing = Timing::Datasheet;
    config.realtime = true;
    let sim = run_boards(config).map_err(|e| ErrorReport { code: ErrorCode::SimFailed, message: e.to_string(), hint: "check /dev/ptmx".into() })?;
    let ports: Vec<String> = sim.ports().iter().map(|p| p.path.display().to_string()).collect();
    // A board on the line has booted before its port appears: let the simulated power-on boot finish first.
    let booted_by = Instant::now() + Duration::from_secs(5);
    while Instant::now() < booted_by && (0..boards).any(|i| sim.board(i).is_some_and(|b| b.board().lock().unwrap_or_else(|p| p.into_inner()).booting())) {
        std::thread::sleep(Duration::from_millis(10));
    }
    // Charges made before the host starts (power-on output) are not the host's.
    let before: Vec<Duration> = (0..boards).map(|i| sim.board(i).map(|b| b.board().lock().unwrap_or_else(|p| p.into_inner()).hardware().clock.charged()).unwrap_or_default()).collect();
    let shift = ShiftConfig {
        source: PortSource::List(ports),
        firmware,
        reprovision: false,
        station_name: "bench".into(),
        poll: Duration::from_millis(5),
        until_idle: true,
        serial_log: false,
        serial: keyline_station::settings::SerialSettings::default(),
        firmware_setup: None,
    };
    let writes = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = writes.clone();
    let observer: keyline_station::provision::ShiftObserver = Arc::new(move |_event| {
        let _ = &counter;
    });
    let start = Instant::now();
    let counters = run_shift(&station, &ca, &shift, observer, &CancelToken::new(), &CancelToken::new(), Arc::new(SystemClock));
    let wall = start.elapsed().as_secs_f64();
    let mut limit = Duration::ZERO;
    for (i, before) in before.iter().enumerate() {
        let board = sim.board(i).expect("board");
        let charged = board.board().lock().unwrap_or_else(|p| p.into_inner()).hardware().clock.charged().saturating_sub(*before);
        // A rainbowtype board is reset once (its boot dump is the handshake) and boots for FLASH_BOOT_TIME.
        let gaps = match firmware {
            FirmwareKind::Rainbowtype => RX_IDLE * rainbowtype_host_writes() + keyline_sim::board::FLASH_BOOT_TIME,
            FirmwareKind::EspHelper => Duration::ZERO,
        };
        limit = limit.max(charged + gaps);
    }
    let _ = writes;
    let per_board = wall;
    Ok(Round {
        boards,
        passed: counters.passed,
        wall_seconds: wall,
        seconds_per_board: per_board,
        boards_per_hour: boards as f64 * 3600.0 / wall,
        limit_seconds_per_board: limit.as_secs_f64(),
        ratio: wall / limit.as_secs_f64().max(1e-9),
    })
}

/// Host writes of one rainbowtype run: r, s, k, 3 × (mode byte + PEM lines + final empty line), p, o, q (about 36).
#[cfg(feature = "sim")]
fn rainbowtype_host_writes() -> u32 {
    36
}
