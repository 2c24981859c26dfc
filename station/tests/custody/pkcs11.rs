//! `ca create --pkcs11-module`, `ca import --pkcs11-module`, and signing through the token.

use std::path::Path;
use std::process::Output;

use crate::softhsm::{SoftHsm, PIN};
use crate::support::{failed_with, in_keyring_session, openssl, succeeded, Env, PASS};

const CODE: &str = "6b3f8c2d1e0a49587f6e5d4c3b2a19087f6e5d4c3b2a19080f1e2d3c4b5a6978";

/// Run keyline against the test's SoftHSM2 with the token PIN `pin`.
fn with_token(env: &Env, hsm: &SoftHsm, pin: &str, args: &[&str]) -> Output {
    let conf = hsm.conf.to_str().unwrap();
    env.keyline_env(args, &[("SOFTHSM2_CONF", conf), ("KEYLINE_TOKEN_PIN", pin), ("KEYLINE_CA_PASSPHRASE", PASS)])
}

fn ok(env: &Env, hsm: &SoftHsm, args: &[&str]) -> String {
    succeeded(with_token(env, hsm, PIN, args), args)
}

fn openssl_csr(env: &Env) -> String {
    let csr = env.path("device.csr");
    openssl(&[
        "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
        env.path("device.key").to_str().unwrap(), "-subj", "/CN=0123abcdef010203ee", "-out", csr.to_str().unwrap(),
    ]);
    csr.to_str().unwrap().to_string()
}

fn verify(root: &Path, signer: Option<&Path>, cert: &Path) {
    let mut args = vec!["verify", "-x509_strict", "-CAfile", root.to_str().unwrap()];
    if let Some(signer) = signer {
        args.extend(["-untrusted", signer.to_str().unwrap()]);
    }
    args.push(cert.to_str().unwrap());
    let out = openssl(&args);
    assert!(out.contains(": OK"), "{out}");
}

#[test]
fn a_ca_created_in_a_token_signs_device_and_verification_certificates_and_no_key_is_on_disk() {
    let hsm = SoftHsm::new();
    hsm.init_token("line");
    let env = Env::new();
    ok(&env, &hsm, &[
        "ca", "create", "--name", "root", "--org", "Acme", "--signer", "signer", "--profile", "rainbowtype",
        "--pkcs11-module", hsm.module_arg(), "--token", "line",
    ]);

    // The store records where the keys are and holds none.
    let cas = std::fs::read_to_string(env.data_path("cas.json")).unwrap();
    assert!(cas.contains("\"token\": \"line\"") && cas.contains("\"keyLabel\": \"signer\"") && cas.contains(hsm.module_arg()), "{cas}");
    assert_eq!(std::fs::read_dir(env.data_path("keys")).unwrap().count(), 0, "no key files");
    let shown = ok(&env, &hsm, &["ca", "show", "signer"]);
    assert!(shown.contains(&format!("custody:  in PKCS#11 token \"line\" (key \"signer\", module {})", hsm.module_arg())), "{shown}");

    // A device certificate signed in the token (the CLI unlocks the signer with the PIN).
    let csr = openssl_csr(&env);
    let device = env.path("device.pem");
    ok(&env, &hsm, &["cert", "sign", "--ca", "signer", "--csr", &csr, "--profile", "rainbowtype", "-o", device.to_str().unwrap()]);
    verify(&env.data_path("certs/root.crt"), Some(&env.data_path("certs/signer.crt")), &device);

    // An AWS IoT verification certificate signed in the token; no throwaway key file under a PIN.
    let made: serde_json::Value =
        serde_json::from_str(&ok(&env, &hsm, &["cert", "verification", "--ca", "signer", "--code", CODE, "--json"])).unwrap();
    assert!(made["keyPath"].is_null(), "{made}");
    verify(&env.data_path("certs/root.crt"), Some(&env.data_path("certs/signer.crt")), &env.data_path(&format!("cloud/certs/signer-{CODE}.pem")));

    // Nothing in the data directory is a private key.
    for (path, bytes) in env.snapshot() {
        assert!(!String::from_utf8_lossy(&bytes).contains("PRIVATE KEY"), "{} holds a private key", path.display());
    }

    // A wrong PIN is refused with its own code and changes nothing.
    let before = env.snapshot_without_log();
    let stderr = failed_with(
        with_token(&env, &hsm, "000000", &["cert", "sign", "--ca", "signer", "--csr", &csr, "--profile", "rainbowtype", "--json"]),
        "token_wrong_pin",
    );
    assert!(stderr.contains("refused the PIN"), "{stderr}");
    assert_eq!(env.snapshot_without_log(), before);
}

#[test]
fn an_existing_token_key_is_adopted_by_its_label() {
    let hsm = SoftHsm::new();
    hsm.init_token("vault");
    // The key and certificate made elsewhere (another station's store on the same token).
    let maker = Env::new();
    ok(&maker, &hsm, &["ca", "create", "--name", "acme-root", "--org", "Acme", "--pkcs11-module", hsm.module_arg(), "--token", "vault"]);
    let cert = maker.data_path("certs/acme-root.crt");

    let env = Env::new();
    let module = hsm.module_arg();
    let cert_arg = cert.to_str().unwrap();
    failed_with(
        with_token(&env, &hsm, PIN, &["ca", "import", "--name", "adopted", "--cert", cert_arg, "--pkcs11-module", module, "--token", "vault", "--key-label", "missing", "--json"]),
        "token_key_missing",
    );
    failed_with(
        with_token(&env, &hsm, PIN, &["ca", "import", "--name", "adopted", "--cert", cert_arg, "--pkcs11-module", module, "--token", "nope", "--key-label", "acme-root", "--json"]),
        "token_not_found",
    );
    failed_with(
        with_token(&env, &hsm, PIN, &["ca", "import", "--name", "adopted", "--cert", cert_arg, "--pkcs11-module", "/nonexistent/libpkcs11.so", "--token", "vault", "--key-label", "acme-root", "--json"]),
        "token_module_not_found",
    );
    failed_with(
        with_token(&env, &hsm, "999999", &["ca", "import", "--name", "adopted", "--cert", cert_arg, "--pkcs11-module", module, "--token", "vault", "--key-label", "acme-root", "--json"]),
        "token_wrong_pin",
    );
    // A new CA whose signer label is taken is refused before any key is made (the root's label stays free).
    failed_with(
        with_token(&env, &hsm, PIN, &["ca", "create", "--name", "fresh", "--org", "Acme", "--signer", "acme-root", "--pkcs11-module", module, "--token", "vault", "--json"]),
        "token_key_exists",
    );
    failed_with(
        with_token(&env, &hsm, PIN, &["ca", "import", "--name", "fresh", "--cert", cert_arg, "--pkcs11-module", module, "--token", "vault", "--key-label", "fresh", "--json"]),
        "token_key_missing",
    );
    ok(&env, &hsm, &["ca", "import", "--name", "adopted", "--cert", cert_arg, "--pkcs11-module", module, "--token", "vault", "--key-label", "acme-root"]);
    assert_eq!(std::fs::read_dir(env.data_path("keys")).unwrap().count(), 0, "no key files");
    ok(&env, &hsm, &["cert", "verification", "--ca", "adopted", "--code", "abc"]);
    verify(&cert, None, &env.data_path("cloud/certs/adopted-abc.pem"));

    // Without --cert the certificate comes from the token (ca create stored it under the key's label).
    let third = Env::new();
    ok(&third, &hsm, &["ca", "import", "--name", "from-token", "--pkcs11-module", module, "--token", "vault", "--key-label", "acme-root"]);
    assert_eq!(std::fs::read(third.data_path("certs/from-token.crt")).unwrap(), std::fs::read(&cert).unwrap());
}

/// The token PIN remembered in the OS keyring (a private gnome-keyring in its own D-Bus session) signs without
/// being typed; once forgotten it is asked for again.
#[test]
fn the_token_pin_comes_from_the_os_keyring_once_remembered() {
    let hsm = SoftHsm::new();
    hsm.init_token("kr");
    let env = Env::new();
    ok(&env, &hsm, &["ca", "create", "--name", "root", "--org", "Acme", "--signer", "signer", "--pkcs11-module", hsm.module_arg(), "--token", "kr"]);
    let script = format!(
        r#"KEYLINE_TOKEN_PIN='{PIN}' "$K" ca unlock signer --remember --json > remember.json
"$K" cert verification --ca signer --code fromkeyring --json > verification.json
"$K" ca forget signer --json > forget.json
if "$K" cert verification --ca signer --code afterforget --json > after.json 2>/dev/null; then exit 3; fi
"#
    );
    let output = in_keyring_session(&env, &script, &[("SOFTHSM2_CONF", hsm.conf.as_path())]);
    assert!(output.status.success(), "keyring script failed: {}", String::from_utf8_lossy(&output.stderr));
    let read = |name: &str| -> serde_json::Value { serde_json::from_str(&std::fs::read_to_string(env.path(name)).unwrap()).unwrap() };
    assert_eq!(read("remember.json")["keyStatus"], "remembered");
    verify(&env.data_path("certs/root.crt"), Some(&env.data_path("certs/signer.crt")), &env.data_path("cloud/certs/signer-fromkeyring.pem"));
    assert_eq!(read("forget.json")["keyStatus"], "locked");
    let after = read("after.json");
    assert_eq!(after["error"]["code"], "passphrase_required", "{after}");
    assert!(after["error"]["message"].as_str().unwrap().contains("PIN"), "{after}");
}
