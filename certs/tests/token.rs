//! CA keys in a PKCS#11 token, against SoftHSM2 (Debian's `softhsm2`) started by the test in a temp dir. One
//! test function: a process loads a module once, so every check shares this process's token directory.

#[allow(dead_code)]
#[path = "support/softhsm.rs"]
mod softhsm;

use std::process::Command;

use keyline_certs::token::{TokenError, TokenKey, TokenKeyRef};
use keyline_certs::{create_root_ca, CaKey, CaSubject, Validity};
use softhsm::{SoftHsm, PIN};

fn location(hsm: &SoftHsm, token: &str, label: &str) -> TokenKeyRef {
    TokenKeyRef { module: hsm.module.clone(), token: token.into(), key_label: label.into() }
}

#[test]
fn token_keys_are_generated_unextractable_sign_certificates_and_fail_with_typed_errors() {
    let hsm = SoftHsm::new();
    // SAFETY of set_var: this binary has one test, so no other thread reads the environment.
    std::env::set_var("SOFTHSM2_CONF", &hsm.conf);
    hsm.init_token("keyline-ca");

    // A P-384 key imported before the module is loaded here: adopting it is refused as not P-256.
    let p384 = hsm.dir.path().join("p384.pem");
    let made = Command::new("openssl").args(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out"]).arg(&p384).status().unwrap();
    assert!(made.success());
    let imported = Command::new("softhsm2-util")
        .args(["--import", p384.to_str().unwrap(), "--token", "keyline-ca", "--label", "p384", "--id", "0384", "--pin", PIN])
        .env("SOFTHSM2_CONF", &hsm.conf)
        .output()
        .unwrap();
    assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));

    let key = TokenKey::generate(&location(&hsm, "keyline-ca", "root"), PIN).unwrap();
    let protection = key.protection().unwrap();
    assert!(protection.sensitive && !protection.extractable && protection.never_extractable && protection.always_sensitive, "{protection:?}");

    let key = CaKey::Token(key);
    let subject = CaSubject { common_name: "root".into(), organization: "Acme".into() };
    let root = create_root_ca(&subject, Validity::years_from(time::OffsetDateTime::now_utc(), 5), &key).unwrap();
    assert!(root.is_self_signed(), "the token's signature verifies");

    // Opening by label finds the same key.
    let again = TokenKey::open(&location(&hsm, "keyline-ca", "root"), PIN).unwrap();
    assert!(key.matches(&again.public_key()));

    let err = |location: TokenKeyRef, pin: &str| TokenKey::open(&location, pin).unwrap_err();
    assert_eq!(err(location(&hsm, "keyline-ca", "root"), "000000"), TokenError::WrongPin { token: "keyline-ca".into() });
    assert_eq!(err(location(&hsm, "keyline-ca", "nope"), PIN), TokenError::KeyLabelMissing { token: "keyline-ca".into(), label: "nope".into() });
    assert!(matches!(err(location(&hsm, "keyline-ca", "p384"), PIN), TokenError::NotP256 { .. }));
    let TokenError::TokenNotFound { available, .. } = err(location(&hsm, "other", "root"), PIN) else { panic!("token not found expected") };
    assert_eq!(available, ["keyline-ca"]);
    let missing = TokenKeyRef { module: hsm.dir.path().join("libnothing.so"), token: "keyline-ca".into(), key_label: "root".into() };
    assert!(matches!(err(missing, PIN), TokenError::ModuleNotFound { .. }));
    assert!(matches!(
        TokenKey::generate(&location(&hsm, "keyline-ca", "root"), PIN).unwrap_err(),
        TokenError::KeyLabelTaken { .. }
    ));
}
