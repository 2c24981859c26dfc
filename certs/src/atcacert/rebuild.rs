//! Rebuilding a full certificate from a definition plus device contents, and compressing a full
//! certificate back to its 72 bytes - the same two directions CryptoAuthLib's
//! `atcacert_cert_build_*` and `atcacert_get_comp_cert` take.

use super::compressed::{CompressedCert, EncodedDates, FormatVersion, COMP_CERT_SIZE};
use super::date::AtcaDate;
use super::def::{CertDef, CertLoc, DeviceLoc, DeviceZone, SnSource};
use super::derived::{self, RawPublicKey};
use super::error::{AtcaCertError, Result};
use std::collections::BTreeMap;

/// What an ATECC608A holds that certificates are rebuilt from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeviceImage {
    /// The 128-byte configuration zone (serial number at bytes 0-3 and 8-12).
    pub config: Vec<u8>,
    /// Data slot contents by slot number.
    pub slots: BTreeMap<u8, Vec<u8>>,
    /// Public keys GenKey returns, by private-key slot.
    pub genkey: BTreeMap<u8, RawPublicKey>,
}

impl DeviceImage {
    /// An image whose configuration zone carries `serial` (9 bytes) at bytes 0-3 and 8-12.
    pub fn with_serial(serial: &[u8; 9]) -> Self {
        let mut config = vec![0u8; 128];
        config[..4].copy_from_slice(&serial[..4]);
        config[8..13].copy_from_slice(&serial[4..]);
        Self { config, ..Self::default() }
    }

    /// The 9-byte device serial from the configuration zone.
    pub fn serial(&self) -> Result<[u8; 9]> {
        if self.config.len() < 13 {
            return Err(AtcaCertError::MissingDeviceData { what: "configuration zone (device serial)".into() });
        }
        let mut sn = [0u8; 9];
        sn[..4].copy_from_slice(&self.config[..4]);
        sn[4..].copy_from_slice(&self.config[8..13]);
        Ok(sn)
    }

    /// Writes bytes into a data slot, growing it as needed.
    pub fn write_slot(&mut self, slot: u8, offset: usize, data: &[u8]) {
        let buf = self.slots.entry(slot).or_default();
        if buf.len() < offset + data.len() {
            buf.resize(offset + data.len(), 0);
        }
        buf[offset..offset + data.len()].copy_from_slice(data);
    }

    /// Reads the bytes a device location names.
    pub fn read(&self, loc: &DeviceLoc) -> Result<Vec<u8>> {
        let range = usize::from(loc.offset)..usize::from(loc.offset) + usize::from(loc.count);
        let missing = |what: String| AtcaCertError::MissingDeviceData { what };
        match loc.zone {
            DeviceZone::Data if loc.is_genkey => {
                let key = self.genkey.get(&loc.slot).ok_or_else(|| missing(format!("GenKey public key of slot {}", loc.slot)))?;
                key.get(range).map(<[u8]>::to_vec).ok_or_else(|| missing(format!("GenKey bytes {:?} of slot {}", loc.offset, loc.slot)))
            }
            DeviceZone::Data => {
                let slot = self.slots.get(&loc.slot).ok_or_else(|| missing(format!("data slot {}", loc.slot)))?;
                slot.get(range).map(<[u8]>::to_vec).ok_or_else(|| missing(format!("bytes {}..{} of slot {}", loc.offset, loc.offset + loc.count, loc.slot)))
            }
            DeviceZone::Config => self.config.get(range).map(<[u8]>::to_vec).ok_or_else(|| missing("configuration zone bytes".into())),
            DeviceZone::Otp | DeviceZone::None => Err(missing(format!("{:?} zone", loc.zone))),
        }
    }
}

fn put(cert: &mut [u8], loc: &CertLoc, data: &[u8], element: &str) -> Result<()> {
    if loc.count == 0 {
        return Ok(());
    }
    if data.len() != usize::from(loc.count) {
        return Err(AtcaCertError::ElementSize { element: element.into(), expected: loc.count.into(), actual: data.len() });
    }
    let range = loc.range();
    let size = cert.len();
    cert.get_mut(range.clone())
        .ok_or(AtcaCertError::ElementOutOfBounds { element: element.into(), offset: range.start, count: range.len(), size })?
        .copy_from_slice(data);
    Ok(())
}

fn get<'a>(cert: &'a [u8], loc: &CertLoc, element: &'static str) -> Result<&'a [u8]> {
    if loc.count == 0 {
        return Err(AtcaCertError::MissingElement { element });
    }
    let range = loc.range();
    cert.get(range.clone()).ok_or(AtcaCertError::ElementOutOfBounds { element: element.into(), offset: range.start, count: range.len(), size: cert.len() })
}

/// DER INTEGER for an unsigned big-endian value (minimal, with a 0x00 pad for a set high bit).
fn der_unsigned_integer(value: &[u8]) -> Vec<u8> {
    let first = value.iter().position(|b| *b != 0).unwrap_or(value.len() - 1);
    let v = &value[first..];
    let pad = v[0] & 0x80 != 0;
    let mut out = vec![0x02, (v.len() + usize::from(pad)) as u8];
    if pad {
        out.push(0);
    }
    out.extend_from_slice(v);
    out
}

/// The X.509 signatureValue element for a raw P-256 signature R ‖ S.
pub fn der_signature_value(signature: &[u8; 64]) -> Vec<u8> {
    let mut seq = der_unsigned_integer(&signature[..32]);
    seq.extend(der_unsigned_integer(&signature[32..]));
    let mut out = vec![0x03, (seq.len() + 3) as u8, 0x00, 0x30, seq.len() as u8];
    out.extend(seq);
    out
}

/// Replaces the signature at the definition's SIGNATURE offset and fixes the outer length.
fn set_signature(def: &CertDef, cert: &mut Vec<u8>, signature: &[u8; 64]) -> Result<()> {
    let offset = usize::from(def.std.signature.offset);
    if offset >= cert.len() || cert.len() < 4 || cert[1] != 0x82 {
        return Err(AtcaCertError::BadDefinition("the signature offset or the certificate's 2-byte outer length does not match the template".into()));
    }
    cert.truncate(offset);
    cert.extend(der_signature_value(signature));
    let body = cert.len() - 4;
    if !(0x100..=0xFFFF).contains(&body) {
        return Err(AtcaCertError::BadDefinition("certificate length no longer fits the template's 2-byte length".into()));
    }
    cert[2..4].copy_from_slice(&(body as u16).to_be_bytes());
    Ok(())
}

fn signer_id_text(id: u16) -> Vec<u8> {
    format!("{id:04X}").into_bytes()
}

/// Rebuilds the certificate a device holds, as `atcacert_read_cert` does.
/// `ca_public_key` fills the authority key identifier when the definition has one.
pub fn rebuild(def: &CertDef, device: &DeviceImage, ca_public_key: Option<&RawPublicKey>) -> Result<Vec<u8>> {
    let mut cert = def.template.clone();
    if let Some(ca) = ca_public_key {
        put(&mut cert, &def.std.auth_key_id, &derived::key_id(ca), "authority key ID")?;
    }
    let comp = CompressedCert::from_bytes(&device.read(&def.comp_cert_dev_loc)?)?;
    if comp.template_id != def.template_id || comp.chain_id != def.chain_id || comp.sn_source != def.sn_source as u8 {
        return Err(AtcaCertError::WrongCertDef {
            template_id: comp.template_id,
            chain_id: comp.chain_id,
            sn_source: comp.sn_source,
            expected: format!("{}/{}/{:#x}", def.template_id, def.chain_id, def.sn_source as u8),
        });
    }
    set_signature(def, &mut cert, &comp.signature)?;
    if def.std.issue_date.count != 0 {
        put(&mut cert, &def.std.issue_date, &def.issue_date_format.encode(&comp.dates.issue)?, "issue date")?;
    }
    if def.std.expire_date.count != 0 {
        let expire = comp.dates.expire_date().unwrap_or_else(|| def.expire_date_format.max_date());
        put(&mut cert, &def.std.expire_date, &def.expire_date_format.encode(&expire)?, "expire date")?;
    }
    put(&mut cert, &def.std.signer_id, &signer_id_text(comp.signer_id), "signer ID")?;

    if def.sn_source == SnSource::Stored {
        put(&mut cert, &def.std.cert_sn, &device.read(&def.cert_sn_dev_loc)?, "serial number")?;
    }
    let key = match def.public_key_dev_loc.count {
        72 => derived::unpadded_public_key(&device.read(&def.public_key_dev_loc)?)?,
        64 => device.read(&def.public_key_dev_loc)?.try_into().expect("64 bytes read"),
        n => return Err(AtcaCertError::BadDefinition(format!("public key location holds {n} bytes; use 64 (GenKey) or 72 (padded)"))),
    };
    put(&mut cert, &def.std.public_key, &key, "public key")?;
    put(&mut cert, &def.std.subj_key_id, &derived::key_id(&key), "subject key ID")?;
    for el in &def.elements {
        let data = el.transforms.iter().fold(device.read(&el.device_loc)?, |d, t| t.apply(&d));
        put(&mut cert, &el.cert_loc, &data, &el.id)?;
    }
    let sn_len = usize::from(def.std.cert_sn.count);
    let generated = match def.sn_source {
        SnSource::Stored => None,
        SnSource::PubKeyHash => Some(derived::pub_key_hash_serial(&key, &comp.dates, comp.format_version, sn_len)?),
        SnSource::DeviceSnHash => Some(derived::device_sn_hash_serial(&device.serial()?, &comp.dates, comp.format_version, sn_len)?),
        SnSource::DeviceSn => Some(derived::device_sn_serial(&device.serial()?)),
        SnSource::SignerId => Some(derived::signer_id_serial(comp.signer_id)),
    };
    if let Some(sn) = generated {
        put(&mut cert, &def.std.cert_sn, &sn, "serial number")?;
    }
    Ok(cert)
}

/// Raw R ‖ S from the certificate's signatureValue element.
pub fn raw_signature(def: &CertDef, cert: &[u8]) -> Result<[u8; 64]> {
    let bad = || AtcaCertError::Der { offset: usize::from(def.std.signature.offset), reason: "signatureValue is not a P-256 ECDSA signature" };
    let sig = cert.get(usize::from(def.std.signature.offset)..).ok_or_else(bad)?;
    let tlv = super::der_walk::read_tlv(sig, 0, sig.len())?;
    if tlv.tag != 0x03 || tlv.end() != sig.len() || tlv.len < 2 || sig[2] != 0 {
        return Err(bad());
    }
    let seq = super::der_walk::read_tlv(sig, 3, sig.len())?;
    let ints = super::der_walk::children(sig, &seq, 1)?;
    if seq.tag != 0x30 || seq.end() != sig.len() || ints.len() != 2 {
        return Err(bad());
    }
    let mut out = [0u8; 64];
    for (i, int) in ints.iter().enumerate() {
        let v = int.value(sig);
        let v = if v.len() == 33 && v[0] == 0 { &v[1..] } else { v };
        if int.tag != 0x02 || v.is_empty() || v.len() > 32 {
            return Err(bad());
        }
        out[i * 32 + 32 - v.len()..(i + 1) * 32].copy_from_slice(v);
    }
    Ok(out)
}

/// Compresses a full certificate for a definition, as `atcacert_get_comp_cert` does: the
/// expire years come from the certificate when notAfter is notBefore + N years (or the format's
/// max date), otherwise from the definition.
pub fn compress(def: &CertDef, cert: &[u8]) -> Result<[u8; COMP_CERT_SIZE]> {
    let signature = raw_signature(def, cert)?;
    let issue = match def.std.issue_date.count {
        0 => AtcaDate::new(2000, 1, 1, 0, 0, 0),
        _ => def.issue_date_format.decode(get(cert, &def.std.issue_date, "issue date")?)?,
    };
    let mut expire_years = def.expire_years;
    if def.std.expire_date.count != 0 {
        let expire = def.expire_date_format.decode(get(cert, &def.std.expire_date, "expire date")?)?;
        if expire == def.expire_date_format.max_date() {
            expire_years = 0;
        } else if (expire.month, expire.day, expire.hour, expire.minute, expire.second) == (issue.month, issue.day, issue.hour, issue.minute, issue.second)
            && expire.year >= issue.year
            && expire.year - issue.year < 128
        {
            expire_years = (expire.year - issue.year) as u8;
        }
    }
    let signer_id = match def.std.signer_id.count {
        0 => 0,
        _ => {
            let text = get(cert, &def.std.signer_id, "signer ID")?;
            let text = std::str::from_utf8(text).ok().filter(|t| t.len() == 4 && t.bytes().all(|b| b.is_ascii_hexdigit()));
            u16::from_str_radix(text.ok_or(AtcaCertError::MissingElement { element: "4-hex-digit signer ID" })?, 16).expect("hex checked")
        }
    };
    let dates = EncodedDates { issue: issue.truncated_to_hour(), expire_years };
    CompressedCert {
        signature,
        dates,
        signer_id,
        template_id: def.template_id,
        chain_id: def.chain_id,
        sn_source: def.sn_source as u8,
        format_version: FormatVersion::for_dates(issue.year, expire_years),
        reserved: 0,
    }
    .to_bytes()
}

/// Stores a certificate on a device image the way `atcacert_write_cert` does: the compressed
/// certificate, the public key (unless it comes from GenKey), a stored serial number and every
/// untransformed data-zone element. Configuration-zone and transformed elements are not written.
pub fn write_cert(def: &CertDef, cert: &[u8], device: &mut DeviceImage) -> Result<()> {
    let comp = compress(def, cert)?;
    let loc = def.comp_cert_dev_loc;
    device.write_slot(loc.slot, usize::from(loc.offset), &comp);
    let key: RawPublicKey = get(cert, &def.std.public_key, "public key")?.try_into().map_err(|_| AtcaCertError::BadDefinition("public key element must be 64 bytes".into()))?;
    let pk = def.public_key_dev_loc;
    if pk.is_genkey {
        device.genkey.insert(pk.slot, key);
    } else if pk.count == 72 {
        device.write_slot(pk.slot, usize::from(pk.offset), &derived::padded_public_key(&key));
    } else {
        device.write_slot(pk.slot, usize::from(pk.offset), &key);
    }
    if def.sn_source == SnSource::Stored {
        let sn = get(cert, &def.std.cert_sn, "serial number")?;
        if sn.len() != usize::from(def.cert_sn_dev_loc.count) {
            return Err(AtcaCertError::ElementSize { element: "stored serial number".into(), expected: def.cert_sn_dev_loc.count.into(), actual: sn.len() });
        }
        let sn = sn.to_vec();
        device.write_slot(def.cert_sn_dev_loc.slot, usize::from(def.cert_sn_dev_loc.offset), &sn);
    }
    for el in &def.elements {
        if el.device_loc.zone == DeviceZone::Data && el.transforms == [super::def::Transform::None; 2] {
            let data = get(cert, &el.cert_loc, "element")?.to_vec();
            device.write_slot(el.device_loc.slot, usize::from(el.device_loc.offset), &data);
        }
    }
    Ok(())
}
