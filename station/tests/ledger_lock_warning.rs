//! A ledger writer held up by another writer warns the operator only when the wait outlasts a commit by far: another
//! board of the same shift holds the lock for milliseconds. A binary of its own, because the warning is caught by a
//! process-wide log subscriber that no other test may share.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use keyline_station::ledger::{DeviceSerial, Ledger, NewDevice, Recorded};

/// Everything logged, as text.
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Sink {
    fn take(&self) -> String {
        String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).unwrap()
    }
}

fn device(serial: &str) -> NewDevice {
    NewDevice {
        serial: DeviceSerial::parse(serial).unwrap(),
        common_name: serial.into(),
        profile: "rainbowtype".into(),
        ca_name: "signer".into(),
        cert_der: serial.as_bytes().to_vec(),
        public_key: [7; 64],
    }
}

#[test]
fn a_writer_held_up_for_a_commit_says_nothing_and_one_held_up_past_a_second_says_it_waits() {
    let sink = Sink::default();
    let writer = sink.clone();
    tracing::subscriber::set_global_default(tracing_subscriber::fmt().with_ansi(false).with_writer(move || writer.clone()).finish()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(dir.path()).unwrap();
    for (hold, serial, warned) in [(Duration::from_millis(300), "0123abcdef01020304", false), (Duration::from_millis(1800), "0123abcdef01020305", true)] {
        let other = rusqlite::Connection::open(ledger.path()).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let release = std::thread::spawn(move || {
            std::thread::sleep(hold);
            other.execute_batch("COMMIT").unwrap();
        });
        let started = std::time::Instant::now();
        assert_eq!(ledger.record_issued_cert(&device(serial)).unwrap(), Recorded::New);
        assert!(started.elapsed() >= hold - Duration::from_millis(50), "the writer did not wait: {:?}", started.elapsed());
        release.join().unwrap();
        let said = sink.take();
        assert_eq!(said.contains("locked by another writer"), warned, "held {hold:?}: {said:?}");
        assert_eq!(said.contains("locked by another writer for 1 s"), warned, "held {hold:?}: {said:?}");
    }
}
