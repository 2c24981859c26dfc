//! A minimal DER walker that finds the X.509 fields a compressed-certificate definition points at.

/// One TLV: tag, where it starts, header length and value length.
#[derive(Debug, Clone, Copy)]
pub struct Tlv {
    pub tag: u8,
    pub start: usize,
    pub header: usize,
    pub len: usize,
}

impl Tlv {
    /// Offset of the value.
    pub fn value(&self) -> usize {
        self.start + self.header
    }
    /// Offset just past the TLV.
    pub fn end(&self) -> usize {
        self.value() + self.len
    }
}

/// Reads the TLV at `pos` (definite lengths up to 4 length bytes), bounded by `der`.
pub fn read_tlv(der: &[u8], pos: usize) -> Option<Tlv> {
    let tag = *der.get(pos)?;
    let first = *der.get(pos + 1)? as usize;
    let (len, header) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7F;
        if n == 0 || n > 4 {
            return None;
        }
        let bytes = der.get(pos + 2..pos + 2 + n)?;
        (bytes.iter().fold(0usize, |acc, &b| (acc << 8) | b as usize), 2 + n)
    };
    let tlv = Tlv { tag, start: pos, header, len };
    (tlv.end() <= der.len()).then_some(tlv)
}

/// The TLVs inside a constructed TLV.
pub fn children(der: &[u8], parent: &Tlv) -> Option<Vec<Tlv>> {
    let mut out = Vec::new();
    let mut pos = parent.value();
    while pos < parent.end() {
        let child = read_tlv(der, pos)?;
        if child.end() > parent.end() {
            return None;
        }
        pos = child.end();
        out.push(child);
    }
    Some(out)
}

/// A byte range in a certificate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    pub offset: usize,
    pub count: usize,
}

/// Where the variable fields of an X.509 certificate sit.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    pub tbs: Span,
    pub serial: Span,
    pub not_before: Span,
    pub not_after: Span,
    /// X ‖ Y of the subject public key (64 bytes after `00 04`).
    pub public_key: Span,
    /// The signatureValue BIT STRING TLV (to the end of the certificate).
    pub signature: Span,
    pub subject_key_id: Span,
    pub authority_key_id: Span,
    /// Value of the subject's commonName.
    pub subject_cn: Span,
}

const OID_SKI: &[u8] = &[0x06, 0x03, 0x55, 0x1D, 0x0E];
const OID_AKI: &[u8] = &[0x06, 0x03, 0x55, 0x1D, 0x23];
const OID_CN: &[u8] = &[0x06, 0x03, 0x55, 0x04, 0x03];

fn span(tlv: &Tlv) -> Span {
    Span { offset: tlv.value(), count: tlv.len }
}

/// Finds the fields of a P-256 X.509 certificate; None when it is not one.
pub fn locate(der: &[u8]) -> Option<Layout> {
    let cert = read_tlv(der, 0)?;
    let top = children(der, &cert)?;
    let (tbs, signature) = (top.first()?, top.get(2)?);
    let fields = children(der, tbs)?;
    let skip = usize::from(fields.first()?.tag == 0xA0);
    let serial = fields.get(skip)?;
    let validity = children(der, fields.get(skip + 3)?)?;
    let subject = fields.get(skip + 4)?;
    let spki = children(der, fields.get(skip + 5)?)?;
    let key = spki.get(1)?;
    if key.len != 66 || der[key.value()..key.value() + 2] != [0x00, 0x04] {
        return None;
    }
    let mut layout = Layout {
        tbs: Span { offset: tbs.start, count: tbs.end() - tbs.start },
        serial: span(serial),
        not_before: span(validity.first()?),
        not_after: span(validity.get(1)?),
        public_key: Span { offset: key.value() + 2, count: 64 },
        signature: Span { offset: signature.start, count: signature.end() - signature.start },
        subject_cn: find_cn(der, subject).unwrap_or_default(),
        ..Layout::default()
    };
    if let Some(extensions) = fields.iter().find(|f| f.tag == 0xA3) {
        let list = read_tlv(der, extensions.value())?;
        for ext in children(der, &list)? {
            let parts = children(der, &ext)?;
            let oid = &der[parts.first()?.start..parts.first()?.end()];
            let value = parts.last()?;
            if oid == OID_SKI {
                layout.subject_key_id = Span { offset: value.value() + 2, count: 20 };
            } else if oid == OID_AKI {
                layout.authority_key_id = Span { offset: value.value() + 4, count: 20 };
            }
        }
    }
    Some(layout)
}

fn find_cn(der: &[u8], name: &Tlv) -> Option<Span> {
    for set in children(der, name)? {
        for attribute in children(der, &set)? {
            let parts = children(der, &attribute)?;
            if der[parts.first()?.start..parts.first()?.end()] == *OID_CN {
                return Some(span(parts.get(1)?));
            }
        }
    }
    None
}
