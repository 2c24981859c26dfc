//! PEM text exactly as the drivers send it: 64-character base64 lines, `\n` line ends.

use base64::Engine;

/// `-----BEGIN label-----\n` + base64 in 64-character lines + `-----END label-----\n`.
pub fn encode(label: &str, der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The SPKI DER of a raw P-256 public key.
pub fn spki(key: &[u8; 64]) -> Vec<u8> {
    let mut der = crate::parse::rainbowtype::SPKI_HEADER.to_vec();
    der.extend_from_slice(key);
    der
}
