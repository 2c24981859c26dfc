//! Fuzzes the strict DER walker on certificates and CSRs: no panic, and every span it reports
//! lies inside the input.
#![no_main]

use keyline_certs::atcacert::der_walk::{walk_certificate, walk_csr};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(layout) = walk_certificate(data) {
        for span in [layout.tbs, layout.serial, layout.issuer, layout.not_before, layout.not_after, layout.subject, layout.public_key, layout.signature] {
            assert!(span.offset + span.count <= data.len());
        }
        for span in [layout.subject_cn, layout.issuer_cn, layout.subject_key_id, layout.auth_key_id].into_iter().flatten() {
            assert!(span.offset + span.count <= data.len());
        }
    }
    if let Ok(layout) = walk_csr(data) {
        assert!(layout.info.offset + layout.info.count <= data.len());
        assert!(layout.signature.offset + layout.signature.count <= data.len());
    }
});
