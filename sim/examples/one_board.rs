//! Starts one simulated board on a pty and prints its path (manual testing helper).
use keyline_sim::transport::PtyBoard;
use keyline_sim::{Board, BoardConfig, FirmwareKind};

fn main() {
    let firmware: FirmwareKind = std::env::args().nth(1).unwrap_or_else(|| "rom".into()).parse().expect("firmware");
    let board = Board::new(BoardConfig { firmware, ..BoardConfig::default() }).expect("board");
    let pty = PtyBoard::spawn(board).expect("pty");
    println!("{}", pty.path().display());
    std::thread::sleep(std::time::Duration::from_secs(120));
}
