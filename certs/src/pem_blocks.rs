//! Reading PEM text (with the `pem` crate) into labelled DER blocks, so files with several blocks (EC PARAMETERS
//! followed by EC PRIVATE KEY, or a certificate chain) can be read; and writing DER as PEM.

use zeroize::Zeroizing;

use crate::{Error, Result};

/// Largest PEM text accepted (certificate chains and keys are a few KiB).
pub const MAX_PEM_BYTES: usize = 256 * 1024;

/// One `-----BEGIN <label>-----` ... `-----END <label>-----` block, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PemBlock {
    /// The label, e.g. `CERTIFICATE` or `ENCRYPTED PRIVATE KEY`.
    pub label: String,
    /// The DER inside (zeroed on drop: it may be a private key).
    pub der: Zeroizing<Vec<u8>>,
    /// The block has OpenSSL's legacy `Proc-Type: 4,ENCRYPTED` header (its DER is ciphertext).
    pub legacy_encrypted: bool,
}

/// Every PEM block in `text`, in order. Fails on a malformed block (bad base64, mismatched BEGIN/END labels) or
/// when there is none.
pub fn pem_blocks(what: &'static str, text: &str) -> Result<Vec<PemBlock>> {
    if text.len() > MAX_PEM_BYTES {
        return Err(Error::TooLarge { what, limit: MAX_PEM_BYTES });
    }
    let parsed = pem::parse_many(text).map_err(|e| corrupt(what, &e.to_string()))?;
    if parsed.is_empty() {
        return Err(corrupt(what, "no -----BEGIN ...----- block found"));
    }
    Ok(parsed
        .into_iter()
        .map(|block| {
            let legacy_encrypted = block.headers().get("Proc-Type").is_some_and(|value| value.contains("ENCRYPTED"));
            PemBlock { label: block.tag().to_owned(), legacy_encrypted, der: Zeroizing::new(block.into_contents()) }
        })
        .collect())
}

pub(crate) fn corrupt(what: &'static str, detail: &str) -> Error {
    Error::CorruptPem { what, detail: detail.to_owned() }
}

/// Encode DER as PEM with LF line endings.
pub fn to_pem(label: &str, der: &[u8]) -> String {
    pkcs8::der::pem::encode_string(label, pkcs8::der::pem::LineEnding::LF, der).expect("PEM label is valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_block_with_its_label() {
        let text = "junk\n-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n";
        let blocks = pem_blocks("private key", text).unwrap();
        assert_eq!(blocks.iter().map(|b| b.label.as_str()).collect::<Vec<_>>(), ["EC PARAMETERS", "EC PRIVATE KEY"]);
        assert_eq!(*blocks[0].der, [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]);
        assert_eq!(*blocks[1].der, [0, 0, 0]);
        assert!(!blocks[1].legacy_encrypted);
    }

    #[test]
    fn sees_a_legacy_encrypted_key() {
        let text = "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00112233445566778899AABBCCDDEEFF\n\nAAAA\n-----END EC PRIVATE KEY-----\n";
        assert!(pem_blocks("private key", text).unwrap()[0].legacy_encrypted);
    }

    #[test]
    fn rejects_text_without_blocks_and_unterminated_blocks() {
        assert!(matches!(pem_blocks("certificate", "hello"), Err(Error::CorruptPem { .. })));
        assert!(matches!(
            pem_blocks("certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n"),
            Err(Error::CorruptPem { .. })
        ));
        assert!(matches!(
            pem_blocks("certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END PRIVATE KEY-----\n"),
            Err(Error::CorruptPem { .. })
        ));
        assert!(matches!(
            pem_blocks("certificate", "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"),
            Err(Error::CorruptPem { .. })
        ));
    }
}
