//! Cloud connecting glue: hands station data (CA certificates, verification certificates, the decrypted signer
//! key) to `keyline-cloud`, which talks to AWS IoT. Data flows one way, station → cloud; the cloud crate never
//! sees the store. Operations are `async` (the desktop shell awaits them; the CLI blocks on them).

use keyline_cloud::ca::{CaMode, CaRegistration, RegisterCaRequest};
use keyline_cloud::mqtt::DeviceIdentity;
use keyline_cloud::{CloudContext, CloudError, CloudSettings};
use p256::pkcs8::EncodePrivateKey;
use serde::Serialize;

use crate::store::read_bounded;
use crate::{Error, ErrorReport, Station};

pub use keyline_cloud;

/// The serialisable form of a cloud error, with a pointer to what to check next.
pub fn cloud_report(error: CloudError) -> ErrorReport {
    let hint = match &error {
        CloudError::NoCredentials { .. } | CloudError::NoRegion | CloudError::AccessDenied { .. } => {
            "Run `keyline cloud identity` to see which account, identity and region are in use."
        }
        CloudError::Emulator { .. } => "Run `scripts/keyline-dev.sh setup` to install the pinned ministack into .venv.",
        CloudError::Aws { .. } | CloudError::ServiceUnavailable { .. } | CloudError::Unreachable { .. } => {
            "The log file has the full AWS error; `keyline cloud identity` checks the connection settings."
        }
        _ => "Follow the advice in the message, then run the command again.",
    };
    ErrorReport { code: error.code().into(), message: error.to_string(), hint: hint.into() }
}

/// Resolves the settings into clients (credentials, region, endpoint override).
pub async fn connect(settings: &CloudSettings) -> Result<CloudContext, ErrorReport> {
    CloudContext::connect(settings).await.map_err(cloud_report)
}

/// The least-privilege IAM policy an operator needs to run Keyline's cloud setup with `method`, for `account`
/// (default: the account the settings' credentials belong to) in the settings' region.
pub async fn operator_permissions(
    settings: &CloudSettings,
    account: Option<&str>,
    method: keyline_cloud::permissions::Method,
) -> Result<serde_json::Value, ErrorReport> {
    let ctx = connect(settings).await?;
    let account = match account {
        Some(account) => account.to_owned(),
        None => ctx.account_id().await.map_err(cloud_report)?,
    };
    let arns = keyline_cloud::arn::Arns::new(&ctx.region, &account);
    let text = keyline_cloud::permissions::operator_policy(&arns, method);
    serde_json::from_str(&text).map_err(|e| Error::Issue { detail: format!("the operator policy is not JSON: {e}") }.into())
}

/// What `register-ca` did, for the CLI and the wizard.
#[derive(Debug, Clone, Serialize)]
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
    pub fn cloud_ca_cert_pem(&self, name: &str) -> Result<String, ErrorReport> {
        let metadata = self.metadata()?;
        self.record(&metadata, name)?;
        Ok(self.load_cert(name)?.pem())
    }

    /// The AWS IoT certificate id of CA `name` (SHA-256 of its DER).
    pub fn cloud_ca_id(&self, name: &str) -> Result<String, ErrorReport> {
        let pem = self.cloud_ca_cert_pem(name)?;
        Ok(keyline_cloud::cert_pem::parse_cert_pem(&pem, "CA certificate").map_err(cloud_report)?.id)
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
    ) -> Result<RegisterCaOutcome, ErrorReport> {
        let ca_cert_pem = self.cloud_ca_cert_pem(name)?;
        let ca_id = self.cloud_ca_id(name)?;
        let already = keyline_cloud::ca::describe_ca(ctx, &ca_id).await.map_err(cloud_report)?.is_some();
        let (registration_code, verification_cert_pem) = if mode == CaMode::Default && !already {
            let code = keyline_cloud::ca::registration_code(ctx).await.map_err(cloud_report)?;
            let pem = self.verification_cert_for(name, &code)?;
            (Some(code), Some(pem))
        } else {
            (None, None)
        };
        let request = RegisterCaRequest { ca_cert_pem, verification_cert_pem: verification_cert_pem.clone(), mode, auto_registration };
        let registration = keyline_cloud::ca::register_ca(ctx, &request).await.map_err(cloud_report)?;
        tracing::info!(ca = name, ca_id = %registration.ca.ca_id, changes = ?registration.changes, "registered the CA with AWS IoT");
        Ok(RegisterCaOutcome { ca_name: name.to_owned(), registration_code, verification_cert_pem, registration })
    }

    /// The verification certificate for `code` signed by CA `name`: the stored one if it exists and was signed
    /// by this CA, else a new one.
    fn verification_cert_for(&self, name: &str, code: &str) -> Result<String, ErrorReport> {
        let path = self.layout.verification_cert_path(name, code);
        if !path.exists() {
            return Ok(self.make_verification_cert(name, code)?.pem);
        }
        let pem = String::from_utf8(read_bounded(&path)?)
            .map_err(|_| Error::CorruptPem { what: path.display().to_string(), detail: "not UTF-8 text".into() })?;
        let cert = keyline_certs::CertInfo::from_pem(&pem)
            .map_err(|e| Error::CorruptPem { what: path.display().to_string(), detail: e.to_string() })?;
        if !cert.is_signed_by(&self.load_cert(name)?) {
            return Err(Error::AlreadyExists { what: format!("verification certificate from another CA ({})", path.display()), name: code.to_owned() }.into());
        }
        Ok(pem)
    }

    /// A throwaway device identity for the connection test, issued by the unlocked signer CA `signer`
    /// (the signer key is decrypted in memory only and wiped after use).
    pub fn cloud_device_identity(&self, signer: &str, serial: Option<&str>) -> Result<DeviceIdentity, ErrorReport> {
        let metadata = self.metadata()?;
        let record = self.record(&metadata, signer)?;
        let cert = self.load_cert(signer)?;
        let (key, _passphrase) = self.unlocked_key(&record, &cert)?;
        let scalar = key.scalar_bytes();
        let secret = p256::SecretKey::from_slice(&scalar)
            .map_err(|e| Error::Issue { detail: format!("the signer key is not a P-256 scalar: {e}") })?;
        let pkcs8 = secret.to_pkcs8_der().map_err(|e| Error::Issue { detail: format!("cannot encode the signer key: {e}") })?;
        let serial = serial.map(str::to_owned).unwrap_or_else(keyline_cloud::mqtt::random_serial);
        keyline_cloud::mqtt::issue_device_identity(&cert.pem(), pkcs8.as_bytes(), &serial).map_err(cloud_report)
    }
}
