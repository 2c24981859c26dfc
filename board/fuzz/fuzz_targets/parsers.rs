//! Every board reply parser on arbitrary bytes: none may panic, loop or allocate without bound.
#![no_main]

use keyline_board::parse::{self, esp_helper, rainbowtype};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = parse::normalise(data);
    let _ = parse::identify(&text);
    let _ = parse::pem_block(&text, "CERTIFICATE", "fuzz", 1024);
    let _ = rainbowtype::boot_dump(&text);
    let _ = rainbowtype::serial_reply(data);
    let _ = rainbowtype::public_key_reply(&text);
    let _ = rainbowtype::echo_reply(data, 2);
    let _ = rainbowtype::provisioning_transcript(&text);
    let _ = rainbowtype::configure_reply(&text);
    let after = data.first().map(|b| usize::from(*b)).unwrap_or(0);
    let _ = esp_helper::handshake_version(&text, after);
    if let Some(reply) = esp_helper::command_reply(&text) {
        let _ = esp_helper::device_type(&reply.body);
        let _ = esp_helper::chip_serial(&reply.body);
        let _ = esp_helper::public_key(&reply.body);
        let _ = esp_helper::csr(&reply.body);
    }
    let _ = esp_helper::device_type(&text);
    let _ = esp_helper::chip_serial(&text);
    let _ = esp_helper::public_key(&text);
    let _ = esp_helper::csr(&text);
});
