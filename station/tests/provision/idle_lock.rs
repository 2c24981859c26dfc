//! `keyline station --idle-lock`: a shift with no board in flight for the idle-lock time ends by itself (so the
//! signer key it decrypted is dropped), while a board in flight keeps it going.

use std::time::Instant;

use super::support::{Env, Sim};

fn events(output: &std::process::Output) -> Vec<serde_json::Value> {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "keyline station failed: {stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}"))).collect()
}

#[test]
fn a_shift_with_no_board_ends_after_the_idle_lock_time() {
    let env = Env::with_cas();
    let missing = env.path("no-such-port").display().to_string();
    let started = Instant::now();
    let output = env.run(&["station", "--ports", &missing, "--firmware", "esp-helper", "--ca", "signer", "--idle-lock", "2", "--json"]);
    let elapsed = started.elapsed().as_secs_f64();
    let events = events(&output);
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    assert_eq!(kinds, ["idleLocked", "shiftEnded"], "{events:?}");
    assert_eq!(events[0]["idleSeconds"], 2);
    assert_eq!(events[1]["counters"]["started"], 0);
    assert!(elapsed >= 2.0, "the shift waited the idle-lock time ({elapsed:.1} s)");
}

#[test]
fn a_board_in_flight_keeps_the_shift_until_it_is_done_then_idle_ends_it() {
    let env = Env::with_cas();
    let sim = Sim::start(&env, "esp-helper", 1, &[]);
    // The board takes longer than the idle-lock time; the shift must not end while it is in flight.
    let output = env.run(&["station", "--ports", &sim.ports[0], "--firmware", "esp-helper", "--ca", "signer", "--idle-lock", "1", "--json"]);
    let events = events(&output);
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    assert_eq!(kinds, ["portAppeared", "boardFinished", "idleLocked", "shiftEnded"], "{events:?}");
    assert_eq!(events[1]["outcome"]["outcome"], "verified", "{:?}", events[1]);
    assert_eq!(events[3]["counters"]["passed"], 1);
}
