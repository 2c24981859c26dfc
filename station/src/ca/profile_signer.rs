//! Signer CAs made for a firmware profile's slots (`keyline ca create --profile`): the serial,
//! dates, validity and Common Name that profile's compiled `cert_chain.c` rebuilds.

use keyline_certs::atcacert::derived::key_id;
use keyline_certs::atcacert::{AtcaDate, Profile};
use keyline_certs::device::{issue_signer_cert, SignerSubject};
use keyline_certs::{CaKey, CaSigner, CertInfo};
use time::OffsetDateTime;

use super::access::certs_error;
use super::create::MAX_DN_VALUE_LEN;
use super::{CreateCa, SignerFit};
use crate::device_template::parse_profile;
use crate::{Error, Result};

/// Validity of a signer made for a profile: TrustFLEX's compiled definition rebuilds exactly 10 years.
const PROFILE_SIGNER_YEARS: u32 = 10;

fn ends_in_signer_id(cn: &str) -> bool {
    cn.len() >= 4 && cn.as_bytes()[cn.len() - 4..].iter().all(u8::is_ascii_hexdigit)
}

/// The profile of `fit`, after checking that the request can give it a signer.
pub(super) fn check(fit: &SignerFit, request: &CreateCa) -> Result<Profile> {
    let profile = parse_profile(&fit.profile)?;
    if request.signer.is_none() {
        return Err(Error::InvalidInput { what: "profile".into(), reason: "it shapes the signer CA; give the signer's name too (--signer NAME)".into() });
    }
    if request.years < PROFILE_SIGNER_YEARS {
        return Err(Error::InvalidInput {
            what: "years".into(),
            reason: format!("a signer made for a profile is valid {PROFILE_SIGNER_YEARS} years; give the root at least that (--years {PROFILE_SIGNER_YEARS})"),
        });
    }
    if let Some(cn) = &fit.signer_cn {
        let cn = cn.trim();
        if cn.is_empty() || cn.chars().count() > MAX_DN_VALUE_LEN || cn.chars().any(char::is_control) {
            return Err(Error::InvalidInput { what: "signer CN".into(), reason: format!("give 1-{MAX_DN_VALUE_LEN} printable characters") });
        }
        if profile == Profile::Trustflex && !ends_in_signer_id(cn) {
            return Err(Error::InvalidInput {
                what: "signer CN".into(),
                reason: format!("\"{cn}\" must end in four hex digits for trustflex (the signer ID), e.g. \"{cn} 0001\""),
            });
        }
    }
    Ok(profile)
}

fn raw_public_key(key: &CaKey) -> [u8; 64] {
    let point = key.p256_public_key().to_sec1_bytes();
    point[1..].try_into().expect("uncompressed P-256 point")
}

/// The signer's CN: `fit.signer_cn`, else the signer name; for trustflex followed by the signer
/// ID (the first two bytes of its key identifier) when it does not end in four hex digits.
fn common_name(profile: Profile, fit: &SignerFit, name: &str, public: &[u8; 64]) -> String {
    match &fit.signer_cn {
        Some(cn) => cn.trim().to_owned(),
        None if profile == Profile::Trustflex && !ends_in_signer_id(name) => {
            let id = key_id(public);
            format!("{name} {:02X}{:02X}", id[0], id[1])
        }
        None => name.to_owned(),
    }
}

/// Issues signer CA `name` for `profile` under the root; refused unless the profile's
/// definitions rebuild it from the slots.
#[allow(clippy::too_many_arguments)]
pub(super) fn issue(profile: Profile, fit: &SignerFit, name: &str, org: &str, key: &CaKey, root: &CertInfo, root_key: &CaKey, now: OffsetDateTime) -> Result<CertInfo> {
    let public = raw_public_key(key);
    let common_name = common_name(profile, fit, name, &public);
    if common_name.chars().count() > MAX_DN_VALUE_LEN {
        return Err(Error::InvalidInput { what: "signer CN".into(), reason: format!("\"{common_name}\" is longer than {MAX_DN_VALUE_LEN} characters; choose a shorter one with --signer-cn") });
    }
    let subject = SignerSubject { organization: org.to_owned(), common_name };
    let der = issue_signer_cert(profile, &root.der, root_key, &public, &subject, AtcaDate::from_offset_date_time(now))
        .map_err(|e| Error::SignerMisfit { ca: name.to_owned(), profile: profile.as_str().into(), reason: e.to_string() })?;
    CertInfo::from_der(&der).map_err(|e| certs_error(e, name))
}
