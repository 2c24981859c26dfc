//! Issuing certificates: self-signed root CAs, signer (intermediate) CAs and AWS IoT
//! verification certificates, all ECDSA P-256 with SHA-256.

use rand_core::{OsRng, RngCore};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyIdMethod, KeyUsagePurpose,
    SerialNumber,
};
use sha1::{Digest, Sha1};
use time::{Duration, OffsetDateTime};

use rcgen::PublicKeyData;

use crate::{CaSigner, CertInfo, Error, Result};

/// Length of the random serial numbers (RFC 5280 allows up to 20 octets).
pub const SERIAL_LEN: usize = 20;

/// Names in a CA certificate's subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaSubject {
    /// Common Name.
    pub common_name: String,
    /// Organization.
    pub organization: String,
}

/// A validity period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// Start.
    pub not_before: OffsetDateTime,
    /// End.
    pub not_after: OffsetDateTime,
}

impl Validity {
    /// From one hour before `now` (clock skew) to `days` days after `now`.
    pub fn days_from(now: OffsetDateTime, days: u32) -> Validity {
        let now = now.replace_nanosecond(0).expect("0 is a valid nanosecond");
        Validity { not_before: now - Duration::hours(1), not_after: now + Duration::days(i64::from(days)) }
    }

    /// From one hour before `now` to `years` years (of 365.25 days, rounded down) after it.
    pub fn years_from(now: OffsetDateTime, years: u32) -> Validity {
        Validity::days_from(now, years * 365 + years / 4)
    }

    /// The same period, but ending no later than `issuer` does.
    pub fn within(self, issuer: &CertInfo) -> Validity {
        Validity { not_before: self.not_before, not_after: self.not_after.min(issuer.not_after) }
    }
}

/// A random, positive serial number of [`SERIAL_LEN`] bytes (first byte 0x40..=0x7F, so the
/// DER INTEGER keeps all 20 bytes and is never negative).
pub fn random_serial() -> Result<SerialNumber> {
    let mut bytes = [0u8; SERIAL_LEN];
    OsRng.try_fill_bytes(&mut bytes).map_err(|e| Error::Random(e.to_string()))?;
    bytes[0] = (bytes[0] & 0x3F) | 0x40;
    Ok(SerialNumber::from_slice(&bytes))
}

/// RFC 5280 method-1 key identifier: SHA-1 of the public key bits (what OpenSSL uses).
fn key_identifier(key: &impl PublicKeyData) -> Vec<u8> {
    Sha1::digest(key.der_bytes()).to_vec()
}

fn ca_params(subject: &CaSubject, validity: Validity, key: &impl PublicKeyData, path_len: Option<u8>) -> Result<CertificateParams> {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, subject.organization.as_str());
    dn.push(DnType::CommonName, subject.common_name.as_str());
    params.distinguished_name = dn;
    params.not_before = validity.not_before;
    params.not_after = validity.not_after;
    params.serial_number = Some(random_serial()?);
    params.is_ca = match path_len {
        Some(len) => IsCa::Ca(BasicConstraints::Constrained(len)),
        None => IsCa::Ca(BasicConstraints::Unconstrained),
    };
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.key_identifier_method = KeyIdMethod::PreSpecified(key_identifier(key));
    Ok(params)
}

pub(crate) fn issuer_from<'a, K: CaSigner>(issuer: &CertInfo, issuer_key: &'a K) -> Result<Issuer<'static, &'a K>> {
    if issuer.p256_public_key != Some(issuer_key.p256_public_key()) {
        return Err(Error::Issue("the issuer key does not match the issuer certificate".into()));
    }
    Issuer::from_ca_cert_der(&issuer.der.as_slice().into(), issuer_key).map_err(|e| Error::Issue(e.to_string()))
}

/// A failed rcgen build; a token's failure was logged where it happened (rcgen keeps no detail).
pub(crate) fn issue_error(error: rcgen::Error) -> Error {
    match error {
        rcgen::Error::RemoteKeyError => Error::Issue("the PKCS#11 token did not sign (see the log for its error)".into()),
        other => Error::Issue(other.to_string()),
    }
}

pub(crate) fn parse_issued(cert: rcgen::Certificate) -> Result<CertInfo> {
    CertInfo::from_der(cert.der())
}

/// A self-signed root CA: BasicConstraints CA:TRUE (critical), KeyUsage keyCertSign + cRLSign
/// (critical), SubjectKeyIdentifier, random 20-byte serial.
pub fn create_root_ca(subject: &CaSubject, validity: Validity, key: &impl CaSigner) -> Result<CertInfo> {
    let params = ca_params(subject, validity, key, None)?;
    let cert = params.self_signed(key).map_err(issue_error)?;
    parse_issued(cert)
}

/// A signer CA issued by `issuer`: like a root but with pathlen 0 and an
/// AuthorityKeyIdentifier; validity is cut to end with the issuer's.
pub fn create_signer_ca(
    subject: &CaSubject,
    validity: Validity,
    key: &impl PublicKeyData,
    issuer: &CertInfo,
    issuer_key: &impl CaSigner,
) -> Result<CertInfo> {
    let mut params = ca_params(subject, validity.within(issuer), key, Some(0))?;
    params.use_authority_key_identifier_extension = true;
    let cert = params.signed_by(key, &issuer_from(issuer, issuer_key)?).map_err(issue_error)?;
    parse_issued(cert)
}

/// An AWS IoT CA-registration verification certificate: CN = `registration_code`, end entity,
/// key `key`, issued by `issuer`.
pub fn issue_verification_cert(
    registration_code: &str,
    validity: Validity,
    key: &impl PublicKeyData,
    issuer: &CertInfo,
    issuer_key: &impl CaSigner,
) -> Result<CertInfo> {
    let params = end_entity_params(registration_code, validity, key, issuer)?;
    let cert = params.signed_by(key, &issuer_from(issuer, issuer_key)?).map_err(issue_error)?;
    parse_issued(cert)
}

/// Parameters of an end-entity certificate (CN only, digitalSignature, not a CA) for `key`,
/// within the issuer's validity.
pub(crate) fn end_entity_params(cn: &str, validity: Validity, key: &impl PublicKeyData, issuer: &CertInfo) -> Result<CertificateParams> {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    params.distinguished_name = dn;
    let validity = validity.within(issuer);
    params.not_before = validity.not_before;
    params.not_after = validity.not_after;
    params.serial_number = Some(random_serial()?);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.key_identifier_method = KeyIdMethod::PreSpecified(key_identifier(key));
    params.use_authority_key_identifier_extension = true;
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EcKey;

    fn subject(cn: &str) -> CaSubject {
        CaSubject { common_name: cn.into(), organization: "Acme".into() }
    }

    #[test]
    fn root_is_a_self_signed_ca_with_a_long_positive_serial() {
        let key = EcKey::generate();
        let root = create_root_ca(&subject("root"), Validity::years_from(OffsetDateTime::now_utc(), 10), &key).unwrap();
        assert!(root.is_ca());
        assert!(root.is_self_signed());
        assert_eq!(root.basic_constraints, Some((true, None)));
        assert_eq!(root.serial.len(), SERIAL_LEN);
        assert!(root.serial[0] & 0x80 == 0 && root.serial[0] != 0);
        assert_eq!(root.signature_algorithm, "ecdsa-with-SHA256");
        assert_eq!(root.public_key_description, "id-ecPublicKey prime256v1");
        assert_eq!(root.subject_key_id.as_deref(), Some(key_identifier(&key).as_slice()));
        assert_eq!(root.common_name().as_deref(), Some("root"));
    }

    #[test]
    fn signer_chains_to_the_root_and_cannot_outlive_it() {
        let now = OffsetDateTime::now_utc();
        let root_key = EcKey::generate();
        let root = create_root_ca(&subject("root"), Validity::years_from(now, 2), &root_key).unwrap();
        let signer_key = EcKey::generate();
        let signer =
            create_signer_ca(&subject("signer"), Validity::years_from(now, 20), &signer_key, &root, &root_key).unwrap();
        assert!(signer.is_signed_by(&root));
        assert!(!signer.is_self_signed());
        assert!(!root.is_signed_by(&signer));
        assert_eq!(signer.basic_constraints, Some((true, Some(0))));
        assert_eq!(signer.authority_key_id, root.subject_key_id);
        assert_eq!(signer.not_after, root.not_after);
        let critical: Vec<_> = signer.extensions.iter().filter(|e| e.critical).map(|e| e.name.as_str()).collect();
        assert!(critical.contains(&"basicConstraints") && critical.contains(&"keyUsage"), "{critical:?}");
    }

    #[test]
    fn issuing_with_a_key_that_is_not_the_issuers_fails() {
        let now = OffsetDateTime::now_utc();
        let root_key = EcKey::generate();
        let root = create_root_ca(&subject("root"), Validity::years_from(now, 1), &root_key).unwrap();
        let other = EcKey::generate();
        let err = issue_verification_cert("abc", Validity::days_from(now, 30), &other, &root, &other).unwrap_err();
        assert!(matches!(err, Error::Issue(_)));
    }

    #[test]
    fn verification_cert_has_the_code_as_common_name() {
        let now = OffsetDateTime::now_utc();
        let root_key = EcKey::generate();
        let root = create_root_ca(&subject("root"), Validity::years_from(now, 1), &root_key).unwrap();
        let key = EcKey::generate();
        let code = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
        let cert = issue_verification_cert(code, Validity::days_from(now, 365), &key, &root, &root_key).unwrap();
        assert_eq!(cert.common_name().as_deref(), Some(code));
        assert!(cert.is_signed_by(&root));
        assert!(!cert.is_ca());
        assert!(cert.p256_public_key.as_ref().is_some_and(|public| key.matches(public)));
    }
}
