//! `atcacert_write_cert` / `atcacert_read_cert` against the simulated chip.

use super::def::{decode_dates, encode_dates, format_date, max_date, parse_date, CertDef, DevLoc, SN_PUB_KEY_HASH, SN_STORED};
use super::der::{read_tlv, Span};
use crate::atecc::config::slot_size;
use crate::atecc::{Atecc608, ChipError};
use sha2::Digest;

/// Why a certificate could not be written or rebuilt; `code()` is the value the firmware prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertError {
    /// The chip refused an access.
    Device(ChipError),
    /// `ATCACERT_E_BAD_PARAMS`: the certificate does not fit the definition.
    BadParams,
    /// `ATCACERT_E_DECODING_ERROR`: a field could not be parsed.
    Decoding,
    /// `ATCACERT_E_INVALID_DATE`: a date cannot be encoded in format 0.
    InvalidDate,
}

impl CertError {
    /// The status code (`ATCA_STATUS` or `ATCACERT_E_*`).
    pub fn code(self) -> u32 {
        match self {
            CertError::Device(e) => u32::from(e.atca_status()),
            CertError::BadParams => 2,
            CertError::Decoding => 4,
            CertError::InvalidDate => 5,
        }
    }
}

impl From<ChipError> for CertError {
    fn from(e: ChipError) -> Self {
        CertError::Device(e)
    }
}

fn field(cert: &[u8], span: Span) -> Result<&[u8], CertError> {
    cert.get(span.offset..span.offset + span.count).ok_or(CertError::BadParams)
}

/// The 72-byte compressed form of `cert` under `def` (`atcacert_get_comp_cert`).
pub fn compress(def: &CertDef, cert: &[u8]) -> Result<[u8; 72], CertError> {
    let mut comp = [0u8; 72];
    comp[..64].copy_from_slice(&signature_rs(cert, def.signature.offset)?);
    let issue = parse_date(field(cert, def.issue_date)?).ok_or(CertError::Decoding)?;
    let expire_years = if def.expire_date.count == 0 {
        def.expire_years
    } else {
        let expire = parse_date(field(cert, def.expire_date)?).ok_or(CertError::Decoding)?;
        let same_instant = (expire.month, expire.day, expire.hour, expire.minute, expire.second)
            == (issue.month, issue.day, issue.hour, issue.minute, issue.second);
        if expire == max_date(def.expire_date.count) {
            0
        } else if same_instant && expire.year > issue.year {
            u8::try_from(expire.year - issue.year).map_err(|_| CertError::InvalidDate)?
        } else {
            def.expire_years
        }
    };
    comp[64..67].copy_from_slice(&encode_dates(&issue, expire_years).ok_or(CertError::InvalidDate)?);
    if def.signer_id.count == 4 {
        let text = std::str::from_utf8(field(cert, def.signer_id)?).map_err(|_| CertError::Decoding)?;
        let id = u16::from_str_radix(text, 16).map_err(|_| CertError::Decoding)?;
        comp[67..69].copy_from_slice(&id.to_be_bytes());
    }
    comp[69] = (def.template_id << 4) | (def.chain_id & 0x0F);
    comp[70] = def.sn_source << 4;
    Ok(comp)
}

/// Writes `cert` into the chip as `def` says: compressed certificate, public key (unless GenKey),
/// stored serial and extra elements, each as whole 32-byte blocks (read-modify-write).
pub fn write_cert(chip: &mut Atecc608, def: &CertDef, cert: &[u8]) -> Result<(), CertError> {
    if cert.len() < def.signature.offset {
        return Err(CertError::BadParams);
    }
    let comp = compress(def, cert)?;
    write_bytes(chip, def.comp_cert_slot, 0, &comp)?;
    if let DevLoc::Slot { slot, .. } = def.public_key_dev {
        let key: [u8; 64] = field(cert, def.public_key)?.try_into().map_err(|_| CertError::BadParams)?;
        chip.write_pubkey(slot, &key)?;
    }
    if def.sn_source == SN_STORED {
        if let Some(DevLoc::Slot { slot, offset, .. }) = def.cert_sn_dev {
            write_bytes(chip, slot, offset, field(cert, def.cert_sn)?)?;
        }
    }
    for element in &def.elements {
        if let DevLoc::Slot { slot, offset, .. } = element.device {
            write_bytes(chip, slot, offset, field(cert, element.cert)?)?;
        }
    }
    Ok(())
}

/// Rebuilds the certificate from the chip (`atcacert_read_cert`) with `ca_public_key` for the AKI.
pub fn read_cert(chip: &Atecc608, def: &CertDef, ca_public_key: &[u8; 64]) -> Result<Vec<u8>, CertError> {
    let mut cert = def.template.clone();
    let comp: [u8; 72] = chip.read_slot(def.comp_cert_slot, 0, 72)?.try_into().expect("72 bytes");
    let public_key = match def.public_key_dev {
        DevLoc::GenKey { slot } => chip.get_pubkey(slot)?,
        DevLoc::Slot { slot, .. } => chip.read_pubkey(slot)?,
        DevLoc::Config { .. } => return Err(CertError::BadParams),
    };
    put(&mut cert, def.public_key, &public_key)?;
    let (issue, expire_years) = decode_dates([comp[64], comp[65], comp[66]]);
    put(&mut cert, def.issue_date, &format_date(&issue, def.issue_date.count))?;
    if def.expire_date.count > 0 {
        let expire = if expire_years == 0 {
            max_date(def.expire_date.count)
        } else {
            super::def::Date { year: issue.year + u32::from(expire_years), ..issue }
        };
        put(&mut cert, def.expire_date, &format_date(&expire, def.expire_date.count))?;
    }
    if def.signer_id.count == 4 {
        put(&mut cert, def.signer_id, format!("{:02X}{:02X}", comp[67], comp[68]).as_bytes())?;
    }
    match (def.sn_source, def.cert_sn_dev) {
        (SN_STORED, Some(loc)) => put(&mut cert, def.cert_sn, &read_loc(chip, loc)?)?,
        (SN_PUB_KEY_HASH, _) => {
            let mut hash = sha2::Sha256::new();
            hash.update(public_key);
            hash.update(&comp[64..67]);
            let mut sn = hash.finalize()[..def.cert_sn.count.min(32)].to_vec();
            sn[0] = (sn[0] & 0x7F) | 0x40;
            put(&mut cert, def.cert_sn, &sn)?;
        }
        _ => return Err(CertError::BadParams),
    }
    if def.auth_key_id.count == 20 {
        put(&mut cert, def.auth_key_id, &key_id(ca_public_key))?;
    }
    if def.subj_key_id.count == 20 {
        put(&mut cert, def.subj_key_id, &key_id(&public_key))?;
    }
    for element in &def.elements {
        put(&mut cert, element.cert, &read_loc(chip, element.device)?)?;
    }
    set_signature(&mut cert, def.signature.offset, &comp[..64])?;
    Ok(cert)
}

/// RFC 5280 method-1 key identifier: SHA-1(04 ‖ X ‖ Y).
pub fn key_id(public_key: &[u8; 64]) -> [u8; 20] {
    let mut hash = sha1::Sha1::new();
    hash.update([0x04]);
    hash.update(public_key);
    hash.finalize().into()
}

fn put(cert: &mut [u8], span: Span, bytes: &[u8]) -> Result<(), CertError> {
    if bytes.len() != span.count {
        return Err(CertError::BadParams);
    }
    cert.get_mut(span.offset..span.offset + span.count).ok_or(CertError::BadParams)?.copy_from_slice(bytes);
    Ok(())
}

fn read_loc(chip: &Atecc608, loc: DevLoc) -> Result<Vec<u8>, CertError> {
    match loc {
        DevLoc::Slot { slot, offset, count } => Ok(chip.read_slot(slot, offset, count)?),
        DevLoc::Config { offset, count } => {
            Ok(chip.read_config_zone().get(offset..offset + count).ok_or(CertError::BadParams)?.to_vec())
        }
        DevLoc::GenKey { .. } => Err(CertError::BadParams),
    }
}

/// Writes `bytes` at `offset` of a slot by rewriting the 32-byte blocks that cover them.
fn write_bytes(chip: &mut Atecc608, slot: usize, offset: usize, bytes: &[u8]) -> Result<(), CertError> {
    let size = slot_size(slot);
    let start = offset / 32 * 32;
    let end = ((offset + bytes.len()).div_ceil(32) * 32).min(size);
    if offset + bytes.len() > size {
        return Err(CertError::BadParams);
    }
    let mut blocks = chip.read_slot(slot, start, end - start)?;
    blocks[offset - start..offset - start + bytes.len()].copy_from_slice(bytes);
    chip.write_slot(slot, start, &blocks)?;
    Ok(())
}

/// R ‖ S from the signatureValue BIT STRING at `offset`.
fn signature_rs(cert: &[u8], offset: usize) -> Result<[u8; 64], CertError> {
    let bits = read_tlv(cert, offset).filter(|t| t.tag == 0x03).ok_or(CertError::Decoding)?;
    let seq = read_tlv(cert, bits.value() + 1).filter(|t| t.tag == 0x30).ok_or(CertError::Decoding)?;
    let r = read_tlv(cert, seq.value()).filter(|t| t.tag == 0x02).ok_or(CertError::Decoding)?;
    let s = read_tlv(cert, r.end()).filter(|t| t.tag == 0x02).ok_or(CertError::Decoding)?;
    let mut rs = [0u8; 64];
    for (int, half) in [(r, 0), (s, 32)] {
        let value = &cert[int.value()..int.end()];
        let value = if value.len() > 32 && value[0] == 0 { &value[1..] } else { value };
        if value.len() > 32 {
            return Err(CertError::Decoding);
        }
        rs[half + 32 - value.len()..half + 32].copy_from_slice(value);
    }
    Ok(rs)
}

fn der_integer(half: &[u8]) -> Vec<u8> {
    let first = half.iter().position(|&b| b != 0).unwrap_or(31);
    let mut value = half[first..].to_vec();
    if value[0] & 0x80 != 0 {
        value.insert(0, 0);
    }
    let mut out = vec![0x02, value.len() as u8];
    out.extend(value);
    out
}

/// Replaces the signature TLV (to the end) with R ‖ S re-encoded and fixes the outer length.
fn set_signature(cert: &mut Vec<u8>, offset: usize, rs: &[u8]) -> Result<(), CertError> {
    let mut seq = der_integer(&rs[..32]);
    seq.extend(der_integer(&rs[32..]));
    let mut bits = vec![0x03, (seq.len() + 3) as u8, 0x00, 0x30, seq.len() as u8];
    bits.extend(seq);
    cert.truncate(offset);
    cert.extend(bits);
    if cert.len() < 4 || cert[0] != 0x30 || cert[1] != 0x82 {
        return Err(CertError::Decoding);
    }
    let content = (cert.len() - 4) as u16;
    cert[2..4].copy_from_slice(&content.to_be_bytes());
    Ok(())
}
