//! Strict, bounded parsers for every board reply; each returns `Ok(None)` while the reply is incomplete.
//!
//! Input is untrusted: every parser bounds what it reads, accepts only the documented format and
//! never panics (fuzzed by `board/fuzz`).

pub mod esp_helper;
pub mod rainbowtype;

use base64::Engine;

use crate::BoardError;

/// Most characters of firmware text kept in an error message.
const MAX_DETAIL: usize = 300;

/// Board text as a robust host matches it: `\r` removed, ANSI `ESC [ … m` sequences removed,
/// invalid UTF-8 replaced.
pub fn normalise(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\r' => i += 1,
            0x1b if bytes.get(i + 1) == Some(&b'[') => {
                // Skip `ESC [` parameters up to the final `m` (at most 16 bytes; else keep the text).
                let end = bytes[i + 2..].iter().take(16).position(|&b| b == b'm');
                match end {
                    Some(n) => i += n + 3,
                    None => {
                        out.push(0x1b);
                        i += 1;
                    }
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Bounded firmware text for an error message.
pub(crate) fn detail(text: &str) -> String {
    let trimmed = text.trim();
    let start = trimmed.char_indices().rev().nth(MAX_DETAIL).map(|(i, _)| i).unwrap_or(0);
    trimmed[start..].to_string()
}

pub(crate) fn malformed(what: &'static str, reason: impl Into<String>) -> BoardError {
    BoardError::Malformed { what, reason: reason.into() }
}

/// The DER inside `-----BEGIN label-----` … `-----END label-----` in normalised text.
/// `Ok(None)` while the END marker has not arrived. The body may hold only base64 and `\n`.
pub fn pem_block(text: &str, label: &str, what: &'static str, max_der: usize) -> Result<Option<Vec<u8>>, BoardError> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let Some(start) = text.find(&begin) else { return Ok(None) };
    let body_start = start + begin.len();
    let Some(len) = text[body_start..].find(&end) else {
        if text.len() - body_start > max_der * 2 + 64 {
            return Err(malformed(what, "the PEM block has no END line"));
        }
        return Ok(None);
    };
    let body = &text[body_start..body_start + len];
    if !body.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'\n')) {
        return Err(malformed(what, "the PEM body holds characters that are not base64"));
    }
    let compact: String = body.chars().filter(|&c| c != '\n').collect();
    if compact.len() > (max_der / 3 + 1) * 4 {
        return Err(malformed(what, format!("more than {max_der} bytes")));
    }
    let der = base64::engine::general_purpose::STANDARD.decode(compact).map_err(|e| malformed(what, format!("bad base64: {e}")))?;
    Ok(Some(der))
}

/// Lowercase (or uppercase) hex text of exactly `N` bytes.
pub(crate) fn hex_bytes<const N: usize>(text: &str, what: &'static str) -> Result<[u8; N], BoardError> {
    if text.len() != 2 * N || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(malformed(what, format!("expected {} hex digits, got {:?}", 2 * N, detail(text))));
    }
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).map_err(|e| malformed(what, e.to_string()))?;
    }
    Ok(out)
}

/// Which firmware a board's output shows, if any.
pub fn identify(text: &str) -> Option<&'static str> {
    if text.contains("Config Zone data:") {
        Some("rainbowtype")
    } else if text.contains("Initializing Command line: >>") || text.contains("\n>>\n") {
        Some("esp-helper")
    } else if text.contains("waiting for download") {
        Some("the ROM download mode")
    } else if text.contains("invalid header: 0xffffffff") {
        Some("no firmware (empty flash)")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalise_removes_carriage_returns_and_colours() {
        assert_eq!(normalise(b"\x1b[0;32mI (5) X: hi\x1b[0m\r\r\n"), "I (5) X: hi\n");
        assert_eq!(normalise(b"\x1b["), "\u{1b}[");
    }

    #[test]
    fn pem_block_waits_for_the_end_and_refuses_junk() {
        assert_eq!(pem_block("-----BEGIN X-----\nAAAA", "X", "x", 10).unwrap(), None);
        assert_eq!(pem_block("-----BEGIN X-----\nAAEC\n-----END X-----", "X", "x", 10).unwrap(), Some(vec![0, 1, 2]));
        assert!(pem_block("-----BEGIN X-----\nAA*C\n-----END X-----", "X", "x", 10).is_err());
    }
}
