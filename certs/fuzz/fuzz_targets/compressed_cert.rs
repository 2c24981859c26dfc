//! Fuzzes the 72-byte compressed-certificate decoder: it must never panic, and whatever it
//! accepts must re-encode to the same bytes.
#![no_main]

use keyline_certs::atcacert::CompressedCert;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(cert) = CompressedCert::from_bytes(data) {
        let again = cert.to_bytes().expect("a decoded certificate re-encodes");
        assert_eq!(&again[..], data);
    }
});
