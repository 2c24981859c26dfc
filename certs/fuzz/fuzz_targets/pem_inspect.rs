//! Fuzzes PEM splitting and certificate inspection (imported CA certificates, certificates read back from a board):
//! no panic on any text or DER.
#![no_main]

use keyline_certs::{pem_blocks, CertInfo};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = CertInfo::from_der(data);
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(blocks) = pem_blocks("fuzz input", text) {
            assert!(blocks.len() <= text.len());
        }
        let _ = CertInfo::from_pem(text);
    }
});
