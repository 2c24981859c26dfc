//! Refusals, each a clear error with nothing signed: a chip locked by something else, a Trust&Go part,
//! a CSR with a bad signature, a CSR whose key is not the chip's.

use std::sync::Arc;

use keyline_board::{open_driver, CancelToken, FirmwareKind, ResetStrategy, SystemClock};
use keyline_sim::{run_boards, FirmwareKind as SimFirmware, SimConfig};
use keyline_station::provision::{check_key_material, KeyMaterial, ProvisionError};

use super::support::Env;

#[test]
fn a_chip_locked_with_another_configuration_is_refused_and_nothing_is_signed() {
    let env = Env::with_cas();
    let state = env.data.join("sim");
    {
        let mut board = keyline_sim::Board::new(keyline_sim::BoardConfig { state_dir: Some(state.join("board-0")), derive_templates: true, ..Default::default() }).unwrap();
        let chip = &mut board.hardware_mut().chip;
        let mut config = keyline_board::RAINBOWTYPE_CONFIG;
        config[36] = 0x8F; // slot 8 made secret-readable: not the firmware's table
        chip.write_config_zone(&config).unwrap();
        chip.lock_zone(keyline_sim::atecc::Zone::Config).unwrap();
    }
    let sim = run_boards(env.sim_config(1, SimFirmware::Rainbowtype)).unwrap();
    let error = env.json_error(&["provision", "--port", sim.ports()[0].path.to_str().unwrap(), "--firmware", "rainbowtype", "--ca", "signer"]);
    assert_eq!(error["code"], "foreign_config", "{error}");
    assert!(error["hint"].as_str().unwrap().contains("Set this chip aside"));
    assert_eq!(env.json(&["devices", "list"]).as_array().unwrap().len(), 0);
    assert_eq!(env.json(&["audit", "verify"])["entries"], 0);
}

#[test]
fn a_pre_provisioned_trust_and_go_part_is_refused_by_the_helper_flow() {
    let env = Env::with_cas();
    let mut config = SimConfig::new(1, SimFirmware::EspHelper, env.data.join("sim"));
    config.trust_and_go = true;
    let sim = run_boards(config).unwrap();
    let error = env.json_error(&["provision", "--port", sim.ports()[0].path.to_str().unwrap(), "--firmware", "esp-helper", "--ca", "signer"]);
    assert_eq!(error["code"], "unsupported_chip", "{error}");
    assert_eq!(env.json(&["audit", "verify"])["entries"], 0);
}

fn chip_csr() -> KeyMaterial {
    let dir = tempfile::tempdir().unwrap();
    let sim = run_boards(SimConfig::new(1, SimFirmware::EspHelper, dir.path().to_path_buf())).unwrap();
    let port = &sim.ports()[0];
    let reset = ResetStrategy::for_port(None, port.reset.as_deref());
    let mut helper = open_driver(FirmwareKind::EspHelper, port.path.to_str().unwrap(), &reset, Arc::new(SystemClock), CancelToken::new(), None).unwrap();
    helper.handshake().unwrap();
    helper.configure_and_lock().unwrap();
    helper.public_key(None).unwrap()
}

#[test]
fn a_csr_with_a_bad_signature_or_another_key_is_refused() {
    let material = chip_csr();
    check_key_material(&material).expect("the chip's own CSR passes");

    let mut tampered = material.clone();
    let csr = tampered.csr_der.as_mut().unwrap();
    let last = csr.len() - 3;
    csr[last] ^= 0x01;
    assert!(matches!(check_key_material(&tampered), Err(ProvisionError::BadCsrSignature { .. })));

    let mut other_key = material.clone();
    other_key.public_key = chip_csr().public_key;
    let error = check_key_material(&other_key).unwrap_err();
    assert!(matches!(error, ProvisionError::CsrKeyMismatch), "{error}");
    assert_eq!(error.code(), "csr_key_mismatch");
}
