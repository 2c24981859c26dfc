//! The JITP template against the subjects of device certificates Keyline issues (keyline-certs), for every
//! profile: every certificate parameter the template declares without a default is one those certificates carry,
//! so AWS IoT can provision each of them; the template Keyline used to send (subject serialNumber) is refused.

use keyline_certs::atcacert::profile::Profile;
use keyline_certs::atcacert::AtcaDate;
use keyline_certs::device::{issue_device_cert, issue_signer_cert, SignerSubject};
use keyline_certs::{create_root_ca, CaSubject, EcKey, Validity};
use keyline_cloud::jitp::{check_template, keyline_device_fields, subject_fields, template_body, SubjectField};
use keyline_cloud::CloudError;

const CHIP: [u8; 9] = [0x01, 0x23, 0xAB, 0xCD, 0xEF, 0x01, 0x02, 0x03, 0xEE];

fn key_pair() -> (EcKey, [u8; 64]) {
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    let key = EcKey::generate();
    let public = key.public_key().to_encoded_point(false).as_bytes()[1..].try_into().unwrap();
    (key, public)
}

/// The provisioning template of earlier Keyline versions.
const OLD_TEMPLATE: &str = r#"{"Parameters":{"AWS::IoT::Certificate::CommonName":{"Type":"String"},
    "AWS::IoT::Certificate::SerialNumber":{"Type":"String"},"AWS::IoT::Certificate::Country":{"Type":"String","Default":"none"},
    "AWS::IoT::Certificate::Id":{"Type":"String"}},"Resources":{}}"#;

#[test]
fn the_template_fits_the_certificates_keyline_issues_for_every_profile() {
    let root_key = EcKey::generate();
    let subject = CaSubject { common_name: "JITP Test Root".into(), organization: "Keyline Factory".into() };
    let root = create_root_ca(&subject, Validity::years_from(time::OffsetDateTime::now_utc(), 30), &root_key).unwrap();
    for profile in Profile::ALL {
        let (signer_key, signer_public) = key_pair();
        let signer_subject = SignerSubject { organization: "Keyline Factory".into(), common_name: "Keyline Signer 0A1B".into() };
        let signer = issue_signer_cert(profile, &root.der, &root_key, &signer_public, &signer_subject, AtcaDate::new(2026, 5, 6, 7, 8, 9)).unwrap();
        let (_, device_public) = key_pair();
        let device = issue_device_cert(profile, &signer, &signer_key, &device_public, &CHIP, AtcaDate::new(2026, 7, 8, 10, 0, 0)).unwrap();

        let carried = subject_fields(&device.der).unwrap();
        assert!(carried.contains(&SubjectField::CommonName), "{profile:?}: {carried:?}");
        assert!(!carried.contains(&SubjectField::SerialNumber), "{profile:?}: {carried:?}");
        let expected = keyline_device_fields(&signer).unwrap();
        assert!(expected.iter().all(|f| carried.contains(f)), "{profile:?}: Keyline expects {expected:?}, the certificate has {carried:?}");

        let body = template_body("keyline-device-x", &expected).unwrap();
        check_template(&body, &carried).unwrap_or_else(|e| panic!("{profile:?}: {e}"));
        match check_template(OLD_TEMPLATE, &carried) {
            Err(CloudError::TemplateFieldMissing { parameter }) => assert_eq!(parameter, "AWS::IoT::Certificate::SerialNumber"),
            other => panic!("{profile:?}: the old template was not refused: {other:?}"),
        }
    }
}
