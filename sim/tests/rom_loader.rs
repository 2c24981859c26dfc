//! Conformance of the ESP32 ROM loader emulation at the SLIP level: exact frames in and out.

mod common;

use keyline_sim::firmware::rom::data_checksum;
use keyline_sim::firmware::slip::{encode, Decoder};
use keyline_sim::{Board, BoardConfig, FirmwareKind};

fn rom_board() -> Board {
    let mut board = Board::new(BoardConfig { firmware: FirmwareKind::Rom, derive_templates: true, ..BoardConfig::default() }).unwrap();
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

/// Writes `data` at `offset` with FLASH_BEGIN/DATA in 0x400 blocks (flash already attached).
fn write_flash(board: &mut Board, offset: u32, data: &[u8]) {
    let blocks = data.len().div_ceil(0x400) as u32;
    assert_eq!(single(board, 0x02, &words(&[data.len() as u32, blocks, 0x400, offset]), 0).1, vec![0, 0, 0, 0]);
    for (seq, chunk) in data.chunks(0x400).enumerate() {
        let mut block = words(&[chunk.len() as u32, seq as u32, 0, 0]);
        block.extend_from_slice(chunk);
        assert_eq!(single(board, 0x03, &block, u32::from(data_checksum(chunk))).1, vec![0, 0, 0, 0]);
    }
}

fn attach(board: &mut Board) {
    assert_eq!(single(board, 0x0D, &words(&[0, 0]), 0).1, vec![0, 0, 0, 0]);
}

#[test]
fn flash_write_checksum_md5_and_reboot_into_the_app() {
    let mut board = rom_board();
    let mut image = vec![0xE9u8];
    image.extend((1..1024u32).map(|i| (i * 7) as u8));
    // A host that skips SPI_ATTACH, or sends the 5-word FLASH_BEGIN of newer chips, fails.
    assert_eq!(single(&mut board, 0x02, &words(&[4096, 1, 1024, 0x10000]), 0).1, vec![1, 0x06, 0, 0], "no SPI_ATTACH");
    assert_eq!(single(&mut board, 0x13, &words(&[0x10000, 1024, 0, 0]), 0).1, vec![1, 0x06, 0, 0], "MD5 needs it too");
    attach(&mut board);
    assert_eq!(single(&mut board, 0x02, &words(&[4096, 1, 1024, 0x10000, 0]), 0).1, vec![1, 0x05, 0, 0], "5 words");
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
    // A block larger than the ROM's 0x400 gets no reply at all.
    single(&mut board, 0x02, &words(&[8192, 1, 0x800, 0x20000]), 0);
    let mut big = words(&[0x800, 0, 0, 0]);
    big.extend([0x11; 0x800]);
    assert!(exchange(&mut board, 0x03, &big, u32::from(data_checksum(&[0x11; 0x800]))).is_empty());

    // An app image alone does not boot: the ROM wants a bootloader, the bootloader a partition table.
    let mut out = board.receive(&request(0x04, &words(&[0]), 0)).output;
    out.extend(board.advance(std::time::Duration::from_secs(1)));
    assert!(common::normalise(&out).ends_with("invalid header: 0xffffffff\n"), "{}", common::normalise(&out));
    board.reset(true);
    attach(&mut board);
    write_flash(&mut board, 0x1000, &common::bootloader_image());
    let out = common::normalise(&board.receive(&request(0x04, &words(&[0]), 0)).output);
    assert!(out.contains("flash_parts: partition 0 invalid magic number 0xffff") && out.contains("load partition table error!"), "{out}");
    assert_eq!(board.running(), None);

    board.reset(true);
    attach(&mut board);
    write_flash(&mut board, 0x8000, &common::partition_table(0x10000));
    let mut out = board.receive(&request(0x04, &words(&[0]), 0)).output;
    assert!(board.booting(), "the app takes its boot time");
    out.extend(board.advance(std::time::Duration::from_secs(1)));
    let text = common::normalise(&out);
    assert!(text.contains("boot:0x13 (SPI_FAST_FLASH_BOOT)") && text.contains("MAIN: Config Zone data:"), "{text}");
}

#[test]
fn flash_begin_charges_the_erase_time() {
    let mut board =
        Board::new(BoardConfig { firmware: FirmwareKind::Rom, timing: keyline_sim::Timing::Datasheet, derive_templates: true, ..BoardConfig::default() })
            .unwrap();
    board.power_on();
    attach(&mut board);
    let before = board.hardware().clock.now();
    single(&mut board, 0x02, &words(&[0x10000, 64, 0x400, 0x10000]), 0);
    let charged = board.hardware().clock.now() - before;
    assert!(charged >= std::time::Duration::from_millis(16 * 45), "16 sectors erased: {charged:?}");
}

#[test]
fn the_rom_detects_the_rate_at_sync_and_changes_it_only_on_change_baudrate() {
    let mut board = rom_board();
    let at = |board: &mut Board, op: u8, data: &[u8], baud: u32| {
        Decoder::default().feed(&board.receive_at(&request(op, data, 0), Some(baud)).output)
    };
    assert!(at(&mut board, 0x0A, &words(&[0x4000_1000]), 230_400).is_empty(), "unsynced 230400 is noise at 115200");
    assert_eq!(at(&mut board, 0x08, &sync_payload(), 230_400).len(), 8, "SYNC at 230400: detected");
    assert_eq!(board.hardware().baud, 230_400);
    assert!(at(&mut board, 0x0A, &words(&[0x4000_1000]), 115_200).is_empty(), "the host may not drop back silently");
    let delivery = board.receive_at(&request(0x0F, &words(&[460_800, 0]), 0), Some(230_400));
    assert_eq!(delivery.baud, 230_400, "the CHANGE_BAUDRATE reply goes out at the old rate");
    assert_eq!(Decoder::default().feed(&delivery.output).len(), 1);
    assert_eq!(at(&mut board, 0x0A, &words(&[0x4000_1000]), 460_800).len(), 1);
}

use md5::Digest;

/// Loads `(address, bytes)` segments with MEM_BEGIN/MEM_DATA; `short` leaves the last one incomplete.
fn load_ram(board: &mut Board, segments: &[(u32, Vec<u8>)], short: bool) {
    for (i, (address, bytes)) in segments.iter().enumerate() {
        let size = bytes.len() as u32 + if short && i + 1 == segments.len() { 64 } else { 0 };
        assert_eq!(single(board, 0x05, &words(&[size, 1, 0x1800, *address]), 0).1, vec![0, 0, 0, 0]);
        let mut block = words(&[bytes.len() as u32, 0, 0, 0]);
        block.extend_from_slice(bytes);
        assert_eq!(single(board, 0x07, &block, u32::from(data_checksum(bytes))).1, vec![0, 0, 0, 0]);
    }
}

#[test]
fn mem_end_with_an_entry_point_runs_the_ram_loaded_helper() {
    let mut board = rom_board();
    load_ram(&mut board, &[(0x3FFB_0000, vec![0x11; 64]), (0x4008_0000, vec![0xA5; 0x1800])], false);
    board.receive(&request(0x06, &words(&[0, 0x4008_0400]), 0));
    let out = board.advance(std::time::Duration::from_millis(300));
    assert!(out.ends_with(b"Initializing Command line: >>"));
    assert_eq!(board.receive(b"version").output, b"v1.2.0\n\n>>\n");
}

#[test]
fn mem_end_of_a_wrong_or_partial_image_crashes_silently() {
    let cases: [(&str, Vec<(u32, Vec<u8>)>, bool, u32); 3] = [
        ("an ESP32-S3 image", vec![(0x3FC8_8000, vec![1; 64]), (0x4037_8000, vec![2; 64])], false, 0x4037_8010),
        ("a missing block", vec![(0x3FFB_0000, vec![1; 64]), (0x4008_0000, vec![2; 64])], true, 0x4008_0010),
        ("code without data", vec![(0x4008_0000, vec![2; 64])], false, 0x4008_0010),
    ];
    for (what, segments, short, entry) in cases {
        let mut board = rom_board();
        load_ram(&mut board, &segments, short);
        let reply = exchange(&mut board, 0x06, &words(&[0, entry]), 0);
        assert_eq!(reply.len(), 1, "{what}: MEM_END is acknowledged");
        assert!(board.advance(std::time::Duration::from_secs(2)).is_empty(), "{what}: no helper prompt");
        assert_eq!(board.running(), None, "{what}");
    }
}

#[test]
fn a_rom_board_without_an_image_does_not_boot() {
    let mut board = rom_board();
    let out = common::normalise(&board.reset(false));
    assert!(out.ends_with("invalid header: 0xffffffff\n"), "{out}");
    let again = common::normalise(&board.reset(true));
    assert!(again.contains("waiting for download"));
}
