//! `keyline template cert-chain` and `keyline cert sign`, checked with openssl and with gcc
//! compiling the generated cert_chain.c against CryptoAuthLib's own headers and sources.

#[allow(dead_code)]
#[path = "cli/support.rs"]
mod support;

use std::path::Path;
use std::process::Command;

use support::{failed_with, openssl, Env};

fn openssl_csr(env: &Env, cn: &str) -> String {
    let csr = env.path("device.csr");
    let subj = format!("/CN={cn}");
    openssl(&[
        "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
        env.path("device.key").to_str().unwrap(), "-subj", &subj, "-out", csr.to_str().unwrap(),
    ]);
    csr.to_str().unwrap().to_string()
}

fn compiles_with_cryptoauthlib(dir: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/cryptoauthlib/build-harness.sh");
    let out = Command::new("bash").arg(script).arg(dir).arg(dir.join("harness")).output().expect("bash runs");
    assert!(out.status.success(), "cert_chain.c does not build with CryptoAuthLib: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn cert_chain_files_are_written_and_compile_with_cryptoauthlib() {
    let env = Env::new();
    env.create_root_and_signer();
    for profile in ["rainbowtype", "esp-cryptoauthlib"] {
        let dir = env.path(profile);
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("cert_chain.c");
        let result = env.json(&["template", "cert-chain", "--ca", "signer", "--profile", profile, "-o", out.to_str().unwrap()]);
        assert_eq!(result["profile"], profile);
        assert_eq!(std::fs::read_to_string(&out).unwrap(), result["certChainC"].as_str().unwrap());
        assert_eq!(std::fs::read_to_string(dir.join("cert_chain.h")).unwrap(), result["certChainH"].as_str().unwrap());
        assert!(result["slotMap"].as_array().unwrap().iter().any(|row| row["slot"] == 10 && row["contents"] == "device compressed certificate"));
        assert_eq!(result["signerCertDefString"].is_string(), profile == "esp-cryptoauthlib");
        compiles_with_cryptoauthlib(&dir);
    }
    let source = std::fs::read_to_string(env.path("rainbowtype/cert_chain.c")).unwrap();
    assert!(source.contains("\natcacert_def_t g_cert_def_2_device = {"), "rainbowtype's device definition is writable");
    assert!(source.contains(".public_key_dev_loc = { .zone = DEVZONE_DATA, .slot = 15, .is_genkey = 0, .offset = 0, .count = 72 }"));
}

#[test]
fn a_ca_store_signer_cannot_be_placed_in_trustflex_slots_and_the_hint_says_how() {
    let env = Env::new();
    env.create_root_and_signer();
    let output = env.keyline(&["template", "cert-chain", "--ca", "signer", "--profile", "trustflex", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON error report");
    let message = failed_with(output, "invalid_input");
    assert!(message.contains("trustflex"), "{message}");
    let hint = report["error"]["hint"].as_str().unwrap();
    assert!(hint.contains("keyline ca create") && hint.contains("--profile trustflex") && hint.contains("--signer-cn"), "{hint}");
    failed_with(env.keyline(&["template", "cert-chain", "--ca", "signer", "--profile", "nonsense", "--json"]), "invalid_input");
}

/// Following that hint: `ca create --profile P` makes a signer every profile's cert_chain.c
/// rebuilds, and device certificates signed by it verify with openssl.
#[test]
fn ca_create_with_a_profile_makes_a_signer_that_fits_it() {
    let env = Env::new();
    let csr = openssl_csr(&env, "0123abcdef010203ee");
    for profile in ["rainbowtype", "esp-cryptoauthlib", "trustflex"] {
        let (root, signer) = (format!("root-{profile}"), format!("signer-{profile}"));
        env.ok(&["ca", "create", "--name", &root, "--org", "Acme Corp", "--signer", &signer, "--profile", profile]);
        let signer_pem = env.data_path(&format!("certs/{signer}.crt"));
        let subject = openssl(&["x509", "-noout", "-subject", "-in", signer_pem.to_str().unwrap()]);
        if profile == "trustflex" {
            let id = subject.trim().rsplit(' ').next().unwrap();
            assert!(id.len() == 4 && id.bytes().all(|b| b.is_ascii_hexdigit()), "trustflex signer CN ends in the signer ID: {subject}");
        }
        let dir = env.path(profile);
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("cert_chain.c");
        env.json(&["template", "cert-chain", "--ca", &signer, "--profile", profile, "-o", out.to_str().unwrap()]);
        compiles_with_cryptoauthlib(&dir);
        let pem = dir.join("device.pem");
        env.json(&["cert", "sign", "--ca", &signer, "--csr", &csr, "--profile", profile, "--serial", "0123ABCDEF010203EE", "-o", pem.to_str().unwrap()]);
        let verify = openssl(&[
            "verify", "-x509_strict", "-CAfile", env.data_path(&format!("certs/{root}.crt")).to_str().unwrap(), "-untrusted",
            signer_pem.to_str().unwrap(), pem.to_str().unwrap(),
        ]);
        assert!(verify.contains(": OK"), "{profile}: {verify}");
    }
    // A chosen CN must carry the signer ID for trustflex; the refusal says so.
    let message = failed_with(
        env.keyline(&["ca", "create", "--name", "r2", "--org", "Acme", "--signer", "s2", "--profile", "trustflex", "--signer-cn", "Line Signer", "--json"]),
        "invalid_input",
    );
    assert!(message.contains("four hex digits"), "{message}");
    env.ok(&["ca", "create", "--name", "r3", "--org", "Acme", "--signer", "s3", "--profile", "trustflex", "--signer-cn", "Line 7 Signer 00A1"]);
    let subject = openssl(&["x509", "-noout", "-subject", "-in", env.data_path("certs/s3.crt").to_str().unwrap()]);
    assert!(subject.trim().ends_with("CN = Line 7 Signer 00A1"), "{subject}");
}

#[test]
fn cert_sign_issues_a_chain_openssl_accepts() {
    let env = Env::new();
    env.create_root_and_signer();
    let csr = openssl_csr(&env, "0123abcdef010203ee");
    let pem = env.path("device.pem");
    let result = env.json(&["cert", "sign", "--ca", "signer", "--csr", &csr, "--profile", "rainbowtype", "-o", pem.to_str().unwrap()]);
    assert_eq!(result["commonName"], "0123abcdef010203ee");
    assert_eq!(result["compressedHex"].as_str().unwrap().len(), 144);
    assert!(result["notBefore"].as_str().unwrap().ends_with(":00:00Z"));
    let verify = openssl(&[
        "verify", "-CAfile", env.data_path("certs/root.crt").to_str().unwrap(), "-untrusted",
        env.data_path("certs/signer.crt").to_str().unwrap(), pem.to_str().unwrap(),
    ]);
    assert!(verify.contains(": OK"), "{verify}");

    let esp = env.json(&["cert", "sign", "--ca", "signer", "--csr", &csr, "--profile", "esp-cryptoauthlib", "--serial", "0123ABCDEF010203EE"]);
    assert_eq!(esp["commonName"], "0123ABCDEF010203EE");
    let string = esp["certDefString"].as_str().unwrap();
    assert!(string[..72].bytes().all(|b| b.is_ascii_digit()), "{string}");
}

#[test]
fn cert_sign_refuses_a_tampered_csr_and_a_long_subject() {
    let env = Env::new();
    env.create_root_and_signer();
    let csr = openssl_csr(&env, "0123abcdef010203ee");
    let der = env.path("device.der");
    openssl(&["req", "-in", &csr, "-outform", "DER", "-out", der.to_str().unwrap()]);
    let mut bytes = std::fs::read(&der).unwrap();
    let n = bytes.len();
    bytes[n - 2] ^= 1;
    std::fs::write(&der, bytes).unwrap();
    let message = failed_with(env.keyline(&["cert", "sign", "--ca", "signer", "--csr", der.to_str().unwrap(), "--profile", "rainbowtype", "--json"]), "invalid_input");
    assert!(message.contains("does not verify"), "{message}");

    let long = openssl_csr(&env, "0123abcdef010203eeff");
    let message = failed_with(env.keyline(&["cert", "sign", "--ca", "signer", "--csr", &long, "--profile", "rainbowtype", "--json"]), "invalid_input");
    assert!(message.contains("holds 18"), "{message}");
}
