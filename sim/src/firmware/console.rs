//! ESP-IDF console output: `printf` with `\n` → `\r\n` translation and `ESP_LOGx` lines with colours.

/// `printf` text as it reaches the wire: every `\n` becomes `\r\n` (so `\r\n` shows as `\r\r\n`).
pub fn printf(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 8);
    for byte in text.bytes() {
        if byte == b'\n' {
            out.push(b'\r');
        }
        out.push(byte);
    }
    out
}

/// Log levels with their ESP-IDF letter and colour.
#[derive(Debug, Clone, Copy)]
pub enum Level {
    Error,
    Warn,
    Info,
}

/// One `ESP_LOGx(tag, format)` line: colour, `L (ms) TAG: text`, reset colour, newline.
pub fn log(level: Level, millis: u64, tag: &str, text: &str) -> Vec<u8> {
    let (letter, colour) = match level {
        Level::Error => ('E', "\x1b[0;31m"),
        Level::Warn => ('W', "\x1b[0;33m"),
        Level::Info => ('I', "\x1b[0;32m"),
    };
    printf(&format!("{colour}{letter} ({millis}) {tag}: {text}\x1b[0m\n"))
}

/// The ESP32 ROM banner for a power-on reset with the given boot mode line.
pub fn rom_banner(boot: &str) -> Vec<u8> {
    format!("ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),{boot}\r\n").into_bytes()
}

/// ROM output of a board strapped into UART download mode.
pub fn download_mode_banner() -> Vec<u8> {
    let mut out = rom_banner("boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))");
    out.extend_from_slice(b"waiting for download\r\n");
    out
}

/// ROM + second-stage bootloader output of a normal flash boot, up to the app's first line.
pub fn flash_boot_banner(millis: u64) -> Vec<u8> {
    let mut out = rom_banner("boot:0x13 (SPI_FAST_FLASH_BOOT)");
    out.extend_from_slice(
        b"configsip: 0, SPIWP:0xee\r\nclk_drv:0x00,q_drv:0x00,d_drv:0x00,cs0_drv:0x00,hd_drv:0x00,wp_drv:0x00\r\n\
mode:DIO, clock div:2\r\nload:0x3fff0030,len:4\r\nentry 0x40080694\r\n",
    );
    out.extend(log(Level::Info, millis, "boot", "ESP-IDF v4.2 2nd stage bootloader"));
    out.extend(log(Level::Info, millis, "boot", "Loaded app from partition at offset 0x10000"));
    out.extend(log(Level::Info, millis, "cpu_start", "Pro cpu up."));
    out.extend(log(Level::Info, millis, "cpu_start", "Starting scheduler on PRO CPU."));
    out
}
