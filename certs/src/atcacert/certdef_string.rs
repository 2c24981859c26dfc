//! The Espressif cert-def string that esp_cryptoauth_utility's helper firmware takes with
//! `provide-cert-def`: 18 four-digit decimal fields (the eight `STDCERT_*` locations, then the TBS
//! location) followed by the certificate DER as lowercase hex, which becomes the template.

use super::date::DateFormat;
use super::def::{CertDef, CertLoc, StdElements};
use super::der_walk::walk_certificate;
use super::error::{AtcaCertError, Result};

/// Longest string the helper's console accepts (1198 characters → 563-byte template).
pub const MAX_CERTDEF_STRING: usize = 1198;

/// The standard locations and TBS of `cert` the way Espressif's `cert2certdef.py` computes them.
pub fn espressif_locations(cert: &[u8], is_device: bool) -> Result<(StdElements, CertLoc)> {
    let layout = walk_certificate(cert)?;
    let nb = layout.not_before_format.decode(layout.not_before.bytes(cert))?;
    let na = layout.not_after_format.decode(layout.not_after.bytes(cert))?;
    let years = na.year.saturating_sub(nb.year);
    let name_cn = if is_device { layout.issuer_cn } else { layout.subject_cn };
    let signer_id = name_cn.and_then(|cn| {
        let text = cn.bytes(cert);
        (text.len() >= 4 && text[text.len() - 4..].iter().all(u8::is_ascii_hexdigit)).then(|| CertLoc::new((cn.offset + cn.count - 4) as u16, 4))
    });
    let std = StdElements {
        public_key: layout.public_key.loc(),
        signature: layout.signature.loc(),
        issue_date: layout.not_before.loc(),
        expire_date: if (1..=31).contains(&years) { layout.not_after.loc() } else { CertLoc::NONE },
        signer_id: signer_id.unwrap_or(CertLoc::NONE),
        cert_sn: layout.serial.loc(),
        auth_key_id: layout.auth_key_id.map(|s| s.loc()).unwrap_or(CertLoc::NONE),
        subj_key_id: layout.subject_key_id.map(|s| s.loc()).unwrap_or(CertLoc::NONE),
    };
    Ok((std, layout.tbs.loc()))
}

/// Encodes the cert-def string for a device (`provide-cert-def 0`) or signer (`… 1`) certificate.
pub fn encode(cert: &[u8], is_device: bool) -> Result<String> {
    let (std, tbs) = espressif_locations(cert, is_device)?;
    let mut out = String::with_capacity(72 + cert.len() * 2);
    for (_, loc) in std.in_order() {
        out.push_str(&format!("{:04}{:04}", loc.offset, loc.count));
    }
    out.push_str(&format!("{:04}{:04}", tbs.offset, tbs.count));
    out.push_str(&hex::encode(cert));
    if out.len() > MAX_CERTDEF_STRING {
        return Err(AtcaCertError::BadDefinition(format!(
            "the cert-def string is {} characters, the helper firmware accepts {MAX_CERTDEF_STRING} (certificate at most 563 bytes)",
            out.len()
        )));
    }
    Ok(out)
}

/// Parses a cert-def string into its standard locations, TBS location and template.
pub fn decode(text: &str) -> Result<(StdElements, CertLoc, Vec<u8>)> {
    let bad = |why: &str| AtcaCertError::BadDefinition(format!("cert-def string rejected: {why}"));
    if text.len() > MAX_CERTDEF_STRING || text.len() < 72 || !(text.len() - 72).is_multiple_of(2) || !text.is_ascii() {
        return Err(bad("expected 72 digits plus an even number of hex characters, at most 1198 in all"));
    }
    let mut fields = [0u16; 18];
    for (i, f) in fields.iter_mut().enumerate() {
        *f = text[i * 4..i * 4 + 4].parse().map_err(|_| bad("a location field is not 4 decimal digits"))?;
    }
    let loc = |i: usize| CertLoc::new(fields[i * 2], fields[i * 2 + 1]);
    let std = StdElements {
        public_key: loc(0),
        signature: loc(1),
        issue_date: loc(2),
        expire_date: loc(3),
        signer_id: loc(4),
        cert_sn: loc(5),
        auth_key_id: loc(6),
        subj_key_id: loc(7),
    };
    let template = hex::decode(&text[72..]).map_err(|_| bad("the template is not hex"))?;
    Ok((std, loc(8), template))
}

/// The definition the helper firmware ends up with: the compiled one, with the standard
/// elements, TBS and template replaced by those of the string for `cert` (`get_cert_def`).
pub fn per_device_def(compiled: &CertDef, cert: &[u8]) -> Result<CertDef> {
    let (std, tbs, template) = decode(&encode(cert, compiled.template_id == 2)?)?;
    let mut def = compiled.clone();
    def.std = std;
    def.tbs_cert_loc = tbs;
    def.template = template;
    Ok(def)
}

/// The device definition the esp_cryptoauth_utility helper firmware holds after
/// `provide-cert-def 0` with the string for `cert`, and compresses with on `program-dev-cert`:
/// its own compiled `main/cert_def_2_device.c` (PUB_KEY_HASH serial, UTCTime issue and
/// GeneralizedTime expire formats, expire_years 0, no elements, GenKey slot 0, slot 10) with the
/// standard elements, TBS and template of the string.
pub fn helper_device_def(cert: &[u8]) -> Result<CertDef> {
    let (std, tbs_cert_loc, template) = decode(&encode(cert, true)?)?;
    let layout = walk_certificate(&template)?;
    let mut def = super::profile::device_def(&layout, template, None, DateFormat::Rfc5280Gen, Vec::new(), 0);
    def.std = std;
    def.tbs_cert_loc = tbs_cert_loc;
    def.ca_cert_def = None;
    Ok(def)
}
