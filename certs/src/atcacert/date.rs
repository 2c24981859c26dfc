//! Certificate dates as CryptoAuthLib stores them: the five `DATEFMT_*` text/number formats and
//! the 3-byte (+ extended nibble) date encoding of the compressed certificate.

use super::error::{AtcaCertError, Result};
use serde::Serialize;

/// A calendar timestamp in UTC with the field ranges CryptoAuthLib uses (`atcacert_tm_utc_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct AtcaDate {
    /// Full year, e.g. 2026.
    pub year: u16,
    /// Month 1-12.
    pub month: u8,
    /// Day of month 1-31.
    pub day: u8,
    /// Hour 0-23.
    pub hour: u8,
    /// Minute 0-59.
    pub minute: u8,
    /// Second 0-59.
    pub second: u8,
}

impl AtcaDate {
    /// A timestamp from its fields (not range-checked; encoders check).
    pub const fn new(year: u16, month: u8, day: u8, hour: u8, minute: u8, second: u8) -> Self {
        Self { year, month, day, hour, minute, second }
    }

    /// The same instant with minutes and seconds cleared (what a compressed certificate keeps).
    pub const fn truncated_to_hour(self) -> Self {
        Self { minute: 0, second: 0, ..self }
    }

    /// True when the day exists in its month (leap years included).
    pub fn is_real_calendar_date(&self) -> bool {
        (1..=12).contains(&self.month)
            && self.day >= 1
            && self.day <= days_in_month(self.year, self.month)
            && self.hour < 24
            && self.minute < 60
            && self.second < 60
    }

    /// Converts a `time` timestamp (any offset) to UTC fields.
    pub fn from_offset_date_time(t: time::OffsetDateTime) -> Self {
        let t = t.to_offset(time::UtcOffset::UTC);
        Self::new(t.year().clamp(0, 9999) as u16, t.month() as u8, t.day(), t.hour(), t.minute(), t.second())
    }

    fn fields_in_range(&self) -> bool {
        (1..=12).contains(&self.month) && (1..=31).contains(&self.day) && self.hour < 24 && self.minute < 60 && self.second < 60
    }
}

impl std::fmt::Display for AtcaDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02} {:02}:{:02}:{:02}Z", self.year, self.month, self.day, self.hour, self.minute, self.second)
    }
}

/// Days in a month of the proleptic Gregorian calendar.
pub fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Gregorian leap-year rule.
pub fn is_leap_year(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

/// `atcacert_date_format_t`: how a date is written into the certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[repr(u8)]
pub enum DateFormat {
    /// `YYYY-MM-DDThh:mm:ssZ` (20 bytes).
    Iso8601Sep = 0,
    /// X.509 UTCTime `YYMMDDhhmmssZ` (13 bytes), years 1950-2049.
    Rfc5280Utc = 1,
    /// POSIX seconds, 32-bit big-endian.
    PosixUint32Be = 2,
    /// POSIX seconds, 32-bit little-endian.
    PosixUint32Le = 3,
    /// X.509 GeneralizedTime `YYYYMMDDhhmmssZ` (15 bytes).
    Rfc5280Gen = 4,
}

impl DateFormat {
    /// Size in bytes of a date in this format.
    pub const fn size(self) -> usize {
        match self {
            Self::Iso8601Sep => 20,
            Self::Rfc5280Utc => 13,
            Self::PosixUint32Be | Self::PosixUint32Le => 4,
            Self::Rfc5280Gen => 15,
        }
    }

    /// The C enumerator name.
    pub const fn c_name(self) -> &'static str {
        match self {
            Self::Iso8601Sep => "DATEFMT_ISO8601_SEP",
            Self::Rfc5280Utc => "DATEFMT_RFC5280_UTC",
            Self::PosixUint32Be => "DATEFMT_POSIX_UINT32_BE",
            Self::PosixUint32Le => "DATEFMT_POSIX_UINT32_LE",
            Self::Rfc5280Gen => "DATEFMT_RFC5280_GEN",
        }
    }

    /// The X.509 time format for a date: UTCTime until 2049, GeneralizedTime from 2050 (RFC 5280).
    pub const fn x509_for_year(year: u16) -> Self {
        if year <= 2049 { Self::Rfc5280Utc } else { Self::Rfc5280Gen }
    }

    /// The latest date the format can hold; expire_years 0 means "expires at this date".
    pub const fn max_date(self) -> AtcaDate {
        match self {
            Self::Iso8601Sep | Self::Rfc5280Gen => AtcaDate::new(9999, 12, 31, 23, 59, 59),
            Self::Rfc5280Utc => AtcaDate::new(2049, 12, 31, 23, 59, 59),
            Self::PosixUint32Be | Self::PosixUint32Le => AtcaDate::new(2106, 2, 7, 6, 28, 15),
        }
    }

    /// Writes `date` in this format.
    pub fn encode(self, date: &AtcaDate) -> Result<Vec<u8>> {
        let out_of_range = |reason| AtcaCertError::DateOutOfRange { date: date.to_string(), format: self.c_name(), reason };
        if !date.fields_in_range() {
            return Err(out_of_range("a field is outside its range"));
        }
        let d = date;
        Ok(match self {
            Self::Rfc5280Utc => {
                if !(1950..=2049).contains(&d.year) {
                    return Err(out_of_range("UTCTime holds years 1950-2049 only"));
                }
                format!("{:02}{:02}{:02}{:02}{:02}{:02}Z", d.year % 100, d.month, d.day, d.hour, d.minute, d.second).into_bytes()
            }
            Self::Rfc5280Gen => {
                if d.year > 9999 {
                    return Err(out_of_range("GeneralizedTime holds years 0-9999 only"));
                }
                format!("{:04}{:02}{:02}{:02}{:02}{:02}Z", d.year, d.month, d.day, d.hour, d.minute, d.second).into_bytes()
            }
            Self::Iso8601Sep => {
                if d.year > 9999 {
                    return Err(out_of_range("ISO 8601 holds years 0-9999 only"));
                }
                format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", d.year, d.month, d.day, d.hour, d.minute, d.second).into_bytes()
            }
            Self::PosixUint32Be | Self::PosixUint32Le => {
                let secs = posix_seconds(d).ok_or_else(|| out_of_range("POSIX uint32 holds 1970-01-01 to 2106-02-07 06:28:15"))?;
                if self == Self::PosixUint32Be { secs.to_be_bytes().to_vec() } else { secs.to_le_bytes().to_vec() }
            }
        })
    }

    /// Reads a date written in this format.
    pub fn decode(self, bytes: &[u8]) -> Result<AtcaDate> {
        let malformed = || AtcaCertError::MalformedDate { format: self.c_name(), text: String::from_utf8_lossy(bytes).into_owned() };
        if bytes.len() != self.size() {
            return Err(malformed());
        }
        let num = |range: std::ops::Range<usize>| -> Result<u16> {
            let text = &bytes[range];
            if !text.iter().all(u8::is_ascii_digit) {
                return Err(malformed());
            }
            Ok(text.iter().fold(0u16, |acc, b| acc * 10 + u16::from(b - b'0')))
        };
        let date = match self {
            Self::Rfc5280Utc => {
                if bytes[12] != b'Z' {
                    return Err(malformed());
                }
                let yy = num(0..2)?;
                let year = if yy < 50 { 2000 + yy } else { 1900 + yy };
                AtcaDate::new(year, num(2..4)? as u8, num(4..6)? as u8, num(6..8)? as u8, num(8..10)? as u8, num(10..12)? as u8)
            }
            Self::Rfc5280Gen => {
                if bytes[14] != b'Z' {
                    return Err(malformed());
                }
                AtcaDate::new(num(0..4)?, num(4..6)? as u8, num(6..8)? as u8, num(8..10)? as u8, num(10..12)? as u8, num(12..14)? as u8)
            }
            Self::Iso8601Sep => {
                let seps = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':'), (19, b'Z')];
                if seps.iter().any(|&(i, c)| bytes[i] != c) {
                    return Err(malformed());
                }
                AtcaDate::new(num(0..4)?, num(5..7)? as u8, num(8..10)? as u8, num(11..13)? as u8, num(14..16)? as u8, num(17..19)? as u8)
            }
            Self::PosixUint32Be | Self::PosixUint32Le => {
                let raw: [u8; 4] = bytes.try_into().map_err(|_| malformed())?;
                let secs = if self == Self::PosixUint32Be { u32::from_be_bytes(raw) } else { u32::from_le_bytes(raw) };
                from_posix_seconds(secs)
            }
        };
        if !date.fields_in_range() {
            return Err(malformed());
        }
        Ok(date)
    }
}

/// Days since 1970-01-01 for a civil date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn posix_seconds(d: &AtcaDate) -> Option<u32> {
    let days = days_from_civil(i64::from(d.year), i64::from(d.month), i64::from(d.day));
    let secs = days * 86_400 + i64::from(d.hour) * 3600 + i64::from(d.minute) * 60 + i64::from(d.second);
    u32::try_from(secs).ok()
}

fn from_posix_seconds(secs: u32) -> AtcaDate {
    let days = i64::from(secs / 86_400);
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    AtcaDate::new(year as u16, month as u8, day as u8, (rem / 3600) as u8, (rem % 3600 / 60) as u8, (rem % 60) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_and_generalized_round_trip() {
        let d = AtcaDate::new(2024, 2, 29, 13, 0, 0);
        assert_eq!(DateFormat::Rfc5280Utc.encode(&d).unwrap(), b"240229130000Z");
        assert_eq!(DateFormat::Rfc5280Gen.encode(&d).unwrap(), b"20240229130000Z");
        assert_eq!(DateFormat::Iso8601Sep.encode(&d).unwrap(), b"2024-02-29T13:00:00Z");
        for f in [DateFormat::Rfc5280Utc, DateFormat::Rfc5280Gen, DateFormat::Iso8601Sep, DateFormat::PosixUint32Be, DateFormat::PosixUint32Le] {
            assert_eq!(f.decode(&f.encode(&d).unwrap()).unwrap(), d, "{f:?}");
        }
    }

    #[test]
    fn posix_matches_known_instants() {
        let d = AtcaDate::new(2106, 2, 7, 6, 28, 15);
        assert_eq!(DateFormat::PosixUint32Be.encode(&d).unwrap(), u32::MAX.to_be_bytes());
        assert_eq!(from_posix_seconds(951_782_400), AtcaDate::new(2000, 2, 29, 0, 0, 0));
    }

    #[test]
    fn utc_time_refuses_2050() {
        assert!(DateFormat::Rfc5280Utc.encode(&AtcaDate::new(2050, 1, 1, 0, 0, 0)).is_err());
    }

    #[test]
    fn leap_day_rules() {
        assert!(AtcaDate::new(2000, 2, 29, 0, 0, 0).is_real_calendar_date());
        assert!(!AtcaDate::new(2100, 2, 29, 0, 0, 0).is_real_calendar_date());
        assert!(!AtcaDate::new(2025, 2, 29, 0, 0, 0).is_real_calendar_date());
    }
}
