//! Port listing: live, stale and corrupt simulator lists, merged with real ports.

use super::*;
use serialport::SerialPort;
use std::sync::{Mutex, MutexGuard};

/// Tests that open and close ptys run one at a time, so a closed pty's number is not reused by another test.
fn pty_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write_list(dir: &Path, json: &str) {
    std::fs::create_dir_all(dir.join("sim")).unwrap();
    std::fs::write(dir.join(SIM_BOARDS_FILE), json).unwrap();
}

fn entry(index: usize, path: &str) -> String {
    format!(r#"{{"index":{index},"label":"Simulated board {}","path":"{path}","firmware":"rainbowtype"}}"#, index + 1)
}

fn usb(vid: u16, pid: u16, path: &str) -> PortInfo {
    real_port(serialport::SerialPortInfo {
        port_name: path.into(),
        port_type: serialport::SerialPortType::UsbPort(serialport::UsbPortInfo {
            vid,
            pid,
            serial_number: Some("0001".into()),
            manufacturer: Some("Vendor".into()),
            product: Some("Some adapter".into()),
        }),
    })
}

#[test]
fn a_live_pty_is_listed_as_simulated_board_1_before_real_ports() {
    let _lock = pty_lock();
    let (_master, slave) = serialport::TTYPort::pair().expect("a pseudo-terminal pair");
    let pty = slave.name().expect("the slave side has a /dev/pts name");
    let dir = tempfile::tempdir().unwrap();
    write_list(dir.path(), &format!("[{}]", entry(0, &pty)));
    let real = vec![usb(0x1234, 0x5678, "/dev/ttyACM3"), usb(0x10c4, 0xea60, "/dev/ttyUSB0")];

    let list = merge(dir.path(), real);

    assert!(list.warnings.is_empty(), "{:?}", list.warnings);
    let labels: Vec<&str> = list.ports.iter().map(|p| p.label.as_str()).collect();
    assert_eq!(labels, ["Simulated board 1", "Silicon Labs CP210x (ESP32 bridge)", "Some adapter"]);
    let sim = &list.ports[0];
    assert_eq!((sim.path.as_str(), sim.kind, sim.firmware.as_deref()), (pty.as_str(), PortKind::Simulated, Some("rainbowtype")));
    assert!(sim.likely_esp32);
    assert_eq!(list.ports[1].usb_id.as_deref(), Some("10c4:ea60"));
    assert!(!list.ports[2].likely_esp32);
}

#[test]
fn an_entry_whose_pty_is_gone_is_dropped() {
    let _lock = pty_lock();
    let (_master, slave) = serialport::TTYPort::pair().unwrap();
    let live = slave.name().unwrap();
    let stale = {
        let (_m, s) = serialport::TTYPort::pair().unwrap();
        s.name().unwrap()
    };
    assert!(!Path::new(&stale).exists(), "a closed pty leaves /dev/pts");
    let dir = tempfile::tempdir().unwrap();
    write_list(dir.path(), &format!("[{},{}]", entry(0, &stale), entry(1, &live)));

    let list = merge(dir.path(), Vec::new());

    assert!(list.warnings.is_empty());
    assert_eq!(list.ports.len(), 1);
    assert_eq!((list.ports[0].label.as_str(), list.ports[0].path.as_str()), ("Simulated board 2", live.as_str()));
}

#[test]
fn no_list_file_means_no_simulated_boards() {
    let dir = tempfile::tempdir().unwrap();
    let list = merge(dir.path(), vec![usb(0x1a86, 0x7523, "/dev/ttyUSB1")]);
    assert!(list.warnings.is_empty());
    assert_eq!(list.ports.len(), 1);
    assert_eq!(list.ports[0].label, "WCH CH340 (ESP32 bridge)");
}

#[test]
fn a_corrupt_list_is_skipped_with_a_warning_and_real_ports_stay() {
    let dir = tempfile::tempdir().unwrap();
    write_list(dir.path(), "[{\"index\":0,\"label\":\"Simulated bo");

    let list = merge(dir.path(), vec![usb(0x303a, 0x1001, "/dev/ttyACM0")]);

    assert_eq!(list.ports.len(), 1, "real ports are still listed");
    assert_eq!(list.warnings.len(), 1);
    let warning = &list.warnings[0];
    assert!(warning.contains("boards.json") && warning.contains("delete the file"), "{warning}");
    let error = simulated_ports(&dir.path().join(SIM_BOARDS_FILE)).unwrap_err();
    assert_eq!(crate::Error::from(error).report().code, "bad_sim_list");
}

#[test]
fn the_list_is_parsed_strictly() {
    let _lock = pty_lock();
    let (_master, slave) = serialport::TTYPort::pair().unwrap();
    let pty = slave.name().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(SIM_BOARDS_FILE);
    let cases = [
        (format!(r#"[{{"index":0,"label":"Simulated board 1","path":"{pty}","firmware":"rainbowtype","x":1}}]"#), "unknown field"),
        (format!("[{}]", entry(0, "/etc/passwd")), "not a terminal device path"),
        (format!("[{}]", entry(0, "/dev/../etc/passwd")), "not a terminal device path"),
        (format!(r#"[{{"index":0,"label":"Evil board","path":"{pty}","firmware":"rom"}}]"#), "labelled"),
        (format!(r#"[{{"index":0,"label":"Simulated board 1","path":"{pty}","firmware":"doom"}}]"#), "unknown firmware"),
        (format!("[{}]", entry(64, &pty)), "out of range"),
        (format!("[{}]", vec![entry(0, &pty); 65].join(",")), "at most 64"),
        (format!("[{}]{}", entry(0, &pty), " ".repeat(70 * 1024)), "larger than"),
    ];
    for (json, expected) in cases {
        write_list(dir.path(), &json);
        let error = simulated_ports(&file).unwrap_err().to_string();
        assert!(error.contains(expected), "{expected:?} not in {error:?}");
    }
}

#[test]
fn esp32_bridges_have_friendly_names() {
    assert_eq!(esp32_bridge_name(0x303a, 0x1001), Some("Espressif USB-Serial/JTAG (built-in)"));
    assert_eq!(esp32_bridge_name(0x0403, 0x6001), Some("FTDI USB serial (ESP32 bridge)"));
    assert_eq!(esp32_bridge_name(0x046d, 0xc52b), None);
    let unknown = usb(0x046d, 0xc52b, "/dev/ttyACM9");
    assert_eq!((unknown.label.as_str(), unknown.kind), ("Some adapter", PortKind::Usb));
}

#[test]
fn the_real_enumeration_runs() {
    let dir = tempfile::tempdir().unwrap();
    let list = list_ports(dir.path()).expect("enumeration works on this machine");
    assert!(list.ports.iter().all(|p| p.kind != PortKind::Simulated));
}
