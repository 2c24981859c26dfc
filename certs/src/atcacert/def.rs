//! The certificate-definition model (`atcacert_def_t` and its parts): where each field of a
//! template comes from on the device, where it goes in the certificate, and how it is transformed.

use super::date::DateFormat;
use serde::Serialize;

/// `atcacert_device_zone_t`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[repr(u8)]
pub enum DeviceZone {
    /// Configuration zone (serial number bytes live here).
    Config = 0,
    /// One-time-programmable zone.
    Otp = 1,
    /// Data slots.
    Data = 2,
    /// Not on the device.
    None = 7,
}

impl DeviceZone {
    /// The C enumerator.
    pub const fn c_name(self) -> &'static str {
        match self {
            Self::Config => "DEVZONE_CONFIG",
            Self::Otp => "DEVZONE_OTP",
            Self::Data => "DEVZONE_DATA",
            Self::None => "DEVZONE_NONE",
        }
    }
}

/// `atcacert_device_loc_t`: a byte range on the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct DeviceLoc {
    /// Zone.
    pub zone: DeviceZone,
    /// Slot (data zone only).
    pub slot: u8,
    /// Public key obtained with GenKey rather than read from the slot.
    pub is_genkey: bool,
    /// First byte.
    pub offset: u16,
    /// Number of bytes (0 = absent).
    pub count: u16,
}

impl DeviceLoc {
    /// "Not on the device".
    pub const NONE: Self = Self { zone: DeviceZone::None, slot: 0, is_genkey: false, offset: 0, count: 0 };

    /// A range of a data slot.
    pub const fn data(slot: u8, offset: u16, count: u16) -> Self {
        Self { zone: DeviceZone::Data, slot, is_genkey: false, offset, count }
    }

    /// The public key of a private-key slot, produced by GenKey (64 bytes).
    pub const fn genkey(slot: u8) -> Self {
        Self { zone: DeviceZone::Data, slot, is_genkey: true, offset: 0, count: 64 }
    }

    /// A range of the configuration zone.
    pub const fn config(offset: u16, count: u16) -> Self {
        Self { zone: DeviceZone::Config, slot: 0, is_genkey: false, offset, count }
    }

    /// True when the location names no data.
    pub const fn is_absent(&self) -> bool {
        matches!(self.zone, DeviceZone::None) || self.count == 0
    }
}

/// `atcacert_cert_loc_t`: a byte range in the certificate template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub struct CertLoc {
    /// First byte.
    pub offset: u16,
    /// Number of bytes (0 = element absent).
    pub count: u16,
}

impl CertLoc {
    /// Absent element.
    pub const NONE: Self = Self { offset: 0, count: 0 };

    /// A range.
    pub const fn new(offset: u16, count: u16) -> Self {
        Self { offset, count }
    }

    /// The range as `usize` bounds.
    pub fn range(&self) -> std::ops::Range<usize> {
        usize::from(self.offset)..usize::from(self.offset) + usize::from(self.count)
    }
}

/// `atcacert_transform_t`: how device bytes turn into certificate bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Transform {
    /// Copy as is.
    None,
    /// Reverse the byte order.
    Reverse,
    /// Binary to uppercase hex text.
    Bin2HexUc,
    /// Binary to lowercase hex text.
    Bin2HexLc,
}

impl Transform {
    /// The C enumerator.
    pub const fn c_name(self) -> &'static str {
        match self {
            Self::None => "TF_NONE",
            Self::Reverse => "TF_REVERSE",
            Self::Bin2HexUc => "TF_BIN2HEX_UC",
            Self::Bin2HexLc => "TF_BIN2HEX_LC",
        }
    }

    /// Applies the transform.
    pub fn apply(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::None => data.to_vec(),
            Self::Reverse => data.iter().rev().copied().collect(),
            Self::Bin2HexUc => hex::encode_upper(data).into_bytes(),
            Self::Bin2HexLc => hex::encode(data).into_bytes(),
        }
    }
}

/// `atcacert_cert_element_t`: an extra field copied from the device into the certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertElement {
    /// Name (at most 24 characters; `id[25]` in C).
    pub id: String,
    /// Source on the device.
    pub device_loc: DeviceLoc,
    /// Destination in the certificate.
    pub cert_loc: CertLoc,
    /// Up to two transforms applied in order.
    pub transforms: [Transform; 2],
}

/// `atcacert_cert_sn_src_t`: where a certificate's serial number comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[repr(u8)]
pub enum SnSource {
    /// Stored on the device at `cert_sn_dev_loc`.
    Stored = 0x0,
    /// `0x40 ‖ 9-byte device serial`.
    DeviceSn = 0x8,
    /// `0x40 ‖ signer ID`.
    SignerId = 0x9,
    /// SHA-256(public key ‖ encoded dates), top bits 01.
    PubKeyHash = 0xA,
    /// SHA-256(device serial ‖ encoded dates), top bits 01.
    DeviceSnHash = 0xB,
}

impl SnSource {
    /// The C enumerator.
    pub const fn c_name(self) -> &'static str {
        match self {
            Self::Stored => "SNSRC_STORED",
            Self::DeviceSn => "SNSRC_DEVICE_SN",
            Self::SignerId => "SNSRC_SIGNER_ID",
            Self::PubKeyHash => "SNSRC_PUB_KEY_HASH",
            Self::DeviceSnHash => "SNSRC_DEVICE_SN_HASH",
        }
    }
}

/// The eight standard element locations (`std_cert_elements`, `STDCERT_*` order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct StdElements {
    /// Subject public key X ‖ Y.
    pub public_key: CertLoc,
    /// signatureValue BIT STRING (X.509: from its tag).
    pub signature: CertLoc,
    /// notBefore text.
    pub issue_date: CertLoc,
    /// notAfter text.
    pub expire_date: CertLoc,
    /// 4 hex characters of the signer ID.
    pub signer_id: CertLoc,
    /// Serial number INTEGER contents.
    pub cert_sn: CertLoc,
    /// Authority key identifier.
    pub auth_key_id: CertLoc,
    /// Subject key identifier.
    pub subj_key_id: CertLoc,
}

impl StdElements {
    /// The locations in `STDCERT_*` order with their C names.
    pub fn in_order(&self) -> [(&'static str, CertLoc); 8] {
        [
            ("STDCERT_PUBLIC_KEY", self.public_key),
            ("STDCERT_SIGNATURE", self.signature),
            ("STDCERT_ISSUE_DATE", self.issue_date),
            ("STDCERT_EXPIRE_DATE", self.expire_date),
            ("STDCERT_SIGNER_ID", self.signer_id),
            ("STDCERT_CERT_SN", self.cert_sn),
            ("STDCERT_AUTH_KEY_ID", self.auth_key_id),
            ("STDCERT_SUBJ_KEY_ID", self.subj_key_id),
        ]
    }
}

/// An X.509 certificate definition (`atcacert_def_t` with `type = CERTTYPE_X509`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertDef {
    /// C identifier of the definition, e.g. `g_cert_def_2_device`.
    pub name: String,
    /// Template ID (4 bits).
    pub template_id: u8,
    /// Chain ID (4 bits).
    pub chain_id: u8,
    /// Slot of the device private key (device certificates).
    pub private_key_slot: u8,
    /// Serial-number source.
    pub sn_source: SnSource,
    /// Where a stored serial number lives.
    pub cert_sn_dev_loc: DeviceLoc,
    /// Format of notBefore.
    pub issue_date_format: DateFormat,
    /// Format of notAfter.
    pub expire_date_format: DateFormat,
    /// TBSCertificate range.
    pub tbs_cert_loc: CertLoc,
    /// Validity in years (0 = no expiration / fixed in the template).
    pub expire_years: u8,
    /// Where the subject public key is read.
    pub public_key_dev_loc: DeviceLoc,
    /// Where the compressed certificate is read.
    pub comp_cert_dev_loc: DeviceLoc,
    /// Standard element locations.
    pub std: StdElements,
    /// Extra elements.
    pub elements: Vec<CertElement>,
    /// The template certificate DER.
    #[serde(with = "hex_vec")]
    pub template: Vec<u8>,
    /// C identifier of the issuer's definition, if the chain links to one.
    pub ca_cert_def: Option<String>,
}

/// A definition that only says where the CA public key is (e.g. rainbowtype's `g_cert_def_0_root`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaKeyDef {
    /// C identifier.
    pub name: String,
    /// Where the CA public key is stored.
    pub public_key_dev_loc: DeviceLoc,
}

mod hex_vec {
    pub fn serialize<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }
}
