//! The 72-byte compressed certificate an ATECC608A keeps in a data slot (`atcacert.h`):
//! signature, encoded dates, signer ID, template/chain ID, serial-number source and format version.

use super::date::AtcaDate;
use super::error::{AtcaCertError, Result};
use serde::Serialize;

/// Size of a P-256 compressed certificate.
pub const COMP_CERT_SIZE: usize = 72;

/// Compressed-certificate format version (low nibble of byte 70).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[repr(u8)]
pub enum FormatVersion {
    /// Issue years 2000-2031, expire years 0-31 (the only format of CryptoAuthLib 3.2/3.3).
    V0 = 0,
    /// Extended dates: issue years 2000-2127, expire years 0-127 (CryptoAuthLib 3.7+).
    V1 = 1,
}

impl FormatVersion {
    /// The format CryptoAuthLib picks for these dates: V1 only when V0 cannot hold them.
    pub fn for_dates(issue_year: u16, expire_years: u8) -> Self {
        if issue_year > 2031 || expire_years > 31 { Self::V1 } else { Self::V0 }
    }

    const fn max_issue_year(self) -> u16 {
        match self {
            Self::V0 => 2031,
            Self::V1 => 2127,
        }
    }

    const fn max_expire_years(self) -> u8 {
        match self {
            Self::V0 => 31,
            Self::V1 => 127,
        }
    }
}

/// Issue date (hour precision) and validity in whole years, as packed into bytes 64-66 (+71).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct EncodedDates {
    /// Issue year, month, day, hour (minutes and seconds are always 0).
    pub issue: AtcaDate,
    /// Years until expiry; 0 means "no expiration" (the format's max date).
    pub expire_years: u8,
}

impl EncodedDates {
    /// Packs the dates: bytes 64-66 and the extended-date high nibble of byte 71.
    pub fn encode(&self, version: FormatVersion) -> Result<([u8; 3], u8)> {
        let d = self.issue;
        let out_of_range = |reason| AtcaCertError::DateOutOfRange { date: d.to_string(), format: "compressed certificate", reason };
        if d.year < 2000 || d.year > version.max_issue_year() {
            return Err(out_of_range(if version == FormatVersion::V0 { "format 0 holds issue years 2000-2031" } else { "format 1 holds issue years 2000-2127" }));
        }
        if self.expire_years > version.max_expire_years() {
            return Err(out_of_range(if version == FormatVersion::V0 { "format 0 holds 0-31 expire years" } else { "format 1 holds 0-127 expire years" }));
        }
        if !(1..=12).contains(&d.month) || !(1..=31).contains(&d.day) || d.hour > 23 {
            return Err(out_of_range("month, day or hour outside its range"));
        }
        if d.minute != 0 || d.second != 0 {
            return Err(out_of_range("compressed dates keep whole hours only"));
        }
        let year = u32::from(d.year - 2000);
        let packed = ((year & 0x1F) << 19)
            | (u32::from(d.month) << 15)
            | (u32::from(d.day) << 10)
            | (u32::from(d.hour) << 5)
            | u32::from(self.expire_years & 0x1F);
        let bytes = [(packed >> 16) as u8, (packed >> 8) as u8, packed as u8];
        let ext = (((year & 0x60) << 1) as u8) | ((self.expire_years & 0x60) >> 1);
        Ok((bytes, ext))
    }

    /// Unpacks bytes 64-66 and the byte-71 high nibble (ignored for format 0).
    pub fn decode(bytes: [u8; 3], ext: u8, version: FormatVersion) -> Result<Self> {
        let packed = (u32::from(bytes[0]) << 16) | (u32::from(bytes[1]) << 8) | u32::from(bytes[2]);
        let mut year = (packed >> 19) & 0x1F;
        let month = ((packed >> 15) & 0x0F) as u8;
        let day = ((packed >> 10) & 0x1F) as u8;
        let hour = ((packed >> 5) & 0x1F) as u8;
        let mut expire_years = (packed & 0x1F) as u8;
        if version == FormatVersion::V1 {
            year |= u32::from(ext & 0xC0) >> 1;
            expire_years |= (ext & 0x30) << 1;
        }
        if !(1..=12).contains(&month) || day == 0 || hour > 23 {
            return Err(AtcaCertError::BadCompressedCert { reason: format!("encoded date has month {month}, day {day}, hour {hour}") });
        }
        Ok(Self { issue: AtcaDate::new(2000 + year as u16, month, day, hour, 0, 0), expire_years })
    }

    /// The expiry date these dates stand for, or `None` for "no expiration" (expire_years 0).
    pub fn expire_date(&self) -> Option<AtcaDate> {
        (self.expire_years != 0).then(|| AtcaDate { year: self.issue.year + u16::from(self.expire_years), ..self.issue })
    }
}

/// A decoded compressed certificate.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct CompressedCert {
    /// ECDSA signature R ‖ S, 32 bytes each, big-endian.
    #[serde(with = "hex_bytes")]
    pub signature: [u8; 64],
    /// Issue date and expire years.
    pub dates: EncodedDates,
    /// Signer ID (2 bytes; 4 hex characters in the certificate).
    pub signer_id: u16,
    /// Template ID (4 bits).
    pub template_id: u8,
    /// Chain ID (4 bits).
    pub chain_id: u8,
    /// Serial-number source nibble (`atcacert_cert_sn_src_t`).
    pub sn_source: u8,
    /// Format version.
    pub format_version: FormatVersion,
    /// Low nibble of byte 71 (reserved, normally 0), kept for an exact round trip.
    pub reserved: u8,
}

impl CompressedCert {
    /// Serialises to the 72 bytes stored on the device.
    pub fn to_bytes(&self) -> Result<[u8; COMP_CERT_SIZE]> {
        if self.template_id > 0x0F || self.chain_id > 0x0F || self.sn_source > 0x0F || self.reserved > 0x0F {
            return Err(AtcaCertError::BadCompressedCert { reason: "template ID, chain ID, SN source and reserved bits are 4-bit values".into() });
        }
        let (dates, ext) = self.dates.encode(self.format_version)?;
        let mut out = [0u8; COMP_CERT_SIZE];
        out[..64].copy_from_slice(&self.signature);
        out[64..67].copy_from_slice(&dates);
        out[67..69].copy_from_slice(&self.signer_id.to_be_bytes());
        out[69] = (self.template_id << 4) | self.chain_id;
        out[70] = (self.sn_source << 4) | self.format_version as u8;
        out[71] = ext | self.reserved;
        Ok(out)
    }

    /// Parses 72 bytes read from a device slot. Strict: exact length, known format, valid dates.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != COMP_CERT_SIZE {
            return Err(AtcaCertError::BadCompressedCert { reason: format!("it is {} bytes, a P-256 compressed certificate is 72", bytes.len()) });
        }
        let format_version = match bytes[70] & 0x0F {
            0 => FormatVersion::V0,
            1 => FormatVersion::V1,
            2 => return Err(AtcaCertError::BadCompressedCert { reason: "format 2 (P-384/P-521) is not supported; Keyline issues P-256 only".into() }),
            v => return Err(AtcaCertError::BadCompressedCert { reason: format!("unknown format version {v}") }),
        };
        if format_version == FormatVersion::V0 && bytes[71] & 0xF0 != 0 {
            return Err(AtcaCertError::BadCompressedCert { reason: "format 0 with extended-date bits set in byte 71".into() });
        }
        let mut signature = [0u8; 64];
        signature.copy_from_slice(&bytes[..64]);
        let dates = EncodedDates::decode([bytes[64], bytes[65], bytes[66]], bytes[71] & 0xF0, format_version)?;
        Ok(Self {
            signature,
            dates,
            signer_id: u16::from_be_bytes([bytes[67], bytes[68]]),
            template_id: bytes[69] >> 4,
            chain_id: bytes[69] & 0x0F,
            sn_source: bytes[70] >> 4,
            format_version,
            reserved: bytes[71] & 0x0F,
        })
    }
}

mod hex_bytes {
    pub fn serialize<S: serde::Serializer>(bytes: &[u8; 64], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn espressif_device_template_dates_decode() {
        // bytes 64-71 of the comp cert of esp-cryptoauthlib port/cert_def_2_device.c (spec §4)
        let mut raw = [0u8; 72];
        raw[64..].copy_from_slice(&[0xa2, 0x74, 0xa0, 0xff, 0xff, 0x20, 0xa0, 0x00]);
        let c = CompressedCert::from_bytes(&raw).unwrap();
        assert_eq!(c.dates.issue, AtcaDate::new(2020, 4, 29, 5, 0, 0));
        assert_eq!((c.dates.expire_years, c.signer_id, c.template_id, c.chain_id, c.sn_source), (0, 0xFFFF, 2, 0, 0xA));
        assert_eq!(c.format_version, FormatVersion::V0);
        assert_eq!(c.to_bytes().unwrap(), raw);
    }

    #[test]
    fn format_zero_refuses_2032() {
        let dates = EncodedDates { issue: AtcaDate::new(2032, 1, 1, 0, 0, 0), expire_years: 0 };
        assert!(dates.encode(FormatVersion::V0).is_err());
        assert!(dates.encode(FormatVersion::V1).is_ok());
    }

    #[test]
    fn wrong_length_is_refused() {
        assert!(matches!(CompressedCert::from_bytes(&[0u8; 71]), Err(AtcaCertError::BadCompressedCert { .. })));
    }
}
