//! `keyline ca passwd`: a CA's key re-encrypted under a new passphrase with today's parameters, checked with openssl;
//! refusals leave the key file as it was.

use crate::support::{failed_with, openssl_output, private_scalar, store_key_pkey, store_key_pkey_output, Env, PASS};

const NEW: &str = "a brand new passphrase 42";

fn passwd(env: &Env, old: &str, new: &str) -> std::process::Output {
    env.keyline_env(&["ca", "passwd", "root", "--json"], &[("KEYLINE_CA_PASSPHRASE", old), ("KEYLINE_NEW_CA_PASSPHRASE", new)])
}

/// The key derivation a PKCS#8 file names (its OBJECT lines as `openssl asn1parse` prints them).
fn kdf_of(key: &std::path::Path) -> String {
    let out = openssl_output(&["asn1parse", "-in", key.to_str().unwrap()]);
    String::from_utf8_lossy(&out.stdout).lines().filter(|l| l.contains("OBJECT")).collect::<Vec<_>>().join("\n")
}

#[test]
fn an_older_pbkdf2_key_is_re_encrypted_with_scrypt_under_the_new_passphrase() {
    let env = Env::new();
    env.create_root_and_signer();
    let key = env.data_path("keys/root.key");
    let scalar = private_scalar(&key, Some(PASS));
    // A key as older tools wrote it: PBKDF2 (2048 iterations) instead of scrypt.
    let plain = store_key_pkey(&key, PASS, &[]);
    let older = env.path("older.pem");
    let plain_path = env.path("plain.pem");
    std::fs::write(&plain_path, &plain).unwrap();
    let out = openssl_output(&[
        "pkcs8", "-topk8", "-in", plain_path.to_str().unwrap(), "-out", older.to_str().unwrap(), "-v2", "aes-256-cbc", "-v2prf",
        "hmacWithSHA256", "-iter", "2048", "-passout", &format!("pass:{PASS}"),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::remove_file(&plain_path).unwrap();
    std::fs::copy(&older, &key).unwrap();
    assert!(kdf_of(&key).contains("PBKDF2"), "{}", kdf_of(&key));

    let out = passwd(&env, PASS, NEW);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(kdf_of(&key).contains(":scrypt"), "re-encrypted with scrypt: {}", kdf_of(&key));
    assert_eq!(private_scalar(&key, Some(NEW)), scalar, "the same key under the new passphrase");
    assert!(!store_key_pkey_output(&key, PASS, &[]).status.success(), "the old passphrase no longer opens it");
    // The station uses the new passphrase from now on.
    let unlocked = env.keyline_env(&["ca", "unlock", "root"], &[("KEYLINE_CA_PASSPHRASE", NEW)]);
    assert!(unlocked.status.success(), "{}", String::from_utf8_lossy(&unlocked.stderr));
}

#[test]
fn a_wrong_old_or_short_new_passphrase_changes_nothing() {
    let env = Env::new();
    env.create_root_and_signer();
    let before = env.snapshot_without_log();
    failed_with(passwd(&env, "not the passphrase at all", NEW), "wrong_passphrase");
    failed_with(passwd(&env, PASS, "short"), "passphrase_too_short");
    assert_eq!(env.snapshot_without_log(), before, "nothing written");
}
