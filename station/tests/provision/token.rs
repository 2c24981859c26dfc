//! `keyline provision` with a signer whose key is in a PKCS#11 token (SoftHSM2 started by the test).

use crate::softhsm::{SoftHsm, PIN};
use crate::support::{openssl, Env, Sim};

fn with_token(env: &Env, hsm: &SoftHsm, args: &[&str]) -> serde_json::Value {
    let mut args = args.to_vec();
    args.push("--json");
    let output = env.command(&args).env("SOFTHSM2_CONF", &hsm.conf).env("KEYLINE_TOKEN_PIN", PIN).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "keyline {args:?}\nstdout: {stdout}\nstderr: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_str(&stdout).expect("JSON on stdout")
}

#[test]
fn a_board_is_provisioned_by_a_signer_whose_key_is_in_a_token() {
    let hsm = SoftHsm::new();
    hsm.init_token("line");
    let env = Env::empty();
    with_token(&env, &hsm, &["ca", "create", "--name", "root", "--org", "Acme Corp", "--signer", "signer", "--pkcs11-module", hsm.module_arg(), "--token", "line"]);
    assert_eq!(std::fs::read_dir(env.data.join("keys")).unwrap().count(), 0, "no key files");
    let mut sim = Sim::start(&env, "rainbowtype", 1, &[]);
    let outcome = with_token(&env, &hsm, &["provision", "--port", &sim.ports[0], "--firmware", "rainbowtype", "--ca", "signer"]);
    sim.stop();
    assert_eq!(outcome["outcome"], "verified", "{outcome}");

    let shown = env.json(&["devices", "show", outcome["serial"].as_str().unwrap()]);
    let device = if shown["device"].is_object() { &shown["device"] } else { &shown };
    std::fs::write(env.path("device.pem"), device["certPem"].as_str().unwrap()).unwrap();
    std::fs::copy(env.data.join("certs/root.crt"), env.path("root.pem")).unwrap();
    std::fs::copy(env.data.join("certs/signer.crt"), env.path("signer.pem")).unwrap();
    let verdict = openssl(&["verify", "-CAfile", "root.pem", "-untrusted", "signer.pem", "device.pem"], env.dir.path());
    assert!(String::from_utf8_lossy(&verdict.stdout).contains("device.pem: OK"), "{}", String::from_utf8_lossy(&verdict.stderr));
}
