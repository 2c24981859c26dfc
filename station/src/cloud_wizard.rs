//! The Cloud connecting wizard's own steps, composed from the station's cloud glue: where a CA stands in AWS IoT,
//! and the registration code with its verification certificate shown *before* anything is registered.

use keyline_cloud::ca::CaInfo;
use keyline_cloud::CloudContext;
use serde::Serialize;

use crate::store::read_bounded;
use crate::{Error, Result, Station};

/// Where a store CA stands in the account and region.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct CloudCaState {
    /// The CA's name in the store.
    pub ca_name: String,
    /// Its AWS IoT certificate id (SHA-256 of the DER).
    pub ca_id: String,
    /// The registration, when the CA is registered.
    pub registration: Option<CaInfo>,
}

/// What DEFAULT-mode registration will send: the account's registration code and the verification certificate
/// (CN = the code, signed by the CA). Both are empty when the CA is already registered.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct VerificationPreview {
    /// The CA as AWS IoT sees it now.
    pub state: CloudCaState,
    /// The account's registration code for the region.
    pub registration_code: Option<String>,
    /// The verification certificate, PEM (stored under the data directory; reused by `cloud_register_ca`).
    pub verification_cert_pem: Option<String>,
}

impl Station {
    /// CA `name`'s id and its registration in the account and region, if any.
    pub async fn cloud_ca_state(&self, ctx: &CloudContext, name: &str) -> Result<CloudCaState> {
        let ca_id = self.cloud_ca_id(name)?;
        let registration = keyline_cloud::ca::describe_ca(ctx, &ca_id).await?;
        Ok(CloudCaState { ca_name: name.to_owned(), ca_id, registration })
    }

    /// The registration code and the verification certificate CA `name` would register with (made now, or the one
    /// made before for the same code). Needs the CA unlocked when the certificate is new (`passphrase_required`).
    pub async fn cloud_verification_preview(&self, ctx: &CloudContext, name: &str) -> Result<VerificationPreview> {
        let state = self.cloud_ca_state(ctx, name).await?;
        if state.registration.is_some() {
            return Ok(VerificationPreview { state, registration_code: None, verification_cert_pem: None });
        }
        let code = keyline_cloud::ca::registration_code(ctx).await?;
        let pem = match self.make_verification_cert(name, &code) {
            Ok(made) => made.pem,
            Err(Error::AlreadyExists { .. }) => self.stored_verification_cert(name, &code)?,
            Err(other) => return Err(other),
        };
        Ok(VerificationPreview { state, registration_code: Some(code), verification_cert_pem: Some(pem) })
    }

    /// The verification certificate stored for `code`, refused unless CA `name` signed it.
    pub(crate) fn stored_verification_cert(&self, name: &str, code: &str) -> Result<String> {
        let path = self.layout.verification_cert_path(name, code);
        let corrupt = |detail: String| Error::CorruptPem { what: path.display().to_string(), detail };
        let pem = String::from_utf8(read_bounded(&path)?).map_err(|_| corrupt("not UTF-8 text".into()))?;
        let cert = keyline_certs::CertInfo::from_pem(&pem).map_err(|e| corrupt(e.to_string()))?;
        if !cert.is_signed_by(&self.load_cert(name)?) {
            return Err(Error::AlreadyExists {
                what: format!("verification certificate from another CA ({})", path.display()),
                name: code.to_owned(),
            });
        }
        Ok(pem)
    }
}
