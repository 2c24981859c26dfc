//! The datasheet timing model charges the expected simulated time for a scripted exchange.

use keyline_sim::clock::uart_time;
use keyline_sim::board::FLASH_BOOT_TIME;
use keyline_sim::{Board, BoardConfig, FirmwareKind, Timing};
use std::time::Duration;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn rainbowtype_boot_and_configure_cost_line_time_plus_chip_maxima() {
    let mut board =
        Board::new(BoardConfig { firmware: FirmwareKind::Rainbowtype, timing: Timing::Datasheet, derive_templates: true, ..BoardConfig::default() })
            .unwrap();
    let clock = board.hardware().clock.clone();
    let boot = board.power_on();
    // Boot: about a second to the app, serial read (5 ms) + config zone read (4 × 5 ms) + the boot text on the line.
    let expected_boot = FLASH_BOOT_TIME + ms(25) + uart_time(boot.len(), 115_200);
    assert!(clock.now().abs_diff(expected_boot) < Duration::from_micros(10), "{:?} vs {expected_boot:?}", clock.now());

    let before = clock.now();
    let reply = board.receive(b"r").output;
    assert_eq!(reply, b"Ready.\r\n");
    // Info 5 + 27 config words × Write 45 + 2 × UpdateExtra 10 + 2 × Lock 35 + GenKey 115 ms.
    let chip = ms(5 + 27 * 45 + 2 * 10 + 2 * 35 + 115);
    let expected = chip + uart_time(1 + reply.len(), 115_200);
    let charged = clock.now() - before;
    let tolerance = Duration::from_micros(10);
    assert!(charged.abs_diff(expected) < tolerance, "charged {charged:?}, expected {expected:?}");

    let before = clock.now();
    let serial = board.receive(b"s").output;
    assert_eq!(clock.now() - before, uart_time(1 + serial.len(), 115_200), "no chip access for s");
}

#[test]
fn instant_timing_charges_nothing_but_the_boot_wait() {
    let mut board = Board::new(BoardConfig { derive_templates: true, ..BoardConfig::default() }).unwrap();
    board.power_on();
    board.receive(b"r");
    assert_eq!(board.hardware().clock.now(), FLASH_BOOT_TIME, "only the idle time of the boot passed");
}
