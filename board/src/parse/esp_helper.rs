//! Parsers for the esp_cryptoauth_utility helper's replies: handshake, Status/result/prompt, serial, keys, CSR.

use super::{detail, hex_bytes, malformed, pem_block};
use crate::BoardError;

/// The handshake prompt (no newline).
pub const HANDSHAKE_PROMPT: &str = "Initializing Command line: >>";
/// The command prompt the helper prints before every command.
pub const PROMPT: &str = "\n>>\n";

/// What a helper that stopped for good prints last, and what it means: an ESP-IDF panic (the helper
/// crashed; the chip reboots from flash and the RAM-loaded helper is gone), or the console set-up failing
/// after a missed handshake (its command line never starts). Both need a reset and a new RAM load.
pub fn helper_gone(text: &str) -> Option<&'static str> {
    if text.contains("Guru Meditation Error") || text.contains("abort() was called") {
        Some("it crashed (the board printed an ESP-IDF panic)")
    } else if text.contains("Failed to initialize ECU console interface") {
        Some("its command line never started (its handshake was missed)")
    } else {
        None
    }
}

/// The version the helper answers to `version` after its handshake prompt; `Ok(None)` until a full
/// `vX.Y.Z` followed by a newline arrived after the prompt.
pub fn handshake_version(text: &str, after: usize) -> Result<Option<String>, BoardError> {
    let rest = text.get(after..).unwrap_or("");
    let Some(v) = rest.find('v') else { return Ok(None) };
    let candidate = &rest[v..];
    let Some(end) = candidate.find('\n') else {
        if candidate.len() > 16 {
            return Err(malformed("version", "no newline after the version"));
        }
        return Ok(None);
    };
    let version = &candidate[..end];
    let parts: Vec<&str> = version[1..].split('.').collect();
    if version.len() > 16 || parts.len() != 3 || !parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) {
        return Err(malformed("version", format!("{:?} is not vX.Y.Z", detail(version))));
    }
    Ok(Some(version.to_string()))
}

/// One command's reply between the echoed command line and the next prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelperReply {
    /// `Some(true)` for `Status: Success`, `Some(false)` for `Status: Failure`, `None` when the
    /// helper printed no Status line (gated or unknown command).
    pub status: Option<bool>,
    /// Text after the Status line (or all text when there is none), up to the prompt.
    pub body: String,
}

/// The reply to a command, from the text after its echo: complete at the next prompt.
pub fn command_reply(text: &str) -> Option<HelperReply> {
    let end = text.find(PROMPT)?;
    let reply = &text[..end];
    let status_line = reply.lines().position(|l| l.contains("Status: Success") || l.contains("Status: Failure"));
    let Some(index) = status_line else {
        return Some(HelperReply { status: None, body: reply.to_string() });
    };
    let line = reply.lines().nth(index).unwrap_or("");
    let body: Vec<&str> = reply.lines().skip(index + 1).collect();
    Some(HelperReply { status: Some(line.contains("Status: Success")), body: body.join("\n") })
}

/// The chip type `init` reports (`ATECC608 Device Type: …`).
pub fn device_type(body: &str) -> Result<String, BoardError> {
    let Some(at) = body.find("ATECC608 Device Type: ") else {
        return Err(malformed("init reply", "no \"ATECC608 Device Type:\" line"));
    };
    let name = body[at + 22..].lines().next().unwrap_or("").trim();
    match name {
        "TrustCustom" | "Trust&Go" | "TrustFlex" | "TrustManager" => Ok(name.to_string()),
        other => Err(malformed("init reply", format!("unknown device type {:?}", detail(other)))),
    }
}

/// The 9-byte serial of `print-chip-info` (`Serial Number:` then 9 × `%02x `).
pub fn chip_serial(body: &str) -> Result<[u8; 9], BoardError> {
    let Some(at) = body.find("Serial Number:\n") else {
        return Err(malformed("chip info", "no \"Serial Number:\" line"));
    };
    let line = body[at + 15..].lines().next().unwrap_or("");
    let tokens: Vec<&str> = line.split(' ').filter(|t| !t.is_empty()).collect();
    if tokens.len() != 9 || !tokens.iter().all(|t| t.len() == 2) {
        return Err(malformed("chip info", format!("{:?} is not 9 hex bytes", detail(line))));
    }
    hex_bytes::<9>(&tokens.concat(), "chip info")
}

/// The 64-byte public key after `Public Key:` (128 hex digits, with or without a space after each byte).
pub fn public_key(body: &str) -> Result<[u8; 64], BoardError> {
    let Some(at) = body.find("Public Key:\n") else {
        return Err(malformed("public key", "no \"Public Key:\" line"));
    };
    let line = body[at + 12..].lines().next().unwrap_or("").trim_end();
    let compact = if line.contains(' ') {
        let tokens: Vec<&str> = line.split(' ').collect();
        if tokens.len() != 64 || !tokens.iter().all(|t| t.len() == 2) {
            return Err(malformed("public key", "not 64 space-separated hex bytes"));
        }
        tokens.concat()
    } else {
        line.to_string()
    };
    hex_bytes::<64>(&compact, "public key")
}

/// The CSR DER of `generate-csr`.
pub fn csr(body: &str) -> Result<Vec<u8>, BoardError> {
    pem_block(body, "CERTIFICATE REQUEST", "CSR", 1024)?.ok_or_else(|| malformed("CSR", "no complete PEM block"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_splits_status_and_body() {
        let reply = command_reply("I (1) secure_element: Status: Success\n\n Serial Number:\n01 23 a1 b2 c3 d4 e5 f6 ee \n>>\n").unwrap();
        assert_eq!(reply.status, Some(true));
        assert_eq!(chip_serial(&reply.body).unwrap()[8], 0xee);
        assert_eq!(command_reply("E (1) x: Please Initialize device\n>>\n").unwrap().status, None);
        assert_eq!(command_reply("I (1) x: Status: Success\n"), None);
    }

    #[test]
    fn a_panic_or_a_failed_console_means_the_helper_is_gone() {
        assert!(helper_gone("Guru Meditation Error: Core  0 panic'ed (StoreProhibited). Exception was unhandled.\n").unwrap().contains("crashed"));
        assert!(helper_gone("E (1612) ECU Console Interface: Failed to initialize ECU console interface\n").unwrap().contains("never started"));
        assert_eq!(helper_gone("I (5) secure_element: Status: Success\n\n>>\n"), None);
    }

    #[test]
    fn keys_with_and_without_spaces() {
        let plain = format!("\nPublic Key:\n{}", "ab".repeat(64));
        let spaced = format!("\nPublic Key:\n{}", "ab ".repeat(64));
        assert_eq!(public_key(&plain).unwrap(), [0xab; 64]);
        assert_eq!(public_key(&spaced).unwrap(), [0xab; 64]);
        assert!(public_key("\nPublic Key:\nabc").is_err());
    }

    #[test]
    fn version_after_the_prompt_only() {
        let text = format!("boot v9.9.9\n{HANDSHAKE_PROMPT}v1.2.0\n");
        let after = text.find(HANDSHAKE_PROMPT).unwrap() + HANDSHAKE_PROMPT.len();
        assert_eq!(handshake_version(&text, after).unwrap().as_deref(), Some("v1.2.0"));
        assert_eq!(handshake_version("v1.2", 0).unwrap(), None);
    }
}
