//! Values CryptoAuthLib derives instead of storing: hash-based certificate serial numbers,
//! key identifiers and the 72-byte padded public-key format of ATECC data slots.

use super::compressed::{EncodedDates, FormatVersion};
use super::error::{AtcaCertError, Result};
use sha1::Digest as _;

/// Raw P-256 public key X ‖ Y.
pub type RawPublicKey = [u8; 64];

/// `00000000 ‖ X ‖ 00000000 ‖ Y`, the layout `atcab_write_pubkey` uses in a data slot.
pub fn padded_public_key(key: &RawPublicKey) -> [u8; 72] {
    let mut out = [0u8; 72];
    out[4..36].copy_from_slice(&key[..32]);
    out[40..72].copy_from_slice(&key[32..]);
    out
}

/// Inverse of [`padded_public_key`]; refuses non-zero pad bytes (a sign of a misread slot).
pub fn unpadded_public_key(padded: &[u8]) -> Result<RawPublicKey> {
    if padded.len() != 72 || padded[..4] != [0; 4] || padded[36..40] != [0; 4] {
        return Err(AtcaCertError::BadDefinition("a padded public key is 72 bytes with four zero bytes before X and before Y".into()));
    }
    let mut key = [0u8; 64];
    key[..32].copy_from_slice(&padded[4..36]);
    key[32..].copy_from_slice(&padded[40..72]);
    Ok(key)
}

/// Key identifier (SKI/AKI): SHA-1 of the uncompressed point `04 ‖ X ‖ Y` (RFC 5280 method 1).
pub fn key_id(key: &RawPublicKey) -> [u8; 20] {
    let mut h = sha1::Sha1::new();
    h.update([0x04]);
    h.update(key);
    h.finalize().into()
}

/// Hash input tail: the three encoded-date bytes, plus the extended nibble for format 1.
fn dates_tail(dates: &EncodedDates, version: FormatVersion) -> Result<Vec<u8>> {
    let (bytes, ext) = dates.encode(version)?;
    let mut tail = bytes.to_vec();
    if version == FormatVersion::V1 {
        tail.push(ext & 0xF0);
    }
    Ok(tail)
}

fn hash_serial(prefix: &[u8], dates: &EncodedDates, version: FormatVersion, len: usize) -> Result<Vec<u8>> {
    if len == 0 || len > 32 {
        return Err(AtcaCertError::BadDefinition(format!("a hash-derived serial number is 1-32 bytes, the template has {len}")));
    }
    let mut h = sha2::Sha256::new();
    h.update(prefix);
    h.update(dates_tail(dates, version)?);
    let digest = h.finalize();
    let mut sn = digest[..len].to_vec();
    sn[0] = (sn[0] & 0x7F) | 0x40;
    Ok(sn)
}

/// `SNSRC_PUB_KEY_HASH`: SHA-256(X ‖ Y ‖ encoded dates) truncated to `len`, top bits `01`.
pub fn pub_key_hash_serial(key: &RawPublicKey, dates: &EncodedDates, version: FormatVersion, len: usize) -> Result<Vec<u8>> {
    hash_serial(key, dates, version, len)
}

/// `SNSRC_DEVICE_SN_HASH`: SHA-256(9-byte device serial ‖ encoded dates), top bits `01`.
pub fn device_sn_hash_serial(device_sn: &[u8; 9], dates: &EncodedDates, version: FormatVersion, len: usize) -> Result<Vec<u8>> {
    hash_serial(device_sn, dates, version, len)
}

/// `SNSRC_DEVICE_SN`: `0x40 ‖ 9-byte device serial`.
pub fn device_sn_serial(device_sn: &[u8; 9]) -> Vec<u8> {
    let mut sn = vec![0x40];
    sn.extend_from_slice(device_sn);
    sn
}

/// `SNSRC_SIGNER_ID`: `0x40 ‖ signer ID`.
pub fn signer_id_serial(signer_id: u16) -> Vec<u8> {
    let mut sn = vec![0x40];
    sn.extend_from_slice(&signer_id.to_be_bytes());
    sn
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::atcacert::date::AtcaDate;

    #[test]
    fn padding_round_trips() {
        let mut key = [0u8; 64];
        key.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8 + 1);
        let padded = padded_public_key(&key);
        assert_eq!(&padded[..4], &[0; 4]);
        assert_eq!(unpadded_public_key(&padded).unwrap(), key);
    }

    #[test]
    fn hash_serial_has_top_bits_01() {
        let dates = EncodedDates { issue: AtcaDate::new(2020, 4, 29, 5, 0, 0), expire_years: 0 };
        let sn = pub_key_hash_serial(&[7u8; 64], &dates, FormatVersion::V0, 16).unwrap();
        assert_eq!(sn.len(), 16);
        assert_eq!(sn[0] & 0xC0, 0x40);
    }
}
