//! A strict, bounded DER walker that finds where each variable field of an X.509 certificate
//! (or PKCS#10 request) sits: serial, validity dates, names and CN, public key, SKI/AKI, signature.
//! Definite lengths only, minimal length encodings, low tag numbers, no trailing bytes, depth-limited.

use super::date::DateFormat;
use super::error::{AtcaCertError, Result};
use serde::Serialize;

/// Largest input walked (ATECC templates are well under 1 KiB; CSRs and CA certs a few KiB).
pub const MAX_DER_SIZE: usize = 16 * 1024;
const MAX_DEPTH: usize = 12;

pub(crate) const OID_EC_PUBLIC_KEY: &[u8] = &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01];
pub(crate) const OID_PRIME256V1: &[u8] = &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];
pub(crate) const OID_ECDSA_SHA256: &[u8] = &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02];
pub(crate) const OID_COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];
pub(crate) const OID_SKI: &[u8] = &[0x55, 0x1D, 0x0E];
pub(crate) const OID_AKI: &[u8] = &[0x55, 0x1D, 0x23];

/// One tag-length-value element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Tlv {
    /// The tag byte.
    pub tag: u8,
    /// Offset of the tag byte.
    pub offset: usize,
    /// Tag + length bytes.
    pub header_len: usize,
    /// Length of the value.
    pub len: usize,
}

impl Tlv {
    /// Offset of the first value byte.
    pub const fn value_offset(&self) -> usize {
        self.offset + self.header_len
    }
    /// Offset just past the element.
    pub const fn end(&self) -> usize {
        self.offset + self.header_len + self.len
    }
    /// Total encoded size.
    pub const fn total_len(&self) -> usize {
        self.header_len + self.len
    }
    /// The value bytes.
    pub fn value<'a>(&self, der: &'a [u8]) -> &'a [u8] {
        &der[self.value_offset()..self.end()]
    }
}

fn err(offset: usize, reason: &'static str) -> AtcaCertError {
    AtcaCertError::Der { offset, reason }
}

/// Reads the element starting at `offset`, which must end at or before `limit`.
pub fn read_tlv(der: &[u8], offset: usize, limit: usize) -> Result<Tlv> {
    let limit = limit.min(der.len());
    if offset >= limit {
        return Err(err(offset, "element expected but the enclosing structure ended"));
    }
    let tag = der[offset];
    if tag & 0x1F == 0x1F {
        return Err(err(offset, "multi-byte tags are not used in certificates"));
    }
    let first = *der.get(offset + 1).filter(|_| offset + 1 < limit).ok_or_else(|| err(offset, "length byte missing"))?;
    let (len, len_bytes) = if first < 0x80 {
        (usize::from(first), 0)
    } else {
        let n = usize::from(first & 0x7F);
        if n == 0 {
            return Err(err(offset + 1, "indefinite length is not DER"));
        }
        if n > 3 {
            return Err(err(offset + 1, "length field longer than 3 bytes"));
        }
        if offset + 2 + n > limit {
            return Err(err(offset + 1, "length field runs past the enclosing structure"));
        }
        let bytes = &der[offset + 2..offset + 2 + n];
        if bytes[0] == 0 {
            return Err(err(offset + 1, "length has a leading zero byte (not minimal)"));
        }
        let len = bytes.iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        if len < 0x80 {
            return Err(err(offset + 1, "long-form length for a short value (not minimal)"));
        }
        (len, n)
    };
    let tlv = Tlv { tag, offset, header_len: 2 + len_bytes, len };
    if tlv.end() > limit {
        return Err(err(offset, "value runs past the enclosing structure"));
    }
    Ok(tlv)
}

/// The children of a constructed element; they must exactly fill its value.
pub fn children(der: &[u8], parent: &Tlv, depth: usize) -> Result<Vec<Tlv>> {
    if depth > MAX_DEPTH {
        return Err(err(parent.offset, "nesting too deep"));
    }
    if parent.tag & 0x20 == 0 {
        return Err(err(parent.offset, "primitive element where a constructed one was expected"));
    }
    let mut out = Vec::new();
    let mut pos = parent.value_offset();
    while pos < parent.end() {
        let child = read_tlv(der, pos, parent.end())?;
        pos = child.end();
        out.push(child);
        if out.len() > 256 {
            return Err(err(pos, "too many elements in one structure"));
        }
    }
    Ok(out)
}

fn expect(t: Option<&Tlv>, tag: u8, at: usize, what: &'static str) -> Result<Tlv> {
    match t {
        Some(t) if t.tag == tag => Ok(*t),
        Some(t) => Err(err(t.offset, what)),
        None => Err(err(at, what)),
    }
}

/// Parses a whole buffer as one top-level element with no trailing bytes.
pub fn read_whole(der: &[u8]) -> Result<Tlv> {
    if der.len() > MAX_DER_SIZE {
        return Err(err(MAX_DER_SIZE, "input larger than 16 KiB"));
    }
    let top = read_tlv(der, 0, der.len())?;
    if top.end() != der.len() {
        return Err(err(top.end(), "trailing bytes after the DER structure"));
    }
    Ok(top)
}

/// A byte range inside the certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Span {
    /// First byte.
    pub offset: usize,
    /// Number of bytes.
    pub count: usize,
}

impl Span {
    /// As a template location.
    pub fn loc(&self) -> super::def::CertLoc {
        super::def::CertLoc::new(self.offset as u16, self.count as u16)
    }

    fn value_of(t: &Tlv) -> Self {
        Self { offset: t.value_offset(), count: t.len }
    }
    /// The bytes of this span.
    pub fn bytes<'a>(&self, der: &'a [u8]) -> &'a [u8] {
        &der[self.offset..self.offset + self.count]
    }
}

/// Where the variable fields of an X.509 certificate sit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertLayout {
    /// The TBSCertificate element (tag to end).
    pub tbs: Span,
    /// Serial number INTEGER contents.
    pub serial: Span,
    /// Issuer Name element.
    pub issuer: Span,
    /// First CN value in the issuer, if any.
    pub issuer_cn: Option<Span>,
    /// notBefore text and its format.
    pub not_before: Span,
    /// Format of notBefore.
    pub not_before_format: DateFormat,
    /// notAfter text.
    pub not_after: Span,
    /// Format of notAfter.
    pub not_after_format: DateFormat,
    /// Subject Name element.
    pub subject: Span,
    /// First CN value in the subject, if any.
    pub subject_cn: Option<Span>,
    /// P-256 public key X ‖ Y (64 bytes after `00 04`).
    pub public_key: Span,
    /// Subject key identifier value (20 bytes), if present.
    pub subject_key_id: Option<Span>,
    /// Authority key identifier keyIdentifier value, if present.
    pub auth_key_id: Option<Span>,
    /// First organisation (O) value in the subject, if any.
    pub subject_org: Option<Span>,
    /// Extension OIDs in order (for profile checks).
    pub extension_oids: Vec<Vec<u8>>,
    /// The signatureValue BIT STRING from its tag to the end of the certificate.
    pub signature: Span,
}

fn time_field(t: &Tlv) -> Result<(Span, DateFormat)> {
    match (t.tag, t.len) {
        (0x17, 13) => Ok((Span::value_of(t), DateFormat::Rfc5280Utc)),
        (0x18, 15) => Ok((Span::value_of(t), DateFormat::Rfc5280Gen)),
        _ => Err(err(t.offset, "validity time must be UTCTime (13) or GeneralizedTime (15) with seconds and Z")),
    }
}

/// Finds the first CN attribute value in a Name.
pub fn find_common_name(der: &[u8], name: &Tlv) -> Result<Option<Span>> {
    find_attribute(der, name, OID_COMMON_NAME)
}

/// Finds the first value of attribute `oid` in a Name.
pub fn find_attribute(der: &[u8], name: &Tlv, wanted: &[u8]) -> Result<Option<Span>> {
    let mut found = None;
    for rdn in children(der, name, 2)? {
        if rdn.tag != 0x31 {
            return Err(err(rdn.offset, "Name must be a SEQUENCE of SETs"));
        }
        for atv in children(der, &rdn, 3)? {
            let parts = children(der, &expect(Some(&atv), 0x30, rdn.offset, "AttributeTypeAndValue must be a SEQUENCE")?, 4)?;
            let oid = expect(parts.first(), 0x06, atv.offset, "attribute type must be an OID")?;
            let value = *parts.get(1).filter(|_| parts.len() == 2).ok_or_else(|| err(atv.offset, "attribute must have exactly one value"))?;
            if oid.value(der) == wanted && found.is_none() {
                found = Some(Span::value_of(&value));
            }
        }
    }
    Ok(found)
}

/// Walks a P-256 SubjectPublicKeyInfo; returns the 64-byte X ‖ Y span.
pub fn p256_public_key(der: &[u8], spki: &Tlv) -> Result<Span> {
    let parts = children(der, spki, 3)?;
    let alg = expect(parts.first(), 0x30, spki.offset, "SubjectPublicKeyInfo must start with an AlgorithmIdentifier")?;
    let alg_parts = children(der, &alg, 4)?;
    let key_oid = expect(alg_parts.first(), 0x06, alg.offset, "algorithm OID missing")?;
    let curve = expect(alg_parts.get(1), 0x06, alg.offset, "the key is not an EC key with a named curve")?;
    if key_oid.value(der) != OID_EC_PUBLIC_KEY || curve.value(der) != OID_PRIME256V1 || alg_parts.len() != 2 {
        return Err(err(alg.offset, "the public key is not P-256 (id-ecPublicKey, prime256v1)"));
    }
    let bits = expect(parts.get(1), 0x03, spki.offset, "subjectPublicKey BIT STRING missing")?;
    let v = bits.value(der);
    if parts.len() != 2 || v.len() != 66 || v[0] != 0 || v[1] != 0x04 {
        return Err(err(bits.offset, "P-256 public key must be an uncompressed 65-byte point"));
    }
    Ok(Span { offset: bits.value_offset() + 2, count: 64 })
}

fn check_ecdsa_sha256(der: &[u8], alg: &Tlv) -> Result<()> {
    let parts = children(der, alg, 3)?;
    let oid = expect(parts.first(), 0x06, alg.offset, "signature algorithm OID missing")?;
    if oid.value(der) != OID_ECDSA_SHA256 || parts.len() != 1 {
        return Err(err(alg.offset, "signature algorithm is not ecdsa-with-SHA256"));
    }
    Ok(())
}

/// Walks an X.509 certificate and returns where its fields are.
pub fn walk_certificate(der: &[u8]) -> Result<CertLayout> {
    let cert = read_whole(der)?;
    let top = children(der, &expect(Some(&cert), 0x30, 0, "a certificate is a SEQUENCE")?, 0)?;
    if top.len() != 3 {
        return Err(err(cert.offset, "a certificate has exactly tbsCertificate, signatureAlgorithm, signatureValue"));
    }
    let tbs = expect(top.first(), 0x30, cert.offset, "tbsCertificate must be a SEQUENCE")?;
    check_ecdsa_sha256(der, &expect(top.get(1), 0x30, tbs.end(), "signatureAlgorithm must be a SEQUENCE")?)?;
    let sig = expect(top.get(2), 0x03, tbs.end(), "signatureValue must be a BIT STRING")?;

    let fields = children(der, &tbs, 1)?;
    let mut i = 0;
    if fields.first().map(|t| t.tag) == Some(0xA0) {
        i = 1;
    }
    let at = tbs.offset;
    let serial = expect(fields.get(i), 0x02, at, "serialNumber INTEGER missing")?;
    if serial.len == 0 || serial.len > 20 {
        return Err(err(serial.offset, "serialNumber must be 1-20 bytes"));
    }
    check_ecdsa_sha256(der, &expect(fields.get(i + 1), 0x30, at, "signature AlgorithmIdentifier missing")?)?;
    let issuer = expect(fields.get(i + 2), 0x30, at, "issuer Name missing")?;
    let validity = expect(fields.get(i + 3), 0x30, at, "validity missing")?;
    let subject = expect(fields.get(i + 4), 0x30, at, "subject Name missing")?;
    let spki = expect(fields.get(i + 5), 0x30, at, "subjectPublicKeyInfo missing")?;
    let times = children(der, &validity, 2)?;
    if times.len() != 2 {
        return Err(err(validity.offset, "validity must hold notBefore and notAfter"));
    }
    let (not_before, not_before_format) = time_field(&times[0])?;
    let (not_after, not_after_format) = time_field(&times[1])?;

    let (mut ski, mut aki, mut oids) = (None, None, Vec::new());
    for extra in &fields[i + 6..] {
        if extra.tag != 0xA3 {
            if extra.tag == 0xA1 || extra.tag == 0xA2 {
                continue;
            }
            return Err(err(extra.offset, "unexpected element after subjectPublicKeyInfo"));
        }
        let list = children(der, extra, 2)?;
        let list = expect(list.first().filter(|_| list.len() == 1), 0x30, extra.offset, "extensions must be one SEQUENCE")?;
        for ext in children(der, &list, 3)? {
            let parts = children(der, &expect(Some(&ext), 0x30, list.offset, "an extension is a SEQUENCE")?, 4)?;
            let oid = expect(parts.first(), 0x06, ext.offset, "extension OID missing")?;
            let value = expect(parts.last().filter(|_| parts.len() >= 2 && parts.len() <= 3), 0x04, ext.offset, "extension value OCTET STRING missing")?;
            oids.push(oid.value(der).to_vec());
            if oid.value(der) == OID_SKI {
                let inner = read_tlv(der, value.value_offset(), value.end())?;
                if inner.tag != 0x04 || inner.end() != value.end() {
                    return Err(err(value.offset, "subjectKeyIdentifier must be one OCTET STRING"));
                }
                ski = Some(Span::value_of(&inner));
            } else if oid.value(der) == OID_AKI {
                let inner = read_tlv(der, value.value_offset(), value.end())?;
                if inner.tag != 0x30 || inner.end() != value.end() {
                    return Err(err(value.offset, "authorityKeyIdentifier must be one SEQUENCE"));
                }
                aki = children(der, &inner, 5)?.iter().find(|t| t.tag == 0x80).map(Span::value_of);
            }
        }
    }

    let v = sig.value(der);
    if v.first() != Some(&0) {
        return Err(err(sig.offset, "signature BIT STRING must have 0 unused bits"));
    }
    Ok(CertLayout {
        tbs: Span { offset: tbs.offset, count: tbs.total_len() },
        serial: Span::value_of(&serial),
        issuer: Span { offset: issuer.offset, count: issuer.total_len() },
        issuer_cn: find_common_name(der, &issuer)?,
        not_before,
        not_before_format,
        not_after,
        not_after_format,
        subject: Span { offset: subject.offset, count: subject.total_len() },
        subject_cn: find_common_name(der, &subject)?,
        subject_org: find_attribute(der, &subject, &[0x55, 0x04, 0x0A])?,
        public_key: p256_public_key(der, &spki)?,
        subject_key_id: ski,
        auth_key_id: aki,
        extension_oids: oids,
        signature: Span { offset: sig.offset, count: sig.total_len() },
    })
}

/// Where the parts of a PKCS#10 certification request sit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CsrLayout {
    /// CertificationRequestInfo element (the signed bytes).
    pub info: Span,
    /// P-256 public key X ‖ Y.
    pub public_key: Span,
    /// The DER ECDSA signature (contents of the BIT STRING after the unused-bits byte).
    pub signature: Span,
}

/// Walks a PKCS#10 request signed with ECDSA-SHA256 over a P-256 key.
pub fn walk_csr(der: &[u8]) -> Result<CsrLayout> {
    let req = read_whole(der)?;
    let top = children(der, &expect(Some(&req), 0x30, 0, "a CSR is a SEQUENCE")?, 0)?;
    if top.len() != 3 {
        return Err(err(req.offset, "a CSR has exactly certificationRequestInfo, signatureAlgorithm, signature"));
    }
    let info = expect(top.first(), 0x30, req.offset, "certificationRequestInfo must be a SEQUENCE")?;
    check_ecdsa_sha256(der, &expect(top.get(1), 0x30, info.end(), "signatureAlgorithm must be a SEQUENCE")?)?;
    let sig = expect(top.get(2), 0x03, info.end(), "signature must be a BIT STRING")?;
    let parts = children(der, &info, 1)?;
    expect(parts.first(), 0x02, info.offset, "CSR version INTEGER missing")?;
    expect(parts.get(1), 0x30, info.offset, "CSR subject missing")?;
    let spki = expect(parts.get(2), 0x30, info.offset, "CSR subjectPublicKeyInfo missing")?;
    if sig.len < 2 || der[sig.value_offset()] != 0 {
        return Err(err(sig.offset, "signature BIT STRING must have 0 unused bits"));
    }
    Ok(CsrLayout {
        info: Span { offset: info.offset, count: info.total_len() },
        public_key: p256_public_key(der, &spki)?,
        signature: Span { offset: sig.value_offset() + 1, count: sig.len - 1 },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_indefinite_and_non_minimal_lengths() {
        assert!(read_whole(&[0x30, 0x80, 0x00, 0x00]).is_err());
        assert!(read_whole(&[0x30, 0x81, 0x01, 0x05]).is_err());
        assert!(read_whole(&[0x30, 0x00, 0x00]).is_err());
        assert!(read_whole(&[0x30, 0x00]).is_ok());
    }

    #[test]
    fn refuses_truncated_input() {
        assert!(read_whole(&[0x30, 0x05, 0x02, 0x01]).is_err());
        assert!(walk_certificate(&[]).is_err());
    }
}
