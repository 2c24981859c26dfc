//! `keyline cert verification`: AWS IoT verification certificates.

use crate::support::{failed_with, openssl, public_key_of_cert, store_key_pkey, Env, PASS};

const CODE: &str = "6b3f8c2d1e0a49587f6e5d4c3b2a19087f6e5d4c3b2a19080f1e2d3c4b5a6978";

#[test]
fn the_certificate_has_the_code_as_cn_and_chains_to_the_root() {
    let env = Env::new();
    env.create_root_and_signer();
    let result = env.json(&["cert", "verification", "--ca", "signer", "--code", CODE]);
    let cert = env.data_path(&format!("cloud/certs/signer-{CODE}.pem"));
    let key = env.data_path(&format!("cloud/keys/signer-{CODE}.key"));
    assert_eq!(result["certPath"].as_str().unwrap(), cert.to_str().unwrap());
    assert_eq!(result["keyPath"].as_str().unwrap(), key.to_str().unwrap());
    assert_eq!(result["pem"].as_str().unwrap(), std::fs::read_to_string(&cert).unwrap());

    let subject = openssl(&["x509", "-in", cert.to_str().unwrap(), "-noout", "-subject"]);
    assert_eq!(subject.trim(), format!("subject=CN = {CODE}"));
    let verify = openssl(&[
        "verify", "-x509_strict", "-CAfile", env.data_path("certs/root.crt").to_str().unwrap(), "-untrusted",
        env.data_path("certs/signer.crt").to_str().unwrap(), cert.to_str().unwrap(),
    ]);
    assert!(verify.contains(": OK"), "{verify}");

    let key_text = std::fs::read_to_string(&key).unwrap();
    assert!(key_text.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    let public = store_key_pkey(&key, PASS, &["-pubout"]);
    assert_eq!(public, public_key_of_cert(&cert));

    let before = env.snapshot_without_log();
    failed_with(env.keyline(&["cert", "verification", "--ca", "signer", "--code", CODE, "--json"]), "already_exists");
    assert_eq!(env.snapshot_without_log(), before);

    // The code is per account: a second CA registered in the same account gets its own certificate for it.
    env.ok(&["cert", "verification", "--ca", "root", "--code", CODE]);
    assert!(env.data_path(&format!("cloud/certs/root-{CODE}.pem")).exists());
}

#[test]
fn a_root_ca_can_sign_a_verification_certificate_too() {
    let env = Env::new();
    env.ok(&["ca", "create", "--name", "root", "--org", "Acme"]);
    env.ok(&["cert", "verification", "--ca", "root", "--code", "abc"]);
    let verify = openssl(&[
        "verify", "-x509_strict", "-CAfile", env.data_path("certs/root.crt").to_str().unwrap(),
        env.data_path("cloud/certs/root-abc.pem").to_str().unwrap(),
    ]);
    assert!(verify.contains(": OK"), "{verify}");
    failed_with(env.keyline(&["cert", "verification", "--ca", "root", "--code", "../x", "--json"]), "invalid_name");
}
