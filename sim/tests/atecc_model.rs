//! ATECC608A model: locking rules, key operations and persistence across a "power cycle".

use keyline_sim::atecc::config::{RAINBOWTYPE_CONFIG, LOCK_CONFIG, LOCK_VALUE};
use keyline_sim::atecc::{Atecc608, ChipError, Zone};
use keyline_sim::{SimClock, Timing};
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::ecdsa::{Signature, VerifyingKey};

const SERIAL: [u8; 9] = [0x01, 0x23, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0x11, 0xEE];

fn configured_chip() -> Atecc608 {
    let mut chip = Atecc608::with_serial(SERIAL, SimClock::default());
    chip.write_config_zone(&RAINBOWTYPE_CONFIG).unwrap();
    chip.lock_zone(Zone::Config).unwrap();
    chip.lock_zone(Zone::Data).unwrap();
    chip
}

fn verifying_key(xy: &[u8; 64]) -> VerifyingKey {
    let mut sec1 = vec![0x04];
    sec1.extend_from_slice(xy);
    VerifyingKey::from_sec1_bytes(&sec1).unwrap()
}

#[test]
fn serial_sits_at_config_bytes_0_3_and_8_12() {
    let chip = Atecc608::new_blank(SimClock::default());
    let config = chip.read_config_zone();
    let serial = chip.serial();
    assert_eq!(&serial[..4], &config[..4]);
    assert_eq!(&serial[4..], &config[8..13]);
    assert_eq!(&serial[..2], &[0x01, 0x23]);
    assert_eq!(serial[8], 0xEE);
    assert_eq!((config[LOCK_VALUE], config[LOCK_CONFIG]), (0x55, 0x55));
    let other = Atecc608::new_blank(SimClock::default());
    assert_ne!(serial, other.serial(), "every new part gets a fresh random serial");
}

#[test]
fn config_cannot_be_rewritten_after_config_lock() {
    let mut chip = Atecc608::with_serial(SERIAL, SimClock::default());
    chip.write_config_word(5, [1, 2, 3, 4]).unwrap();
    assert_eq!(chip.write_config_word(0, [0; 4]), Err(ChipError::Execution), "serial words are read-only");
    assert_eq!(chip.write_config_word(21, [0; 4]), Err(ChipError::Execution), "lock bytes are not writable");
    chip.lock_zone(Zone::Config).unwrap();
    assert_eq!(chip.write_config_word(5, [9; 4]), Err(ChipError::Execution));
    assert_eq!(chip.write_config_zone(&RAINBOWTYPE_CONFIG), Err(ChipError::Execution));
    assert_eq!(&chip.read_config_zone()[20..24], &[1, 2, 3, 4]);
    assert_eq!(chip.lock_zone(Zone::Config), Err(ChipError::Execution), "config lock is one-time");
}

#[test]
fn data_zone_needs_config_lock_first_and_locks_once() {
    let mut chip = Atecc608::with_serial(SERIAL, SimClock::default());
    assert_eq!(chip.lock_zone(Zone::Data), Err(ChipError::Execution));
    assert_eq!(chip.genkey(0), Err(ChipError::Execution), "GenKey needs the config zone locked");
    assert_eq!(chip.write_slot(10, 0, &[0; 4]), Err(ChipError::Execution), "data writes need the config lock");
    chip.lock_zone(Zone::Config).unwrap();
    assert_eq!(chip.read_slot(10, 0, 4), Err(ChipError::Execution), "no data reads before the data lock");
    chip.lock_zone(Zone::Data).unwrap();
    assert_eq!(chip.lock_zone(Zone::Data), Err(ChipError::Execution));
}

#[test]
fn genkey_follows_slotconfig_after_data_lock() {
    let mut chip = configured_chip();
    let first = chip.genkey(0).unwrap();
    let second = chip.genkey(0).unwrap();
    assert_ne!(first, second, "WriteConfig 0x2 allows GenKey after the data lock");
    assert_eq!(chip.get_pubkey(0).unwrap(), second);
    assert_eq!(chip.genkey(4), Err(ChipError::Execution), "slot 4 is a data slot");
    assert_eq!(chip.genkey(10), Err(ChipError::Execution), "slot 10 is not a private-key slot");
    assert_eq!(chip.get_pubkey(2), Err(ChipError::NoKey), "slot 2 never saw GenKey");
}

#[test]
fn no_genkey_on_a_slot_whose_slotconfig_forbids_it() {
    let mut config = RAINBOWTYPE_CONFIG;
    config[20 + 2 * 2 + 1] = 0x00; // slot 2: WriteConfig 0 (never GenKey after the data lock)
    config[96 + 2 * 2] = 0x33; // slot 2: lockable private P-256 key
    let mut chip = Atecc608::with_serial(SERIAL, SimClock::default());
    chip.write_config_zone(&config).unwrap();
    chip.lock_zone(Zone::Config).unwrap();
    chip.genkey(2).expect("GenKey is allowed on every private slot before the data lock");
    chip.lock_zone(Zone::Data).unwrap();
    assert_eq!(chip.genkey(2), Err(ChipError::Execution));
}

#[test]
fn no_genkey_and_no_writes_after_a_slot_lock() {
    let mut config = RAINBOWTYPE_CONFIG;
    config[96 + 2 * 3] = 0x33; // slot 3: lockable private P-256 key
    let mut chip = Atecc608::with_serial(SERIAL, SimClock::default());
    chip.write_config_zone(&config).unwrap();
    chip.lock_zone(Zone::Config).unwrap();
    chip.lock_zone(Zone::Data).unwrap();
    chip.genkey(3).unwrap();
    chip.lock_slot(3).unwrap();
    assert!(chip.is_slot_locked(3));
    assert_eq!(chip.genkey(3), Err(ChipError::Execution));

    chip.write_slot(10, 0, &[7u8; 72]).unwrap();
    chip.lock_slot(10).unwrap();
    assert_eq!(chip.write_slot(10, 0, &[8u8; 32]), Err(ChipError::Execution));
    assert_eq!(chip.read_slot(10, 0, 72).unwrap(), vec![7u8; 72]);
    assert_eq!(chip.lock_slot(10), Err(ChipError::Execution), "a slot locks once");
    assert_eq!(chip.lock_slot(0), Err(ChipError::Execution), "slot 0 is not lockable in this config");
}

#[test]
fn secrets_are_never_readable_and_encrypted_slots_refuse_clear_writes() {
    let mut chip = configured_chip();
    chip.genkey(0).unwrap();
    assert_eq!(chip.read_slot(0, 0, 32), Err(ChipError::Execution));
    assert_eq!(chip.read_slot(6, 0, 32), Err(ChipError::Execution));
    assert_eq!(chip.read_slot(8, 0, 32), Err(ChipError::Execution), "slot 8 needs encrypted reads");
    assert_eq!(chip.write_slot(8, 128, &[0; 32]), Err(ChipError::Execution));
    assert_eq!(chip.write_encrypted(8, 4, &[0; 32], 5), Err(ChipError::Execution), "wrong write key");
    chip.write_encrypted(8, 4, &[0; 32], 6).unwrap();
    chip.write_slot(6, 0, &[1; 32]).unwrap();
    assert_eq!(chip.read_slot(10, 70, 4), Err(ChipError::Parse), "past the end of a 72-byte slot");
    assert_eq!(chip.write_slot(10, 2, &[0; 4]), Err(ChipError::BadParam), "unaligned write");
}

#[test]
fn signatures_verify_with_the_genkey_public_key() {
    let mut chip = configured_chip();
    let public = chip.genkey(0).unwrap();
    let digest = [0x42u8; 32];
    let rs = chip.sign_digest(0, &digest).unwrap();
    let signature = Signature::from_slice(&rs).unwrap();
    verifying_key(&public).verify_prehash(&digest, &signature).unwrap();
    assert_eq!(chip.sign_digest(10, &digest), Err(ChipError::Execution));
}

#[test]
fn public_keys_round_trip_in_padded_form() {
    let mut chip = configured_chip();
    let xy: [u8; 64] = std::array::from_fn(|i| i as u8 + 1);
    chip.write_pubkey(15, &xy).unwrap();
    assert_eq!(&chip.slot_bytes(15)[0..4], &[0; 4]);
    assert_eq!(&chip.slot_bytes(15)[36..40], &[0; 4]);
    assert_eq!(chip.read_pubkey(15).unwrap(), xy);
}

#[test]
fn state_survives_a_power_cycle() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chip.json");
    let (serial, public) = {
        let mut chip = Atecc608::open(&path, SimClock::default()).unwrap();
        chip.write_config_zone(&RAINBOWTYPE_CONFIG).unwrap();
        chip.lock_zone(Zone::Config).unwrap();
        chip.lock_zone(Zone::Data).unwrap();
        let public = chip.genkey(0).unwrap();
        chip.write_slot(13, 0, b"0123aabbccddeeff11ee\0\0\0\0").unwrap();
        (chip.serial(), public)
    };
    let chip = Atecc608::open(&path, SimClock::default()).unwrap();
    assert_eq!(chip.serial(), serial);
    assert!(chip.is_locked(Zone::Config) && chip.is_locked(Zone::Data));
    assert_eq!(chip.get_pubkey(0).unwrap(), public);
    assert_eq!(&chip.read_slot(13, 0, 4).unwrap(), b"0123");
}

#[test]
fn datasheet_timing_charges_execution_maxima() {
    let clock = SimClock::new(Timing::Datasheet);
    let mut chip = Atecc608::with_serial(SERIAL, clock.clone());
    chip.lock_zone(Zone::Config).unwrap();
    chip.lock_zone(Zone::Data).unwrap();
    let before = clock.now();
    chip.genkey(0).unwrap();
    chip.sign_digest(0, &[1; 32]).unwrap();
    chip.write_slot(10, 0, &[0; 32]).unwrap();
    let charged = clock.now() - before;
    // GenKey 115 + Nonce 20 + Sign 115 + Write 45 ms.
    assert_eq!(charged.as_millis(), 295);
}

#[test]
fn get_pubkey_honours_keyconfig_pubinfo() {
    let mut config = RAINBOWTYPE_CONFIG;
    config[96 + 2 * 3] = 0x11; // slot 3: private P-256 key without PubInfo
    let mut chip = Atecc608::with_serial(SERIAL, SimClock::default());
    chip.write_config_zone(&config).unwrap();
    chip.lock_zone(Zone::Config).unwrap();
    chip.genkey(3).unwrap();
    chip.genkey(0).unwrap();
    assert_eq!(chip.get_pubkey(3), Err(ChipError::Execution), "the public key is never released");
    assert!(chip.get_pubkey(0).is_ok(), "slot 0 has PubInfo");
}
