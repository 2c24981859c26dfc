//! `keyline provision` end to end against `keyline sim` boards in another process, for both firmwares:
//! the certificate rebuilt from the chip equals the issued one, the ledger says `verified`, `openssl verify`
//! accepts the chain, the audit log verifies; reruns, refusals.
#![cfg(feature = "sim")]

mod crash;
mod faults;
mod helper_reload;
mod idle_lock;
mod refusals;
mod settings;
mod shift;
mod support;
mod token;

#[path = "../../../board/tests/common/helper_bin.rs"]
mod helper_bin;

#[allow(dead_code)]
#[path = "../../../certs/tests/support/softhsm.rs"]
mod softhsm;

use keyline_certs::atcacert::certdef_string;
use keyline_certs::atcacert::rebuild::rebuild;
use keyline_certs::atcacert::Profile;
use keyline_certs::device::{certificate_public_key, place_signer};
use support::{chip_image, openssl, pem_der, Env, Sim};

fn provision(env: &Env, port: &str, firmware: &str) -> serde_json::Value {
    env.json(&["provision", "--port", port, "--firmware", firmware, "--ca", "signer"])
}

fn check_end_to_end(firmware: &str, profile: Profile) {
    let env = Env::with_cas();
    let mut sim = Sim::start(&env, firmware, 1, &[]);
    let outcome = provision(&env, &sim.ports[0], firmware);
    assert_eq!(outcome["outcome"], "verified", "{outcome}");
    let serial = outcome["serial"].as_str().unwrap().to_string();
    let shown = env.json(&["devices", "show", &serial]);
    let device = if shown["device"].is_object() { &shown["device"] } else { &shown };
    assert_eq!(device["status"], "verified", "{shown}");
    assert_eq!(device["certId"], outcome["certId"]);
    let device_pem = device["certPem"].as_str().unwrap().to_string();
    let device_der = pem_der(&device_pem);
    sim.stop();

    // The chip's slots, rebuilt with the profile's definitions, give back exactly the issued certificates.
    let signer_der = env.cert_der("signer");
    let root_key = certificate_public_key(&env.cert_der("root")).unwrap();
    let signer_key = certificate_public_key(&signer_der).unwrap();
    let defs = place_signer(profile, &signer_der, &root_key).unwrap();
    let image = chip_image(&sim.state_dir, 0);
    let device_def = match profile {
        Profile::EspCryptoauthlib => certdef_string::per_device_def(&defs.device, &device_der).unwrap(),
        _ => defs.device.clone(),
    };
    assert_eq!(rebuild(&device_def, &image, Some(&signer_key)).unwrap(), device_der, "device certificate rebuilt from the chip");
    if profile == Profile::Rainbowtype {
        assert_eq!(rebuild(&defs.signer, &image, Some(&root_key)).unwrap(), signer_der, "signer certificate rebuilt from the chip");
    }

    std::fs::write(env.path("device.pem"), &device_pem).unwrap();
    env.ok(&["ca", "export", "signer", "-o", env.path("chain.pem").to_str().unwrap()]);
    let root_pem = std::fs::read_to_string(env.data.join("certs/root.crt")).unwrap();
    std::fs::write(env.path("root.pem"), root_pem).unwrap();
    let verdict = openssl(&["verify", "-CAfile", "root.pem", "-untrusted", "chain.pem", "device.pem"], env.dir.path());
    assert!(verdict.status.success(), "openssl verify: {}{}", String::from_utf8_lossy(&verdict.stdout), String::from_utf8_lossy(&verdict.stderr));
    assert!(String::from_utf8_lossy(&verdict.stdout).contains("device.pem: OK"));
    let audit = env.json(&["audit", "verify"]);
    assert_eq!(audit["entries"], 1);
    assert!(audit["firstBroken"].is_null());
}

#[test]
fn rainbowtype_board_ends_verified_with_a_rebuildable_certificate_the_chain_accepts() {
    check_end_to_end("rainbowtype", Profile::Rainbowtype);
}

#[test]
fn esp_helper_board_ends_verified_with_a_rebuildable_certificate_the_chain_accepts() {
    check_end_to_end("esp-helper", Profile::EspCryptoauthlib);
}

#[test]
fn a_verified_board_is_left_alone_unless_reprovisioned_and_keeps_its_certificate() {
    let env = Env::with_cas();
    let sim = Sim::start(&env, "esp-helper", 1, &[]);
    let first = provision(&env, &sim.ports[0], "esp-helper");
    let again = provision(&env, &sim.ports[0], "esp-helper");
    assert_eq!(again["outcome"], "alreadyProvisioned");
    assert_eq!(again["certId"], first["certId"]);
    let forced = env.json(&["provision", "--port", &sim.ports[0], "--firmware", "esp-helper", "--ca", "signer", "--reprovision"]);
    assert_eq!(forced["outcome"], "verified");
    assert_eq!(forced["certId"], first["certId"], "the same certificate is written again, no second one");
    assert_eq!(forced["reusedCertificate"], true);
    assert_eq!(env.json(&["audit", "verify"])["entries"], 1, "one signature in all");
}

#[test]
fn a_board_speaking_the_other_firmware_is_refused_and_nothing_is_signed() {
    let env = Env::with_cas();
    let sim = Sim::start(&env, "esp-helper", 1, &[]);
    let error = env.json_error(&["provision", "--port", &sim.ports[0], "--firmware", "rainbowtype", "--ca", "signer"]);
    assert_eq!(error["code"], "wrong_firmware", "{error}");
    assert_eq!(env.json(&["audit", "verify"])["entries"], 0);
}

#[test]
fn a_port_that_is_not_a_board_is_refused() {
    let env = Env::with_cas();
    let error = env.json_error(&["provision", "--port", "/dev/null", "--firmware", "rainbowtype", "--ca", "signer"]);
    assert_eq!(error["code"], "not_a_serial_port", "{error}");
    let file = env.path("not-a-port");
    std::fs::write(&file, b"x").unwrap();
    let error = env.json_error(&["provision", "--port", file.to_str().unwrap(), "--firmware", "esp-helper", "--ca", "signer"]);
    assert_eq!(error["code"], "not_a_serial_port", "{error}");
}
