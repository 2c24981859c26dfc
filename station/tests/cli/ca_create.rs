//! `keyline ca create`, `list`, `show`, `export`.

use crate::support::{openssl, x509_text, Env, PASS};

fn extension_value<'a>(text: &'a str, header: &str) -> &'a str {
    let start = text.find(header).unwrap_or_else(|| panic!("{header} missing in\n{text}"));
    text[start + header.len()..].lines().nth(1).unwrap().trim()
}

fn serial_hex(cert: &std::path::Path) -> String {
    let out = openssl(&["x509", "-in", cert.to_str().unwrap(), "-noout", "-serial"]);
    out.trim().strip_prefix("serial=").unwrap().to_owned()
}

#[test]
fn root_and_signer_are_verified_by_openssl_with_the_required_extensions() {
    let env = Env::new();
    env.create_root_and_signer();
    let root = env.data_path("certs/root.crt");
    let signer = env.data_path("certs/signer.crt");

    let verify = openssl(&["verify", "-x509_strict", "-CAfile", root.to_str().unwrap(), signer.to_str().unwrap()]);
    assert!(verify.contains(": OK"), "{verify}");

    let root_text = x509_text(&root);
    let signer_text = x509_text(&signer);
    for text in [&root_text, &signer_text] {
        assert!(text.contains("X509v3 Basic Constraints: critical"), "{text}");
        assert!(text.contains("X509v3 Key Usage: critical"), "{text}");
        assert_eq!(extension_value(text, "X509v3 Key Usage: critical"), "Certificate Sign, CRL Sign");
        assert!(text.contains("Signature Algorithm: ecdsa-with-SHA256"), "{text}");
        assert!(text.contains("ASN1 OID: prime256v1"), "{text}");
        assert!(text.contains("X509v3 Subject Key Identifier"), "{text}");
    }
    assert_eq!(extension_value(&root_text, "X509v3 Basic Constraints: critical"), "CA:TRUE");
    assert_eq!(extension_value(&signer_text, "X509v3 Basic Constraints: critical"), "CA:TRUE, pathlen:0");
    assert!(root_text.contains("Subject: O = Acme Corp, CN = root"), "{root_text}");
    assert!(signer_text.contains("Issuer: O = Acme Corp, CN = root"), "{signer_text}");

    let root_ski = extension_value(&root_text, "X509v3 Subject Key Identifier:");
    let signer_aki = extension_value(&signer_text, "X509v3 Authority Key Identifier:");
    assert_eq!(signer_aki.trim_start_matches("keyid:"), root_ski);

    for cert in [&root, &signer] {
        let serial = serial_hex(cert);
        assert!(serial.len() >= 32, "serial {serial} is shorter than 16 bytes");
        assert!(u8::from_str_radix(&serial[..2], 16).unwrap() < 0x80, "serial {serial} would be negative");
    }
    assert_ne!(serial_hex(&root), serial_hex(&signer));
}

#[test]
fn ca_keys_are_scrypt_encrypted_pkcs8_that_openssl_reads_and_files_are_private() {
    let env = Env::new();
    env.create_root_and_signer();
    for name in ["root", "signer"] {
        let key = env.data_path(&format!("keys/{name}.key"));
        let text = std::fs::read_to_string(&key).unwrap();
        assert!(text.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"), "{text}");
        let asn1 = openssl(&["asn1parse", "-in", key.to_str().unwrap()]);
        for expected in ["PBES2", "scrypt", "aes-256-cbc"] {
            assert!(asn1.contains(expected), "{expected} missing in\n{asn1}");
        }
        let public = crate::support::store_key_pkey(&key, PASS, &["-pubout"]);
        let cert_public = crate::support::public_key_of_cert(&env.data_path(&format!("certs/{name}.crt")));
        assert_eq!(public, cert_public, "the key file holds the certificate's key");
        let wrong = crate::support::store_key_pkey_output(&key, "wrong", &["-noout"]);
        assert!(!wrong.status.success());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for (path, _) in env.snapshot() {
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600, "{}", path.display());
        }
        for dir in ["", "certs", "keys", "cloud", "cloud/certs", "cloud/keys", "logs"] {
            let mode = std::fs::metadata(env.data_path(dir)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700, "directory {dir:?}");
        }
    }
}

#[test]
fn list_show_and_export_report_what_openssl_sees() {
    let env = Env::new();
    env.create_root_and_signer();
    let list = env.json(&["ca", "list"]);
    let cas = list.as_array().unwrap();
    assert_eq!(cas.len(), 2);
    let signer = &cas[1];
    assert_eq!(signer["name"], "signer");
    assert_eq!(signer["role"], "signer");
    assert_eq!(signer["issuerName"], "root");
    assert_eq!(signer["keyStatus"], "locked", "a new process holds no passphrase");
    let chain: Vec<&str> = signer["chain"].as_array().unwrap().iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(chain, ["signer", "root"]);
    assert!(signer["daysUntilExpiry"].as_i64().unwrap() > 3600);
    assert_eq!(cas[0]["role"], "root");

    let cert = env.data_path("certs/signer.crt");
    let sha256 = openssl(&["x509", "-in", cert.to_str().unwrap(), "-noout", "-fingerprint", "-sha256"]);
    assert_eq!(sha256.trim().split('=').nth(1).unwrap(), signer["sha256"].as_str().unwrap());
    let sha1 = openssl(&["x509", "-in", cert.to_str().unwrap(), "-noout", "-fingerprint", "-sha1"]);
    assert_eq!(sha1.trim().split('=').nth(1).unwrap(), signer["sha1"].as_str().unwrap());

    let details = env.json(&["ca", "show", "signer"]);
    assert_eq!(details["name"], "signer");
    assert_eq!(details["signatureAlgorithm"], "ecdsa-with-SHA256");
    assert_eq!(details["pem"].as_str().unwrap(), std::fs::read_to_string(&cert).unwrap());
    let basic = details["extensions"].as_array().unwrap().iter().find(|e| e["name"] == "basicConstraints").unwrap();
    assert_eq!(basic["value"], "CA:TRUE, pathlen:0");
    assert_eq!(basic["critical"], true);
    let text = env.ok(&["ca", "show", "signer"]);
    assert!(text.contains("pathlen:0") && text.contains("chain:    signer -> root"), "{text}");

    let out = env.path("chain.pem");
    env.ok(&["ca", "export", "signer", "-o", out.to_str().unwrap()]);
    let exported = std::fs::read_to_string(&out).unwrap();
    let root_pem = std::fs::read_to_string(env.data_path("certs/root.crt")).unwrap();
    assert_eq!(exported, format!("{}{}", std::fs::read_to_string(&cert).unwrap(), root_pem));
    assert_eq!(env.ok(&["ca", "export", "root"]), root_pem);
}

#[test]
fn years_sets_the_validity() {
    let env = Env::new();
    env.ok(&["ca", "create", "--name", "short", "--org", "Acme", "--years", "2"]);
    let days = env.json(&["ca", "show", "short"])["daysUntilExpiry"].as_i64().unwrap();
    assert!((729..=731).contains(&days), "{days}");
}
