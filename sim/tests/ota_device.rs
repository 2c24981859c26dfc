//! Simulated boards as OTA devices: provisioned chips are found in the boards' state directory and
//! sign TLS handshake digests with their slot-0 key, in the DER form TLS carries.

use keyline_ota::external_key::{ecdsa_der, P256DigestSigner};
use keyline_sim::atecc::config::RAINBOWTYPE_CONFIG;
use keyline_sim::atecc::{Atecc608, Zone};
use keyline_sim::ota_device::{board_chips, provisioned_chip_keys};
use keyline_sim::SimClock;
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::ecdsa::{Signature, VerifyingKey};

#[test]
fn provisioned_board_chips_sign_handshakes_with_their_device_key() {
    let dir = tempfile::tempdir().unwrap();
    // board-0: configured, locked, a device key in slot 0 (what provisioning leaves); board-1: a blank part.
    let public = {
        let mut chip = Atecc608::open(&dir.path().join("board-0/chip.json"), SimClock::default()).unwrap();
        chip.write_config_zone(&RAINBOWTYPE_CONFIG).unwrap();
        chip.lock_zone(Zone::Config).unwrap();
        chip.lock_zone(Zone::Data).unwrap();
        chip.genkey(0).unwrap()
    };
    Atecc608::open(&dir.path().join("board-1/chip.json"), SimClock::default()).unwrap();
    std::fs::create_dir_all(dir.path().join("board-x")).unwrap();
    assert_eq!(board_chips(dir.path()).len(), 2);

    let keys = provisioned_chip_keys(dir.path());
    assert_eq!(keys.len(), 1, "only the locked chip with a key");
    let key = &keys[0];
    assert_eq!(key.serial().len(), 18);
    assert!(key.serial().starts_with("0123") && key.serial().ends_with("ee"), "{}", key.serial());

    let digest = [0x42u8; 32];
    let raw = key.sign_digest(&digest).unwrap();
    let mut sec1 = vec![0x04];
    sec1.extend_from_slice(&public);
    let verifying = VerifyingKey::from_sec1_bytes(&sec1).unwrap();
    let signature = Signature::from_der(&ecdsa_der(&raw)).unwrap();
    verifying.verify_prehash(&digest, &signature).unwrap();
    let before = std::fs::read(dir.path().join("board-0/chip.json")).unwrap();
    drop(keys);
    assert_eq!(std::fs::read(dir.path().join("board-0/chip.json")).unwrap(), before, "reading the key never rewrites the board's chip");
}
