//! Firmware profiles: the slot maps, element lists, date formats and serial-number sources of the
//! three public firmware families (rainbowtype, Espressif esp-cryptoauthlib, Microchip TrustFLEX),
//! and building their signer/device definitions from a signer certificate.

use super::date::{AtcaDate, DateFormat};
use super::def::{CaKeyDef, CertDef, CertElement, CertLoc, DeviceLoc, SnSource, StdElements, Transform};
use super::der_walk::{walk_certificate, CertLayout, Span};
use super::derived::{key_id, RawPublicKey};
use super::error::{AtcaCertError, Result};
use super::template::{assemble, key_usage, name, Extension, TbsFields, LONGEST_SIGNATURE};
use serde::Serialize;

/// A public firmware family whose `cert_chain.c` layout Keyline reproduces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// kmwebnet rainbowtype: CN from slot 13, signer SN + dates in slot 14, root key in slot 15.
    Rainbowtype,
    /// Espressif esp-cryptoauthlib `port/cert_def_*.c` + the esp_cryptoauth_utility helper.
    EspCryptoauthlib,
    /// Microchip Trust Platform custom PKI (`cust_def_1_signer` / `cust_def_2_device`).
    Trustflex,
}

impl Profile {
    /// All profiles.
    pub const ALL: [Profile; 3] = [Profile::Rainbowtype, Profile::EspCryptoauthlib, Profile::Trustflex];

    /// The command-line name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Rainbowtype => "rainbowtype",
            Self::EspCryptoauthlib => "esp-cryptoauthlib",
            Self::Trustflex => "trustflex",
        }
    }

    /// Parses a command-line name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == text)
    }

    /// The device certificate CN for a 9-byte chip serial.
    pub fn device_common_name(self, chip_serial: &[u8; 9]) -> String {
        match self {
            Self::Rainbowtype => hex::encode(chip_serial),
            Self::EspCryptoauthlib => hex::encode_upper(chip_serial),
            Self::Trustflex => format!("sn{}", hex::encode_upper(chip_serial)),
        }
    }

    /// Validity of the device certificate in whole years; 0 = fixed notAfter in the template.
    pub const fn device_expire_years(self) -> u8 {
        match self {
            Self::Rainbowtype | Self::EspCryptoauthlib => 0,
            Self::Trustflex => 10,
        }
    }

    /// Latest issue year the profile's firmware can decode (CryptoAuthLib 3.3 in rainbowtype).
    pub const fn max_issue_year(self) -> u16 {
        match self {
            Self::Rainbowtype => 2031,
            Self::EspCryptoauthlib | Self::Trustflex => 2049,
        }
    }

    /// Largest template the firmware's transport accepts.
    pub const fn max_template_size(self) -> usize {
        match self {
            Self::Rainbowtype => 500,
            Self::EspCryptoauthlib => 563,
            Self::Trustflex => 1024,
        }
    }
}

/// Length of the device serial number in every profile's device template.
pub const DEVICE_SN_LEN: usize = 16;
/// A chip serial used in templates (`0123…ee`, the ATECC608 fixed bytes).
pub const TEMPLATE_CHIP_SERIAL: [u8; 9] = [0x01, 0x23, 0x2A, 0xD9, 0x33, 0x75, 0x70, 0x06, 0xEE];
/// The notAfter that rainbowtype device certificates carry (GeneralizedTime).
pub const RAINBOWTYPE_NOT_AFTER: AtcaDate = AtcaDate::new(3000, 12, 31, 23, 59, 59);
/// The notAfter of every esp-cryptoauthlib device certificate (GeneralizedTime): RFC 5280
/// §4.1.2.5's "no well-defined expiration date", which is also CryptoAuthLib's maximum date for
/// expire_years 0. The Espressif helper compresses with its compiled expire_years 0, so the date
/// cannot travel in the 72 bytes: it is fixed in the `cert_chain.c` template instead
/// (docs/atcacert-notes.md, "Which definition the firmware rebuilds with").
pub const ESP_DEVICE_NOT_AFTER: AtcaDate = AtcaDate::new(9999, 12, 31, 23, 59, 59);

/// The definitions of one profile for one signer CA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfileDefs {
    /// The profile.
    pub profile: Profile,
    /// Root public-key definition (rainbowtype `g_cert_def_0_root`).
    pub root: Option<CaKeyDef>,
    /// The signer certificate definition; its template is the signer certificate.
    pub signer: CertDef,
    /// The device certificate definition.
    pub device: CertDef,
    /// The root CA public key, when known (emitted as `g_signer_1_ca_public_key` or, for TrustFLEX,
    /// `g_cert_ca_public_key_1_signer`).
    #[serde(skip)]
    pub root_public_key: Option<RawPublicKey>,
}

fn refuse(profile: Profile, reason: impl Into<String>) -> AtcaCertError {
    AtcaCertError::BadDefinition(format!("the signer certificate cannot be placed in the {} slots: {}", profile.as_str(), reason.into()))
}

fn org_text(der: &[u8], layout: &CertLayout) -> Option<String> {
    layout.subject_org.map(|s| String::from_utf8_lossy(s.bytes(der)).into_owned())
}

/// notAfter for a device certificate issued at `issue` (hour-aligned).
pub fn device_not_after(profile: Profile, issue: &AtcaDate) -> AtcaDate {
    let years = match profile {
        Profile::Rainbowtype => return RAINBOWTYPE_NOT_AFTER,
        Profile::EspCryptoauthlib => return ESP_DEVICE_NOT_AFTER,
        Profile::Trustflex => u16::from(profile.device_expire_years()),
    };
    let mut end = AtcaDate { year: issue.year + years, ..*issue };
    if !end.is_real_calendar_date() {
        end.day = 28; // Feb 29 + N years in a common year; only reachable for template-fixed notAfter
    }
    end
}

/// The subject, extensions and issuer of a device certificate for this profile.
pub fn device_tbs(profile: Profile, signer_der: &[u8], signer: &CertLayout, public_key: RawPublicKey, chip_serial: &[u8; 9], serial: Vec<u8>, issue: AtcaDate) -> Result<TbsFields> {
    let signer_key: RawPublicKey = signer.public_key.bytes(signer_der).try_into().expect("64-byte key span");
    let org = org_text(signer_der, signer);
    let mut extensions = match profile {
        Profile::Rainbowtype => vec![Extension::subject_key_id(&public_key)],
        // Espressif's host adds keyEncipherment, which RFC 5480 §3 forbids for EC keys, and no
        // SKI; the firmware rebuilds from Keyline's template, so Keyline follows RFC 5280 instead.
        Profile::EspCryptoauthlib => vec![
            Extension::key_usage(key_usage::DIGITAL_SIGNATURE | key_usage::NON_REPUDIATION),
            Extension::basic_constraints(None),
            // RFC 5280 §4.2.1.2: end-entity certificates SHOULD carry a subjectKeyIdentifier;
            // CryptoAuthLib recomputes it from the key (and the cert-def string carries its place).
            Extension::subject_key_id(&public_key),
        ],
        Profile::Trustflex => vec![
            Extension::basic_constraints(None),
            Extension::key_usage(key_usage::DIGITAL_SIGNATURE | key_usage::KEY_AGREEMENT),
            Extension::subject_key_id(&public_key),
        ],
    };
    extensions.push(Extension::authority_key_id(&signer_key));
    let not_after = device_not_after(profile, &issue);
    Ok(TbsFields {
        serial,
        issuer: signer.subject.bytes(signer_der).to_vec(),
        not_before: (DateFormat::Rfc5280Utc, issue),
        not_after: (DateFormat::x509_for_year(not_after.year), not_after),
        subject: name(org.as_deref(), &profile.device_common_name(chip_serial)),
        public_key,
        extensions,
    })
}

/// The device template: a certificate with placeholder key, serial, dates, CN and signature.
pub fn device_template(profile: Profile, signer_der: &[u8]) -> Result<Vec<u8>> {
    let signer = walk_certificate(signer_der)?;
    let issue = AtcaDate::new(2020, 1, 1, 0, 0, 0);
    let tbs = device_tbs(profile, signer_der, &signer, [0x11; 64], &TEMPLATE_CHIP_SERIAL, vec![0x40; DEVICE_SN_LEN], issue)?;
    Ok(assemble(&tbs.encode()?, &LONGEST_SIGNATURE))
}

fn std_elements(layout: &CertLayout, signer_id: Option<Span>, expire: bool) -> StdElements {
    let opt = |s: Option<Span>| s.map(|s| s.loc()).unwrap_or(CertLoc::NONE);
    StdElements {
        public_key: layout.public_key.loc(),
        signature: layout.signature.loc(),
        issue_date: layout.not_before.loc(),
        expire_date: if expire { layout.not_after.loc() } else { CertLoc::NONE },
        signer_id: opt(signer_id),
        cert_sn: layout.serial.loc(),
        auth_key_id: opt(layout.auth_key_id),
        subj_key_id: opt(layout.subject_key_id),
    }
}

/// The last four characters of a CN when they are hex digits (the signer ID, `FFFF` in samples).
fn signer_id_span(der: &[u8], cn: Option<Span>) -> Option<Span> {
    let cn = cn?;
    (cn.count >= 4 && cn.bytes(der)[cn.count - 4..].iter().all(u8::is_ascii_hexdigit)).then_some(Span { offset: cn.offset + cn.count - 4, count: 4 })
}

/// Builds the profile's definitions for a signer CA certificate.
pub fn build_defs(profile: Profile, signer_der: &[u8], root_public_key: Option<RawPublicKey>) -> Result<ProfileDefs> {
    let signer = walk_certificate(signer_der).map_err(|e| refuse(profile, e.to_string()))?;
    if signer_der.len() > profile.max_template_size() {
        return Err(refuse(profile, format!("it is {} bytes, the firmware takes at most {}", signer_der.len(), profile.max_template_size())));
    }
    let signer_key: RawPublicKey = signer.public_key.bytes(signer_der).try_into().expect("64-byte key span");
    if let Some(ski) = signer.subject_key_id {
        if ski.bytes(signer_der) != key_id(&signer_key) {
            return Err(refuse(profile, "its subjectKeyIdentifier is not SHA-1 of the public key, which CryptoAuthLib recomputes; reissue the signer with RFC 5280 method-1 key identifiers"));
        }
    }
    if let (Some(aki), Some(root)) = (signer.auth_key_id, root_public_key.as_ref()) {
        if aki.bytes(signer_der) != key_id(root) {
            return Err(refuse(profile, "its authorityKeyIdentifier is not SHA-1 of the root public key, which CryptoAuthLib recomputes"));
        }
    }
    let nb = signer.not_before_format.decode(signer.not_before.bytes(signer_der))?;
    let na = signer.not_after_format.decode(signer.not_after.bytes(signer_der))?;
    if nb.year < 2000 || nb.year > profile.max_issue_year() {
        return Err(refuse(profile, format!("its notBefore year {} is outside 2000-{}", nb.year, profile.max_issue_year())));
    }
    let years = na.year.saturating_sub(nb.year);
    let expire_years = if (1..=31).contains(&years) { years as u8 } else { 0 };

    let device_template = device_template(profile, signer_der)?;
    let device_layout = walk_certificate(&device_template)?;
    let (signer_def, device_def, root) = match profile {
        Profile::Rainbowtype | Profile::EspCryptoauthlib => {
            let sn_len = signer.serial.count as u16;
            let (sn_offset, issue_offset, expire_offset) = match profile {
                Profile::Rainbowtype => (20 - sn_len, 35 - signer.not_before.count as u16, 50 - signer.not_after.count as u16),
                _ => {
                    if sn_len != 20 {
                        return Err(refuse(profile, format!("its serial number is {sn_len} bytes; the compiled Espressif definition stores exactly 20 in slot 14")));
                    }
                    if signer.not_before_format != DateFormat::Rfc5280Utc || signer.not_after_format != DateFormat::Rfc5280Utc {
                        return Err(refuse(profile, "its validity must be two UTCTime dates (13 bytes each in slot 14)"));
                    }
                    (0, 22, 37)
                }
            };
            let date_element = |id: &str, offset: u16, span: Span| CertElement {
                id: id.into(),
                device_loc: DeviceLoc::data(14, offset, span.count as u16),
                cert_loc: span.loc(),
                transforms: [Transform::None; 2],
            };
            let signer_id = if profile == Profile::EspCryptoauthlib { signer_id_span(signer_der, signer.subject_cn) } else { None };
            let signer_def = CertDef {
                name: "g_cert_def_1_signer".into(),
                template_id: 1,
                chain_id: 0,
                private_key_slot: 0,
                sn_source: SnSource::Stored,
                cert_sn_dev_loc: DeviceLoc::data(14, sn_offset, sn_len),
                issue_date_format: signer.not_before_format,
                expire_date_format: signer.not_after_format,
                tbs_cert_loc: signer.tbs.loc(),
                expire_years,
                public_key_dev_loc: DeviceLoc::data(11, 0, 72),
                comp_cert_dev_loc: DeviceLoc::data(12, 0, 72),
                std: std_elements(&signer, signer_id, true),
                elements: vec![date_element("IssueDate", issue_offset, signer.not_before), date_element("ExpireDate", expire_offset, signer.not_after)],
                template: signer_der.to_vec(),
                ca_cert_def: (profile == Profile::Rainbowtype).then(|| "g_cert_def_0_root".to_string()),
            };
            let device_signer_id = if profile == Profile::EspCryptoauthlib { signer_id_span(&device_template, device_layout.issuer_cn) } else { None };
            let cn = device_layout.subject_cn.ok_or(AtcaCertError::MissingElement { element: "device common name" })?;
            let elements = if profile == Profile::Rainbowtype {
                vec![CertElement { id: "common_name".into(), device_loc: DeviceLoc::data(13, 0, cn.count as u16), cert_loc: cn.loc(), transforms: [Transform::None; 2] }]
            } else {
                // The compiled definition must give every device its own CN: the chip serial from
                // the configuration zone (the helper's per-device template is gone at run time).
                serial_elements(cn, 0)
            };
            let device_def = device_def(&device_layout, device_template.clone(), device_signer_id, DateFormat::Rfc5280Gen, elements, 0);
            let root = (profile == Profile::Rainbowtype).then(|| CaKeyDef { name: "g_cert_def_0_root".into(), public_key_dev_loc: DeviceLoc::data(15, 0, 72) });
            (signer_def, device_def, root)
        }
        Profile::Trustflex => {
            let signer_id = signer_id_span(signer_der, signer.subject_cn).ok_or_else(|| refuse(profile, "its subject CN must end with 4 hex digits (the signer ID)"))?;
            if signer.not_before_format != DateFormat::Rfc5280Utc || signer.not_after_format != DateFormat::Rfc5280Utc {
                return Err(refuse(profile, "its validity must be two UTCTime dates"));
            }
            let signer_def = CertDef {
                name: "g_cert_def_1_signer".into(),
                template_id: 1,
                chain_id: 0,
                private_key_slot: 0,
                sn_source: SnSource::PubKeyHash,
                cert_sn_dev_loc: DeviceLoc::NONE,
                issue_date_format: DateFormat::Rfc5280Utc,
                expire_date_format: DateFormat::Rfc5280Utc,
                tbs_cert_loc: signer.tbs.loc(),
                expire_years: 10,
                public_key_dev_loc: DeviceLoc::data(11, 0, 72),
                comp_cert_dev_loc: DeviceLoc::data(12, 0, 72),
                std: std_elements(&signer, Some(signer_id), true),
                elements: Vec::new(),
                template: signer_der.to_vec(),
                ca_cert_def: None,
            };
            let cn = device_layout.subject_cn.ok_or(AtcaCertError::MissingElement { element: "device common name" })?;
            let elements = serial_elements(cn, "sn".len());
            let device_signer_id = signer_id_span(&device_template, device_layout.issuer_cn);
            let device_def = device_def(&device_layout, device_template.clone(), device_signer_id, DateFormat::Rfc5280Utc, elements, 10);
            (signer_def, device_def, None)
        }
    };
    Ok(ProfileDefs { profile, root, signer: signer_def, device: device_def, root_public_key })
}

/// SN03 / SN48: the chip serial from configuration bytes 0-3 and 8-12 as 18 uppercase hex
/// characters in the device CN, starting `prefix` characters into it.
fn serial_elements(cn: Span, prefix: usize) -> Vec<CertElement> {
    let element = |id: &str, loc: DeviceLoc, offset: usize, len: usize| CertElement {
        id: id.into(),
        device_loc: loc,
        cert_loc: CertLoc::new((cn.offset + prefix + offset) as u16, len as u16),
        transforms: [Transform::Bin2HexUc, Transform::None],
    };
    vec![element("SN03", DeviceLoc::config(0, 4), 0, 8), element("SN48", DeviceLoc::config(8, 5), 8, 10)]
}

/// The compiled device definition for a device template laid out as `layout`.
pub(crate) fn device_def(layout: &CertLayout, template: Vec<u8>, signer_id: Option<Span>, expire_format: DateFormat, elements: Vec<CertElement>, expire_years: u8) -> CertDef {
    CertDef {
        name: "g_cert_def_2_device".into(),
        template_id: 2,
        chain_id: 0,
        private_key_slot: 0,
        sn_source: SnSource::PubKeyHash,
        cert_sn_dev_loc: DeviceLoc::NONE,
        issue_date_format: DateFormat::Rfc5280Utc,
        expire_date_format: expire_format,
        tbs_cert_loc: layout.tbs.loc(),
        expire_years,
        public_key_dev_loc: DeviceLoc::genkey(0),
        comp_cert_dev_loc: DeviceLoc::data(10, 0, 72),
        std: std_elements(layout, signer_id, expire_years != 0),
        elements,
        template,
        ca_cert_def: Some("g_cert_def_1_signer".into()),
    }
}
