//! Splitting PEM text into labelled blocks, so files with several blocks (EC PARAMETERS followed
//! by EC PRIVATE KEY, or a certificate chain) can be read.

use crate::{Error, Result};

/// Largest PEM text accepted (certificate chains and keys are a few KiB).
pub const MAX_PEM_BYTES: usize = 256 * 1024;

/// One `-----BEGIN <label>-----` ... `-----END <label>-----` block, borrowed from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PemBlock<'a> {
    /// The label, e.g. `CERTIFICATE` or `ENCRYPTED PRIVATE KEY`.
    pub label: &'a str,
    /// The whole block including the BEGIN and END lines.
    pub text: &'a str,
}

/// Every PEM block in `text`, in order. Fails on an unterminated block or when there is none.
pub fn pem_blocks<'a>(what: &'static str, text: &'a str) -> Result<Vec<PemBlock<'a>>> {
    if text.len() > MAX_PEM_BYTES {
        return Err(Error::TooLarge { what, limit: MAX_PEM_BYTES });
    }
    let mut blocks = Vec::new();
    let mut rest = text;
    let mut offset = 0;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after_begin = &rest[start + "-----BEGIN ".len()..];
        let label_end = after_begin.find("-----").ok_or_else(|| corrupt(what, "unterminated BEGIN line"))?;
        let label = &after_begin[..label_end];
        if label.contains('\n') || label.is_empty() {
            return Err(corrupt(what, "malformed BEGIN line"));
        }
        let end_marker = format!("-----END {label}-----");
        let end = rest[start..].find(&end_marker).ok_or_else(|| corrupt(what, &format!("no END line for {label}")))?;
        let block_end = start + end + end_marker.len();
        blocks.push(PemBlock { label, text: &text[offset + start..offset + block_end] });
        offset += block_end;
        rest = &rest[block_end..];
    }
    if blocks.is_empty() {
        return Err(corrupt(what, "no -----BEGIN ...----- block found"));
    }
    Ok(blocks)
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
        assert_eq!(blocks.iter().map(|b| b.label).collect::<Vec<_>>(), ["EC PARAMETERS", "EC PRIVATE KEY"]);
        assert!(blocks[1].text.starts_with("-----BEGIN EC PRIVATE KEY-----"));
        assert!(blocks[1].text.ends_with("-----END EC PRIVATE KEY-----"));
    }

    #[test]
    fn rejects_text_without_blocks_and_unterminated_blocks() {
        assert!(matches!(pem_blocks("certificate", "hello"), Err(Error::CorruptPem { .. })));
        assert!(matches!(
            pem_blocks("certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n"),
            Err(Error::CorruptPem { .. })
        ));
    }
}
