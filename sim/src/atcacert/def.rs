//! Certificate definitions (the parts of `atcacert_def_t` the two firmwares use) and date encoding.

use super::der::{locate, Span};

/// Where an element lives on the chip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DevLoc {
    /// Bytes of a data slot.
    Slot { slot: usize, offset: usize, count: usize },
    /// The public key of a private-key slot, computed with GenKey.
    GenKey { slot: usize },
    /// A config-zone location (never written by `atcacert_write_cert`).
    Config { offset: usize, count: usize },
}

/// An extra element: device bytes copied into the certificate unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Element {
    pub device: DevLoc,
    pub cert: Span,
}

/// `SNSRC_STORED`.
pub const SN_STORED: u8 = 0x0;
/// `SNSRC_PUB_KEY_HASH`.
pub const SN_PUB_KEY_HASH: u8 = 0xA;

/// A compressed-certificate definition.
#[derive(Debug, Clone)]
pub struct CertDef {
    pub template_id: u8,
    pub chain_id: u8,
    pub sn_source: u8,
    pub template: Vec<u8>,
    pub tbs: Span,
    pub public_key: Span,
    pub signature: Span,
    pub issue_date: Span,
    pub expire_date: Span,
    pub signer_id: Span,
    pub cert_sn: Span,
    pub auth_key_id: Span,
    pub subj_key_id: Span,
    pub expire_years: u8,
    pub public_key_dev: DevLoc,
    pub comp_cert_slot: usize,
    pub cert_sn_dev: Option<DevLoc>,
    pub elements: Vec<Element>,
}

/// A calendar date and time (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: u32,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

/// Parses `YYMMDDhhmmssZ` (13 bytes) or `YYYYMMDDhhmmssZ` (15 bytes).
pub fn parse_date(text: &[u8]) -> Option<Date> {
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        std::str::from_utf8(text.get(range)?).ok()?.parse().ok()
    };
    let (year, rest) = match text.len() {
        13 => {
            let yy = digits(0..2)?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, 2)
        }
        15 => (digits(0..4)?, 4),
        _ => return None,
    };
    if *text.last()? != b'Z' {
        return None;
    }
    Some(Date {
        year,
        month: digits(rest..rest + 2)?,
        day: digits(rest + 2..rest + 4)?,
        hour: digits(rest + 4..rest + 6)?,
        minute: digits(rest + 6..rest + 8)?,
        second: digits(rest + 8..rest + 10)?,
    })
}

/// Formats a date in the width of the template field (13 = UTCTime, 15 = GeneralizedTime).
pub fn format_date(date: &Date, width: usize) -> Vec<u8> {
    let tail = format!("{:02}{:02}{:02}{:02}{:02}Z", date.month, date.day, date.hour, date.minute, date.second);
    if width == 13 {
        format!("{:02}{tail}", date.year % 100).into_bytes()
    } else {
        format!("{:04}{tail}", date.year).into_bytes()
    }
}

/// The "no expiration" date of a field width.
pub fn max_date(width: usize) -> Date {
    let year = if width == 13 { 2049 } else { 9999 };
    Date { year, month: 12, day: 31, hour: 23, minute: 59, second: 59 }
}

/// Format-0 date encoding: issue year − 2000 (5 bits), month, day, hour, expire years (5 bits).
pub fn encode_dates(issue: &Date, expire_years: u8) -> Option<[u8; 3]> {
    if !(2000..=2031).contains(&issue.year) || expire_years > 31 {
        return None;
    }
    let bits = ((issue.year - 2000) << 19)
        | (issue.month << 15)
        | (issue.day << 10)
        | (issue.hour << 5)
        | u32::from(expire_years);
    let b = bits.to_be_bytes();
    Some([b[1], b[2], b[3]])
}

/// Inverse of `encode_dates` (minutes and seconds are 0).
pub fn decode_dates(enc: [u8; 3]) -> (Date, u8) {
    let bits = u32::from_be_bytes([0, enc[0], enc[1], enc[2]]);
    let date = Date {
        year: 2000 + (bits >> 19),
        month: (bits >> 15) & 0x0F,
        day: (bits >> 10) & 0x1F,
        hour: (bits >> 5) & 0x1F,
        minute: 0,
        second: 0,
    };
    (date, (bits & 0x1F) as u8)
}

impl CertDef {
    /// The signer definition `cert2certdef.py` generates for rainbowtype from a sample signer
    /// certificate: SN stored in slot 14 (right-aligned at byte 20), full date texts in slot 14
    /// ending at bytes 35 and 50, public key in slot 11, compressed certificate in slot 12.
    pub fn rainbowtype_signer(sample: &[u8]) -> Option<CertDef> {
        let layout = locate(sample)?;
        let issue = parse_date(&sample[layout.not_before.offset..][..layout.not_before.count])?;
        let expire = parse_date(&sample[layout.not_after.offset..][..layout.not_after.count])?;
        let years = expire.year.saturating_sub(issue.year);
        let n = layout.serial.count;
        if n > 20 {
            return None;
        }
        let slot14 = |offset, count| DevLoc::Slot { slot: 14, offset, count };
        Some(CertDef {
            template_id: 1,
            chain_id: 0,
            sn_source: SN_STORED,
            template: sample.to_vec(),
            tbs: layout.tbs,
            public_key: layout.public_key,
            signature: layout.signature,
            issue_date: layout.not_before,
            expire_date: layout.not_after,
            signer_id: Span::default(),
            cert_sn: layout.serial,
            auth_key_id: layout.authority_key_id,
            subj_key_id: layout.subject_key_id,
            expire_years: if (1..=31).contains(&years) { years as u8 } else { 0 },
            public_key_dev: DevLoc::Slot { slot: 11, offset: 0, count: 72 },
            comp_cert_slot: 12,
            cert_sn_dev: Some(slot14(20 - n, n)),
            elements: vec![
                Element { device: slot14(35 - layout.not_before.count, layout.not_before.count), cert: layout.not_before },
                Element { device: slot14(50 - layout.not_after.count, layout.not_after.count), cert: layout.not_after },
            ],
        })
    }

    /// The rainbowtype device definition: SN from the public-key hash, GenKey slot 0, compressed
    /// certificate in slot 10, the CN text (18 bytes) in slot 13, notAfter fixed in the template.
    pub fn rainbowtype_device(sample: &[u8]) -> Option<CertDef> {
        let layout = locate(sample)?;
        if layout.subject_cn.count != 18 {
            return None;
        }
        Some(CertDef {
            template_id: 2,
            chain_id: 0,
            sn_source: SN_PUB_KEY_HASH,
            template: sample.to_vec(),
            tbs: layout.tbs,
            public_key: layout.public_key,
            signature: layout.signature,
            issue_date: layout.not_before,
            expire_date: Span::default(),
            signer_id: Span::default(),
            cert_sn: layout.serial,
            auth_key_id: layout.authority_key_id,
            subj_key_id: layout.subject_key_id,
            expire_years: 0,
            public_key_dev: DevLoc::GenKey { slot: 0 },
            comp_cert_slot: 10,
            cert_sn_dev: None,
            elements: vec![Element {
                device: DevLoc::Slot { slot: 13, offset: 0, count: 18 },
                cert: layout.subject_cn,
            }],
        })
    }
}
