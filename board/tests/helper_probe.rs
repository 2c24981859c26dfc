//! A helper that a stopped host left in the middle of a payload, probed by the next session: the probe ends
//! the payload harmlessly and the helper goes on, where `version` and a NUL (the old probe) crash it; a crashed
//! helper is reported as not answering, with the hint to reset and RAM-load it again.

use std::sync::Arc;
use std::time::Duration;

use keyline_board::parse::normalise;
use keyline_board::{open_driver, BoardErrorCode, CancelToken, ProvisioningFirmware, ResetStrategy, SerialLink, SystemClock, DEFAULT_BAUD};
use keyline_board::FirmwareKind;
use keyline_sim::transport::PtyBoard;
use keyline_sim::{Board, BoardConfig, FirmwareKind as SimFirmware};

fn helper_board() -> PtyBoard {
    PtyBoard::spawn(Board::new(BoardConfig { firmware: SimFirmware::EspHelper, derive_templates: true, ..BoardConfig::default() }).unwrap()).unwrap()
}

fn driver(pty: &PtyBoard) -> Box<dyn ProvisioningFirmware> {
    open_driver(FirmwareKind::EspHelper, pty.path().to_str().unwrap(), &ResetStrategy::None, Arc::new(SystemClock), CancelToken::new(), None).unwrap()
}

/// A host that sends `command`, sees its echo, sends `sent` of the payload and stops (killed); returns what it read.
fn stop_inside_payload(pty: &PtyBoard, command: &str, sent: &[u8]) -> String {
    let mut link = SerialLink::open(pty.path().to_str().unwrap(), DEFAULT_BAUD, Arc::new(SystemClock), CancelToken::new()).unwrap();
    link.write(format!("{command}\r").as_bytes()).unwrap();
    let echo = format!("{command}\n");
    link.read_until("the echo of the command", Duration::from_secs(5), |rx| normalise(rx).contains(&echo).then_some(())).unwrap();
    if !sent.is_empty() {
        link.write(sent).unwrap();
    }
    let _ = link.wait_quiet(Duration::from_millis(300), Duration::from_secs(2));
    normalise(link.received())
}

/// A helper past `init` (the commands with payloads need it), and its chip serial.
fn initialised(pty: &PtyBoard) -> [u8; 9] {
    let mut fw = driver(pty);
    fw.handshake().unwrap();
    fw.configure_and_lock().unwrap();
    fw.read_serial().unwrap()
}

#[test]
fn a_helper_left_inside_a_payload_answers_the_probe_and_goes_on() {
    let pty = helper_board();
    let serial = initialised(&pty);
    for (command, sent) in [("provide-cert-def 0", &b""[..]), ("provide-cert-def 1", b"00040064"), ("program-dev-cert 0 1234", b"-----BEGIN CERTIFICATE-----\n")] {
        stop_inside_payload(&pty, command, sent);
        let mut fw = driver(&pty);
        let hello = fw.handshake().unwrap_or_else(|e| panic!("after `{command}` left open: {e}"));
        assert!(hello.resumed, "{command}");
        assert_eq!(hello.version.as_deref(), Some("v1.2.0"));
        fw.configure_and_lock().unwrap();
        assert_eq!(fw.read_serial().unwrap(), serial, "after `{command}` left open the helper still talks to its chip");
        let probe = String::from_utf8_lossy(fw.link().received()).into_owned();
        assert!(!probe.contains("Guru Meditation"), "{probe}");
    }
}

#[test]
fn version_and_a_nul_crash_a_helper_inside_a_cert_def_and_the_driver_says_it_is_not_answering() {
    let pty = helper_board();
    initialised(&pty);
    // What a probe that sends only `version` and a NUL does to an open cert-def: a 7-character cert-def.
    let seen = stop_inside_payload(&pty, "provide-cert-def 0", b"version\0");
    assert!(seen.contains("Guru Meditation Error"), "the helper crashes: {seen:?}");
    let error = driver(&pty).handshake().unwrap_err();
    assert_eq!(error.code(), BoardErrorCode::HelperNotAnswering, "{error}");
    assert!(error.to_string().contains("not answering"), "{error}");
    assert!(error.hint().contains("RAM-load the helper again") && error.hint().contains("--ram-load"), "{}", error.hint());
}
