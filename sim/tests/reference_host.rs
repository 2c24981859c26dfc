//! A reference host written to the rainbowtype spec's "what a robust host does" rules (§10),
//! provisioning a board with the compiled-template build at `--timing datasheet --realtime`
//! over its pty while two CPU-bound threads load the machine. It must pass; every host that
//! breaks a rule is punished by the conformance tests in `rainbowtype.rs` and `pty_transport.rs`.

mod common;

use common::{make_ca_chain, normalise, openssl};
use keyline_sim::transport::PtyBoard;
use keyline_sim::{Board, BoardConfig, FirmwareKind, Timing};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Idle gap after a byte or line that has no reply (spec §10 "≥ 50 ms").
const IDLE_GAP: Duration = Duration::from_millis(50);
/// After `k` the firmware still runs GenKey on slot 1 (115 ms datasheet maximum) once the PEM is out.
const AFTER_K: Duration = Duration::from_millis(200);

struct Host {
    port: serialport::TTYPort,
    seen: Vec<u8>,
}

impl Host {
    fn send(&mut self, bytes: &[u8]) {
        self.port.write_all(bytes).unwrap();
        self.port.flush().unwrap();
    }

    fn pump(&mut self) {
        let mut buf = [0u8; 1024];
        if let Ok(n) = self.port.read(&mut buf) {
            self.seen.extend_from_slice(&buf[..n]);
        }
    }

    /// Reads until `done(normalised text)` holds or the deadline passes; returns the raw bytes.
    fn until(&mut self, deadline: Duration, done: impl Fn(&str) -> bool) -> Vec<u8> {
        let start = Instant::now();
        while !done(&normalise(&self.seen)) {
            assert!(start.elapsed() < deadline, "deadline passed; board said: {:?}", normalise(&self.seen));
            self.pump();
        }
        std::mem::take(&mut self.seen)
    }

    /// Waits for `gap` of silence (collecting anything that arrives).
    fn idle(&mut self, gap: Duration) {
        let mut quiet_since = Instant::now();
        while quiet_since.elapsed() < gap {
            let before = self.seen.len();
            self.pump();
            if self.seen.len() != before {
                quiet_since = Instant::now();
            }
        }
    }

    /// Mode byte, gap, then the PEM one line per write with a gap after each line.
    fn upload(&mut self, mode: u8, pem: &str) {
        self.send(&[mode]);
        self.idle(IDLE_GAP);
        for line in pem.lines() {
            self.send(format!("{line}\n").as_bytes());
            self.idle(IDLE_GAP);
        }
    }
}

fn spin_load(stop: Arc<AtomicBool>) -> Vec<std::thread::JoinHandle<()>> {
    (0..2)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut x = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                    std::hint::black_box(x);
                }
            })
        })
        .collect()
}

#[test]
fn a_robust_host_provisions_a_compiled_build_in_realtime_under_load() {
    let dir = tempfile::tempdir().unwrap();
    make_ca_chain(dir.path());
    // The firmware build's compiled cert_chain.c: made from the signer and a sample device certificate.
    openssl(dir.path(), &["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "sample.key"]);
    openssl(dir.path(), &["pkey", "-in", "sample.key", "-pubout", "-out", "device-pub.pem"]);
    common::make_device_cert(dir.path(), "0123xxxxxxxxxxxxee");
    openssl(dir.path(), &["x509", "-in", "signer.crt", "-outform", "DER", "-out", "signer.der"]);
    let chain = keyline_sim::firmware::CertChain {
        signer: std::fs::read(dir.path().join("signer.der")).unwrap(),
        device: std::fs::read(dir.path().join("device.der")).unwrap(),
    };
    let stop = Arc::new(AtomicBool::new(false));
    let load = spin_load(stop.clone());

    let board = Board::new(BoardConfig {
        firmware: FirmwareKind::Rainbowtype,
        timing: Timing::Datasheet,
        realtime: true,
        cert_chain: Some(Arc::new(chain)),
        ..BoardConfig::default()
    })
    .unwrap();
    let pty = PtyBoard::spawn(board).unwrap();
    let port = serialport::new(pty.path().to_string_lossy(), 115_200).timeout(Duration::from_millis(20)).open_native().unwrap();
    let mut host = Host { port, seen: Vec::new() };
    let started = Instant::now();

    // 1. Boot: the config dump (16 lines); the chip is blank, so `r` will lock it.
    let boot = normalise(&host.until(Duration::from_secs(5), |t| {
        t.find("Config Zone data:\n").is_some_and(|at| t[at..].lines().count() >= 17)
    }));
    let dump: Vec<&str> = boot[boot.find("Config Zone data:\n").unwrap()..].lines().skip(1).take(16).collect();
    assert!(dump[10].starts_with("55 55 ") || dump[10].contains("55 55"), "unlocked zones: {dump:?}");
    host.idle(IDLE_GAP);

    // 2. r: wait for Ready. (deadline ≥ 3 s), no failure text before it.
    host.send(b"r");
    let ready = normalise(&host.until(Duration::from_secs(5), |t| t.contains("Ready.")));
    assert!(!ready.contains("Unable to") && !ready.contains("failed"), "{ready}");
    host.idle(IDLE_GAP);

    // 3. s: exactly 18 lowercase hex bytes, equal to the dump's serial.
    host.send(b"s");
    let serial = String::from_utf8(host.until(Duration::from_secs(1), |t| t.len() >= 18)).unwrap();
    assert!(serial.len() == 18 && serial.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "{serial}");
    let dump_serial: String = [&dump[0][..12], &dump[1][..15]].concat().split(' ').collect::<String>();
    assert_eq!(&dump_serial[..8], &serial[..8]);
    host.idle(IDLE_GAP);

    // 4. k: the PEM, then leave the slot-1 GenKey time before the next byte.
    host.send(b"k");
    let key = normalise(&host.until(Duration::from_secs(2), |t| t.contains("-----END PUBLIC KEY-----\n")));
    assert!(!key.contains("failed"), "{key}");
    std::fs::write(dir.path().join("device-pub.pem"), &key).unwrap();
    host.idle(AFTER_K);

    // 5. The device certificate for this key and serial, from the compiled template's profile.
    let device_pem = common::make_device_cert(dir.path(), &serial);
    let signer_pem = std::fs::read_to_string(dir.path().join("signer.crt")).unwrap();
    let root_pem = std::fs::read_to_string(dir.path().join("root.pub.pem")).unwrap();

    // 6. Uploads, one line per write with idle gaps.
    host.upload(b'c', &signer_pem);
    host.upload(b'v', &device_pem);
    host.upload(b'b', &root_pem);

    // 7. Verify the uploads with p (65-byte chunks, NUL padded).
    host.send(b"p");
    let want = 65 * (signer_pem.len() / 65 + 1) + 65 * (device_pem.len() / 65 + 1);
    let mut echo = Vec::new();
    let start = Instant::now();
    while echo.len() < want && start.elapsed() < Duration::from_secs(2) {
        host.pump();
        echo.append(&mut host.seen);
    }
    let text: String = String::from_utf8_lossy(&echo).replace('\0', "");
    assert_eq!(text, format!("{signer_pem}{device_pem}"), "uploads arrived intact");
    host.idle(IDLE_GAP);

    // 8. q: success line and no failure marker.
    host.send(b"q");
    let transcript = normalise(&host.until(Duration::from_secs(30), |t| {
        t.contains("Device Provisioning Successful!") || t.contains("Failed to")
    }));
    for marker in ["missmatch", "error comparing device sn", "failed", "Failed"] {
        assert!(!transcript.contains(marker), "{marker}: {transcript}");
    }
    assert!(transcript.contains("Device Provisioning Successful!"), "{transcript}");
    stop.store(true, Ordering::Relaxed);
    for thread in load {
        thread.join().unwrap();
    }
    eprintln!("reference host: provisioned in {:.1} s wall", started.elapsed().as_secs_f64());
}
