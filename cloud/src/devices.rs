//! Device certificates registered under a CA: list, show, activate, revoke and delete.
//!
//! Devices are found by certificate id (SHA-256 of the DER, as in the station's ledger) or by serial (the CN,
//! which is also the thing name).

use aws_sdk_iot::types::CertificateStatus;
use serde::{Deserialize, Serialize};

use crate::cert_pem::parse_cert_pem;
use crate::error::{from_sdk, is_code, CloudError, Result, NOT_FOUND};
use crate::settings::CloudContext;

/// A device certificate as AWS IoT sees it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DeviceCert {
    /// SHA-256 of the DER, lowercase hex (joins with the ledger).
    pub certificate_id: String,
    /// The certificate's ARN.
    pub arn: String,
    /// `ACTIVE`, `PENDING_ACTIVATION`, `REVOKED`, `INACTIVE`, …
    pub status: String,
    /// The issuing CA's id, if AWS knows it.
    pub ca_id: Option<String>,
    /// The subject CN: the device serial.
    pub serial: Option<String>,
    /// Things the certificate is attached to.
    pub things: Vec<String>,
    /// Policies attached to the certificate.
    pub policies: Vec<String>,
}

/// A brief entry from a listing (no extra calls per certificate).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DeviceSummary {
    /// SHA-256 of the DER, lowercase hex.
    pub certificate_id: String,
    /// Current status.
    pub status: String,
}

/// Every device certificate registered under the CA.
pub async fn list_devices_of_ca(ctx: &CloudContext, ca_id: &str) -> Result<Vec<DeviceSummary>> {
    let mut devices = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let out = ctx
            .iot
            .list_certificates_by_ca()
            .ca_certificate_id(ca_id)
            .page_size(250)
            .set_marker(marker.take())
            .send()
            .await
            .map_err(|e| from_sdk("ListCertificatesByCA", e))?;
        devices.extend(out.certificates().iter().map(|c| DeviceSummary {
            certificate_id: c.certificate_id().unwrap_or_default().to_string(),
            status: c.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
        }));
        match out.next_marker() {
            Some(next) if !next.is_empty() => marker = Some(next.to_string()),
            _ => break,
        }
    }
    Ok(devices)
}

/// Full details of one device certificate by id, or `None` if unknown.
pub async fn describe_device(ctx: &CloudContext, certificate_id: &str) -> Result<Option<DeviceCert>> {
    let out = match ctx.iot.describe_certificate().certificate_id(certificate_id).send().await {
        Ok(out) => out,
        Err(err) if is_code(&err, NOT_FOUND) => return Ok(None),
        Err(err) => return Err(from_sdk("DescribeCertificate", err)),
    };
    let Some(desc) = out.certificate_description() else { return Ok(None) };
    let arn = desc.certificate_arn().unwrap_or_default().to_string();
    let serial = desc
        .certificate_pem()
        .and_then(|pem| parse_cert_pem(pem, "device certificate").ok())
        .and_then(|cert| cert.common_name);
    Ok(Some(DeviceCert {
        certificate_id: desc.certificate_id().unwrap_or(certificate_id).to_string(),
        status: desc.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
        ca_id: desc.ca_certificate_id().map(str::to_string),
        serial,
        things: principal_things(ctx, &arn).await?,
        policies: principal_policies(ctx, &arn).await?,
        arn,
    }))
}

/// Finds a device by certificate id (64 hex) or by serial (the thing's attached certificates).
pub async fn find_device(ctx: &CloudContext, serial_or_cert_id: &str) -> Result<DeviceCert> {
    let query = serial_or_cert_id.trim();
    let not_found = || CloudError::DeviceNotFound { query: query.to_string() };
    if query.len() == 64 && query.chars().all(|c| c.is_ascii_hexdigit()) {
        return describe_device(ctx, &query.to_ascii_lowercase()).await?.ok_or_else(not_found);
    }
    let principals = match ctx.iot.list_thing_principals().thing_name(query).send().await {
        Ok(out) => out.principals().to_vec(),
        Err(err) if is_code(&err, NOT_FOUND) => return Err(not_found()),
        Err(err) => return Err(from_sdk("ListThingPrincipals", err)),
    };
    for principal in principals {
        if let Some(id) = principal.rsplit('/').next() {
            if let Some(device) = describe_device(ctx, id).await? {
                return Ok(device);
            }
        }
    }
    Err(not_found())
}

/// Sets a device certificate ACTIVE.
pub async fn activate_device(ctx: &CloudContext, certificate_id: &str) -> Result<()> {
    update_status(ctx, certificate_id, CertificateStatus::Active).await
}

/// Sets a device certificate INACTIVE (reversible, unlike a revocation).
pub async fn deactivate_device(ctx: &CloudContext, certificate_id: &str) -> Result<()> {
    update_status(ctx, certificate_id, CertificateStatus::Inactive).await
}

/// Revokes a device certificate: AWS refuses its connections from now on.
pub async fn revoke_device(ctx: &CloudContext, certificate_id: &str) -> Result<()> {
    update_status(ctx, certificate_id, CertificateStatus::Revoked).await
}

async fn update_status(ctx: &CloudContext, certificate_id: &str, status: CertificateStatus) -> Result<()> {
    match ctx.iot.update_certificate().certificate_id(certificate_id).new_status(status).send().await {
        Ok(_) => Ok(()),
        Err(err) if is_code(&err, NOT_FOUND) => Err(CloudError::DeviceNotFound { query: certificate_id.to_string() }),
        Err(err) if is_code(&err, &["CertificateStateException", "InvalidRequestException"]) => {
            Err(CloudError::CertificateState {
                certificate_id: certificate_id.to_string(),
                message: from_sdk("UpdateCertificate", err).to_string(),
            })
        }
        Err(err) => Err(from_sdk("UpdateCertificate", err)),
    }
}

/// Deactivates a device certificate, detaches its things and policies, and deletes it.
pub async fn delete_device_certificate(ctx: &CloudContext, certificate_id: &str) -> Result<()> {
    let Some(device) = describe_device(ctx, certificate_id).await? else { return Ok(()) };
    for thing in &device.things {
        ctx.iot
            .detach_thing_principal()
            .thing_name(thing)
            .principal(&device.arn)
            .send()
            .await
            .map_err(|e| from_sdk("DetachThingPrincipal", e))?;
    }
    for policy in &device.policies {
        ctx.iot
            .detach_policy()
            .policy_name(policy)
            .target(&device.arn)
            .send()
            .await
            .map_err(|e| from_sdk("DetachPolicy", e))?;
    }
    if device.status == "ACTIVE" {
        update_status(ctx, certificate_id, CertificateStatus::Inactive).await?;
    }
    // DetachThingPrincipal is asynchronous: until it has propagated, DeleteCertificate answers
    // DeleteConflictException. Retry with back-off (about a minute in all).
    let mut delay = std::time::Duration::from_millis(500);
    for attempt in 1..=DELETE_ATTEMPTS {
        match ctx.iot.delete_certificate().certificate_id(certificate_id).force_delete(true).send().await {
            Ok(_) => return Ok(()),
            Err(err) if is_code(&err, &["DeleteConflictException"]) && attempt < DELETE_ATTEMPTS => {
                tracing::info!(certificate = certificate_id, attempt, "the detach has not propagated yet; retrying the delete");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(std::time::Duration::from_secs(10));
            }
            Err(err) => return Err(from_sdk("DeleteCertificate", err)),
        }
    }
    unreachable!("the last attempt returns")
}

/// Attempts at `DeleteCertificate` while detaches propagate.
const DELETE_ATTEMPTS: u32 = 10;

async fn principal_things(ctx: &CloudContext, arn: &str) -> Result<Vec<String>> {
    match ctx.iot.list_principal_things().principal(arn).send().await {
        Ok(out) => Ok(out.things().to_vec()),
        Err(err) if is_code(&err, NOT_FOUND) => Ok(Vec::new()),
        Err(err) => Err(from_sdk("ListPrincipalThings", err)),
    }
}

async fn principal_policies(ctx: &CloudContext, arn: &str) -> Result<Vec<String>> {
    match ctx.iot.list_attached_policies().target(arn).send().await {
        Ok(out) => Ok(out.policies().iter().filter_map(|p| p.policy_name().map(str::to_string)).collect()),
        Err(err) if is_code(&err, NOT_FOUND) => Ok(Vec::new()),
        Err(err) => Err(from_sdk("ListAttachedPolicies", err)),
    }
}
