//! CA registration with AWS IoT: the registration code, idempotent `RegisterCACertificate`, and reconciling the
//! status and auto-registration of a CA that is already registered.
//!
//! The verification certificate is made by the station (it holds the CA key); this module only takes PEM.

use aws_sdk_iot::types::{AutoRegistrationStatus, CaCertificateStatus, CertificateMode};
use serde::{Deserialize, Serialize};

use crate::cert_pem::parse_cert_pem;
use crate::error::{from_sdk, is_code, CloudError, Result, NOT_FOUND};
use crate::settings::CloudContext;

/// How AWS IoT should hold the CA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CaMode {
    /// One account per region owns the CA; needs a verification certificate.
    Default,
    /// Several accounts may register it; no verification certificate; devices must send SNI.
    SniOnly,
}

impl CaMode {
    fn to_sdk(self) -> CertificateMode {
        match self {
            CaMode::Default => CertificateMode::Default,
            CaMode::SniOnly => CertificateMode::SniOnly,
        }
    }
}

/// What to register.
#[derive(Debug, Clone)]
pub struct RegisterCaRequest {
    /// The CA certificate, PEM.
    pub ca_cert_pem: String,
    /// The verification certificate (CN = registration code, signed by the CA), PEM. DEFAULT mode only.
    pub verification_cert_pem: Option<String>,
    /// DEFAULT or SNI_ONLY.
    pub mode: CaMode,
    /// Whether devices signed by the CA register themselves on first connect (JITR/JITP).
    pub auto_registration: bool,
}

/// A CA as AWS IoT sees it. Every field from AWS is optional there; missing ones are empty here.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct CaInfo {
    /// SHA-256 of the DER, lowercase hex.
    pub ca_id: String,
    /// The CA's ARN.
    pub arn: String,
    /// `ACTIVE` or `INACTIVE`.
    pub status: String,
    /// `ENABLE`, `DISABLE` or `UNKNOWN`.
    pub auto_registration: String,
    /// `DEFAULT` or `SNI_ONLY` (empty if the service did not say).
    pub mode: String,
}

/// The outcome of an idempotent registration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct CaRegistration {
    /// The CA after registration and reconciliation.
    pub ca: CaInfo,
    /// True if the CA was registered before this call.
    pub already_registered: bool,
    /// What this call changed (empty when nothing needed doing).
    pub changes: Vec<String>,
    /// What differs from the request but cannot be reconciled in place (e.g. the registration mode).
    pub warnings: Vec<String>,
}

/// The account's registration code for this region (64 hex, stable until deleted).
pub async fn registration_code(ctx: &CloudContext) -> Result<String> {
    let out = ctx.iot.get_registration_code().send().await.map_err(|e| from_sdk("GetRegistrationCode", e))?;
    Ok(out.registration_code().unwrap_or_default().to_string())
}

/// Registers the CA ACTIVE (with auto-registration as requested), or, if it is already registered, reports that
/// and reconciles its status and auto-registration. Safe to re-run.
pub async fn register_ca(ctx: &CloudContext, request: &RegisterCaRequest) -> Result<CaRegistration> {
    let ca = parse_cert_pem(&request.ca_cert_pem, "CA certificate")?;
    if let Some(existing) = describe_ca(ctx, &ca.id).await? {
        let changes = reconcile(ctx, &existing, request.auto_registration).await?;
        let mut warnings = Vec::new();
        let wanted_mode = request.mode.to_sdk();
        if !existing.mode.is_empty() && existing.mode != wanted_mode.as_str() {
            warnings.push(format!(
                "the CA is registered in {} mode, not {}; deactivate and delete it, then register again to change the mode",
                existing.mode,
                wanted_mode.as_str()
            ));
        }
        let ca = describe_ca(ctx, &ca.id).await?.ok_or(CloudError::CaNotRegistered { ca_id: ca.id.clone() })?;
        return Ok(CaRegistration { ca, already_registered: true, changes, warnings });
    }
    register_ca_strict(ctx, request).await?;
    let info = describe_ca(ctx, &ca.id).await?.ok_or(CloudError::CaNotRegistered { ca_id: ca.id.clone() })?;
    Ok(CaRegistration { ca: info, already_registered: false, changes: vec!["registered the CA".into()], warnings: Vec::new() })
}

/// Calls `RegisterCACertificate` once, without looking first: a duplicate is an error.
pub async fn register_ca_strict(ctx: &CloudContext, request: &RegisterCaRequest) -> Result<String> {
    let ca = parse_cert_pem(&request.ca_cert_pem, "CA certificate")?;
    let verification = match (request.mode, &request.verification_cert_pem) {
        (CaMode::Default, Some(pem)) => Some(parse_cert_pem(pem, "verification certificate")?.pem),
        (CaMode::Default, None) => {
            return Err(CloudError::VerificationCertMismatch {
                message: "DEFAULT mode was chosen but no verification certificate was given".into(),
            })
        }
        (CaMode::SniOnly, _) => None,
    };
    let result = ctx
        .iot
        .register_ca_certificate()
        .ca_certificate(&ca.pem)
        .set_verification_certificate(verification)
        .certificate_mode(request.mode.to_sdk())
        .set_as_active(true)
        .allow_auto_registration(request.auto_registration)
        .send()
        .await;
    match result {
        Ok(out) => Ok(out.certificate_id().unwrap_or(&ca.id).to_string()),
        Err(err) if is_code(&err, &["ResourceAlreadyExistsException"]) => Err(CloudError::CaAlreadyRegistered {
            ca_id: ca.id.clone(),
            message: from_sdk("RegisterCACertificate", err).to_string(),
        }),
        Err(err) => match from_sdk("RegisterCACertificate", err) {
            CloudError::Aws { code, message, .. } if code == "InvalidRequestException" && message.contains("erification") => {
                Err(CloudError::VerificationCertMismatch { message })
            }
            other => Err(other),
        },
    }
}

async fn reconcile(ctx: &CloudContext, existing: &CaInfo, auto_registration: bool) -> Result<Vec<String>> {
    let mut changes = Vec::new();
    if existing.status != "ACTIVE" {
        set_ca_status(ctx, &existing.ca_id, true).await?;
        changes.push("activated the CA".to_string());
    }
    let wanted = if auto_registration { "ENABLE" } else { "DISABLE" };
    if existing.auto_registration != wanted {
        set_auto_registration(ctx, &existing.ca_id, auto_registration).await?;
        changes.push(format!("set auto-registration to {wanted}"));
    }
    Ok(changes)
}

/// The CA with this id, or `None` if it is not registered in this account and region.
pub async fn describe_ca(ctx: &CloudContext, ca_id: &str) -> Result<Option<CaInfo>> {
    match ctx.iot.describe_ca_certificate().certificate_id(ca_id).send().await {
        Ok(out) => {
            let Some(desc) = out.certificate_description() else { return Ok(None) };
            Ok(Some(CaInfo {
                ca_id: desc.certificate_id().unwrap_or(ca_id).to_string(),
                arn: desc.certificate_arn().unwrap_or_default().to_string(),
                status: desc.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                auto_registration: desc.auto_registration_status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                mode: desc.certificate_mode().map(|m| m.as_str().to_string()).unwrap_or_default(),
            }))
        }
        Err(err) if is_code(&err, NOT_FOUND) => Ok(None),
        Err(err) => Err(from_sdk("DescribeCACertificate", err)),
    }
}

/// The CA with this id, or [`CloudError::CaNotRegistered`].
pub async fn require_ca(ctx: &CloudContext, ca_id: &str) -> Result<CaInfo> {
    describe_ca(ctx, ca_id).await?.ok_or_else(|| CloudError::CaNotRegistered { ca_id: ca_id.to_string() })
}

/// Every CA registered in this account and region.
pub async fn list_cas(ctx: &CloudContext) -> Result<Vec<CaInfo>> {
    let mut ids = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let out = ctx
            .iot
            .list_ca_certificates()
            .page_size(250)
            .set_marker(marker.take())
            .send()
            .await
            .map_err(|e| from_sdk("ListCACertificates", e))?;
        ids.extend(out.certificates().iter().filter_map(|c| c.certificate_id().map(str::to_string)));
        match out.next_marker() {
            Some(next) if !next.is_empty() => marker = Some(next.to_string()),
            _ => break,
        }
    }
    let mut cas = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(info) = describe_ca(ctx, &id).await? {
            cas.push(info);
        }
    }
    Ok(cas)
}

/// Activates (`true`) or deactivates (`false`) a registered CA.
pub async fn set_ca_status(ctx: &CloudContext, ca_id: &str, active: bool) -> Result<()> {
    require_ca(ctx, ca_id).await?;
    let status = if active { CaCertificateStatus::Active } else { CaCertificateStatus::Inactive };
    ctx.iot
        .update_ca_certificate()
        .certificate_id(ca_id)
        .new_status(status)
        .send()
        .await
        .map_err(|e| from_sdk("UpdateCACertificate", e))?;
    Ok(())
}

/// Enables or disables auto-registration (JITR/JITP) for a registered CA.
pub async fn set_auto_registration(ctx: &CloudContext, ca_id: &str, enable: bool) -> Result<()> {
    require_ca(ctx, ca_id).await?;
    let status = if enable { AutoRegistrationStatus::Enable } else { AutoRegistrationStatus::Disable };
    ctx.iot
        .update_ca_certificate()
        .certificate_id(ca_id)
        .new_auto_registration_status(status)
        .send()
        .await
        .map_err(|e| from_sdk("UpdateCACertificate", e))?;
    Ok(())
}

/// Deletes a CA registration. Refuses while device certificates remain unless `force`, which first deactivates
/// and deletes them (detaching things and policies). Refuses an ACTIVE CA unless `force`, which deactivates it.
pub async fn delete_ca(ctx: &CloudContext, ca_id: &str, force: bool) -> Result<()> {
    let ca = require_ca(ctx, ca_id).await?;
    let devices = crate::devices::list_devices_of_ca(ctx, ca_id).await?;
    if !devices.is_empty() {
        if !force {
            return Err(CloudError::CaHasDeviceCertificates { ca_id: ca_id.to_string(), count: devices.len() });
        }
        for device in &devices {
            crate::devices::delete_device_certificate(ctx, &device.certificate_id).await?;
        }
    }
    if ca.status == "ACTIVE" && force {
        set_ca_status(ctx, ca_id, false).await?;
    }
    match ctx.iot.delete_ca_certificate().certificate_id(ca_id).send().await {
        Ok(_) => Ok(()),
        Err(err) if is_code(&err, &["CertificateStateException"]) => Err(CloudError::CaStillActive { ca_id: ca_id.to_string() }),
        Err(err) => Err(from_sdk("DeleteCACertificate", err)),
    }
}
