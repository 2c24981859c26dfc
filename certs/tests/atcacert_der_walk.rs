//! The DER walker against an independent vector: Espressif's sample signer template, whose element
//! offsets Espressif's own generator computed (`port/cert_def_1_signer.c`), and the cert-def string.

use keyline_certs::atcacert::certdef_string;
use keyline_certs::atcacert::der_walk::{walk_certificate, Span};
use keyline_certs::atcacert::CertLoc;

const ESP_SIGNER: &[u8] = include_bytes!("data/esp_sample_signer.der");

fn span(offset: usize, count: usize) -> Span {
    Span { offset, count }
}

#[test]
fn walker_finds_the_offsets_espressif_compiled() {
    let layout = walk_certificate(ESP_SIGNER).unwrap();
    assert_eq!(layout.tbs, span(4, 356));
    assert_eq!(layout.serial, span(15, 20));
    assert_eq!(layout.not_before, span(92, 13));
    assert_eq!(layout.not_after, span(107, 13));
    assert_eq!(layout.public_key, span(192, 64));
    assert_eq!(layout.subject_key_id, Some(span(307, 20)));
    assert_eq!(layout.auth_key_id, Some(span(340, 20)));
    assert_eq!(layout.signature, span(372, 74));
    let cn = layout.subject_cn.unwrap();
    assert_eq!(cn.bytes(ESP_SIGNER), b"Sample Signer FFFF");
    assert_eq!(cn.offset + cn.count - 4, 161, "signer ID FFFF at 161");
}

#[test]
fn cert_def_string_matches_the_compiled_signer_definition() {
    let text = certdef_string::encode(ESP_SIGNER, false).unwrap();
    // PUBLIC_KEY, SIGNATURE, ISSUE, EXPIRE, SIGNER_ID, CERT_SN, AKI, SKI, TBS
    assert_eq!(&text[..72], "019200640372007400920013010700130161000400150020034000200307002000040356");
    assert_eq!(&text[72..], hex::encode(ESP_SIGNER));
    let (std, tbs, template) = certdef_string::decode(&text).unwrap();
    assert_eq!(std.signer_id, CertLoc::new(161, 4));
    assert_eq!(tbs, CertLoc::new(4, 356));
    assert_eq!(template, ESP_SIGNER);
}

#[test]
fn every_truncation_and_single_byte_change_is_handled_without_panic() {
    for len in 0..ESP_SIGNER.len() {
        assert!(walk_certificate(&ESP_SIGNER[..len]).is_err(), "truncated to {len} bytes must be refused");
    }
    for i in 0..ESP_SIGNER.len() {
        for flip in [0x01u8, 0x80, 0xFF] {
            let mut bytes = ESP_SIGNER.to_vec();
            bytes[i] ^= flip;
            if let Ok(layout) = walk_certificate(&bytes) {
                assert!(layout.signature.offset + layout.signature.count == bytes.len());
            }
        }
    }
}
