//! Fuzz the `/rtserver` JSON action decoder; accepted actions must re-encode to something
//! that decodes to the same action.
#![no_main]

use keyline_ota::protocol::Action;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(action) = Action::decode(data) {
        let again = Action::decode(action.encode().as_bytes()).expect("re-encoded action decodes");
        if !matches!(action, Action::ResponseAllState { .. }) {
            assert_eq!(again, action);
        }
    }
});
