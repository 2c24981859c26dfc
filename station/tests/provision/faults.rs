//! A hundred faulty boards (issue #11): byte corruption, drops, resets and vanishing boards on both
//! firmwares; every board ends `verified` or failed with a clear error, and no chip holds a
//! certificate its ledger row does not match.

use std::collections::BTreeMap;
use std::path::Path;

use keyline_certs::atcacert::certdef_string::per_device_def;
use keyline_certs::atcacert::rebuild::rebuild;
use keyline_certs::atcacert::Profile;
use keyline_certs::device::{certificate_public_key, place_signer};
use keyline_sim::{FaultTally, FirmwareKind};

use super::shift::shift;
use super::support::{chip_image, pem_der, Env};

/// Boards per simulator (all provisioned at once by one `keyline station`); 4 groups make 100.
const GROUP: usize = 25;
/// Per byte: corruption and drops both ways, resets and disappearances on received bytes. A board
/// receives 1.5-3 KB, so about one board in six resets and one in ten vanishes.
const FAULTS: &str = "corrupt=0.0004,drop=0.0002,reset=0.00008,vanish=0.00004";

/// What happened to one group's boards.
#[derive(Default)]
struct Totals {
    boards: usize,
    outcomes: BTreeMap<String, usize>,
    faults: FaultTally,
    boards_hit: BTreeMap<&'static str, usize>,
}

impl Totals {
    fn add_faults(&mut self, tally: FaultTally) {
        self.faults.corrupted += tally.corrupted;
        self.faults.dropped += tally.dropped;
        self.faults.resets += tally.resets;
        for (kind, hit) in [("corrupt", tally.corrupted > 0), ("drop", tally.dropped > 0), ("reset", tally.resets > 0), ("vanish", tally.vanished)] {
            *self.boards_hit.entry(kind).or_default() += usize::from(hit);
        }
    }
}

#[test]
fn a_hundred_faulty_boards_end_verified_or_failed_clearly_and_chips_match_the_ledger() {
    let started = std::time::Instant::now();
    let env = Env::with_cas_alone();
    let mut totals = Totals::default();
    let groups = [(FirmwareKind::Rainbowtype, "rainbowtype", 11), (FirmwareKind::EspHelper, "esp-helper", 12), (FirmwareKind::Rainbowtype, "rainbowtype", 13), (FirmwareKind::EspHelper, "esp-helper", 14)];
    for (group, (kind, firmware, seed)) in groups.into_iter().enumerate() {
        // `<data>/sim` as `keyline sim` uses it: the station finds the boards' reset FIFOs there.
        let state_dir = env.data.join("sim");
        let mut config = env.sim_config(GROUP, kind);
        config.faults = format!("{FAULTS},seed={seed}").parse().unwrap();
        let sim = keyline_sim::run_boards(config).unwrap();
        let ports: Vec<String> = sim.ports().iter().map(|p| p.path.display().to_string()).collect();
        let events = shift(&env, &ports.join(","), firmware);
        let tallies: Vec<FaultTally> = (0..GROUP).map(|i| sim.board(i).unwrap().board().lock().unwrap().fault_tally()).collect();
        drop(sim);
        let before = totals.outcomes.clone();
        check_group(&env, &events, &ports, &mut totals);
        let group_outcomes: BTreeMap<&String, usize> = totals.outcomes.iter().map(|(k, v)| (k, v - before.get(k).copied().unwrap_or(0))).filter(|(_, n)| *n > 0).collect();
        eprintln!("  group {group} ({firmware}, seed {seed}): {group_outcomes:?}");
        tallies.into_iter().for_each(|t| totals.add_faults(t));
        check_chips_match_ledger(&env, &state_dir, firmware);
        std::fs::remove_dir_all(&state_dir).unwrap();
        totals.boards += GROUP;
    }

    eprintln!("{} faulty boards ({FAULTS}) in {:.0} s", totals.boards, started.elapsed().as_secs_f64());
    eprintln!("  outcomes: {:?}", totals.outcomes);
    eprintln!(
        "  faults injected: {} bytes corrupted, {} dropped, {} resets; boards hit: {:?}",
        totals.faults.corrupted, totals.faults.dropped, totals.faults.resets, totals.boards_hit
    );
    assert_eq!(totals.boards, 100);
    for kind in ["corrupt", "drop", "reset", "vanish"] {
        assert!(totals.boards_hit.get(kind).copied().unwrap_or(0) > 0, "fault kind {kind} was hit: {:?}", totals.boards_hit);
    }
    assert!(totals.outcomes.get("verified").copied().unwrap_or(0) > 0, "some boards pass despite the faults: {:?}", totals.outcomes);
    let audit = env.json(&["audit", "verify"]);
    assert!(audit["firstBroken"].is_null(), "{audit}");
}

/// Every board ends once: verified, or failed with a code, a message and a hint.
fn check_group(env: &Env, events: &[serde_json::Value], ports: &[String], totals: &mut Totals) {
    let finished: Vec<&serde_json::Value> = events.iter().filter(|e| e["event"] == "boardFinished").collect();
    let mut ended: Vec<&str> = finished.iter().map(|e| e["port"].as_str().unwrap()).collect();
    ended.sort();
    ended.dedup();
    assert_eq!(ended.len(), ports.len(), "every board ends: {finished:?}");
    for event in &finished {
        let outcome = if event["outcome"].is_null() {
            let error = &event["error"];
            let clear = ["code", "message", "hint"].iter().all(|f| error[f].as_str().is_some_and(|t| !t.trim().is_empty()));
            assert!(clear, "a failed board has a code, a message and a hint: {event}");
            format!("failed: {}", error["code"].as_str().unwrap())
        } else {
            assert_eq!(event["outcome"]["outcome"], "verified", "{event}");
            let serial = event["outcome"]["serial"].as_str().unwrap();
            let shown = env.json(&["devices", "show", serial]);
            let device = if shown["device"].is_object() { &shown["device"] } else { &shown };
            assert_eq!(device["status"], "verified", "the ledger agrees: {shown}");
            "verified".to_string()
        };
        *totals.outcomes.entry(outcome).or_default() += 1;
    }
}

/// No chip holds a device certificate its ledger row does not match: whatever slot 10 holds,
/// rebuilt with the firmware's definition and the chip's own key, is the ledger's certificate.
fn check_chips_match_ledger(env: &Env, state_dir: &Path, firmware: &str) {
    let signer_der = env.cert_der("signer");
    let signer_key = certificate_public_key(&signer_der).unwrap();
    let profile = if firmware == "rainbowtype" { Profile::Rainbowtype } else { Profile::EspCryptoauthlib };
    let defs = place_signer(profile, &signer_der, &certificate_public_key(&env.cert_der("root")).unwrap()).unwrap();
    for index in 0..GROUP {
        let image = chip_image(state_dir, index);
        if image.slots.get(&10).is_none_or(|slot| slot.iter().all(|&b| b == 0)) {
            continue;
        }
        let serial = hex::encode(image.serial().unwrap());
        let shown = env.json(&["devices", "show", &serial]);
        let device = if shown["device"].is_object() { &shown["device"] } else { &shown };
        let der = pem_der(device["certPem"].as_str().unwrap_or_else(|| panic!("chip {serial} holds a certificate and has a ledger row: {shown}")));
        let def = if profile == Profile::Rainbowtype { defs.device.clone() } else { per_device_def(&defs.device, &der).unwrap() };
        let rebuilt = rebuild(&def, &image, Some(&signer_key));
        assert_eq!(rebuilt.ok().as_deref(), Some(&der[..]), "{firmware} board {index} ({serial}): slot 10 holds the ledger's certificate");
    }
}
