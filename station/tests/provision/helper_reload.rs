//! An Espressif helper that a stopped run left inside a payload, or that crashed: the rerun's probe finishes a
//! helper waiting inside `provide-cert-def` without a reset; a crashed helper fails with `helper_not_answering`
//! and the hint to RAM-load it again, which a `--ram-load` run does by itself; a RAM-loaded helper whose
//! handshake the host missed is reset and loaded again within the run, and the ledger files that under the chip.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use keyline_board::parse::normalise;
use keyline_board::{SerialLink, DEFAULT_BAUD};
use keyline_sim::{run_boards, FirmwareKind as SimFirmware};
use keyline_station::provision::{provision_board, CancelToken, FirmwareKind, Observer, OutcomeKind, ProvisionEvent, ProvisionRequest, Step, SystemClock};
use keyline_station::{Passphrase, Station};

use super::crash::kill_after_holding;
use super::helper_bin;
use super::support::{Env, PASS};

/// Another host on `port`: sends each chunk, waits until the line is quiet, and returns what it read.
fn another_host(port: &str, chunks: &[&[u8]]) -> String {
    let mut link = SerialLink::open(port, DEFAULT_BAUD, Arc::new(SystemClock), CancelToken::new()).unwrap();
    for chunk in chunks {
        link.write(chunk).unwrap();
        let _ = link.wait_quiet(Duration::from_millis(300), Duration::from_secs(3));
    }
    normalise(link.received())
}

/// Ends whatever the stopped run left open (a payload: 80 characters and a NUL; a line: `\r`), then opens a
/// device cert-def payload and sends `payload` into it.
fn inside_cert_def(port: &str, payload: &[u8]) -> String {
    let mut fill = vec![b'0'; 80];
    fill.push(0);
    another_host(port, &[&fill, b"\r", b"provide-cert-def 0\r", payload])
}

fn signatures(env: &Env) -> u64 {
    env.json(&["audit", "verify"])["entries"].as_u64().unwrap()
}

#[test]
fn a_run_stopped_inside_provide_cert_def_is_finished_by_the_rerun_without_a_reset() {
    let env = Env::with_cas();
    let sim = run_boards(env.sim_config(1, SimFirmware::EspHelper)).unwrap();
    let port = sim.ports()[0].path.to_str().unwrap().to_string();
    // Held from the CSR on: the kill lands before the certificates are written, however late this thread runs.
    let hold = Some(("public key / CSR", sim.board(0).unwrap()));
    assert!(kill_after_holding(&env, &port, "esp-helper", "issue certificate", &[], hold), "the run reached the issue step");
    let issued = env.json(&["devices", "list"])[0]["certId"].clone();
    let seen = inside_cert_def(&port, b"");
    assert!(seen.contains("provide-cert-def 0\n"), "the helper now waits inside a cert-def payload: {seen:?}");

    let rerun = env.json(&["provision", "--port", &port, "--firmware", "esp-helper", "--ca", "signer"]);
    assert_eq!(rerun["outcome"], "verified", "{rerun}");
    assert_eq!(rerun["certId"], issued, "the same certificate");
    assert_eq!(signatures(&env), 1);
}

#[test]
fn a_crashed_helper_fails_with_the_reload_hint_and_a_ram_load_run_reloads_it_without_a_manual_reset() {
    let helper = helper_bin::esp32_helper();
    let helper = helper.to_str().unwrap();
    let env = Env::with_cas();
    let sim = run_boards(env.sim_config(1, SimFirmware::Rom)).unwrap();
    let port = sim.ports()[0].path.to_str().unwrap().to_string();
    let hold = Some(("public key / CSR", sim.board(0).unwrap()));
    assert!(kill_after_holding(&env, &port, "esp-helper", "issue certificate", &["--ram-load", helper], hold), "the run reached the issue step");
    let issued = env.json(&["devices", "list"])[0]["certId"].clone();
    // An older host's probe (`version` and a NUL) ends the open cert-def at 7 characters: the helper crashes.
    let seen = inside_cert_def(&port, b"version\0");
    assert!(seen.contains("Guru Meditation Error"), "the helper crashed: {seen:?}");

    let error = env.json_error(&["provision", "--port", &port, "--firmware", "esp-helper", "--ca", "signer"]);
    assert_eq!(error["code"], "helper_not_answering", "{error}");
    assert!(error["message"].as_str().unwrap().contains("not answering"), "{error}");
    let hint = error["hint"].as_str().unwrap();
    assert!(hint.contains("RAM-load the helper again") && hint.contains("--ram-load"), "{hint}");
    assert_eq!(signatures(&env), 1, "nothing signed");

    let rerun = env.json(&["provision", "--port", &port, "--firmware", "esp-helper", "--ca", "signer", "--ram-load", helper]);
    assert_eq!(rerun["outcome"], "verified", "{rerun}");
    assert_eq!(rerun["certId"], issued, "the same certificate");
    assert_eq!(signatures(&env), 1);
}

#[test]
fn a_ram_loaded_helper_whose_handshake_was_missed_is_reset_and_loaded_again_in_the_same_run() {
    let helper = helper_bin::esp32_helper();
    let env = Env::with_cas();
    let sim = run_boards(env.sim_config(1, SimFirmware::Rom)).unwrap();
    let station = Station::open(env.data.clone()).unwrap();
    station.unlock_ca("signer", &Passphrase::new(PASS.into()), false).unwrap();
    let ca = station.provisioning_ca("signer", keyline_certs::atcacert::Profile::EspCryptoauthlib).unwrap();
    let settings = station.settings().unwrap();
    let request = ProvisionRequest {
        port: sim.ports()[0].path.to_str().unwrap().to_string(),
        firmware: FirmwareKind::EspHelper,
        reprovision: false,
        station_name: settings.station_name(),
        stop_before_issue: None,
        ram_load: Some(helper),
        serial: settings.serial,
        firmware_setup: None,
    };
    let events: Arc<Mutex<Vec<ProvisionEvent>>> = Arc::default();
    let seen = events.clone();
    let observer: Observer = Arc::new(move |event: &ProvisionEvent| {
        let mut seen = seen.lock().unwrap();
        let first_load = !seen.iter().any(|e| matches!(e, ProvisionEvent::StepDone { step: Step::LoadFirmware, .. }));
        if !matches!(event, ProvisionEvent::SerialBytes { .. }) {
            seen.push(event.clone());
        }
        if first_load && matches!(event, ProvisionEvent::StepDone { step: Step::LoadFirmware, .. }) {
            // A host too slow for the helper's handshake window (300 ms boot + 1.1 s of board time; the board's clock
            // may lag the wall on a loaded machine, hence the margin): its console gives up.
            std::thread::sleep(Duration::from_secs(5));
        }
    });
    let outcome = provision_board(&station, &ca, &request, observer, &CancelToken::new(), Arc::new(SystemClock)).unwrap();
    assert_eq!(outcome.outcome, OutcomeKind::Verified);

    let events = events.lock().unwrap();
    assert!(!events.iter().any(|e| matches!(e, ProvisionEvent::StepFailed { .. })), "no step failed: {events:?}");
    let loads: Vec<&serde_json::Value> = events.iter().filter_map(|e| match e {
        ProvisionEvent::StepDone { step: Step::LoadFirmware, detail, .. } => Some(detail),
        _ => None,
    }).collect();
    assert_eq!(loads.len(), 2, "loaded, then loaded again: {loads:?}");
    assert!(loads[0].get("reload").is_none());
    assert_eq!(loads[1]["reload"]["after"], "helper_not_answering", "{}", loads[1]);
    let announced = events.iter().any(|e| matches!(e, ProvisionEvent::StepProgress { step: Step::Handshake, message, .. } if message.contains("RAM-loading the helper again")));
    assert!(announced, "the reload is announced on the handshake: {events:?}");
    let byte_bars = events.iter().filter(|e| matches!(e, ProvisionEvent::StepProgress { step: Step::LoadFirmware, done: Some(d), total: Some(t), .. } if d == t)).count();
    assert_eq!(byte_bars, 2, "both loads reach their total");

    // The ledger files the whole run under the chip: the retried handshake, both loads, then the rest.
    let steps = station.ledger().unwrap().steps_of(&outcome.serial).unwrap();
    let trail: Vec<(String, String)> = steps.iter().map(|s| (s.step.clone(), s.outcome.clone())).collect();
    let expected_start = [("load_firmware", "done"), ("open", "done"), ("handshake", "retried"), ("load_firmware", "done"), ("open", "done"), ("handshake", "done")];
    let start: Vec<(&str, &str)> = trail.iter().take(6).map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(start, expected_start, "{trail:?}");
    assert_eq!(steps[2].detail["code"], "helper_not_answering", "{}", steps[2].detail);
    assert!(steps[2].detail["message"].as_str().unwrap().contains("never started"), "{}", steps[2].detail);
    assert_eq!(trail.last().unwrap(), &("finish".to_string(), "done".to_string()));
}
