//! `keyline station`: four boards at once while a second process writes the same ledger; Ctrl-C (faulty boards: `faults.rs`).

use super::support::{Env, Sim};

/// `keyline station --until-idle --json` over `ports`; its JSON lines.
pub(super) fn shift(env: &Env, ports: &str, firmware: &str) -> Vec<serde_json::Value> {
    let output = env.run(&["station", "--ports", ports, "--firmware", firmware, "--ca", "signer", "--until-idle", "--json"]);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "keyline station failed: {stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}"))).collect()
}

#[test]
fn four_ports_at_once_and_a_second_ledger_writer_lose_no_rows() {
    let env = Env::with_cas();
    let sim = Sim::start(&env, "esp-helper", 4, &[]);
    // A second keyline process signs certificates into the same ledger meanwhile.
    let key_file = env.path("key.hex");
    std::fs::write(&key_file, "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c2964fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5").unwrap();
    let env_ref = &env;
    let key = key_file.to_str().unwrap().to_string();
    let signer = std::thread::scope(|scope| {
        let handle = scope.spawn(move || {
            for i in 0..8 {
                let serial = format!("0123aabbccdd0000{i:02x}");
                env_ref.ok(&["cert", "sign", "--ca", "signer", "--pubkey", &key, "--profile", "esp-cryptoauthlib", "--serial", &serial, "-o", env_ref.path(&format!("c{i}.pem")).to_str().unwrap()]);
            }
        });
        let events = shift(&env, &sim.ports.join(","), "esp-helper");
        handle.join().unwrap();
        events
    });
    let summary = &signer.last().unwrap()["counters"];
    assert_eq!(summary["passed"], 4, "{summary}");
    assert_eq!(summary["failed"], 0);
    let devices = env.json(&["devices", "list"]);
    let devices = devices.as_array().unwrap();
    assert_eq!(devices.len(), 12, "4 boards + 8 signed by the other process");
    assert_eq!(devices.iter().filter(|d| d["status"] == "verified").count(), 4);
    let audit = env.json(&["audit", "verify"]);
    assert_eq!(audit["entries"], 12);
    assert!(audit["firstBroken"].is_null());
}

#[test]
fn ctrl_c_ends_a_waiting_shift_cleanly_with_its_counters() {
    let env = Env::with_cas();
    let sim = Sim::start(&env, "esp-helper", 1, &[]);
    let mut child = env
        .command(&["station", "--ports", &sim.ports[0], "--firmware", "esp-helper", "--ca", "signer", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    // Wait until the board finished, then interrupt the shift that waits for more.
    for line in lines.by_ref() {
        if line.unwrap().contains("boardFinished") {
            break;
        }
    }
    std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    let status = child.wait().unwrap();
    assert!(status.success(), "clean exit on Ctrl-C");
    let last: serde_json::Value = serde_json::from_str(rest.last().expect("a closing line")).unwrap();
    assert_eq!(last["event"], "shiftEnded");
    assert_eq!(last["counters"]["passed"], 1);
}
