//! The helper's CSR (`g_csr_def_3_device`): fixed subject `O=ESP, CN=Sample Device FFFF`, key and
//! signature from slot 0 of the chip, PEM with CryptoAuthLib's `\r\n` line ends.

use crate::atecc::{Atecc608, ChipError};
use base64::Engine;
use sha2::Digest;

pub(crate) fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match value.len() {
        n if n < 0x80 => out.push(n as u8),
        n if n < 0x100 => out.extend([0x81, n as u8]),
        n => out.extend([0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(value);
    out
}

pub(crate) fn rdn(oid_last: u8, text: &str, string_tag: u8) -> Vec<u8> {
    let attribute = [tlv(0x06, &[0x55, 0x04, oid_last]), tlv(string_tag, text.as_bytes())].concat();
    tlv(0x31, &tlv(0x30, &attribute))
}

pub(crate) fn integer(half: &[u8]) -> Vec<u8> {
    let first = half.iter().position(|&b| b != 0).unwrap_or(half.len() - 1);
    let mut value = half[first..].to_vec();
    if value[0] & 0x80 != 0 {
        value.insert(0, 0);
    }
    tlv(0x02, &value)
}

/// DER of the CSR signed by the chip's slot-0 key.
pub fn create_csr(chip: &Atecc608) -> Result<Vec<u8>, ChipError> {
    let public = chip.get_pubkey(0)?;
    let name = tlv(0x30, &[rdn(0x0A, "ESP", 0x0C), rdn(0x03, "Sample Device FFFF", 0x0C)].concat());
    let ec_alg = tlv(
        0x30,
        &[
            tlv(0x06, &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01]),
            tlv(0x06, &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]),
        ]
        .concat(),
    );
    let mut point = vec![0x00, 0x04];
    point.extend_from_slice(&public);
    let spki = tlv(0x30, &[ec_alg, tlv(0x03, &point)].concat());
    let info = tlv(0x30, &[tlv(0x02, &[0x00]), name, spki, vec![0xA0, 0x00]].concat());
    let digest: [u8; 32] = sha2::Sha256::digest(&info).into();
    let rs = chip.sign_digest(0, &digest)?;
    let signature = tlv(0x30, &[integer(&rs[..32]), integer(&rs[32..])].concat());
    let mut bits = vec![0x00];
    bits.extend(signature);
    let sig_alg = tlv(0x30, &tlv(0x06, &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02]));
    Ok(tlv(0x30, &[info, sig_alg, tlv(0x03, &bits)].concat()))
}

/// PEM as `atcacert_encode_pem` writes it: `\r\n` after the header, every 64 characters and the body.
pub fn encode_pem(der: &[u8], label: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).expect("ascii")).collect();
    format!("-----BEGIN {label}-----\r\n{}\r\n-----END {label}-----\r\n", lines.join("\r\n"))
}
