//! `ca create --separate-root-passphrase`, `ca offline-root`, `ca restore-root` and `ca create-signer`.

use crate::support::{failed_with, openssl, openssl_output, succeeded, Env, PASS};

const ROOT_PASS: &str = "a different root passphrase";

fn run(env: &Env, args: &[&str], envs: &[(&str, &str)]) -> std::process::Output {
    env.keyline_env(args, envs)
}

#[test]
fn the_root_has_its_own_passphrase_and_once_offline_only_issuing_a_signer_needs_it_back() {
    let env = Env::new();
    let both = [("KEYLINE_CA_PASSPHRASE", PASS), ("KEYLINE_ROOT_PASSPHRASE", ROOT_PASS)];
    let signer_only = [("KEYLINE_CA_PASSPHRASE", PASS)];
    let args = ["ca", "create", "--name", "root", "--org", "Acme", "--signer", "signer", "--profile", "rainbowtype", "--separate-root-passphrase"];
    succeeded(run(&env, &args, &both), &args);

    // Each key is under its own passphrase; openssl agrees.
    let root_key = env.data_path("keys/root.key");
    let key_arg = root_key.to_str().unwrap();
    assert!(openssl_output(&["pkey", "-in", key_arg, "-passin", &format!("pass:{PASS}"), "-noout"]).status.code() != Some(0));
    openssl(&["pkey", "-in", key_arg, "-passin", &format!("pass:{ROOT_PASS}"), "-noout"]);
    let signer_key = env.data_path("keys/signer.key");
    openssl(&["pkey", "-in", signer_key.to_str().unwrap(), "-passin", &format!("pass:{PASS}"), "-noout"]);

    // Offline: the exported file is the encrypted PKCS#8 openssl reads with the root passphrase.
    let exported = env.path("root-offline.key");
    let out = exported.to_str().unwrap();
    failed_with(run(&env, &["ca", "offline-root", "root", "-o", out, "--json"], &signer_only), "wrong_passphrase");
    assert!(!exported.exists() && root_key.exists());
    failed_with(run(&env, &["ca", "offline-root", "signer", "-o", out, "--json"], &both), "invalid_input");
    succeeded(run(&env, &["ca", "offline-root", "root", "-o", out], &both), &["ca", "offline-root"]);
    assert!(!root_key.exists(), "the root key left the station");
    assert!(std::fs::read_to_string(&exported).unwrap().starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    let from_file = openssl(&["pkey", "-in", out, "-passin", &format!("pass:{ROOT_PASS}"), "-pubout"]);
    let from_cert = openssl(&["x509", "-in", env.data_path("certs/root.crt").to_str().unwrap(), "-noout", "-pubkey"]);
    assert_eq!(from_file, from_cert);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&exported).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // No file in the data directory holds the root key any more.
    let exported_bytes = std::fs::read(&exported).unwrap();
    assert!(!env.snapshot().values().any(|bytes| *bytes == exported_bytes));

    // Everything else still works with the signer's passphrase alone.
    let listed = env.ok(&["ca", "list"]);
    assert!(listed.contains("custody:  OFFLINE: the root key is not on this station"), "{listed}");
    assert!(listed.contains("custody:  encrypted file on this station"), "the signer's key is still here: {listed}");
    env.ok(&["ca", "export", "signer"]);
    let csr = env.path("device.csr");
    openssl(&[
        "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
        env.path("device.key").to_str().unwrap(), "-subj", "/CN=0123abcdef010203ee", "-out", csr.to_str().unwrap(),
    ]);
    let device = env.path("device.pem");
    env.ok(&["cert", "sign", "--ca", "signer", "--csr", csr.to_str().unwrap(), "--profile", "rainbowtype", "-o", device.to_str().unwrap()]);
    let verify = openssl(&[
        "verify", "-x509_strict", "-CAfile", env.data_path("certs/root.crt").to_str().unwrap(), "-untrusted",
        env.data_path("certs/signer.crt").to_str().unwrap(), device.to_str().unwrap(),
    ]);
    assert!(verify.contains(": OK"), "{verify}");
    env.ok(&["cert", "verification", "--ca", "signer", "--code", "abc"]);

    // Issuing a new signer is the one thing that needs the root: a clear error naming the way back.
    let stderr = failed_with(run(&env, &["ca", "create-signer", "--root", "root", "--name", "signer2", "--json"], &both), "root_offline");
    assert!(stderr.contains("keyline ca restore-root root --key"), "{stderr}");
    failed_with(run(&env, &["cert", "verification", "--ca", "root", "--code", "abc", "--json"], &both), "root_offline");

    // Restored, it issues the new signer, which chains to it.
    succeeded(run(&env, &["ca", "restore-root", "root", "--key", out], &both), &["ca", "restore-root"]);
    assert!(root_key.exists());
    succeeded(run(&env, &["ca", "create-signer", "--root", "root", "--name", "signer2"], &both), &["ca", "create-signer"]);
    let verify = openssl(&[
        "verify", "-x509_strict", "-CAfile", env.data_path("certs/root.crt").to_str().unwrap(),
        env.data_path("certs/signer2.crt").to_str().unwrap(),
    ]);
    assert!(verify.contains(": OK"), "{verify}");
}
