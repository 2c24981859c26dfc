//! After every CA operation, no file in the data directory (the log included) and no command
//! output holds private key material in plaintext.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine;

use crate::support::{openssl, openssl_root, private_scalar, Env, PASS};

/// Text and binary forms a leaked scalar could take.
fn leak_patterns(scalar: &[u8]) -> Vec<Vec<u8>> {
    let hex_lower: String = scalar.iter().map(|b| format!("{b:02x}")).collect();
    let colon_lower = scalar.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":");
    let mut patterns = vec![
        scalar.to_vec(),
        hex_lower.clone().into_bytes(),
        hex_lower.to_uppercase().into_bytes(),
        colon_lower.clone().into_bytes(),
        colon_lower.to_uppercase().into_bytes(),
    ];
    // Base64 of the scalar at each of the three alignments inside a longer base64 stream,
    // without the last quantum (which depends on the bytes that follow).
    for shift in 0..3 {
        let encoded = STANDARD_NO_PAD.encode(&scalar[shift..]);
        let stable = (encoded.len() / 4 - 1) * 4;
        patterns.push(encoded.as_bytes()[..stable].to_vec());
    }
    patterns.push(STANDARD.encode(scalar).into_bytes());
    patterns
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

#[test]
fn no_private_key_material_appears_in_plaintext_anywhere() {
    let env = Env::new();
    let mut outputs: Vec<u8> = Vec::new();
    let mut run = |args: &[&str], envs: &[(&str, &str)]| {
        let output = env.keyline_env(args, envs);
        outputs.extend_from_slice(&output.stdout);
        outputs.extend_from_slice(&output.stderr);
        output.status.success()
    };
    let pass = [("KEYLINE_CA_PASSPHRASE", PASS)];
    let verbose = [("KEYLINE_CA_PASSPHRASE", PASS), ("KEYLINE_LOG", "trace")];

    assert!(run(&["ca", "create", "--name", "root", "--org", "Acme", "--signer", "signer"], &verbose));

    // Imports in every key format; remember the plaintext keys' scalars.
    let mut outside_scalars = Vec::new();
    let plain = env.path("plain.key");
    openssl(&["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", plain.to_str().unwrap()]);
    let plain_cert = openssl_root(&env, "plain", &plain, &[]);
    outside_scalars.push(private_scalar(&plain, None));
    assert!(run(&["ca", "import", "--name", "plain", "--cert", plain_cert.to_str().unwrap(), "--key", plain.to_str().unwrap()], &verbose));
    let sec1 = env.path("sec1.key");
    openssl(&["ecparam", "-name", "prime256v1", "-genkey", "-out", sec1.to_str().unwrap()]);
    let sec1_cert = openssl_root(&env, "sec1", &sec1, &[]);
    outside_scalars.push(private_scalar(&sec1, None));
    assert!(run(&["ca", "import", "--name", "sec1", "--cert", sec1_cert.to_str().unwrap(), "--key", sec1.to_str().unwrap()], &verbose));
    let enc = env.path("enc.key");
    openssl(&["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes-256-cbc", "-pass", "pass:imp", "-out", enc.to_str().unwrap()]);
    let enc_cert = openssl_root(&env, "enc", &enc, &["-passin", "pass:imp"]);
    outside_scalars.push(private_scalar(&enc, Some("imp")));
    let enc_env = [("KEYLINE_CA_PASSPHRASE", PASS), ("KEYLINE_IMPORT_PASSPHRASE", "imp"), ("KEYLINE_LOG", "trace")];
    assert!(run(&["ca", "import", "--name", "enc", "--cert", enc_cert.to_str().unwrap(), "--key", enc.to_str().unwrap()], &enc_env));

    // Everything else, including failures.
    assert!(run(&["cert", "verification", "--ca", "signer", "--code", "c0de1"], &verbose));
    assert!(run(&["cert", "verification", "--ca", "plain", "--code", "c0de2", "--json"], &pass));
    assert!(run(&["ca", "unlock", "signer", "--json"], &verbose));
    assert!(!run(&["ca", "unlock", "signer"], &[("KEYLINE_CA_PASSPHRASE", "wrong")]));
    assert!(run(&["ca", "list", "--json"], &verbose));
    for name in ["root", "signer", "plain", "sec1", "enc"] {
        assert!(run(&["ca", "show", name, "--json"], &verbose));
        assert!(run(&["ca", "export", name], &pass));
    }
    assert!(!run(&["ca", "import", "--name", "dup", "--cert", plain_cert.to_str().unwrap(), "--key", sec1.to_str().unwrap()], &verbose));
    assert!(!run(&["ca", "create", "--name", "root", "--org", "Acme"], &verbose));

    // Every key in the store, decrypted by openssl, gives the scalars to look for.
    let files = env.snapshot();
    let mut scalars = outside_scalars;
    for path in files.keys().filter(|path| path.extension().is_some_and(|ext| ext == "key")) {
        scalars.push(private_scalar(path, Some(PASS)));
    }
    assert_eq!(scalars.len(), 3 + 5 + 2, "3 outside keys, 5 CA keys, 2 verification keys");
    assert!(files.keys().any(|path| path.ends_with("logs/keyline.log")), "the log file is scanned");
    assert!(files[&env.data_path("logs/keyline.log")].len() > 100, "the log file has content");

    let mut sources: Vec<(String, &[u8])> =
        files.iter().map(|(path, bytes)| (path.display().to_string(), bytes.as_slice())).collect();
    sources.push(("command output".into(), &outputs));
    for (name, bytes) in &sources {
        for marker in ["BEGIN PRIVATE KEY", "BEGIN EC PRIVATE KEY", PASS] {
            assert!(!contains(bytes, marker.as_bytes()), "{name} contains {marker:?}");
        }
        for (index, scalar) in scalars.iter().enumerate() {
            for pattern in leak_patterns(scalar) {
                assert!(!contains(bytes, &pattern), "{name} contains key #{index} in plaintext");
            }
        }
    }
}
