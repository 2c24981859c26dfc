//! Crash safety: `keyline provision` is SIGKILLed after each pipeline step in turn; the ledger stays
//! consistent, the audit log verifies, and a rerun finishes the board with the same key and certificate.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use keyline_sim::transport::PtyBoard;
use keyline_sim::{run_boards, FirmwareKind as SimFirmware};

use super::support::Env;

const STEPS: [&str; 8] = ["handshake", "configure + lock", "read serial", "public key / CSR", "check key", "issue certificate", "write certificates", "verify"];

/// Runs provision in text mode (with `extra` options) and kills it right after `step` printed `done`; false if the
/// run ended first. With `hold = Some((earlier, board))` the board is held (it cannot answer) from when the `earlier`
/// step printed `done` until the run is dead: the run cannot get past a step after `earlier` that talks to the board,
/// however late this thread reads the `done` line on a loaded machine (the steps between must not need the board).
pub(super) fn kill_after_holding(env: &Env, port: &str, firmware: &str, step: &str, extra: &[&str], hold: Option<(&str, &PtyBoard)>) -> bool {
    let mut args = vec!["provision", "--port", port, "--firmware", firmware, "--ca", "signer"];
    args.extend_from_slice(extra);
    let mut child = env.command(&args).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut killed = false;
    let mut held = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        let done = |name: &str| line.trim_start().starts_with(name) && line.contains(" done ");
        if let Some((_, board)) = hold.filter(|(earlier, _)| held.is_none() && done(earlier)) {
            held = Some(board.board().lock().unwrap_or_else(|e| e.into_inner()));
        }
        if done(step) {
            child.kill().unwrap(); // SIGKILL
            killed = true;
            break;
        }
    }
    let _ = child.wait();
    drop(held);
    killed
}

fn kill_after(env: &Env, port: &str, firmware: &str, step: &str) -> bool {
    kill_after_holding(env, port, firmware, step, &[], None)
}

fn crash_each_step(firmware: SimFirmware, name: &str) {
    for step in STEPS {
        let env = Env::with_cas();
        let config = env.sim_config(1, firmware);
        let sim = run_boards(config).unwrap();
        let port = sim.ports()[0].path.to_str().unwrap().to_string();
        assert!(kill_after(&env, &port, name, step), "{name}: the run reached {step}");

        // The ledger opens and is consistent; every signature has its row and audit entry.
        let devices = env.json(&["devices", "list"]);
        let devices = devices.as_array().cloned().unwrap_or_default();
        let audit = env.json(&["audit", "verify"]);
        assert!(audit["firstBroken"].is_null(), "{name}/{step}: {audit}");
        assert_eq!(audit["entries"].as_u64().unwrap() as usize, devices.len(), "{name}/{step}: one audit entry per issued certificate");
        let before = devices.first().map(|d| (d["certId"].clone(), d["publicKey"].clone()));
        if let Some(device) = devices.first() {
            assert!(["issued", "written", "verified", "failed"].contains(&device["status"].as_str().unwrap()), "{device}");
        }

        // Rerun; a rainbowtype board that already ran `q` answers only after a reset (the operator's EN press). A helper
        // needs none, even when the kill left a cert-def payload open (the kill lands after "done", when the next
        // command may be on the wire): the rerun's probe ends that payload without crashing the helper.
        let mut rerun = env.run(&["provision", "--port", &port, "--firmware", name, "--ca", "signer", "--json"]);
        if !rerun.status.success() && firmware == SimFirmware::Rainbowtype {
            sim.reset(0, false);
            rerun = env.run(&["provision", "--port", &port, "--firmware", name, "--ca", "signer", "--json"]);
        }
        let stdout = String::from_utf8_lossy(&rerun.stdout).into_owned();
        assert!(rerun.status.success(), "{name}/{step}: rerun failed: {stdout}");
        let outcome: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert!(["verified", "alreadyProvisioned"].contains(&outcome["outcome"].as_str().unwrap()), "{outcome}");
        let after = env.json(&["devices", "list"]);
        let after = after.as_array().unwrap();
        assert_eq!(after.len(), 1);
        assert_eq!(after[0]["status"], "verified", "{name}/{step}");
        if let Some((cert_id, key)) = before {
            assert_eq!(after[0]["certId"], cert_id, "{name}/{step}: the same certificate, no second one");
            assert_eq!(after[0]["publicKey"], key, "{name}/{step}: the same key");
        }
        assert_eq!(env.json(&["audit", "verify"])["entries"], 1, "{name}/{step}: one signature in all");
    }
}

#[test]
fn killing_a_rainbowtype_run_after_any_step_loses_nothing() {
    crash_each_step(SimFirmware::Rainbowtype, "rainbowtype");
}

#[test]
fn killing_an_esp_helper_run_after_any_step_loses_nothing() {
    crash_each_step(SimFirmware::EspHelper, "esp-helper");
}
