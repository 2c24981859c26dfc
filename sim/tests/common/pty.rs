//! A host on a board's pty, opened through `serialport` like the station does.

use std::io::Read;
use std::time::{Duration, Instant};

/// Opens the board's port at 115200 with a 100 ms read timeout.
pub fn open(path: &std::path::Path) -> serialport::TTYPort {
    serialport::new(path.to_string_lossy(), 115_200).timeout(Duration::from_millis(100)).open_native().unwrap()
}

/// Reads until `want` bytes arrived or `deadline` passed.
pub fn read_for(port: &mut serialport::TTYPort, want: usize, deadline: Duration) -> Vec<u8> {
    let start = Instant::now();
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    while out.len() < want && start.elapsed() < deadline {
        match port.read(&mut buf) {
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(e) => panic!("read: {e}"),
        }
    }
    out
}

/// Reads until the rainbowtype boot dump (16 config lines) is complete (at most 3 s); returns it.
pub fn wait_for_boot(port: &mut serialport::TTYPort) -> String {
    wait_for_boot_within(port, Duration::from_secs(3))
}

/// `wait_for_boot` with another deadline (a loaded machine slows the board's clock).
pub fn wait_for_boot_within(port: &mut serialport::TTYPort, deadline: Duration) -> String {
    let start = Instant::now();
    let mut text = String::new();
    while start.elapsed() < deadline {
        text.push_str(&super::normalise(&read_for(port, 1, Duration::from_millis(100))));
        if let Some(at) = text.find("Config Zone data:") {
            if text[at..].lines().count() >= 17 {
                break;
            }
        }
    }
    text
}
