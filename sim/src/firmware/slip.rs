//! SLIP framing as the ESP32 ROM loader uses it (`0xC0` delimiters, `DB DC` / `DB DD` escapes).

const END: u8 = 0xC0;
const ESC: u8 = 0xDB;
const ESC_END: u8 = 0xDC;
const ESC_ESC: u8 = 0xDD;
/// Longest frame accepted (a 0x4000-byte data block plus headers, with margin).
pub const MAX_FRAME: usize = 0x5000;

/// Wraps `payload` in a SLIP frame.
pub fn encode(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 8);
    out.push(END);
    for &byte in payload {
        match byte {
            END => out.extend([ESC, ESC_END]),
            ESC => out.extend([ESC, ESC_ESC]),
            other => out.push(other),
        }
    }
    out.push(END);
    out
}

/// Incremental SLIP decoder; bytes outside frames are ignored, oversized frames are dropped.
#[derive(Debug, Default)]
pub struct Decoder {
    frame: Vec<u8>,
    in_frame: bool,
    escaped: bool,
    overflow: bool,
}

impl Decoder {
    /// Feeds bytes; returns every complete frame.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Vec<u8>> {
        let mut frames = Vec::new();
        for &byte in bytes {
            if byte == END {
                if self.in_frame && !self.frame.is_empty() && !self.overflow {
                    frames.push(std::mem::take(&mut self.frame));
                }
                self.frame.clear();
                self.in_frame = true;
                self.escaped = false;
                self.overflow = false;
                continue;
            }
            if !self.in_frame {
                continue;
            }
            let value = if self.escaped {
                self.escaped = false;
                match byte {
                    ESC_END => END,
                    ESC_ESC => ESC,
                    _ => {
                        // Invalid escape: drop the frame like the ROM does.
                        self.overflow = true;
                        continue;
                    }
                }
            } else if byte == ESC {
                self.escaped = true;
                continue;
            } else {
                byte
            };
            if self.frame.len() >= MAX_FRAME {
                self.overflow = true;
            } else {
                self.frame.push(value);
            }
        }
        frames
    }
}
