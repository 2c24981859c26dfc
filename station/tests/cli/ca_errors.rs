//! Bad input: every failure is a clear error code, and nothing is overwritten or half-written.

use crate::support::{failed_with, openssl, openssl_root, Env, PASS};

fn genkey(env: &Env, name: &str) -> std::path::PathBuf {
    let key = env.path(name);
    openssl(&["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key.to_str().unwrap()]);
    key
}

fn import_args<'a>(name: &'a str, cert: &'a str, key: &'a str) -> Vec<&'a str> {
    vec!["ca", "import", "--name", name, "--cert", cert, "--key", key, "--json"]
}

#[test]
fn import_rejects_a_key_that_does_not_match_the_certificate() {
    let env = Env::new();
    let key = genkey(&env, "a.key");
    let other = genkey(&env, "b.key");
    let cert = openssl_root(&env, "a", &key, &[]);
    let stderr = failed_with(env.keyline(&import_args("x", cert.to_str().unwrap(), other.to_str().unwrap())), "key_mismatch");
    assert!(stderr.contains("does not match"), "{stderr}");
    assert!(env.snapshot_without_log().is_empty(), "nothing written: {:?}", env.snapshot_without_log().keys());
}

#[test]
fn import_rejects_a_certificate_that_is_not_a_ca() {
    let env = Env::new();
    let key = genkey(&env, "leaf.key");
    let cert = env.path("leaf.crt");
    openssl(&[
        "req", "-x509", "-key", key.to_str().unwrap(), "-out", cert.to_str().unwrap(), "-days", "30", "-subj",
        "/CN=device-0001", "-addext", "basicConstraints=critical,CA:FALSE", "-addext", "keyUsage=digitalSignature",
    ]);
    let stderr = failed_with(env.keyline(&import_args("leaf", cert.to_str().unwrap(), key.to_str().unwrap())), "not_a_ca");
    assert!(stderr.contains("device-0001"), "{stderr}");
    assert!(env.snapshot_without_log().is_empty());
}

#[test]
fn import_rejects_corrupt_pem_files() {
    let env = Env::new();
    let key = genkey(&env, "k.key");
    let cert = openssl_root(&env, "c", &key, &[]);
    let garbage = env.path("garbage.pem");
    std::fs::write(&garbage, "this is not a certificate\n").unwrap();
    let truncated = env.path("truncated.pem");
    let cert_text = std::fs::read_to_string(&cert).unwrap();
    std::fs::write(&truncated, &cert_text[..cert_text.len() / 2]).unwrap();
    let bad_base64 = env.path("bad64.pem");
    std::fs::write(&bad_base64, "-----BEGIN CERTIFICATE-----\n!!!!not base64!!!!\n-----END CERTIFICATE-----\n").unwrap();
    let (key_s, cert_s) = (key.to_str().unwrap(), cert.to_str().unwrap());
    for bad in [&garbage, &truncated, &bad_base64] {
        failed_with(env.keyline(&import_args("c", bad.to_str().unwrap(), key_s)), "corrupt_pem");
        failed_with(env.keyline(&import_args("c", cert_s, bad.to_str().unwrap())), "corrupt_pem");
    }
    assert!(env.snapshot_without_log().is_empty());
}

#[test]
fn a_duplicate_name_leaves_the_existing_files_byte_identical() {
    let env = Env::new();
    env.create_root_and_signer();
    let before = env.snapshot_without_log();
    failed_with(env.keyline(&["ca", "create", "--name", "root", "--org", "Other", "--json"]), "already_exists");
    failed_with(env.keyline(&["ca", "create", "--name", "fresh", "--org", "O", "--signer", "signer", "--json"]), "already_exists");
    let key = genkey(&env, "k.key");
    let cert = openssl_root(&env, "c", &key, &[]);
    failed_with(env.keyline(&import_args("signer", cert.to_str().unwrap(), key.to_str().unwrap())), "already_exists");
    assert_eq!(env.snapshot_without_log(), before);
    assert!(!env.data_path("certs/fresh.crt").exists());
}

#[test]
fn a_wrong_passphrase_is_reported_and_writes_nothing() {
    let env = Env::new();
    env.create_root_and_signer();
    let before = env.snapshot_without_log();
    let wrong = [("KEYLINE_CA_PASSPHRASE", "not the passphrase")];
    failed_with(env.keyline_env(&["ca", "unlock", "root", "--json"], &wrong), "wrong_passphrase");
    failed_with(env.keyline_env(&["cert", "verification", "--ca", "signer", "--code", "abc123", "--json"], &wrong), "wrong_passphrase");
    assert_eq!(env.snapshot_without_log(), before);
    let ok = env.ok(&["ca", "unlock", "root"]);
    assert!(ok.contains("correct"), "{ok}");
}

#[test]
fn invalid_names_and_values_are_rejected() {
    let env = Env::new();
    for name in ["../escape", "has space", "", &"x".repeat(65)] {
        failed_with(env.keyline(&["ca", "create", "--name", name, "--org", "O", "--json"]), "invalid_name");
    }
    failed_with(env.keyline(&["ca", "create", "--name", "ok", "--org", "O", "--years", "0", "--json"]), "invalid_input");
    failed_with(env.keyline(&["ca", "create", "--name", "ok", "--org", "O", "--signer", "ok", "--json"]), "invalid_input");
    failed_with(env.keyline(&["ca", "show", "missing", "--json"]), "not_found");
    assert!(env.snapshot_without_log().is_empty());
}

#[test]
fn without_a_terminal_or_environment_passphrase_the_error_names_the_variable() {
    let env = Env::new();
    let stderr = failed_with(env.keyline_env(&["ca", "create", "--name", "r", "--org", "O", "--json"], &[]), "passphrase_required");
    assert!(stderr.contains("KEYLINE_CA_PASSPHRASE"), "{stderr}");
    env.create_root_and_signer();
    let stderr = failed_with(
        env.keyline_env(&["cert", "verification", "--ca", "root", "--code", "c0de", "--json"], &[]),
        "passphrase_required",
    );
    assert!(stderr.contains("KEYLINE_CA_PASSPHRASE"), "{stderr}");
    let _ = PASS;
}

#[test]
fn import_rejects_rsa_cas_and_legacy_encrypted_keys_with_a_conversion_hint() {
    let env = Env::new();
    let rsa_key = env.path("rsa.key");
    let rsa_cert = env.path("rsa.crt");
    openssl(&[
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", rsa_key.to_str().unwrap(), "-out",
        rsa_cert.to_str().unwrap(), "-subj", "/CN=RSA Root", "-days", "10",
    ]);
    let stderr = failed_with(env.keyline(&import_args("rsa", rsa_cert.to_str().unwrap(), rsa_key.to_str().unwrap())), "unsupported");
    assert!(stderr.contains("P-256"), "{stderr}");

    let key = env.path("sec1.key");
    openssl(&["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key.to_str().unwrap()]);
    let cert = openssl_root(&env, "legacy", &key, &[]);
    let legacy = env.path("legacy.key");
    openssl(&["ec", "-in", key.to_str().unwrap(), "-aes256", "-passout", "pass:x", "-out", legacy.to_str().unwrap()]);
    let stderr = failed_with(env.keyline(&import_args("legacy", cert.to_str().unwrap(), legacy.to_str().unwrap())), "unsupported");
    assert!(stderr.contains("openssl pkcs8 -topk8"), "{stderr}");
    assert!(env.snapshot_without_log().is_empty());
}

#[test]
fn import_refuses_fifos_and_devices_without_blocking() {
    let env = Env::new();
    let key = genkey(&env, "a.key");
    let cert = openssl_root(&env, "a", &key, &[]);
    let fifo = env.path("key.fifo");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo (coreutils) is needed").success());
    for (cert, key, kind) in [
        (cert.to_str().unwrap(), fifo.to_str().unwrap(), "is a FIFO"),
        ("/dev/zero", key.to_str().unwrap(), "is a character device"),
    ] {
        let stderr = failed_with(env.keyline(&import_args("x", cert, key)), "invalid_input");
        assert!(stderr.contains(kind), "{stderr}");
    }
    assert!(env.snapshot_without_log().is_empty());
}

#[test]
fn import_refuses_an_absurd_pbkdf2_iteration_count_before_deriving() {
    let env = Env::new();
    let key = genkey(&env, "a.key");
    let cert = openssl_root(&env, "a", &key, &[]);
    let costly = env.path("costly.key");
    openssl(&[
        "pkcs8", "-topk8", "-in", key.to_str().unwrap(), "-v2", "aes-256-cbc", "-iter", "20000000", "-passout",
        "pass:import secret", "-out", costly.to_str().unwrap(),
    ]);
    let args = import_args("costly", cert.to_str().unwrap(), costly.to_str().unwrap());
    let output = env.keyline_env(&args, &[("KEYLINE_IMPORT_PASSPHRASE", "import secret"), ("KEYLINE_CA_PASSPHRASE", PASS)]);
    let stderr = failed_with(output, "unsupported");
    assert!(stderr.contains("PBKDF2 with 20000000 iterations") && stderr.contains("5000000 iterations"), "{stderr}");
    assert!(env.snapshot_without_log().is_empty());
}
