//! Conformance of the ESP32 ROM loader emulation at the SLIP level: exact frames in and out.

mod common;

use keyline_sim::firmware::rom::data_checksum;
use keyline_sim::firmware::slip::{encode, Decoder};
use keyline_sim::{Board, BoardConfig, FirmwareKind};

fn rom_board() -> Board {
    let mut board = Board::new(BoardConfig { firmware: FirmwareKind::Rom, ..BoardConfig::default() }).unwrap();
    let banner = board.power_on();
    assert!(String::from_utf8_lossy(&banner).contains("boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\nwaiting for download"));
    board
}

fn request(op: u8, data: &[u8], checksum: u32) -> Vec<u8> {
    let mut frame = vec![0x00, op];
    frame.extend((data.len() as u16).to_le_bytes());
    frame.extend(checksum.to_le_bytes());
    frame.extend_from_slice(data);
    encode(&frame)
}

fn words(values: &[u32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Sends one command; returns the decoded response frames.
fn exchange(board: &mut Board, op: u8, data: &[u8], checksum: u32) -> Vec<Vec<u8>> {
    let out = board.receive(&request(op, data, checksum)).output;
    Decoder::default().feed(&out)
}

fn single(board: &mut Board, op: u8, data: &[u8], checksum: u32) -> (u32, Vec<u8>) {
    let frames = exchange(board, op, data, checksum);
    assert_eq!(frames.len(), 1, "one response");
    let f = &frames[0];
    assert_eq!((f[0], f[1]), (0x01, op));
    assert_eq!(u16::from_le_bytes([f[2], f[3]]) as usize, f.len() - 8);
    (u32::from_le_bytes([f[4], f[5], f[6], f[7]]), f[8..].to_vec())
}

fn sync_payload() -> Vec<u8> {
    let mut data = vec![0x07, 0x07, 0x12, 0x20];
    data.extend([0x55; 32]);
    data
}

#[test]
fn sync_magic_and_unsupported_commands() {
    let mut board = rom_board();
    let frames = exchange(&mut board, 0x08, &sync_payload(), 0);
    assert_eq!(frames.len(), 8, "the ROM answers SYNC eight times");
    assert!(frames.iter().all(|f| f.len() == 12 && f[8..] == [0, 0, 0, 0]));
    assert_eq!(single(&mut board, 0x0A, &words(&[0x4000_1000]), 0), (0x00F0_1D83, vec![0, 0, 0, 0]));
    assert_eq!(single(&mut board, 0x14, &[], 0).1, vec![1, 0x05, 0, 0], "GET_SECURITY_INFO is not in the ESP32 ROM");
    assert_eq!(single(&mut board, 0xD0, &[], 0).1, vec![1, 0x05, 0, 0], "ERASE_FLASH is stub-only");
    let mac = board.hardware().mac;
    let (word1, _) = single(&mut board, 0x0A, &words(&[0x3FF5_A004]), 0);
    assert_eq!(word1.to_be_bytes(), [mac[2], mac[3], mac[4], mac[5]]);
}

#[test]
fn flash_write_checksum_md5_and_reboot_into_the_app() {
    let mut board = rom_board();
    let mut image = vec![0xE9u8];
    image.extend((1..1024u32).map(|i| (i * 7) as u8));
    assert_eq!(single(&mut board, 0x02, &words(&[4096, 1, 1024, 0x10000]), 0).1, vec![0, 0, 0, 0]);
    let mut block = words(&[1024, 0, 0, 0]);
    block.extend_from_slice(&image);
    let good = u32::from(data_checksum(&image));
    assert_eq!(single(&mut board, 0x03, &block, good ^ 1).1, vec![1, 0x07, 0, 0], "bad checksum");
    assert_eq!(single(&mut board, 0x03, &block, good).1, vec![0, 0, 0, 0]);
    let (_, md5) = single(&mut board, 0x13, &words(&[0x10000, 1024, 0, 0]), 0);
    assert_eq!(md5.len(), 36, "32 ASCII hex characters and 4 status bytes (44-byte response)");
    let expected: String = md5::Md5::digest(&image).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(&md5[..32], expected.as_bytes());
    assert_eq!(board.hardware().flash.read(0x10000, 1024).unwrap(), &image[..]);

    let mut out = board.receive(&request(0x04, &words(&[0]), 0)).output;
    out.extend(board.advance(std::time::Duration::from_secs(1)));
    let text = common::normalise(&out);
    assert!(text.contains("boot:0x13 (SPI_FAST_FLASH_BOOT)") && text.contains("MAIN: Config Zone data:"), "{text}");
}

use md5::Digest;

#[test]
fn mem_end_with_an_entry_point_runs_the_ram_loaded_helper() {
    let mut board = rom_board();
    let segment = vec![0xA5u8; 64];
    single(&mut board, 0x05, &words(&[64, 1, 0x1800, 0x4008_0000]), 0);
    let mut block = words(&[64, 0, 0, 0]);
    block.extend_from_slice(&segment);
    assert_eq!(single(&mut board, 0x07, &block, u32::from(data_checksum(&segment))).1, vec![0, 0, 0, 0]);
    board.receive(&request(0x06, &words(&[0, 0x4008_21A8]), 0));
    let out = board.advance(std::time::Duration::from_millis(300));
    assert!(out.ends_with(b"Initializing Command line: >>"));
    assert_eq!(board.receive(b"version").output, b"v1.2.0\n\n>>\n");
}

#[test]
fn a_rom_board_without_an_image_does_not_boot() {
    let mut board = rom_board();
    let out = common::normalise(&board.reset(false));
    assert!(out.ends_with("invalid header: 0xffffffff\n"), "{out}");
    let again = common::normalise(&board.reset(true));
    assert!(again.contains("waiting for download"));
}
