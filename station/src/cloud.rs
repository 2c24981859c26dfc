//! Cloud connecting glue: hands station data (CA certificates, verification certificates, the decrypted signer
//! key) to `keyline-cloud`, which talks to AWS IoT. Data flows one way, station → cloud; the cloud crate never
//! sees the store. Operations are `async` (the desktop shell awaits them; the CLI blocks on them).

use keyline_cloud::ca::{CaMode, CaRegistration, RegisterCaRequest};
use keyline_cloud::mqtt::DeviceIdentity;
use keyline_cloud::{CloudContext, CloudSettings};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use serde::Serialize;

use crate::{Error, Result, Station};

/// Resolves the settings into clients (credentials, region, endpoint override).
pub async fn connect(settings: &CloudSettings) -> Result<CloudContext> {
    Ok(CloudContext::connect(settings).await?)
}

/// The least-privilege IAM policy an operator needs to run Keyline's cloud setup with `method`, for `account`
/// (default: the account the settings' credentials belong to) in the settings' region.
pub async fn operator_permissions(
    settings: &CloudSettings,
    account: Option<&str>,
    method: keyline_cloud::permissions::Method,
) -> Result<serde_json::Value> {
    let ctx = connect(settings).await?;
    let account = match account {
        Some(account) => account.to_owned(),
        None => ctx.account_id().await?,
    };
    let arns = keyline_cloud::arn::Arns::new(&ctx.region, &account);
    let text = keyline_cloud::permissions::operator_policy(&arns, method);
    serde_json::from_str(&text).map_err(|e| Error::Issue { detail: format!("the operator policy is not JSON: {e}") })
}

/// What `register-ca` did, for the CLI and the wizard.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RegisterCaOutcome {
    /// The CA's name in the store.
    pub ca_name: String,
    /// The account's registration code (DEFAULT mode only).
    pub registration_code: Option<String>,
    /// The verification certificate that was sent (DEFAULT mode, first registration only).
    pub verification_cert_pem: Option<String>,
    /// The registration as AWS IoT now holds it.
    pub registration: CaRegistration,
}

impl Station {
    /// The CA certificate `name` as PEM.
    pub fn cloud_ca_cert_pem(&self, name: &str) -> Result<String> {
        let metadata = self.metadata()?;
        self.record(&metadata, name)?;
        Ok(self.load_cert(name)?.pem())
    }

    /// The AWS IoT certificate id of CA `name` (SHA-256 of its DER).
    pub fn cloud_ca_id(&self, name: &str) -> Result<String> {
        let pem = self.cloud_ca_cert_pem(name)?;
        Ok(keyline_cloud::cert_pem::parse_cert_pem(&pem, "CA certificate")?.id)
    }

    /// Registers CA `name` with AWS IoT, or reconciles an existing registration. In DEFAULT mode on first
    /// registration it fetches the registration code and makes (or reuses) the verification certificate, which
    /// needs the CA unlocked.
    pub async fn cloud_register_ca(
        &self,
        ctx: &CloudContext,
        name: &str,
        mode: CaMode,
        auto_registration: bool,
    ) -> Result<RegisterCaOutcome> {
        let ca_cert_pem = self.cloud_ca_cert_pem(name)?;
        let ca_id = self.cloud_ca_id(name)?;
        let already = keyline_cloud::ca::describe_ca(ctx, &ca_id).await?.is_some();
        let (registration_code, verification_cert_pem) = if mode == CaMode::Default && !already {
            let code = keyline_cloud::ca::registration_code(ctx).await?;
            let pem = self.verification_cert_for(name, &code)?;
            (Some(code), Some(pem))
        } else {
            (None, None)
        };
        let request = RegisterCaRequest { ca_cert_pem, verification_cert_pem: verification_cert_pem.clone(), mode, auto_registration };
        let registration = keyline_cloud::ca::register_ca(ctx, &request).await?;
        tracing::info!(ca = name, ca_id = %registration.ca.ca_id, changes = ?registration.changes, "registered the CA with AWS IoT");
        Ok(RegisterCaOutcome { ca_name: name.to_owned(), registration_code, verification_cert_pem, registration })
    }

    /// The verification certificate for `code` signed by CA `name`: the stored one if it exists and was signed
    /// by this CA, else a new one.
    fn verification_cert_for(&self, name: &str, code: &str) -> Result<String> {
        let path = self.layout.verification_cert_path(name, code);
        if !path.exists() {
            return Ok(self.make_verification_cert(name, code)?.pem);
        }
        self.stored_verification_cert(name, code)
    }

    /// A throwaway device identity for the connection test, issued by the unlocked signer CA `signer`
    /// (the signer key is decrypted in memory only and wiped after use).
    pub fn cloud_device_identity(&self, signer: &str, serial: Option<&str>) -> Result<DeviceIdentity> {
        let metadata = self.metadata()?;
        let record = self.record(&metadata, signer)?;
        let cert = self.load_cert(signer)?;
        let (key, _passphrase) = self.unlocked_key(&record, &cert)?;
        let serial = serial.map(str::to_owned).unwrap_or_else(keyline_cloud::mqtt::random_serial);
        // Everything signed is recorded: a serial the ledger cannot hold is refused before signing.
        let ledger_serial = crate::ledger::DeviceSerial::from_user(&serial)?;
        let identity = keyline_cloud::mqtt::issue_device_identity_with(&cert.pem(), &key, &serial)?;
        self.record_test_device(signer, ledger_serial, &identity)?;
        Ok(identity)
    }

    /// Records the connection test's certificate in the ledger as a test device; the identity is used only after.
    fn record_test_device(&self, signer: &str, serial: crate::ledger::DeviceSerial, identity: &DeviceIdentity) -> Result<()> {
        let info = keyline_certs::CertInfo::from_pem(&identity.cert_pem)
            .map_err(|e| Error::Issue { detail: format!("cannot read the test certificate back: {e}") })?;
        let point = info.p256_public_key.as_ref().map(|key| key.to_encoded_point(false));
        let Some(public_key) = point.as_ref().and_then(|p| <[u8; 64]>::try_from(&p.as_bytes()[1..]).ok()) else {
            return Err(Error::Issue { detail: "the test certificate has no P-256 key".into() });
        };
        let device = crate::ledger::NewDevice {
            serial,
            common_name: identity.serial.clone(),
            profile: "connection-test".into(),
            ca_name: signer.to_owned(),
            cert_der: info.der.clone(),
            public_key,
        };
        self.ledger()?.record_test_device(&device)?;
        Ok(())
    }
}
