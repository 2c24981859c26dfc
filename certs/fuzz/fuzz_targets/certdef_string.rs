//! Fuzzes the Espressif cert-def string decoder (text a board's helper firmware sends): no panic on any input.
#![no_main]

use keyline_certs::atcacert::certdef_string::decode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = decode(text);
    }
});
