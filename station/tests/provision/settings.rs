//! Station settings: `keyline settings set/show` round-trips through the data directory, out-of-range values are
//! refused with nothing saved, and a saved handshake timeout reaches the board driver (a silent port fails with
//! `timeout` after that time, not the driver's default).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use keyline_station::provision::{provision_board, CancelToken, FirmwareKind, Observer, ProvisionEvent, ProvisionRequest, Step, SystemClock};
use keyline_station::{ErrorCode, Passphrase, Station};

use super::support::{Env, PASS};

#[test]
fn settings_set_round_trip_and_out_of_range_values_are_refused_with_nothing_saved() {
    let env = Env::with_cas();
    let defaults = env.json(&["settings", "show"]);
    assert_eq!(defaults["serial"]["consoleBaud"], 115_200);
    assert_eq!(defaults["serial"]["loaderBaud"], 460_800);
    assert_eq!(defaults["serial"]["rainbowtype"]["handshakeMs"], 5_000, "the rainbowtype driver's boot wait");
    assert_eq!(defaults["serial"]["espHelper"]["handshakeMs"], 10_000, "the helper driver's handshake wait");
    assert!(defaults["stationName"].is_null());

    let set = env.json(&["settings", "set", "--station-name", " Line 3 ", "--loader-baud", "921600", "--timeout", "esp-helper:handshake=250", "--timeout", "write=45000"]);
    let shown = env.json(&["settings", "show"]);
    assert_eq!(set, shown, "what set printed is what was saved");
    assert_eq!(shown["stationName"], "Line 3");
    assert_eq!(shown["serial"]["loaderBaud"], 921_600);
    assert_eq!(shown["serial"]["espHelper"]["handshakeMs"], 250);
    assert_eq!(shown["serial"]["rainbowtype"]["handshakeMs"], 5_000);
    assert_eq!(shown["serial"]["rainbowtype"]["writeMs"], 45_000);
    assert_eq!(shown["serial"]["espHelper"]["writeMs"], 45_000);

    for args in [
        &["--timeout", "handshake=0"][..],
        &["--timeout", "rainbowtype:key=10800000"],
        &["--console-baud", "921600"],
        &["--loader-baud", "1234"],
        &["--timeout", "boot=100"],
        &["--station-name", "tab\there"],
    ] {
        // A valid change beside the refused one: it is not saved either.
        let mut command = vec!["settings", "set", "--loader-baud", "115200"];
        if args[0] == "--loader-baud" {
            command.truncate(2);
        }
        command.extend_from_slice(args);
        let error = env.json_error(&command);
        assert_eq!(error["code"], "invalid_setting", "{args:?}: {error}");
        assert!(error["hint"].as_str().unwrap().contains("Nothing was saved"), "{error}");
    }
    assert_eq!(env.json(&["settings", "show"]), shown, "a refused change saves nothing");

    let reset = env.json(&["settings", "reset"]);
    assert_eq!(reset, defaults);
}

/// A pseudo-terminal nobody answers on: the board side is open and silent.
struct SilentPort {
    master: libc::c_int,
    slave: libc::c_int,
    path: String,
}

impl SilentPort {
    fn open() -> SilentPort {
        let (mut master, mut slave) = (0, 0);
        let mut name = [0 as libc::c_char; 128];
        // SAFETY: openpty writes two descriptors and a NUL-terminated name into the buffers given.
        let rc = unsafe { libc::openpty(&mut master, &mut slave, name.as_mut_ptr(), std::ptr::null_mut(), std::ptr::null_mut()) };
        assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: openpty wrote a NUL-terminated string.
        let path = unsafe { std::ffi::CStr::from_ptr(name.as_ptr()) }.to_string_lossy().into_owned();
        SilentPort { master, slave, path }
    }
}

impl Drop for SilentPort {
    fn drop(&mut self) {
        // SAFETY: both descriptors came from openpty and are closed once.
        unsafe {
            libc::close(self.slave);
            libc::close(self.master);
        }
    }
}

#[test]
fn a_tiny_handshake_timeout_makes_a_silent_port_fail_with_timeout_within_that_time() {
    let env = Env::with_cas();
    env.ok(&["settings", "set", "--timeout", "esp-helper:handshake=300"]);
    let port = SilentPort::open();

    let station = Station::open(env.data.clone()).unwrap();
    station.unlock_ca("signer", &Passphrase::new(PASS.into()), false).unwrap();
    let ca = station.provisioning_ca("signer", keyline_certs::atcacert::Profile::EspCryptoauthlib).unwrap();
    let settings = station.settings().unwrap();
    let request = ProvisionRequest {
        port: port.path.clone(),
        firmware: FirmwareKind::EspHelper,
        reprovision: false,
        station_name: settings.station_name(),
        stop_before_issue: None,
        ram_load: None,
        serial: settings.serial,
        firmware_setup: None,
    };
    let handshake: Arc<Mutex<(Option<Instant>, Option<(Instant, ErrorCode)>)>> = Arc::default();
    let seen = handshake.clone();
    let observer: Observer = Arc::new(move |event: &ProvisionEvent| {
        let mut seen = seen.lock().unwrap();
        match event {
            ProvisionEvent::StepStarted { step: Step::Handshake, .. } => seen.0 = Some(Instant::now()),
            ProvisionEvent::StepFailed { step: Step::Handshake, code, .. } => seen.1 = Some((Instant::now(), *code)),
            _ => {}
        }
    });
    let error = provision_board(&station, &ca, &request, observer, &CancelToken::new(), Arc::new(SystemClock)).unwrap_err();
    assert_eq!(error.code(), ErrorCode::Timeout, "{error}");
    assert_eq!(error.step(), Some(Step::Handshake), "{error}");
    let (started, failed) = *handshake.lock().unwrap();
    let (failed_at, code) = failed.expect("the handshake step failed");
    assert_eq!(code, ErrorCode::Timeout);
    let waited = failed_at - started.expect("the handshake step started");
    println!("silent port: handshake failed after {waited:?} with a 300 ms setting (driver default 10 s)");
    assert!(waited >= Duration::from_millis(300), "failed before the timeout: {waited:?}");
    assert!(waited < Duration::from_millis(900), "the 300 ms timeout was not used: {waited:?}");
}
