//! The rainbowtype UART's RX idle timeout over a real pty: what a host writes closer together than
//! the previous bytes' wire time plus 10 symbols is one burst to the UART (and mostly lost to the
//! firmware's `uart_flush()`), whatever the machine's load; a host with real gaps passes under load.

mod common;

use keyline_sim::rx_reader::RxStats;
use keyline_sim::transport::PtyBoard;
use keyline_sim::{Board, BoardConfig, FirmwareKind, Timing};
use common::pty::{open, read_for, wait_for_boot_within};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

fn spawn() -> PtyBoard {
    let board = Board::new(BoardConfig {
        firmware: FirmwareKind::Rainbowtype,
        timing: Timing::Instant,
        derive_templates: true,
        ..BoardConfig::default()
    })
    .unwrap();
    PtyBoard::spawn(board).unwrap()
}

fn boot(port: &mut serialport::TTYPort) {
    let dump = wait_for_boot_within(port, Duration::from_secs(10));
    assert!(dump.contains("Config Zone data:"), "no boot dump: {dump:?}");
    // Let the dump finish draining.
    read_for(port, usize::MAX, Duration::from_millis(100));
}

/// A certificate-shaped PEM: header, eight 64-character lines, footer (574 bytes).
fn pem() -> String {
    let body: String = (0..8).map(|i| format!("{}\n", char::from(b'A' + i).to_string().repeat(64))).collect();
    format!("-----BEGIN CERTIFICATE-----\n{body}-----END CERTIFICATE-----\n")
}

/// How the host writes the PEM after `c`.
#[derive(Clone, Copy, Debug)]
enum Host {
    /// The whole PEM in one `write()`.
    OneWrite,
    /// One line per `write()`, `gap` between them (zero: back to back).
    Lines(Duration),
}

/// `c`, the PEM as `host` writes it, `p`: returns what the `p` echo showed (empty: the board
/// swallowed the `p` in accept mode) and what the board's reader measured.
fn upload_and_echo(host: Host) -> (String, RxStats) {
    let pty = spawn();
    let mut port = open(pty.path());
    boot(&mut port);
    let pem = pem();
    port.write_all(b"c").unwrap();
    std::thread::sleep(Duration::from_millis(60));
    match host {
        Host::OneWrite => port.write_all(pem.as_bytes()).unwrap(),
        Host::Lines(gap) => {
            for line in pem.split_inclusive('\n') {
                port.write_all(line.as_bytes()).unwrap();
                if !gap.is_zero() {
                    std::thread::sleep(gap);
                }
            }
        }
    }
    std::thread::sleep(Duration::from_millis(100));
    port.write_all(b"p").unwrap();
    let echo = common::normalise(&read_for(&mut port, pem.len(), Duration::from_millis(1500)));
    let stats = pty.rx_stats();
    eprintln!(
        "{host:?}: reader realtime {}; {} chunks while active, interval widths ≤0.1/0.5/1/2/5/10/50/>50 ms {:?} (max {} µs), {} after silence; \
         {} timed wake-ups, lateness {:?} (max {} µs)",
        stats.realtime, stats.chunks, stats.width_histogram, stats.max_width_us, stats.after_idle, stats.wakeups, stats.late_histogram, stats.max_late_us
    );
    (echo, stats)
}

/// A too-fast host fails as on a board. The judgement may be lenient only where the reader was
/// demonstrably starved (a chunk interval or a wake-up over 5 ms late): then the attempt is
/// repeated, up to three times.
fn fails_like_a_board(host: Host) {
    for attempt in 0..3 {
        let (echo, stats) = upload_and_echo(host);
        if echo.is_empty() {
            return;
        }
        let starved = stats.max_width_us.max(stats.max_late_us) > 5_000;
        assert!(starved, "attempt {attempt}: {host:?} passed although the reader's evidence was clear ({stats:?}): {echo:?}");
    }
    panic!("{host:?} passed three times (each with a starved reader)");
}

/// CPU-bound threads beside the test (a build running beside it), stopped on drop.
struct Load(Arc<AtomicBool>, Vec<std::thread::JoinHandle<()>>);

impl Load {
    fn start(threads: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let handles = (0..threads)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut x = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                    }
                })
            })
            .collect();
        Load(stop, handles)
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
        for handle in self.1.drain(..) {
            let _ = handle.join();
        }
    }
}

#[test]
fn a_pem_in_one_write_is_one_burst_and_the_board_stays_in_accept_mode() {
    // 574 bytes without an idle gap: 120-byte events, the first one kept, the rest flushed, the
    // footer never seen; `p` lands in the still-open accept mode behind stale events.
    fails_like_a_board(Host::OneWrite);
}

#[test]
fn pem_lines_written_back_to_back_are_one_burst_to_the_uart() {
    // Each line written as soon as the previous write() returned: on the wire they follow each
    // other without a gap (a line takes 5.6 ms at 115200), so the UART sees one burst.
    fails_like_a_board(Host::Lines(Duration::ZERO));
}

#[test]
fn pem_lines_closer_than_their_wire_time_are_one_burst_to_the_uart() {
    // 2 ms between writes is no gap on the wire: the next line is queued behind the previous one.
    fails_like_a_board(Host::Lines(Duration::from_millis(2)));
}

#[test]
fn a_host_with_real_gaps_passes_on_a_loaded_machine() {
    // The rainbowtype host rule (one line per write, >= 50 ms idle) must hold however late the
    // simulator's threads run: three CPU-bound threads on top of whatever else runs.
    let _load = Load::start(3);
    for round in 0..4 {
        let (echo, _) = upload_and_echo(Host::Lines(Duration::from_millis(50)));
        assert!(echo.starts_with(&pem()), "round {round}: a host with 50 ms gaps gets its echo: {echo:?}");
    }
}
