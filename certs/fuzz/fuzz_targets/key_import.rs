//! Fuzzes CA key import: SEC1, PKCS#8 and encrypted PKCS#8 PEM, and Keyline's sealed PKCS#8, with a passphrase.
//! No panic; the KDF limits are checked before any work, so no input makes one run slow or large.
#![no_main]

use keyline_certs::{open_sealed_pkcs8, EcKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = EcKey::from_pem(text, Some(b"fuzz passphrase"));
        let _ = EcKey::from_pem(text, None);
    }
    // The encrypted PKCS#8 DER itself (what a PEM block decodes to).
    let _ = open_sealed_pkcs8(data, b"fuzz passphrase");
});
