//! Device certificate issuance that fits an ATECC608A firmware profile: the certificate is laid
//! out from the profile's template, signed by the signer CA, and refused unless CryptoAuthLib's
//! rebuild from the 72-byte compressed form reproduces it byte for byte.
//!
//! The common case is [`issue_device_cert`]; [`issue_signer_cert`] makes a signer CA that fits a
//! profile (needed for TrustFLEX, whose signer is rebuilt from a hash serial and hour dates).

mod error;
pub mod request;

pub use error::DeviceCertError;

use crate::atcacert::der_walk::{walk_certificate, CertLayout};
use crate::atcacert::derived::{self, RawPublicKey};
use crate::atcacert::profile::{self, build_defs, Profile, ProfileDefs, DEVICE_SN_LEN};
use crate::atcacert::rebuild::{compress, rebuild, write_cert};
use crate::atcacert::template::{assemble, key_usage, name, Extension, TbsFields};
use crate::atcacert::{AtcaDate, CertDef, DateFormat, DeviceImage, EncodedDates, FormatVersion, COMP_CERT_SIZE};
use crate::signature_check;
use p256::ecdsa::signature::Signer as _;
use serde::Serialize;

/// Signs a TBSCertificate with ECDSA-SHA256 and returns the raw R ‖ S. Implemented for p256 keys
/// and the CA store's keys; anything holding a key elsewhere (HSM, secure element) can implement it.
pub trait TbsSigner {
    /// Signs `tbs`.
    fn sign_tbs(&self, tbs: &[u8]) -> Result<[u8; 64], String>;

    /// Whether `signature`, just made by this signer over `tbs`, verifies with `signer_key` (the public key in the
    /// signer certificate). By default ECDSA verification; a key whose private scalar is in memory may evaluate
    /// the same equation faster (as the store's keys do).
    fn signature_verifies(&self, tbs: &[u8], signature: &[u8; 64], signer_key: &RawPublicKey) -> bool {
        signature_check::verify(signer_key, tbs, signature)
    }
}

impl TbsSigner for p256::ecdsa::SigningKey {
    fn sign_tbs(&self, tbs: &[u8]) -> Result<[u8; 64], String> {
        let sig: p256::ecdsa::Signature = self.sign(tbs);
        Ok(sig.to_bytes().into())
    }
}

impl TbsSigner for crate::EcKey {
    fn sign_tbs(&self, tbs: &[u8]) -> Result<[u8; 64], String> {
        self.sign_p1363(tbs).map_err(|e| e.to_string())
    }

    /// The verification equation through Q = d·G: this key's public point was computed from its scalar when it
    /// was loaded, and must be the signer certificate's key.
    fn signature_verifies(&self, tbs: &[u8], signature: &[u8; 64], signer_key: &RawPublicKey) -> bool {
        self.public_point().get(1..) == Some(&signer_key[..]) && signature_check::verify_with_private_scalar(self.secret(), tbs, signature)
    }
}

/// The raw public key of a certificate (P-256 only).
pub fn certificate_public_key(cert_der: &[u8]) -> Result<RawPublicKey, DeviceCertError> {
    let layout = walk_certificate(cert_der)?;
    Ok(layout.public_key.bytes(cert_der).try_into().expect("64-byte span"))
}

/// A device certificate and what the device must store for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssuedDevice {
    /// The profile it was issued for.
    pub profile: Profile,
    /// Certificate DER.
    #[serde(with = "hex_vec")]
    pub der: Vec<u8>,
    /// The 72-byte compressed certificate (device slot 10).
    #[serde(with = "hex_vec")]
    pub compressed: Vec<u8>,
    /// Subject CN.
    pub common_name: String,
    /// Serial number, hex.
    pub serial_hex: String,
    /// notBefore (hour-aligned).
    pub not_before: AtcaDate,
    /// notAfter.
    pub not_after: AtcaDate,
    /// The definition it was proven against: the profile's compiled device definition, as
    /// `cert_chain.c` holds it (for every profile, Espressif included).
    #[serde(skip)]
    pub cert_def: CertDef,
}

mod hex_vec {
    pub fn serialize<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }
}

fn first_difference(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()))
}

fn sign_and_assemble(tbs: &TbsFields, signer: &dyn TbsSigner, signer_key: &RawPublicKey) -> Result<Vec<u8>, DeviceCertError> {
    let tbs_der = tbs.encode()?;
    let signature = signer.sign_tbs(&tbs_der).map_err(DeviceCertError::Signing)?;
    if !signer.signature_verifies(&tbs_der, &signature, signer_key) {
        return Err(DeviceCertError::Signing("the signature does not verify with the signer certificate's key".into()));
    }
    Ok(assemble(&tbs_der, &signature))
}

/// Stores `cert` on an emulated device, rebuilds it as CryptoAuthLib would and demands identity.
pub fn prove_reproducible(def: &CertDef, cert: &[u8], device: &mut DeviceImage, ca_key: &RawPublicKey) -> Result<(), DeviceCertError> {
    write_cert(def, cert, device)?;
    let rebuilt = rebuild(def, device, Some(ca_key))?;
    if rebuilt != cert {
        return Err(DeviceCertError::NotReproducible { offset: first_difference(&rebuilt, cert) });
    }
    Ok(())
}

/// The issue date a profile will use for a request made at `at`: whole hour, and for profiles
/// whose expiry is issue + N years, moved off Feb 29 when the expiry year has no Feb 29.
pub fn issue_date_for(profile: Profile, at: AtcaDate) -> Result<AtcaDate, DeviceCertError> {
    let mut issue = at.truncated_to_hour();
    let years = u16::from(profile.device_expire_years());
    if years != 0 && !(AtcaDate { year: issue.year + years, ..issue }).is_real_calendar_date() {
        issue = AtcaDate::new(issue.year, 2, 28, 23, 0, 0);
    }
    let bad = |reason: String| DeviceCertError::BadIssueDate { profile: profile.as_str(), date: issue.to_string(), reason };
    if !issue.is_real_calendar_date() {
        return Err(bad("not a calendar date".into()));
    }
    if issue.year < 2000 || issue.year > profile.max_issue_year() {
        return Err(bad(format!("the firmware decodes issue years 2000-{}", profile.max_issue_year())));
    }
    if years != 0 && issue.year + years > 2049 {
        return Err(bad(format!("notAfter {} would not fit the template's UTCTime", issue.year + years)));
    }
    Ok(issue)
}

/// Issues a device certificate for `public_key` on the chip with serial `chip_serial`.
///
/// `signer_cert` is the signer CA certificate DER, `signer` its key. The certificate is refused
/// (not returned) unless rebuilding it from the compressed form + template gives the same bytes.
/// To issue many, prepare a [`DeviceIssuer`] once.
pub fn issue_device_cert(
    profile: Profile,
    signer_cert: &[u8],
    signer: &dyn TbsSigner,
    public_key: &RawPublicKey,
    chip_serial: &[u8; 9],
    at: AtcaDate,
) -> Result<IssuedDevice, DeviceCertError> {
    DeviceIssuer::new(profile, signer_cert)?.issue(signer, public_key, chip_serial, at)
}

/// A signer CA certificate prepared to issue device certificates for one profile: its placement in the
/// profile's definitions and its layout are worked out once, not for every device.
#[derive(Debug, Clone)]
pub struct DeviceIssuer {
    profile: Profile,
    signer_cert: Vec<u8>,
    signer_layout: CertLayout,
    signer_key: RawPublicKey,
    device_def: CertDef,
}

impl DeviceIssuer {
    /// Prepares `signer_cert` (DER) for `profile`; refused when the signer does not fit the profile's slots.
    pub fn new(profile: Profile, signer_cert: &[u8]) -> Result<DeviceIssuer, DeviceCertError> {
        let defs: ProfileDefs = build_defs(profile, signer_cert, None).map_err(DeviceCertError::SignerNotPlaceable)?;
        let signer_layout = walk_certificate(signer_cert)?;
        let signer_key: RawPublicKey = signer_layout.public_key.bytes(signer_cert).try_into().expect("64-byte span");
        Ok(DeviceIssuer { profile, signer_cert: signer_cert.to_vec(), signer_layout, signer_key, device_def: defs.device })
    }

    /// Issues a device certificate for `public_key` on the chip with serial `chip_serial`, signed by `signer` (the
    /// key of the prepared signer certificate); see [`issue_device_cert`].
    pub fn issue(&self, signer: &dyn TbsSigner, public_key: &RawPublicKey, chip_serial: &[u8; 9], at: AtcaDate) -> Result<IssuedDevice, DeviceCertError> {
        let profile = self.profile;
        request::verifying_key(public_key)?;
        let issue = issue_date_for(profile, at)?;
        let expire_years = self.device_def.expire_years;
        let dates = EncodedDates { issue, expire_years };
        let serial = derived::pub_key_hash_serial(public_key, &dates, FormatVersion::for_dates(issue.year, expire_years), DEVICE_SN_LEN)?;
        let tbs = profile::device_tbs(profile, &self.signer_cert, &self.signer_layout, *public_key, chip_serial, serial.clone(), issue)?;
        let cert = sign_and_assemble(&tbs, signer, &self.signer_key)?;

        // Every firmware rebuilds with its compiled cert_chain.c definition, never a per-device one.
        let layout = walk_certificate(&cert)?;
        if layout.tbs.count != usize::from(self.device_def.tbs_cert_loc.count) {
            return Err(DeviceCertError::NotReproducible { offset: layout.tbs.offset });
        }
        let def = self.device_def.clone();
        let mut device = DeviceImage::with_serial(chip_serial);
        prove_reproducible(&def, &cert, &mut device, &self.signer_key)?;
        let compressed = compress(&def, &cert)?;
        if profile == Profile::EspCryptoauthlib {
            // The Espressif helper compresses on program-dev-cert with the definition it builds from
            // the cert-def string; it must store the same 72 bytes.
            let helper = crate::atcacert::certdef_string::helper_device_def(&cert)?;
            let helper_compressed = compress(&helper, &cert)?;
            if helper_compressed != compressed {
                return Err(DeviceCertError::NotReproducible { offset: first_difference(&helper_compressed, &compressed) });
            }
        }
        debug_assert_eq!(compressed.len(), COMP_CERT_SIZE);
        Ok(IssuedDevice {
            profile,
            compressed: compressed.to_vec(),
            common_name: profile.device_common_name(chip_serial),
            serial_hex: hex::encode_upper(&serial),
            not_before: issue,
            not_after: tbs.not_after.1,
            der: cert,
            cert_def: def,
        })
    }
}

/// The 9-byte chip serial for a device certificate: from `--serial` (18 hex digits) when given,
/// otherwise from the CSR's CN when that is the chip serial (with TrustFLEX's `sn` prefix allowed).
/// A longer CN cannot fit the profile's template and is refused.
pub fn resolve_chip_serial(profile: Profile, serial_hex: Option<&str>, csr_common_name: Option<&str>) -> Result<[u8; 9], DeviceCertError> {
    let text = match (serial_hex, csr_common_name) {
        (Some(s), _) => s.trim().to_string(),
        (None, Some(cn)) => cn.trim().trim_start_matches("sn").to_string(),
        (None, None) => return Err(DeviceCertError::MissingSerial),
    };
    let is_hex = !text.is_empty() && text.bytes().all(|b| b.is_ascii_hexdigit());
    if text.len() > 18 && (is_hex || serial_hex.is_some()) {
        let common_name = format!("{}{}", if profile == Profile::Trustflex { "sn" } else { "" }, text);
        let expected = profile.device_common_name(&[0; 9]).len();
        return Err(DeviceCertError::SubjectTooLong { profile: profile.as_str(), actual: common_name.len(), common_name, expected });
    }
    if !is_hex || text.len() != 18 {
        return Err(DeviceCertError::MissingSerial);
    }
    let bytes = hex::decode(&text).map_err(|_| DeviceCertError::MissingSerial)?;
    Ok(bytes.try_into().expect("18 hex digits are 9 bytes"))
}

/// Subject of a signer CA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerSubject {
    /// Organisation (copied into device subjects).
    pub organization: String,
    /// Common name; for TrustFLEX it must end with the 4 uppercase hex digits of the signer ID.
    pub common_name: String,
}

/// Issues a signer CA certificate (pathlen 0) that fits `profile`, signed by the root.
/// Stored-serial profiles get a random serial (16 bytes rainbowtype, 20 Espressif) and keep the
/// exact `at`; TrustFLEX gets a hash serial, a whole-hour notBefore and exactly 10 years.
pub fn issue_signer_cert(
    profile: Profile,
    root_cert: &[u8],
    root: &dyn TbsSigner,
    signer_public_key: &RawPublicKey,
    subject: &SignerSubject,
    at: AtcaDate,
) -> Result<Vec<u8>, DeviceCertError> {
    request::verifying_key(signer_public_key)?;
    let root_layout = walk_certificate(root_cert)?;
    let root_key: RawPublicKey = root_layout.public_key.bytes(root_cert).try_into().expect("64-byte span");
    let (not_before, serial) = match profile {
        Profile::Trustflex => {
            let issue = issue_date_for(profile, at)?;
            let dates = EncodedDates { issue, expire_years: 10 };
            (issue, derived::pub_key_hash_serial(signer_public_key, &dates, FormatVersion::for_dates(issue.year, 10), DEVICE_SN_LEN)?)
        }
        _ => {
            let mut sn = vec![0u8; if profile == Profile::Rainbowtype { 16 } else { 20 }];
            rand_core::RngCore::try_fill_bytes(&mut rand_core::OsRng, &mut sn).map_err(|e| DeviceCertError::Signing(e.to_string()))?;
            sn[0] = (sn[0] & 0x3F) | 0x40;
            (at, sn)
        }
    };
    let mut not_after = AtcaDate { year: not_before.year + 10, ..not_before };
    if !not_after.is_real_calendar_date() {
        not_after.day = 28;
    }
    let tbs = TbsFields {
        serial,
        issuer: root_layout.subject.bytes(root_cert).to_vec(),
        not_before: (DateFormat::x509_for_year(not_before.year), not_before),
        not_after: (DateFormat::x509_for_year(not_after.year), not_after),
        subject: name(Some(&subject.organization), &subject.common_name),
        public_key: *signer_public_key,
        extensions: vec![
            Extension::basic_constraints(Some(0)),
            Extension::key_usage(key_usage::DIGITAL_SIGNATURE | key_usage::KEY_CERT_SIGN | key_usage::CRL_SIGN),
            Extension::subject_key_id(signer_public_key),
            Extension::authority_key_id(&root_key),
        ],
    };
    let cert = sign_and_assemble(&tbs, root, &root_key)?;
    place_signer(profile, &cert, &root_key)?;
    Ok(cert)
}

/// The profile's definitions for a signer, after proving the signer itself survives the round
/// trip through slots 11, 12 and 14 (refused otherwise).
pub fn place_signer(profile: Profile, signer_cert: &[u8], root_key: &RawPublicKey) -> Result<ProfileDefs, DeviceCertError> {
    let defs = build_defs(profile, signer_cert, Some(*root_key)).map_err(DeviceCertError::SignerNotPlaceable)?;
    let mut device = DeviceImage::default();
    prove_reproducible(&defs.signer, signer_cert, &mut device, root_key).map_err(|e| match e {
        DeviceCertError::NotReproducible { offset } => DeviceCertError::SignerNotPlaceable(crate::atcacert::AtcaCertError::BadDefinition(format!(
            "the signer certificate cannot be placed in the {} slots: rebuilding it from slots 11/12/14 differs at byte {offset} (serial, dates or key identifiers do not follow the profile)",
            profile.as_str()
        ))),
        other => other,
    })?;
    Ok(defs)
}
