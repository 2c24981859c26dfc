//! `keyline ca import` of CAs made by the openssl CLI, in every key format.

use crate::support::{failed_with, openssl, openssl_root, public_key_of_cert, Env, PASS};

fn check_imported(env: &Env, name: &str, original_cert: &std::path::Path) {
    let stored_cert = env.data_path(&format!("certs/{name}.crt"));
    let fingerprint = |path: &std::path::Path| {
        openssl(&["x509", "-in", path.to_str().unwrap(), "-noout", "-fingerprint", "-sha256"])
    };
    assert_eq!(fingerprint(&stored_cert), fingerprint(original_cert));
    let key = env.data_path(&format!("keys/{name}.key"));
    assert!(std::fs::read_to_string(&key).unwrap().starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    let public = crate::support::store_key_pkey(&key, PASS, &["-pubout"]);
    assert_eq!(public, public_key_of_cert(original_cert), "re-encrypted key is the imported key");
}

#[test]
fn imports_an_openssl_root_with_a_plain_pkcs8_key() {
    let env = Env::new();
    let key = env.path("plain.key");
    openssl(&["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key.to_str().unwrap()]);
    assert!(std::fs::read_to_string(&key).unwrap().contains("BEGIN PRIVATE KEY"));
    let cert = openssl_root(&env, "plain", &key, &[]);
    let summary = env.json(&["ca", "import", "--name", "ext", "--cert", cert.to_str().unwrap(), "--key", key.to_str().unwrap()]);
    assert_eq!(summary["role"], "root");
    assert_eq!(summary["subject"], "O=External, CN=External Root");
    check_imported(&env, "ext", &cert);
}

#[test]
fn imports_a_sec1_key_with_ec_parameters_block() {
    let env = Env::new();
    let key = env.path("sec1.key");
    openssl(&["ecparam", "-name", "prime256v1", "-genkey", "-out", key.to_str().unwrap()]);
    let text = std::fs::read_to_string(&key).unwrap();
    assert!(text.contains("BEGIN EC PARAMETERS") && text.contains("BEGIN EC PRIVATE KEY"));
    let cert = openssl_root(&env, "sec1", &key, &[]);
    env.ok(&["ca", "import", "--name", "sec1", "--cert", cert.to_str().unwrap(), "--key", key.to_str().unwrap()]);
    check_imported(&env, "sec1", &cert);
}

#[test]
fn imports_an_encrypted_pkcs8_key_with_its_own_passphrase() {
    let env = Env::new();
    let key = env.path("enc.key");
    openssl(&[
        "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes-256-cbc", "-pass",
        "pass:import secret", "-out", key.to_str().unwrap(),
    ]);
    let cert = openssl_root(&env, "enc", &key, &["-passin", "pass:import secret"]);
    let args = ["ca", "import", "--name", "enc", "--cert", cert.to_str().unwrap(), "--key", key.to_str().unwrap(), "--json"];

    let no_passphrase = env.keyline_env(&args, &[]);
    let stderr = failed_with(no_passphrase, "passphrase_required");
    assert!(stderr.contains("KEYLINE_IMPORT_PASSPHRASE"), "{stderr}");

    let wrong = env.keyline_env(&args, &[("KEYLINE_IMPORT_PASSPHRASE", "nope"), ("KEYLINE_CA_PASSPHRASE", PASS)]);
    failed_with(wrong, "wrong_passphrase");
    assert!(!env.data_path("certs/enc.crt").exists() && !env.data_path("keys/enc.key").exists());

    let right = env.keyline_env(&args, &[("KEYLINE_IMPORT_PASSPHRASE", "import secret"), ("KEYLINE_CA_PASSPHRASE", PASS)]);
    crate::support::succeeded(right, &args);
    check_imported(&env, "enc", &cert);
    let import_pass = openssl_output_ok_with(&env, "enc", "import secret");
    assert!(!import_pass, "the stored key is no longer under the import passphrase");
}

fn openssl_output_ok_with(env: &Env, name: &str, passphrase: &str) -> bool {
    let key = env.data_path(&format!("keys/{name}.key"));
    crate::support::store_key_pkey_output(&key, passphrase, &["-noout"]).status.success()
}

#[test]
fn an_openssl_intermediate_under_a_keyline_root_links_to_its_parent() {
    let env = Env::new();
    env.ok(&["ca", "create", "--name", "root", "--org", "Acme"]);
    let key = env.path("int.key");
    openssl(&["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key.to_str().unwrap()]);
    let csr = env.path("int.csr");
    openssl(&["req", "-new", "-key", key.to_str().unwrap(), "-subj", "/O=Acme/CN=OpenSSL Signer", "-out", csr.to_str().unwrap()]);
    let ext = env.path("ext.cnf");
    std::fs::write(&ext, "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n").unwrap();
    let cert = env.path("int.crt");
    let root_key = env.path("root-plain.key");
    crate::support::store_key_pkey(&env.data_path("keys/root.key"), PASS, &["-out", root_key.to_str().unwrap()]);
    openssl(&[
        "x509", "-req", "-in", csr.to_str().unwrap(), "-CA", env.data_path("certs/root.crt").to_str().unwrap(),
        "-CAkey", root_key.to_str().unwrap(), "-CAcreateserial",
        "-days", "100", "-extfile", ext.to_str().unwrap(), "-out", cert.to_str().unwrap(),
    ]);
    let summary = env.json(&["ca", "import", "--name", "ossl-signer", "--cert", cert.to_str().unwrap(), "--key", key.to_str().unwrap()]);
    assert_eq!(summary["role"], "signer");
    assert_eq!(summary["issuerName"], "root");
    let chain: Vec<&str> = summary["chain"].as_array().unwrap().iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(chain, ["ossl-signer", "root"]);
}

#[test]
fn a_signer_imported_before_its_root_is_linked_when_the_root_arrives() {
    let source = Env::new();
    source.create_root_and_signer();
    let env = Env::new();
    let import = |name: &str| {
        let plain = env.path(&format!("{name}.key"));
        crate::support::store_key_pkey(&source.data_path(&format!("keys/{name}.key")), PASS, &["-out", plain.to_str().unwrap()]);
        let cert = source.data_path(&format!("certs/{name}.crt"));
        env.json(&["ca", "import", "--name", name, "--cert", cert.to_str().unwrap(), "--key", plain.to_str().unwrap()])
    };
    let signer = import("signer");
    assert_eq!(signer["issuerName"], serde_json::Value::Null);
    assert_eq!(signer["chain"].as_array().unwrap().len(), 2, "ends with the unknown issuer");
    assert_eq!(signer["chain"][1]["name"], serde_json::Value::Null);
    import("root");
    let signer = env.json(&["ca", "show", "signer"]);
    assert_eq!(signer["issuerName"], "root");
}
