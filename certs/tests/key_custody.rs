//! CA key custody against the real `openssl` CLI: the scrypt cost of stored keys, reading keys
//! written with the older cost, and what OpenSSL can and cannot decrypt.

use std::path::Path;
use std::process::{Command, Output};

use keyline_certs::EcKey;
use pkcs8::der::Decode;
use pkcs8::EncryptedPrivateKeyInfo;

const PASS: &str = "correct horse battery";

fn openssl(args: &[&str], dir: &Path) -> Output {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the `openssl` CLI is needed for these tests: apt-get install openssl")
}

fn der_of(pem: &str) -> Vec<u8> {
    pkcs8::der::pem::decode_vec(pem.as_bytes()).unwrap().1
}

/// (log2 N, r, p) of a PBES2/scrypt/AES-256-CBC key.
fn scrypt_cost(der: &[u8]) -> (u32, u32, u32) {
    let info = EncryptedPrivateKeyInfo::from_der(der).unwrap();
    let pkcs5::EncryptionScheme::Pbes2(params) = &info.encryption_algorithm else { panic!("not PBES2") };
    let pkcs5::pbes2::Kdf::Scrypt(kdf) = &params.kdf else { panic!("not scrypt") };
    assert!(matches!(params.encryption, pkcs5::pbes2::EncryptionScheme::Aes256Cbc { .. }), "not AES-256-CBC");
    (kdf.cost_parameter.trailing_zeros(), u32::from(kdf.block_size), u32::from(kdf.parallelization))
}

#[test]
fn new_keys_cost_eight_times_openssls_scrypt_default_and_openssl_pkey_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let key = EcKey::generate();
    let pem = key.to_encrypted_pem(PASS.as_bytes()).unwrap();
    assert_eq!(scrypt_cost(&der_of(&pem)), (14, 8, 8), "scrypt N = 2^14, r = 8, p = 8");
    assert!(EcKey::from_encrypted_pem(&pem, PASS.as_bytes()).unwrap().matches(&key.public_key()));
    std::fs::write(dir.path().join("key.pem"), &pem).unwrap();

    // `openssl pkey` reads it as it is (16 MiB, under OpenSSL 3.0's 32 MiB PBES2 scrypt cap).
    let pkey = openssl(&["pkey", "-in", "key.pem", "-passin", &format!("pass:{PASS}"), "-pubout"], dir.path());
    assert!(pkey.status.success(), "openssl pkey: {}", String::from_utf8_lossy(&pkey.stderr));

    // The OpenSSL CLI route that always works: scripts/openssl-decrypt-key.sh runs `openssl kdf`
    // with a raised memory cap, then `openssl enc -d -aes-256-cbc`, then `openssl pkey`.
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/openssl-decrypt-key.sh");
    let shell = format!("{} key.pem | openssl pkey -pubout -outform DER", script.display());
    let public = Command::new("bash")
        .args(["-o", "pipefail", "-c", &shell])
        .env("KEYLINE_KEY_PASSPHRASE", PASS)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(public.status.success(), "openssl-decrypt-key.sh: {}", String::from_utf8_lossy(&public.stderr));
    let point = key.public_key();
    let expected = p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&point, false);
    assert!(public.stdout.ends_with(expected.as_bytes()), "openssl recovered a different key");
}

#[test]
fn keys_encrypted_by_openssl_at_n_2_14_still_work() {
    let dir = tempfile::tempdir().unwrap();
    let gen = openssl(&["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "plain.pem"], dir.path());
    assert!(gen.status.success(), "{}", String::from_utf8_lossy(&gen.stderr));
    let enc = openssl(
        &[
            "pkcs8", "-topk8", "-in", "plain.pem", "-scrypt", "-scrypt_N", "16384", "-scrypt_r", "8", "-scrypt_p", "1",
            "-passout", &format!("pass:{PASS}"), "-out", "old.pem",
        ],
        dir.path(),
    );
    assert!(enc.status.success(), "{}", String::from_utf8_lossy(&enc.stderr));
    let old = std::fs::read_to_string(dir.path().join("old.pem")).unwrap();
    assert_eq!(scrypt_cost(&der_of(&old)).0, 14);
    let plain = std::fs::read_to_string(dir.path().join("plain.pem")).unwrap();
    let expected = EcKey::from_pem(&plain, None).unwrap();
    assert!(EcKey::from_encrypted_pem(&old, PASS.as_bytes()).unwrap().matches(&expected.public_key()));
    assert!(EcKey::from_pem(&old, Some(PASS.as_bytes())).unwrap().matches(&expected.public_key()));
}
