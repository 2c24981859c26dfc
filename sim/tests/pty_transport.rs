//! Boards on real pseudo-terminals, opened by a host through the `serialport` crate.

mod common;

use keyline_sim::transport::PtyBoard;
use keyline_sim::{Board, BoardConfig, FaultSpec, FirmwareKind, Timing};
use common::pty::{open, read_for, wait_for_boot};
use std::io::Write;
use std::time::{Duration, Instant};

fn spawn(faults: FaultSpec) -> PtyBoard {
    let board = Board::new(BoardConfig {
        index: 0,
        firmware: FirmwareKind::Rainbowtype,
        timing: Timing::Instant,
        realtime: false,
        faults,
        state_dir: None,
        derive_templates: true,
        ..BoardConfig::default()
    })
    .unwrap();
    PtyBoard::spawn(board).unwrap()
}

#[test]
fn a_host_reads_the_boot_dump_and_the_serial_over_the_pty() {
    let pty = spawn(FaultSpec::default());
    assert!(pty.path().starts_with("/dev/pts"));
    let mut port = open(pty.path());
    let boot = common::normalise(&read_for(&mut port, 1500, Duration::from_secs(2)));
    assert!(boot.contains("MAIN: Config Zone data:"), "{boot}");
    port.write_all(b"s").unwrap();
    let serial = read_for(&mut port, 18, Duration::from_secs(2));
    let expected: String = pty.board().lock().unwrap().hardware().chip.serial().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(serial, expected.as_bytes());
}

#[test]
fn a_vanishing_board_closes_its_port() {
    let pty = spawn("vanish-after=3".parse().unwrap());
    let mut port = open(pty.path());
    wait_for_boot(&mut port);
    port.write_all(b"s").unwrap();
    assert_eq!(read_for(&mut port, 18, Duration::from_secs(2)).len(), 18);
    port.write_all(b"ss").unwrap();
    let start = Instant::now();
    while !pty.is_gone() && start.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(pty.is_gone(), "the board thread ended");
}

#[test]
fn faults_are_reproducible_under_a_seed() {
    let spec: FaultSpec = "corrupt=0.05,drop=0.02,seed=7".parse().unwrap();
    let run = || {
        let mut board = Board::new(BoardConfig {
            index: 3,
            firmware: FirmwareKind::Rainbowtype,
            timing: Timing::Instant,
            realtime: false,
            faults: spec,
            state_dir: None,
        derive_templates: true,
        ..BoardConfig::default()
        })
        .unwrap();
        let serial: Vec<u8> = board.hardware().chip.serial().to_vec();
        let mut boot = board.power_on();
        // Serials differ per board; compare the fault pattern on the fixed part of the boot text.
        boot.truncate(200);
        (boot, serial)
    };
    let (a, _) = run();
    let (b, _) = run();
    assert_eq!(a, b, "same seed, same traffic, same faults");
    let clean = keyline_sim::firmware::console::flash_boot_banner(300);
    assert_ne!(&a[..], &clean[..200], "faults were injected");
}

#[test]
fn a_reset_mid_command_reboots_the_board() {
    let mut board = Board::new(BoardConfig {
        index: 0,
        firmware: FirmwareKind::Rainbowtype,
        timing: Timing::Instant,
        realtime: false,
        faults: "reset-after=2".parse().unwrap(),
        state_dir: None,
        derive_templates: true,
        ..BoardConfig::default()
    })
    .unwrap();
    board.power_on();
    assert_eq!(board.receive(b"s").output.len(), 18);
    let mut out = board.receive(b"s").output;
    assert!(board.booting(), "the reset restarts the boot");
    assert!(board.receive(b"s").output.is_empty(), "input during the boot is lost");
    out.extend(board.advance(Duration::from_secs(1)));
    let out = common::normalise(&out);
    assert!(out.len() > 18 && out.contains("rst:0x1 (POWERON_RESET)") && out.contains("Config Zone data:"), "{out}");
    assert_eq!(board.receive(b"s").output.len(), 18, "the reset happens once");
}

#[test]
fn fault_specs_are_parsed_strictly() {
    let spec: FaultSpec = "corrupt=0.01,drop=0.001,reset-after=500,vanish-after=2000,seed=7".parse().unwrap();
    assert_eq!(spec.reset_after, Some(500));
    assert_eq!(spec.vanish_after, Some(2000));
    assert_eq!(spec.seed, 7);
    assert!("corrupt=2".parse::<FaultSpec>().is_err());
    assert!("explode=1".parse::<FaultSpec>().is_err());
    assert!("none".parse::<FaultSpec>().unwrap().is_none());
    let random: FaultSpec = "reset=0.001,vanish=0.0005".parse().unwrap();
    assert_eq!((random.reset, random.vanish), (0.001, 0.0005));
    assert!(!random.is_none());
    assert!("vanish=1.5".parse::<FaultSpec>().is_err());
}

#[test]
fn random_resets_and_disappearances_are_counted_per_board() {
    use keyline_sim::faults::FaultInjector;
    let spec: FaultSpec = "reset=0.01,vanish=0.0005,corrupt=0.01,drop=0.01,seed=3".parse().unwrap();
    let mut hit = (0, 0);
    for index in 0..20 {
        let mut line = FaultInjector::new(spec, index);
        let mut resets = 0;
        for _ in 0..200 {
            let inbound = line.inbound(&[0x55; 10]);
            resets += u64::from(inbound.reset);
            if inbound.vanish {
                break;
            }
        }
        let tally = line.tally();
        assert_eq!(tally.resets, resets);
        assert!(tally.corrupted > 0 && tally.dropped > 0);
        hit.0 += usize::from(tally.resets > 0);
        hit.1 += usize::from(tally.vanished);
    }
    assert!(hit.0 > 0 && hit.1 > 0 && hit.1 < 20, "resets and disappearances vary by board: {hit:?}");
}

#[test]
fn a_host_at_the_wrong_baud_rate_gets_nothing_from_an_app() {
    let pty = spawn(FaultSpec::default());
    while pty.board().lock().unwrap().booting() {
        std::thread::sleep(Duration::from_millis(20));
    }
    {
        let mut slow = serialport::new(pty.path().to_string_lossy(), 9_600)
            .timeout(Duration::from_millis(100))
            .open_native()
            .unwrap();
        read_for(&mut slow, 1500, Duration::from_millis(500));
        slow.write_all(b"s").unwrap();
        assert!(read_for(&mut slow, 18, Duration::from_millis(500)).is_empty(), "a 115200-baud UART does not understand 9600");
    }
    let mut port = open(pty.path());
    port.write_all(b"s").unwrap();
    assert_eq!(read_for(&mut port, 18, Duration::from_secs(2)).len(), 18);
}

#[test]
fn a_command_sent_while_r_still_runs_is_lost_on_the_board_clock() {
    let board = Board::new(BoardConfig { firmware: FirmwareKind::Rainbowtype, timing: Timing::Datasheet, derive_templates: true, ..BoardConfig::default() })
        .unwrap();
    let pty = PtyBoard::spawn(board).unwrap();
    let mut port = open(pty.path());
    wait_for_boot(&mut port);
    port.write_all(b"r").unwrap();
    std::thread::sleep(Duration::from_millis(50));
    // `r` writes and locks the configuration and runs GenKey (about 1.4 s of datasheet maxima).
    port.write_all(b"s").unwrap();
    let started = Instant::now();
    let mut got = Vec::new();
    while !common::normalise(&got).contains("Ready.") && started.elapsed() < Duration::from_secs(5) {
        got.extend(read_for(&mut port, 1, Duration::from_millis(50)));
    }
    assert!(started.elapsed() >= Duration::from_millis(1000), "Ready. only after the handler's chip time");
    got.extend(read_for(&mut port, 18, Duration::from_millis(300)));
    assert_eq!(common::normalise(&got), "Ready.\n", "the `s` sent during `r` got no serial");
}

#[test]
fn an_always_waiting_helper_repeats_its_prompt_for_a_late_host() {
    let board = Board::new(BoardConfig { firmware: FirmwareKind::EspHelper, ..BoardConfig::default() }).unwrap();
    let pty = PtyBoard::spawn(board).unwrap();
    while pty.board().lock().unwrap().booting() {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    let mut port = open(pty.path());
    let prompt = read_for(&mut port, 29, Duration::from_secs(2));
    assert!(prompt.ends_with(b"Initializing Command line: >>"), "{}", String::from_utf8_lossy(&prompt));
    port.write_all(b"version").unwrap();
    assert_eq!(read_for(&mut port, 11, Duration::from_secs(2)), b"v1.2.0\n\n>>\n");
}

/// inotify merges an open into an identical one not read yet: a host's open followed at once by another program's
/// (`stty -F`, a port scanner) arrives as one event, and the other program's close must not leave the board thinking
/// that nobody has the port open (its output would be lost as on an unplugged bridge).
#[test]
fn another_program_opening_and_closing_the_port_does_not_take_it_from_the_host() {
    let pty = spawn(FaultSpec::default());
    let expected: String = pty.board().lock().unwrap().hardware().chip.serial().iter().map(|b| format!("{b:02x}")).collect();
    {
        let mut port = open(pty.path());
        wait_for_boot(&mut port);
    }
    for round in 0..20 {
        let mut port = open(pty.path());
        drop(std::fs::OpenOptions::new().read(true).write(true).open(pty.path()).unwrap());
        std::thread::sleep(Duration::from_millis(30));
        port.write_all(b"s").unwrap();
        let serial = read_for(&mut port, 18, Duration::from_secs(2));
        assert_eq!(String::from_utf8_lossy(&serial), expected, "round {round}: the host lost the board's reply");
    }
}
