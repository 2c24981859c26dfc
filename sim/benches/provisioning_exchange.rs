//! Benchmark: a scripted rainbowtype provisioning exchange per board in datasheet timing mode.
//! Prints the simulated time a real 115200-baud line + ATECC608A would take, and the wall time.
//! Certificates come from the `openssl` CLI (as in the conformance tests).

#[path = "../tests/common/mod.rs"]
mod common;

use keyline_sim::{Board, BoardConfig, FirmwareKind, Timing};
use std::time::Instant;

fn upload(board: &mut Board, mode: u8, pem: &str) {
    board.receive(&[mode]);
    for line in pem.split('\n') {
        board.receive(format!("{line}\n").as_bytes());
    }
}

fn main() {
    let boards: usize = std::env::var("SIM_BENCH_BOARDS").ok().and_then(|v| v.parse().ok()).unwrap_or(3);
    let dir = tempfile::tempdir().expect("temp dir");
    common::make_ca_chain(dir.path());
    let signer = std::fs::read_to_string(dir.path().join("signer.crt")).unwrap();
    let root = std::fs::read_to_string(dir.path().join("root.pub.pem")).unwrap();
    let mut total = 0.0;
    for index in 0..boards {
        let wall = Instant::now();
        let mut board = Board::new(BoardConfig {
            index,
            firmware: FirmwareKind::Rainbowtype,
            timing: Timing::Datasheet,
            derive_templates: true,
            ..BoardConfig::default()
        })
        .unwrap();
        board.power_on();
        board.receive(b"r");
        let serial = String::from_utf8(board.receive(b"s").output).unwrap();
        let key = String::from_utf8(board.receive(b"k").output).unwrap().replace('\r', "");
        std::fs::write(dir.path().join("device-pub.pem"), key).unwrap();
        let device = common::make_device_cert(dir.path(), &serial);
        upload(&mut board, b'c', &signer);
        upload(&mut board, b'v', &device);
        upload(&mut board, b'b', &root);
        let transcript = common::normalise(&board.receive(b"q").output);
        assert!(transcript.ends_with("Device Provisioning Successful!\n") && !transcript.contains("missmatch"));
        let simulated = board.hardware().clock.now().as_secs_f64();
        total += simulated;
        println!(
            "board {index}: {simulated:.3} s simulated (datasheet timing), {:.3} s wall incl. openssl",
            wall.elapsed().as_secs_f64()
        );
    }
    println!("mean: {:.3} simulated seconds per board over {boards} boards", total / boards as f64);
}
