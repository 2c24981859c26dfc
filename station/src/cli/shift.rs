//! `keyline station`: a shift of boards — hot-plugged ports provisioned in parallel, a live table, counters, clean Ctrl-C.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;
use keyline_station::provision::{run_shift, CancelToken, PortSource, ProvisionEvent, ShiftConfig, ShiftEvent, ShiftObserver, SystemClock};

use super::options_only::OptionsOnly;
use super::output::emit;
use super::provision::{parse_firmware, prepare_ca, FirmwareArgs, RunArgs};
use super::{CliResult, Context, Run};

/// Options of `keyline station`.
#[derive(Args)]
pub struct ShiftArgs {
    /// `auto` (ESP32 USB bridges and simulated boards as they appear) or a comma-separated list of ports.
    #[arg(long, default_value = "auto")]
    ports: String,
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    firmware: FirmwareArgs,
    /// End when every board seen has finished (instead of waiting for more until Ctrl-C).
    #[arg(long)]
    until_idle: bool,
    /// End the shift and drop the decrypted signer key after this many seconds with no board in flight (0: never).
    #[arg(long, value_name = "SECONDS", default_value_t = keyline_station::ca::DEFAULT_IDLE_LOCK.as_secs())]
    idle_lock: u64,
}

/// `keyline station`.
pub type ShiftCommand = OptionsOnly<ShiftArgs>;

/// Elsewhere Ctrl-C ends the process (the ledger and resumable runs keep it safe).
#[cfg(not(unix))]
fn watch_interrupts(_stop: CancelToken, _abort: CancelToken) {}

/// Blocks SIGINT/SIGTERM for this process's threads and turns them into tokens: the first asks
/// in-flight boards to finish at a safe step, the second aborts.
#[cfg(unix)]
fn watch_interrupts(stop: CancelToken, abort: CancelToken) {
    // SAFETY: plain libc signal-mask calls on a zeroed sigset_t owned by this frame / the thread.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        std::thread::spawn(move || loop {
            let mut signal = 0;
            if libc::sigwait(&set, &mut signal) != 0 {
                return;
            }
            if stop.is_cancelled() {
                abort.cancel();
                return;
            }
            eprintln!("Stopping: boards in flight finish at a safe step (Ctrl-C again to abort).");
            stop.cancel();
        });
    }
}

struct Row {
    serial: String,
    step: String,
    started: Instant,
    state: &'static str,
}

fn table_line(port: &str, row: &Row) -> String {
    format!("{port:<14} {:<18} {:<20} {:>6.1}s  {}", row.serial, row.step, row.started.elapsed().as_secs_f64(), row.state)
}

impl Run for ShiftCommand {
    fn run(self, ctx: &Context) -> CliResult {
        let args = self.0;
        let firmware = parse_firmware(&args.run.firmware)?;
        let station = ctx.station()?;
        let firmware_setup = args.firmware.prepare(firmware)?;
        let ca = prepare_ca(&station, &args.run.ca, firmware, args.run.profile.as_deref())?;
        let source = match args.ports.as_str() {
            "auto" => PortSource::Auto,
            list => PortSource::List(list.split(',').map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned).collect()),
        };
        let settings = station.settings()?;
        let config = ShiftConfig {
            source,
            firmware,
            reprovision: args.run.reprovision,
            station_name: settings.station_name(),
            poll: Duration::from_millis(200),
            until_idle: args.until_idle,
            serial_log: false,
            serial: settings.serial,
            firmware_setup,
        };
        station.set_idle_lock((args.idle_lock > 0).then(|| Duration::from_secs(args.idle_lock)));
        let (stop, abort) = (CancelToken::new(), CancelToken::new());
        watch_interrupts(stop.clone(), abort.clone());
        let json = ctx.json;
        let rows: Arc<Mutex<BTreeMap<String, Row>>> = Arc::default();
        if !json {
            println!("{:<14} {:<18} {:<20} {:>7}  STATE", "PORT", "SERIAL", "STEP", "ELAPSED");
        }
        let observer: ShiftObserver = Arc::new(move |event: &ShiftEvent| {
            if json {
                // Board events: the byte progress of the firmware steps; the rest is in boardFinished.
                if !matches!(event, ShiftEvent::Board { inner } if !matches!(inner, ProvisionEvent::StepProgress { .. })) {
                    println!("{}", serde_json::to_string(event).unwrap_or_default());
                }
                return;
            }
            let mut rows = rows.lock().expect("rows");
            let line = match event {
                ShiftEvent::PortAppeared { port } => {
                    rows.insert(port.clone(), Row { serial: "-".into(), step: "open port".into(), started: Instant::now(), state: "running" });
                    None
                }
                ShiftEvent::Board { inner: ProvisionEvent::StepDone { port, step, detail, .. } } => rows.get_mut(port).map(|row| {
                    if let Some(serial) = detail.get("serial").and_then(|s| s.as_str()) {
                        row.serial = serial.into();
                    }
                    row.step = step.label().into();
                    table_line(port, row)
                }),
                ShiftEvent::BoardFinished { port, outcome, error, counters } => rows.get_mut(port).map(|row| {
                    row.state = match (outcome, error) {
                        (Some(o), _) if o.outcome == keyline_station::provision::OutcomeKind::AlreadyProvisioned => "ALREADY",
                        (Some(_), _) => "PASS",
                        _ => "FAIL",
                    };
                    let mut line = table_line(port, row);
                    if let Some(error) = error {
                        line.push_str(&format!("  {} ({})", error.message, error.code));
                    }
                    line.push_str(&format!(
                        "\n  counters: {} passed, {} already provisioned, {} failed, {} in flight",
                        counters.passed, counters.already_provisioned, counters.failed, counters.in_flight
                    ));
                    line
                }),
                ShiftEvent::IdleLocked { idle_seconds } => Some(format!(
                    "No board for {idle_seconds} s: the shift ends and the signer CA's key is dropped (run keyline station again to unlock it)."
                )),
                _ => None,
            };
            if let Some(line) = line {
                println!("{line}");
            }
        });
        let counters = run_shift(&station, &ca, &config, observer, &stop, &abort, Arc::new(SystemClock));
        if ctx.json {
            println!("{}", serde_json::json!({ "event": "shiftEnded", "counters": counters }));
            return Ok(());
        }
        emit(false, &counters, || {
            format!(
                "Shift ended: {} passed, {} already provisioned, {} failed ({} boards).\n",
                counters.passed, counters.already_provisioned, counters.failed, counters.started
            )
        });
        Ok(())
    }
}
