//! The ESP32 ROM serial bootloader (download mode, no stub): SLIP commands for chip detection,
//! flash writing with MD5 read-back, RAM loading, and baud changes.

use super::console;
use super::slip::{self, Decoder};
use crate::board::{uart, Firmware, Hardware, Next};
use md5::Digest;

/// ESP32 chip-detect magic at `CHIP_DETECT_MAGIC_REG`.
pub const ESP32_MAGIC: u32 = 0x00F0_1D83;
const CHIP_DETECT_MAGIC_REG: u32 = 0x4000_1000;
const EFUSE_BASE: u32 = 0x3FF5_A000;
const UART_CLKDIV_REG: u32 = 0x3FF4_0014;
const APB_CTL_DATE_REG: u32 = 0x3FF6_607C;
/// `RTCCALICFG1`: the RC-oscillator calibration the ROM derived its crystal estimate from.
const RTC_CALI_CFG1_REG: u32 = 0x3FF5_F06C;
/// eFuse BLK0 word 3: package ESP32-D0WD (bits 9-11 = 1) and chip-revision bit 0 (bit 15).
const EFUSE_WORD3: u32 = (1 << 15) | (1 << 9);
/// eFuse BLK0 word 5: chip-revision bit 1 (bit 20); with APB_CTL_DATE bit 31 this reads as ECO3 (v3.0).
const EFUSE_WORD5: u32 = 1 << 20;
const SPI_W0_REG: u32 = 0x3FF4_2080;
/// JEDEC id the simulated flash reports (GigaDevice, 4 MB).
const FLASH_JEDEC_ID: u32 = 0x0016_40C8;
/// Value field of SYNC replies (non-zero: a ROM, not a stub).
const SYNC_VALUE: u32 = 0x2012_0707;
/// Data checksum seed.
const CHECKSUM_SEED: u8 = 0xEF;
/// Largest FLASH_DATA / MEM_DATA blocks a ROM host sends (esptool `FLASH_WRITE_SIZE`,
/// `ESP_RAM_BLOCK`; espflash uses the same); larger frames get no reply.
pub const MAX_FLASH_BLOCK: usize = 0x400;
/// See `MAX_FLASH_BLOCK`.
pub const MAX_RAM_BLOCK: usize = 0x1800;
/// Flash sector erase time charged per 4 KiB sector by FLASH_BEGIN (typical SPI NOR figure).
const SECTOR_ERASE: std::time::Duration = std::time::Duration::from_millis(45);
/// ESP32 RAM a loaded image may occupy (esptool `ESP32ROM.MEMORY_MAP`): DRAM, IRAM, RTC fast/slow.
const DRAM: (u32, u32) = (0x3FFA_E000, 0x4000_0000);
/// IRAM (0x40080000) continues into DIRAM_IRAM (SRAM1 seen as instruction RAM, up to 0x400BFFFC):
/// the published helper's code segment (0x24220 bytes at 0x40080000) runs past 0x400A0000.
const IRAM: (u32, u32) = (0x4008_0000, 0x400B_FFFC);
const RTC_REGIONS: [(u32, u32); 3] = [(0x3FF8_0000, 0x3FF8_2000), (0x400C_0000, 0x400C_2000), (0x5000_0000, 0x5000_2000)];

// ROM error codes.
const ERR_INVALID_MESSAGE: u8 = 0x05;
const ERR_FAILED_TO_ACT: u8 = 0x06;
const ERR_INVALID_CRC: u8 = 0x07;
const ERR_FLASH_WRITE: u8 = 0x08;
const ERR_FLASH_READ: u8 = 0x09;

/// An ongoing FLASH_BEGIN / MEM_BEGIN transfer.
#[derive(Debug, Clone, Copy)]
struct Transfer {
    offset: u32,
    size: u32,
    block_size: u32,
    next_seq: u32,
}

/// The ROM loader's state.
#[derive(Debug, Default)]
pub struct RomLoader {
    decoder: Decoder,
    flash: Option<Transfer>,
    ram: Option<Transfer>,
    /// Bytes loaded into RAM by MEM_DATA (address → data), kept for inspection.
    ram_image: Vec<(u32, Vec<u8>)>,
    /// Segments announced by MEM_BEGIN: (address, size, bytes received).
    segments: Vec<(u32, u32, u32)>,
    /// SPI_ATTACH was sent: the flash is usable.
    spi_attached: bool,
}

/// Whether `chunk` carries a SYNC request (what the ROM's baud detection locks onto).
pub fn contains_sync(chunk: &[u8]) -> bool {
    chunk.windows(5).any(|w| w == [0xC0, 0x00, 0x08, 0x24, 0x00])
}

enum Reply {
    Ok(u32, Vec<u8>),
    Err(u8),
}

impl Firmware for RomLoader {
    fn start(&mut self, _hw: &mut Hardware) -> Vec<u8> {
        console::download_mode_banner()
    }

    fn receive(&mut self, chunk: &[u8], hw: &mut Hardware, out: &mut Vec<u8>) -> Next {
        let mut next = Next::Stay;
        for frame in self.decoder.feed(chunk) {
            if frame.len() < 8 || frame[0] != 0x00 {
                continue;
            }
            let op = frame[1];
            let len = u16::from_le_bytes([frame[2], frame[3]]) as usize;
            let checksum = u32::from_le_bytes([frame[4], frame[5], frame[6], frame[7]]);
            let data = &frame[8..];
            let limit = match op {
                0x03 => 16 + MAX_FLASH_BLOCK,
                0x07 => 16 + MAX_RAM_BLOCK,
                _ => 16 + MAX_RAM_BLOCK,
            };
            if data.len() > limit {
                tracing::debug!(op, len = data.len(), "ROM: frame larger than its buffer, no reply");
                continue;
            }
            let (reply, after) = if data.len() != len {
                (Reply::Err(ERR_INVALID_MESSAGE), Next::Stay)
            } else {
                self.command(op, checksum, data, hw, out)
            };
            let (value, payload, status) = match reply {
                Reply::Ok(value, payload) => (value, payload, [0u8, 0, 0, 0]),
                Reply::Err(code) => (0, Vec::new(), [1, code, 0, 0]),
            };
            let mut response = vec![0x01, op];
            response.extend(((payload.len() + 4) as u16).to_le_bytes());
            response.extend(value.to_le_bytes());
            response.extend(payload);
            response.extend(status);
            out.extend(slip::encode(&response));
            if after != Next::Stay {
                next = after;
                break;
            }
        }
        next
    }
}

fn words(data: &[u8]) -> Vec<u32> {
    data.chunks_exact(4).map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]])).collect()
}

impl RomLoader {
    /// RAM blocks loaded so far (address, bytes).
    pub fn ram_image(&self) -> &[(u32, Vec<u8>)] {
        &self.ram_image
    }

    fn command(&mut self, op: u8, checksum: u32, data: &[u8], hw: &mut Hardware, out: &mut Vec<u8>) -> (Reply, Next) {
        let w = words(data);
        let ok = |value| (Reply::Ok(value, Vec::new()), Next::Stay);
        let err = |code| (Reply::Err(code), Next::Stay);
        match op {
            // SYNC: the ROM answers 8 times.
            0x08 if data.len() == 36 && data[..4] == [0x07, 0x07, 0x12, 0x20] && data[4..].iter().all(|&b| b == 0x55) => {
                for _ in 0..7 {
                    let mut response = vec![0x01, 0x08, 4, 0];
                    response.extend(SYNC_VALUE.to_le_bytes());
                    response.extend([0, 0, 0, 0]);
                    out.extend(slip::encode(&response));
                }
                ok(SYNC_VALUE)
            }
            0x08 => err(ERR_INVALID_MESSAGE),
            0x0A if w.len() == 1 => ok(self.read_reg(w[0], hw)),
            0x09 if w.len() == 4 => ok(0),
            0x0D if data.len() == 8 => {
                self.spi_attached = true;
                ok(0)
            }
            // FLASH_BEGIN, FLASH_DATA and SPI_FLASH_MD5 need the flash attached first (unconfirmed
            // how the real ROM fails; modelled as "failed to act").
            0x02 | 0x03 | 0x13 if !self.spi_attached => err(ERR_FAILED_TO_ACT),
            0x0B if data.len() == 24 => ok(0),
            0x0F if w.len() == 2 => {
                // The reply goes out at the old rate; the new rate applies afterwards. The ROM sets
                // the divider from its RC-calibrated crystal estimate, not the real crystal.
                hw.next_baud = Some(uart::rom_changed_rate(w[0]));
                ok(0)
            }
            // The ESP32 ROM takes the 4-word form only (the 5th "encrypted" word is ESP32-S2+).
            0x02 if data.len() == 16 => {
                let (erase, _blocks, block_size, offset) = (w[0], w[1], w[2], w[3]);
                if block_size == 0 || !hw.flash.erase(offset as usize, erase as usize) {
                    return err(ERR_FAILED_TO_ACT);
                }
                let sectors = (offset % 4096 + erase).div_ceil(4096);
                hw.clock.charge(SECTOR_ERASE * sectors);
                self.flash = Some(Transfer { offset, size: erase, block_size, next_seq: 0 });
                ok(0)
            }
            0x03 => self.flash_data(checksum, data, hw),
            // FLASH_END leaves the loader either way (0 = reboot, 1 = run user code); hosts that
            // want to stay in the loader do not send it.
            0x04 if w.len() == 1 => {
                self.flash = None;
                (Reply::Ok(0, Vec::new()), Next::BootFlash)
            }
            0x05 if w.len() == 4 => {
                let (size, _blocks, block_size, offset) = (w[0], w[1], w[2], w[3]);
                if block_size == 0 {
                    return err(ERR_FAILED_TO_ACT);
                }
                self.ram = Some(Transfer { offset, size, block_size, next_seq: 0 });
                self.segments.push((offset, size, 0));
                ok(0)
            }
            0x07 => self.mem_data(checksum, data),
            0x06 if w.len() == 2 => {
                self.ram = None;
                let (no_entry, entry) = (w[0], w[1]);
                let next = match (no_entry, self.runnable(entry)) {
                    (0, true) => Next::RunHelper,
                    // The CPU jumps into what was loaded: a wrong or partial image crashes silently.
                    (0, false) => Next::Crash,
                    _ => Next::Stay,
                };
                (Reply::Ok(0, Vec::new()), next)
            }
            0x13 if w.len() == 4 => match hw.flash.read(w[0] as usize, w[1] as usize) {
                Some(bytes) => {
                    let digest = md5::Md5::digest(bytes);
                    (Reply::Ok(0, hex::encode(digest).into_bytes()), Next::Stay)
                }
                None => err(ERR_FLASH_READ),
            },
            _ => err(ERR_INVALID_MESSAGE),
        }
    }

    /// Whether the loaded segments form an ESP32 app: every announced segment complete and inside
    /// ESP32 RAM, some DRAM data, and the entry point inside a loaded IRAM segment.
    fn runnable(&self, entry: u32) -> bool {
        let inside = |(a, b): (u32, u32), at: u32, size: u32| at >= a && at.saturating_add(size) <= b;
        let complete = !self.segments.is_empty() && self.segments.iter().all(|&(_, size, got)| size == got);
        let mapped = self.segments.iter().all(|&(at, size, _)| {
            [DRAM, IRAM].iter().chain(RTC_REGIONS.iter()).any(|&region| inside(region, at, size))
        });
        let has_data = self.segments.iter().any(|&(at, size, _)| inside(DRAM, at, size));
        let entry_loaded = self.segments.iter().any(|&(at, size, _)| inside(IRAM, at, size) && (at..at + size).contains(&entry));
        complete && mapped && has_data && entry_loaded
    }

    fn read_reg(&self, address: u32, hw: &Hardware) -> u32 {
        let mac = hw.mac;
        match address {
            CHIP_DETECT_MAGIC_REG => ESP32_MAGIC,
            a if a == EFUSE_BASE + 4 => u32::from_be_bytes([mac[2], mac[3], mac[4], mac[5]]),
            a if a == EFUSE_BASE + 8 => (u32::from(crc8_mac(&mac)) << 16) | (u32::from(mac[0]) << 8) | u32::from(mac[1]),
            a if a == EFUSE_BASE + 12 => EFUSE_WORD3,
            a if a == EFUSE_BASE + 16 => uart::CK8M_FREQ,
            a if a == EFUSE_BASE + 20 => EFUSE_WORD5,
            RTC_CALI_CFG1_REG => uart::ROM_CALI_VALUE << 7,
            APB_CTL_DATE_REG => 1 << 31,
            UART_CLKDIV_REG => 40_000_000 / hw.baud.max(1),
            SPI_W0_REG => FLASH_JEDEC_ID,
            _ => 0,
        }
    }

    fn flash_data(&mut self, checksum: u32, data: &[u8], hw: &mut Hardware) -> (Reply, Next) {
        let Some(mut transfer) = self.flash else { return (Reply::Err(ERR_FAILED_TO_ACT), Next::Stay) };
        let Some((seq, block)) = block_of(data) else { return (Reply::Err(ERR_INVALID_MESSAGE), Next::Stay) };
        if checksum & 0xFF != u32::from(data_checksum(block)) {
            return (Reply::Err(ERR_INVALID_CRC), Next::Stay);
        }
        let at = transfer.offset as usize + seq as usize * transfer.block_size as usize;
        if seq != transfer.next_seq || !hw.flash.program(at, block) {
            return (Reply::Err(ERR_FLASH_WRITE), Next::Stay);
        }
        transfer.next_seq += 1;
        self.flash = Some(transfer);
        (Reply::Ok(0, Vec::new()), Next::Stay)
    }

    fn mem_data(&mut self, checksum: u32, data: &[u8]) -> (Reply, Next) {
        let Some(mut transfer) = self.ram else { return (Reply::Err(ERR_FAILED_TO_ACT), Next::Stay) };
        let Some((seq, block)) = block_of(data) else { return (Reply::Err(ERR_INVALID_MESSAGE), Next::Stay) };
        if checksum & 0xFF != u32::from(data_checksum(block)) {
            return (Reply::Err(ERR_INVALID_CRC), Next::Stay);
        }
        let loaded = seq.saturating_mul(transfer.block_size).saturating_add(block.len() as u32);
        if seq != transfer.next_seq || loaded > transfer.size {
            return (Reply::Err(ERR_FAILED_TO_ACT), Next::Stay);
        }
        self.ram_image.push((transfer.offset + seq * transfer.block_size, block.to_vec()));
        if let Some(segment) = self.segments.last_mut() {
            segment.2 += block.len() as u32;
        }
        transfer.next_seq += 1;
        self.ram = Some(transfer);
        (Reply::Ok(0, Vec::new()), Next::Stay)
    }
}

/// Splits a *_DATA payload into (sequence number, block), checking the declared length.
fn block_of(data: &[u8]) -> Option<(u32, &[u8])> {
    let header = words(data.get(..16)?);
    let block = &data[16..];
    (header[0] as usize == block.len()).then_some((header[1], block))
}

/// The ROM's data checksum: XOR of all bytes, seeded with 0xEF.
pub fn data_checksum(block: &[u8]) -> u8 {
    block.iter().fold(CHECKSUM_SEED, |acc, b| acc ^ b)
}

/// CRC-8 of the MAC as stored in eFuse (polynomial 0x07 reflected, as esptool checks it).
fn crc8_mac(mac: &[u8; 6]) -> u8 {
    let mut crc: u8 = 0;
    for &byte in mac.iter().rev() {
        crc ^= byte;
        for _ in 0..8 {
            crc = if crc & 0x01 != 0 { (crc >> 1) ^ 0x8C } else { crc >> 1 };
        }
    }
    crc
}
