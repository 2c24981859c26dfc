//! Device certificate issuance per profile: what the certificate contains, and the clear refusals
//! (bad CSR signature, non-P-256 key, subject too long, signer that cannot be placed).

use keyline_certs::atcacert::derived::pub_key_hash_serial;
use keyline_certs::atcacert::profile::Profile;
use keyline_certs::atcacert::{AtcaDate, EncodedDates, FormatVersion};
use keyline_certs::device::request::{public_key_from_csr, public_key_from_key_file};
use keyline_certs::atcacert::der_walk::walk_certificate;
use keyline_certs::atcacert::DeviceImage;
use keyline_certs::device::{
    certificate_public_key, issue_device_cert, issue_signer_cert, place_signer, prove_reproducible, resolve_chip_serial, DeviceCertError,
    SignerSubject,
};
use keyline_certs::{create_root_ca, create_signer_ca, CaSubject, EcKey, Validity};
use rand_core::OsRng;
use std::process::Command;
use x509_parser::prelude::*;

const CHIP: [u8; 9] = [0x01, 0x23, 0xAB, 0xCD, 0xEF, 0x01, 0x02, 0x03, 0xEE];

struct Setup {
    root: keyline_certs::CertInfo,
    root_key: EcKey,
}

fn root() -> Setup {
    let root_key = EcKey::generate();
    let subject = CaSubject { common_name: "Issuance Test Root".into(), organization: "Keyline Factory".into() };
    let root = create_root_ca(&subject, Validity::years_from(::time::OffsetDateTime::now_utc(), 30), &root_key).unwrap();
    Setup { root, root_key }
}

fn key_pair() -> (p256::ecdsa::SigningKey, [u8; 64]) {
    let key = p256::ecdsa::SigningKey::random(&mut OsRng);
    let public = key.verifying_key().to_encoded_point(false).as_bytes()[1..].try_into().unwrap();
    (key, public)
}

fn profile_signer(setup: &Setup, profile: Profile) -> (Vec<u8>, p256::ecdsa::SigningKey) {
    let (key, public) = key_pair();
    let subject = SignerSubject { organization: "Keyline Factory".into(), common_name: "Keyline Signer 0A1B".into() };
    let der = issue_signer_cert(profile, &setup.root.der, &setup.root_key, &public, &subject, AtcaDate::new(2026, 5, 6, 7, 8, 9)).unwrap();
    (der, key)
}

fn openssl(args: &[&str], dir: &std::path::Path) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl runs");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn openssl_csr(curve: &str, cn: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let param = format!("ec_paramgen_curve:{curve}");
    let subj = format!("/O=Board/CN={cn}");
    openssl(&["req", "-new", "-newkey", "ec", "-pkeyopt", &param, "-nodes", "-keyout", "k.pem", "-subj", &subj, "-out", "csr.pem"], dir.path());
    std::fs::read(dir.path().join("csr.pem")).unwrap()
}

#[test]
fn device_certificates_follow_each_profile() {
    let setup = root();
    for profile in Profile::ALL {
        let (signer_der, signer_key) = profile_signer(&setup, profile);
        let (_, device_pub) = key_pair();
        let issued = issue_device_cert(profile, &signer_der, &signer_key, &device_pub, &CHIP, AtcaDate::new(2026, 7, 8, 10, 37, 12)).unwrap();
        let (_, cert) = X509Certificate::from_der(&issued.der).unwrap();
        let cn = cert.subject().iter_common_name().next().unwrap().as_str().unwrap().to_string();
        let expected_cn = match profile {
            Profile::Rainbowtype => "0123abcdef010203ee",
            Profile::EspCryptoauthlib => "0123ABCDEF010203EE",
            Profile::Trustflex => "sn0123ABCDEF010203EE",
        };
        assert_eq!(cn, expected_cn, "{profile:?}");
        let nb = cert.validity().not_before.to_datetime();
        assert_eq!((nb.hour(), nb.minute(), nb.second()), (10, 0, 0), "{profile:?}: notBefore is hour-aligned");
        let na = cert.validity().not_after.to_datetime();
        match profile {
            Profile::Rainbowtype => assert_eq!(na.year(), 3000),
            // fixed in the cert_chain.c template: RFC 5280's "no well-defined expiration date"
            Profile::EspCryptoauthlib => assert_eq!((na.year(), na.month() as u8, na.day(), na.hour(), na.minute(), na.second()), (9999, 12, 31, 23, 59, 59)),
            Profile::Trustflex => assert_eq!((na.year(), na.month() as u8, na.day(), na.hour()), (2036, 7, 8, 10)),
        }
        let dates = EncodedDates { issue: AtcaDate::new(2026, 7, 8, 10, 0, 0), expire_years: profile.device_expire_years() };
        let serial = pub_key_hash_serial(&device_pub, &dates, FormatVersion::V0, 16).unwrap();
        assert_eq!(cert.raw_serial(), serial.as_slice(), "{profile:?}: serial is SNSRC_PUB_KEY_HASH");
        let oids: Vec<String> = cert.extensions().iter().map(|e| e.oid.to_id_string()).collect();
        let expected: &[&str] = match profile {
            Profile::Rainbowtype => &["2.5.29.14", "2.5.29.35"],
            Profile::EspCryptoauthlib => &["2.5.29.15", "2.5.29.19", "2.5.29.14", "2.5.29.35"],
            Profile::Trustflex => &["2.5.29.19", "2.5.29.15", "2.5.29.14", "2.5.29.35"],
        };
        assert_eq!(oids, expected, "{profile:?}: extensions");
        assert_eq!(cert.issuer().as_raw(), X509Certificate::from_der(&signer_der).unwrap().1.subject().as_raw());
    }
}

#[test]
fn a_valid_openssl_csr_gives_its_key_and_cn() {
    let csr = openssl_csr("P-256", "0123abcdef010203ee");
    let (key, cn) = public_key_from_csr(&csr).unwrap();
    assert_eq!(cn.as_deref(), Some("0123abcdef010203ee"));
    assert_eq!(resolve_chip_serial(Profile::Rainbowtype, None, cn.as_deref()).unwrap(), CHIP);
    assert_eq!(key.len(), 64);
}

#[test]
fn a_csr_with_a_bad_signature_is_refused() {
    let csr = openssl_csr("P-256", "0123abcdef010203ee");
    let mut der = keyline_certs::pem_blocks("request", std::str::from_utf8(&csr).unwrap()).unwrap()[0].der.to_vec();
    let last = der.len() - 2;
    der[last] ^= 0x01; // inside S of the signature
    let err = public_key_from_csr(&der).unwrap_err();
    assert!(matches!(err, DeviceCertError::BadCsrSignature { .. }), "{err}");
    assert!(err.to_string().contains("does not verify"), "{err}");
}

#[test]
fn non_p256_keys_are_refused() {
    let csr = openssl_csr("P-384", "0123abcdef010203ee");
    let err = public_key_from_csr(&csr).unwrap_err();
    assert!(matches!(err, DeviceCertError::NotP256 { .. }), "{err}");

    let dir = tempfile::tempdir().unwrap();
    openssl(&["genpkey", "-algorithm", "ed25519", "-out", "k.pem"], dir.path());
    openssl(&["pkey", "-in", "k.pem", "-pubout", "-out", "pub.pem"], dir.path());
    let err = public_key_from_key_file(&std::fs::read(dir.path().join("pub.pem")).unwrap()).unwrap_err();
    assert!(matches!(err, DeviceCertError::NotP256 { .. }), "{err}");

    let off_curve = "11".repeat(64);
    assert!(matches!(public_key_from_key_file(off_curve.as_bytes()), Err(DeviceCertError::NotP256 { .. })));
}

#[test]
fn a_subject_too_long_for_the_template_is_refused() {
    let err = resolve_chip_serial(Profile::Rainbowtype, None, Some("0123abcdef010203eeff")).unwrap_err();
    assert!(matches!(err, DeviceCertError::SubjectTooLong { expected: 18, actual: 20, .. }), "{err}");
    let err = resolve_chip_serial(Profile::Trustflex, Some("0123abcdef010203ee00"), None).unwrap_err();
    assert!(matches!(err, DeviceCertError::SubjectTooLong { expected: 20, actual: 22, .. }), "{err}");
    assert!(matches!(resolve_chip_serial(Profile::Rainbowtype, None, Some("Sample Device FFFF")), Err(DeviceCertError::MissingSerial)));
}

#[test]
fn signers_that_cannot_be_placed_are_refused_with_the_reason() {
    let setup = root();
    let root_pub = certificate_public_key(&setup.root.der).unwrap();
    // a CA-store signer: random serial and minute-precise dates cannot be rebuilt from a hash serial
    let key = EcKey::generate();
    let subject = CaSubject { common_name: "Store Signer 0A1B".into(), organization: "Keyline Factory".into() };
    let store_signer = create_signer_ca(&subject, Validity::years_from(::time::OffsetDateTime::now_utc(), 10), &key, &setup.root, &setup.root_key).unwrap();
    let err = place_signer(Profile::Trustflex, &store_signer.der, &root_pub).unwrap_err();
    assert!(matches!(err, DeviceCertError::SignerNotPlaceable(_)), "{err}");
    assert!(err.to_string().contains("trustflex"), "{err}");
    // ... but rainbowtype stores its serial and dates in slot 14
    place_signer(Profile::Rainbowtype, &store_signer.der, &root_pub).unwrap();

    // Espressif's compiled definition stores exactly 20 serial bytes; a rainbowtype signer has 16
    let (rainbow_signer, rainbow_key) = profile_signer(&setup, Profile::Rainbowtype);
    let err = place_signer(Profile::EspCryptoauthlib, &rainbow_signer, &root_pub).unwrap_err();
    assert!(err.to_string().contains("20"), "{err}");
    let (_, device_pub) = key_pair();
    let err = issue_device_cert(Profile::EspCryptoauthlib, &rainbow_signer, &rainbow_key, &device_pub, &CHIP, AtcaDate::new(2026, 1, 1, 0, 0, 0));
    assert!(matches!(err, Err(DeviceCertError::SignerNotPlaceable(_))));
}

#[test]
fn issue_dates_the_firmware_cannot_decode_are_refused() {
    let setup = root();
    let (signer, key) = profile_signer(&setup, Profile::Rainbowtype);
    let (_, device_pub) = key_pair();
    let err = issue_device_cert(Profile::Rainbowtype, &signer, &key, &device_pub, &CHIP, AtcaDate::new(2032, 1, 1, 0, 0, 0)).unwrap_err();
    assert!(matches!(err, DeviceCertError::BadIssueDate { .. }), "{err}");
    assert!(err.to_string().contains("2031"), "{err}");
}

#[test]
fn trustflex_leap_day_issue_moves_to_feb_28() {
    let setup = root();
    let (signer, key) = profile_signer(&setup, Profile::Trustflex);
    let (_, device_pub) = key_pair();
    let issued = issue_device_cert(Profile::Trustflex, &signer, &key, &device_pub, &CHIP, AtcaDate::new(2028, 2, 29, 15, 0, 0)).unwrap();
    assert_eq!(issued.not_before, AtcaDate::new(2028, 2, 28, 23, 0, 0));
    assert_eq!(issued.not_after, AtcaDate::new(2038, 2, 28, 23, 0, 0));
}

#[test]
fn a_wrong_signing_key_is_refused() {
    let setup = root();
    let (signer, _) = profile_signer(&setup, Profile::Rainbowtype);
    let (other_key, device_pub) = key_pair();
    let err = issue_device_cert(Profile::Rainbowtype, &signer, &other_key, &device_pub, &CHIP, AtcaDate::new(2026, 1, 1, 0, 0, 0)).unwrap_err();
    assert!(matches!(err, DeviceCertError::Signing(_)), "{err}");
}

/// A store key (the CA key type that issues on the line) whose signer certificate is issued by `setup`'s root.
fn store_key_signer(setup: &Setup, profile: Profile) -> (Vec<u8>, EcKey) {
    let key = EcKey::generate();
    let public = key.public_key().to_sec1_bytes()[1..65].try_into().unwrap();
    let subject = SignerSubject { organization: "Keyline Factory".into(), common_name: "Keyline Signer 0A1B".into() };
    let der = issue_signer_cert(profile, &setup.root.der, &setup.root_key, &public, &subject, AtcaDate::new(2026, 5, 6, 7, 8, 9)).unwrap();
    (der, key)
}

/// Signs with a store key, then flips one bit of S, as a faulty signer would; checks with the store key's own check.
struct FaultyStoreKey(EcKey);

impl keyline_certs::device::TbsSigner for FaultyStoreKey {
    fn sign_tbs(&self, tbs: &[u8]) -> Result<[u8; 64], String> {
        let mut signature = self.0.sign_tbs(tbs)?;
        signature[50] ^= 0x04;
        Ok(signature)
    }

    fn signature_verifies(&self, tbs: &[u8], signature: &[u8; 64], signer_key: &[u8; 64]) -> bool {
        self.0.signature_verifies(tbs, signature, signer_key)
    }
}

#[test]
fn a_store_key_signs_and_checks_its_signatures_for_every_profile() {
    let setup = root();
    for profile in [Profile::Rainbowtype, Profile::EspCryptoauthlib, Profile::Trustflex] {
        let (signer, key) = store_key_signer(&setup, profile);
        let (_, device_pub) = key_pair();
        let issued = issue_device_cert(profile, &signer, &key, &device_pub, &CHIP, AtcaDate::new(2026, 1, 1, 0, 0, 0)).unwrap();
        let (_, cert) = X509Certificate::from_der(&issued.der).unwrap();
        let (_, signer_cert) = X509Certificate::from_der(&signer).unwrap();
        cert.verify_signature(Some(signer_cert.public_key())).unwrap_or_else(|e| panic!("{profile:?}: {e}"));
    }
}

#[test]
fn a_store_key_that_is_not_the_signers_is_refused() {
    let setup = root();
    let (signer, _) = store_key_signer(&setup, Profile::Rainbowtype);
    let (_, device_pub) = key_pair();
    let err = issue_device_cert(Profile::Rainbowtype, &signer, &EcKey::generate(), &device_pub, &CHIP, AtcaDate::new(2026, 1, 1, 0, 0, 0)).unwrap_err();
    assert!(matches!(err, DeviceCertError::Signing(_)), "{err}");
}

#[test]
fn a_faulty_signature_from_a_store_key_is_refused() {
    let setup = root();
    let (signer, key) = store_key_signer(&setup, Profile::Rainbowtype);
    let (_, device_pub) = key_pair();
    let err = issue_device_cert(Profile::Rainbowtype, &signer, &FaultyStoreKey(key), &device_pub, &CHIP, AtcaDate::new(2026, 1, 1, 0, 0, 0)).unwrap_err();
    assert!(matches!(err, DeviceCertError::Signing(_)), "{err}");
}

#[test]
fn a_certificate_that_differs_from_its_template_is_not_reproducible() {
    let setup = root();
    let (signer, key) = profile_signer(&setup, Profile::Rainbowtype);
    let (_, device_pub) = key_pair();
    let issued = issue_device_cert(Profile::Rainbowtype, &signer, &key, &device_pub, &CHIP, AtcaDate::new(2026, 1, 1, 0, 0, 0)).unwrap();
    let signer_key = certificate_public_key(&signer).unwrap();
    let mut device = DeviceImage::with_serial(&CHIP);
    prove_reproducible(&issued.cert_def, &issued.der, &mut device, &signer_key).unwrap();

    let issuer = walk_certificate(&issued.der).unwrap().issuer;
    let mut tampered = issued.der.clone();
    let at = issuer.offset + issuer.count - 1;
    tampered[at] ^= 0x01; // last byte of the issuer name: not a field the chip stores
    let err = prove_reproducible(&issued.cert_def, &tampered, &mut DeviceImage::with_serial(&CHIP), &signer_key).unwrap_err();
    assert_eq!(err, DeviceCertError::NotReproducible { offset: at });
}
