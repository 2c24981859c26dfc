//! Parsers for the rainbowtype firmware's replies: boot dump, `s`, `k`, `p`/`o` echoes and the `q` transcript.

use super::{detail, hex_bytes, malformed, pem_block};
use crate::BoardError;

/// DER header of a P-256 SubjectPublicKeyInfo up to the uncompressed point marker.
pub const SPKI_HEADER: [u8; 27] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE,
    0x3D, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
];
/// Size of one `p`/`o` echo chunk.
pub const ECHO_CHUNK: usize = 65;
/// Most chunks one echoed buffer can take (1000-byte buffer).
const MAX_ECHO_CHUNKS: usize = 1000 / ECHO_CHUNK + 1;

/// The 128-byte configuration zone the firmware prints at boot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootDump {
    /// Config zone bytes 0-127.
    pub config: [u8; 128],
}

impl BootDump {
    /// The 9-byte chip serial (config bytes 0-3 and 8-12).
    pub fn serial(&self) -> [u8; 9] {
        let c = &self.config;
        [c[0], c[1], c[2], c[3], c[8], c[9], c[10], c[11], c[12]]
    }
    /// Whether the configuration zone is locked (LockConfig, byte 87, is not 0x55).
    pub fn config_locked(&self) -> bool {
        self.config[87] != 0x55
    }
    /// Whether the data zone is locked (LockValue, byte 86, is not 0x55).
    pub fn data_locked(&self) -> bool {
        self.config[86] != 0x55
    }
}

/// Boot failure lines the firmware prints instead of a dump.
const BOOT_FAILURES: [&str; 3] = ["atcab_init() failed", "atcab_read_serial_number() failed", "atcab_read_config_zone() failed"];

/// The boot dump: the `Config Zone data:` line plus 16 lines of 8 `%02x ` bytes.
pub fn boot_dump(text: &str) -> Result<Option<BootDump>, BoardError> {
    if let Some(failure) = BOOT_FAILURES.iter().find(|f| text.contains(**f)) {
        return Err(BoardError::FirmwareFailure { step: "boot", detail: (*failure).to_string() });
    }
    // The last dump counts: a reset prints a new one.
    let Some(at) = text.rfind("Config Zone data:") else { return Ok(None) };
    let Some(nl) = text[at..].find('\n') else { return Ok(None) };
    let mut rest = &text[at + nl + 1..];
    let mut config = [0u8; 128];
    for row in 0..16 {
        let Some(end) = rest.find('\n') else {
            if rest.len() > 24 {
                return Err(malformed("boot dump", format!("line {} is too long", row + 1)));
            }
            return Ok(None);
        };
        let line = &rest[..end];
        if line.len() != 24 || !line.as_bytes().chunks(3).all(|c| c[2] == b' ') {
            return Err(malformed("boot dump", format!("line {} is not 8 bytes as \"%02x \": {:?}", row + 1, detail(line))));
        }
        for (i, pair) in line.as_bytes().chunks(3).enumerate() {
            let text = std::str::from_utf8(&pair[..2]).map_err(|_| malformed("boot dump", "not ASCII"))?;
            config[row * 8 + i] = hex_bytes::<1>(text, "boot dump")?[0];
        }
        rest = &rest[end + 1..];
    }
    Ok(Some(BootDump { config }))
}

/// The reply to `s`: exactly 18 lowercase hex bytes, no terminator.
pub fn serial_reply(raw: &[u8]) -> Result<Option<[u8; 9]>, BoardError> {
    if raw.len() < 18 {
        if let Some(bad) = raw.iter().find(|b| !(b.is_ascii_digit() || (b'a'..=b'f').contains(b))) {
            return Err(malformed("serial", format!("byte {bad:#04x} is not lowercase hex (the chip was not readable at boot?)")));
        }
        return Ok(None);
    }
    let text = std::str::from_utf8(&raw[..18]).map_err(|_| malformed("serial", "not ASCII"))?;
    if !text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(malformed("serial", format!("{:?} is not 18 lowercase hex digits", detail(text))));
    }
    hex_bytes::<9>(text, "serial").map(Some)
}

/// The reply to `k`: the slot-0 public key PEM (`X ‖ Y`), or the firmware's failure line.
pub fn public_key_reply(text: &str) -> Result<Option<[u8; 64]>, BoardError> {
    if let Some(line) = text.lines().find(|l| l.contains("failed:") || l.contains("Unable to")) {
        if !text.contains("-----END PUBLIC KEY-----") || !line.starts_with("Genkey on slot 1") {
            return Err(BoardError::FirmwareFailure { step: "k (read public key)", detail: detail(line) });
        }
    }
    let Some(der) = pem_block(text, "PUBLIC KEY", "public key", 91)? else { return Ok(None) };
    if der.len() != 91 || der[..27] != SPKI_HEADER {
        return Err(malformed("public key", "not a P-256 SubjectPublicKeyInfo with an uncompressed point"));
    }
    Ok(Some(der[27..].try_into().expect("64 bytes")))
}

/// Splits a `p`/`o` echo into `sections` buffers: each is 65-byte chunks up to the first chunk
/// holding a NUL; returns each buffer's text before its first NUL. `Ok(None)` while incomplete.
pub fn echo_reply(raw: &[u8], sections: usize) -> Result<Option<Vec<Vec<u8>>>, BoardError> {
    let mut out = Vec::with_capacity(sections);
    let mut at = 0;
    for _ in 0..sections {
        let mut text = Vec::new();
        let mut chunks = 0;
        loop {
            let Some(chunk) = raw.get(at..at + ECHO_CHUNK) else { return Ok(None) };
            at += ECHO_CHUNK;
            chunks += 1;
            match chunk.iter().position(|&b| b == 0) {
                Some(nul) => {
                    text.extend_from_slice(&chunk[..nul]);
                    if chunk[nul..].iter().any(|&b| b != 0) {
                        return Err(malformed("upload echo", "bytes after the end of the text in a chunk"));
                    }
                    break;
                }
                None => text.extend_from_slice(chunk),
            }
            if chunks >= MAX_ECHO_CHUNKS {
                return Err(malformed("upload echo", "longer than the firmware's buffer"));
            }
        }
        out.push(text);
    }
    Ok(Some(out))
}

/// Lines of a successful `q` run, in order.
pub const PROVISIONING_STEPS: [&str; 9] = [
    "provisioning start",
    "Writing Root Public Key",
    "device sn provisioning complete.",
    "Writing Signer Certificate",
    "Writing Device Certificate",
    "Reading Signer Certificate",
    "Comparing Signer Certificate",
    "Reading Device Certificate",
    "Comparing Device Certificate",
];
/// The success line the firmware prints even after some failures.
pub const SUCCESS_LINE: &str = "Device Provisioning Successful!";
/// Texts after which the firmware stops (no success line follows).
const ABORTS: [&str; 7] = [
    "Failed to init",
    "Failed to write root ca public key",
    "Failed to write signer certificate",
    "Failed to write device certificate",
    "Failed to read signer certificate",
    "Failed to generate IO Prot Key",
    "Failed to write IO Prot Key",
];
/// Texts that mean failure even when the success line follows.
const FAILURE_MARKERS: [&str; 5] = ["missmatch", "error comparing device sn", "failed", "Failed", "conversion failed"];

/// What the `q` transcript proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisioningReport {
    /// The firmware read both certificates back and they compared equal to the uploads.
    pub read_back_compared: bool,
    /// The serial written to slot 13 read back equal.
    pub serial_compared: bool,
}

/// The `q` transcript: `Ok(None)` until the success line or an abort marker arrived; then success
/// only with the success line, every step line, and no failure marker anywhere.
pub fn provisioning_transcript(text: &str) -> Result<Option<ProvisioningReport>, BoardError> {
    let Some(start) = text.find("provisioning start") else {
        return Ok(None);
    };
    let run = &text[start..];
    let aborted = ABORTS.iter().find(|a| run.contains(**a));
    let finished = run.contains(SUCCESS_LINE);
    if !finished && aborted.is_none() {
        return Ok(None);
    }
    if let Some(marker) = FAILURE_MARKERS.iter().find(|m| run.contains(**m)) {
        let line = run.lines().find(|l| l.contains(marker)).unwrap_or(marker);
        return Err(BoardError::FirmwareFailure { step: "q (write and read back)", detail: detail(line) });
    }
    let mut cursor = 0;
    for step in PROVISIONING_STEPS {
        match run[cursor..].find(step) {
            Some(at) => cursor += at + step.len(),
            None => return Err(BoardError::FirmwareFailure { step: "q (write and read back)", detail: format!("the line {step:?} is missing") }),
        }
    }
    if !run[cursor..].contains(SUCCESS_LINE) {
        return Err(BoardError::FirmwareFailure { step: "q (write and read back)", detail: "no success line after the comparisons".into() });
    }
    Ok(Some(ProvisioningReport { read_back_compared: true, serial_compared: true }))
}

/// `Ready.` after `r`, failing on any configure error line before it.
pub fn configure_reply(text: &str) -> Result<Option<()>, BoardError> {
    let Some(at) = text.find("Ready.\n") else { return Ok(None) };
    let before = &text[..at];
    if let Some(line) = before.lines().find(|l| l.contains("Unable to") || l.contains("Genkey on slot 0 failed")) {
        return Err(BoardError::FirmwareFailure { step: "r (configure and lock)", detail: detail(line) });
    }
    Ok(Some(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dump(lock: u8) -> String {
        let mut config = [0u8; 128];
        config[0] = 1;
        config[1] = 0x23;
        config[12] = 0xee;
        config[86] = lock;
        config[87] = lock;
        let mut text = String::from("I (10) MAIN: Config Zone data:\n");
        for row in config.chunks(8) {
            text.extend(row.iter().map(|b| format!("{b:02x} ")));
            text.push('\n');
        }
        text
    }

    #[test]
    fn boot_dump_reads_serial_and_locks() {
        let parsed = boot_dump(&dump(0x55)).unwrap().unwrap();
        assert_eq!(parsed.serial()[..2], [1, 0x23]);
        assert!(!parsed.config_locked());
        assert!(boot_dump(&dump(0))
            .unwrap()
            .unwrap()
            .config_locked());
        let text = dump(0x55);
        assert_eq!(boot_dump(&text[..text.len() - 5]).unwrap(), None);
        assert!(boot_dump(&text.replace("23 ", "2x ")).is_err());
    }

    #[test]
    fn transcript_needs_every_step_and_no_marker() {
        let good = "\nprovisioning start\nWriting Root Public Key\ndevice sn provisioning complete.\nWriting Signer Certificate\n\
Writing Device Certificate\nReading Signer Certificate\nComparing Signer Certificate\nReading Device Certificate\n\
Comparing Device Certificate\n\nDevice Provisioning Successful!\n";
        assert!(provisioning_transcript(good).unwrap().is_some());
        assert_eq!(provisioning_transcript(&good[..60]).unwrap(), None);
        let bad = good.replace("Comparing Device Certificate\n", "Comparing Device Certificate\nDevice certificate missmatch\n");
        assert!(provisioning_transcript(&bad).is_err());
        let missing = good.replace("device sn provisioning complete.\n", "");
        assert!(provisioning_transcript(&missing).is_err());
    }

    #[test]
    fn echo_splits_sections_at_the_first_nul_chunk() {
        let mut raw = vec![b'a'; 65];
        raw.extend(vec![0u8; 65]);
        raw.extend(b"xy".iter().copied().chain(std::iter::repeat_n(0, 63)));
        let parts = echo_reply(&raw, 2).unwrap().unwrap();
        assert_eq!(parts, vec![vec![b'a'; 65], b"xy".to_vec()]);
        assert_eq!(echo_reply(&raw[..100], 2).unwrap(), None);
    }
}
