//! Fuzz the ESP32 app image parser (header, segments, descriptor, signature sector) and, on
//! images it accepts, the Secure Boot v2 verifier.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(image) = keyline_ota::AppImage::parse(data) {
        assert!(image.image_len <= data.len());
        if image.is_signed() {
            let _ = keyline_ota::secure_boot::verify_image(data, None);
        }
    }
});
