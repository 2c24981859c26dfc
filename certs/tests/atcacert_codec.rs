//! Round trip of the 72-byte compressed-certificate codec over random fields and edge dates.

use keyline_certs::atcacert::{AtcaDate, CompressedCert, EncodedDates, FormatVersion};
use proptest::prelude::*;

fn version_and_dates() -> impl Strategy<Value = (FormatVersion, AtcaDate, u8)> {
    prop_oneof![
        // format 0: 2000-2031, 0-31 years
        (2000u16..=2031, 0u8..=31).prop_map(|(y, e)| (FormatVersion::V0, y, e)),
        // format 1: the extended range, including years past 2031
        (2000u16..=2127, 0u8..=127).prop_map(|(y, e)| (FormatVersion::V1, y, e)),
        // edges
        Just((FormatVersion::V0, 2031, 31)),
        Just((FormatVersion::V1, 2032, 0)),
        Just((FormatVersion::V1, 2127, 127)),
        Just((FormatVersion::V0, 2000, 0)),
    ]
    .prop_flat_map(|(v, year, expire)| {
        let leap_day = Just((2u8, 29u8)).boxed();
        let any_day = (1u8..=12, 1u8..=31).boxed();
        (Just(v), Just(year), Just(expire), prop_oneof![1 => leap_day, 4 => any_day], 0u8..24)
    })
    .prop_map(|(v, year, expire, (month, day), hour)| (v, AtcaDate::new(year, month, day, hour, 0, 0), expire))
}

fn compressed_cert() -> impl Strategy<Value = CompressedCert> {
    (
        proptest::collection::vec(any::<u8>(), 64),
        version_and_dates(),
        any::<u16>(),
        0u8..16,
        0u8..16,
        0u8..16,
        0u8..16,
    )
        .prop_map(|(sig, (format_version, issue, expire_years), signer_id, template_id, chain_id, sn_source, reserved)| CompressedCert {
            signature: sig.try_into().unwrap(),
            dates: EncodedDates { issue, expire_years },
            signer_id,
            template_id,
            chain_id,
            sn_source,
            format_version,
            reserved,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn encode_decode_encode_is_identity(cert in compressed_cert()) {
        let bytes = cert.to_bytes().unwrap();
        let decoded = CompressedCert::from_bytes(&bytes).unwrap();
        prop_assert_eq!(&decoded, &cert);
        prop_assert_eq!(decoded.to_bytes().unwrap(), bytes);
    }

    #[test]
    fn decoder_never_panics_and_accepts_only_what_it_can_re_encode(bytes in proptest::collection::vec(any::<u8>(), 72)) {
        if let Ok(cert) = CompressedCert::from_bytes(&bytes) {
            prop_assert_eq!(cert.to_bytes().unwrap().to_vec(), bytes);
        }
    }
}

#[test]
fn format_zero_cannot_hold_extended_years() {
    let dates = EncodedDates { issue: AtcaDate::new(2031, 2, 28, 23, 0, 0), expire_years: 32 };
    assert!(dates.encode(FormatVersion::V0).is_err());
    assert_eq!(FormatVersion::for_dates(2031, 32), FormatVersion::V1);
    assert_eq!(FormatVersion::for_dates(2032, 0), FormatVersion::V1);
    assert_eq!(FormatVersion::for_dates(2031, 31), FormatVersion::V0);
}

#[test]
fn leap_day_expiry_lands_on_the_same_day_years_later() {
    let dates = EncodedDates { issue: AtcaDate::new(2024, 2, 29, 7, 0, 0), expire_years: 4 };
    assert_eq!(dates.expire_date(), Some(AtcaDate::new(2028, 2, 29, 7, 0, 0)));
    assert_eq!(EncodedDates { expire_years: 0, ..dates }.expire_date(), None);
}
