//! Just-in-time provisioning (JITP), the alternative to the JITR Lambda: a provisioning template attached to the
//! CA registration, applied by AWS IoT itself on a device's first connect, with its provisioning role.
//!
//! The template names the thing by the certificate CN (the serial), takes attributes from certificate fields
//! (with defaults where a field may be missing), activates the certificate and attaches the shared device policy.

use aws_sdk_iot::types::RegistrationConfig;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::ca::require_ca;
use crate::error::{from_sdk, is_code, Result, NOT_FOUND};
use crate::jitr::policy::{self, same_document};
use crate::jitr::{iot_pieces, Change, PieceChange, StackNames, Target};
use crate::settings::CloudContext;

/// AWS's managed policy for provisioning roles (create things, attach principals and policies).
pub const PROVISIONING_MANAGED_POLICY: &str = "arn:aws:iam::aws:policy/service-role/AWSIoTThingsRegistration";

/// What to deploy.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JitpRequest {
    /// The registered CA.
    pub ca_id: String,
    /// A device policy template replacing the built-in one.
    pub policy_template: Option<String>,
    /// Topic prefix for the built-in policy.
    pub topic_prefix: Option<String>,
}

/// The provisioning role's name for a CA.
pub fn role_name(ca_id: &str) -> String {
    format!("keyline-jitp-{}", ca_id.chars().take(12).collect::<String>())
}

/// The JITP template: thing named by the CN, attributes from the certificate, certificate ACTIVE, policy attached.
pub fn template_body(device_policy: &str) -> String {
    json!({
        "Parameters": {
            "AWS::IoT::Certificate::CommonName": { "Type": "String" },
            "AWS::IoT::Certificate::SerialNumber": { "Type": "String" },
            "AWS::IoT::Certificate::Country": { "Type": "String", "Default": "none" },
            "AWS::IoT::Certificate::Id": { "Type": "String" }
        },
        "Resources": {
            "thing": {
                "Type": "AWS::IoT::Thing",
                "Properties": {
                    "ThingName": { "Ref": "AWS::IoT::Certificate::CommonName" },
                    "AttributePayload": {
                        "certificateSerial": { "Ref": "AWS::IoT::Certificate::SerialNumber" },
                        "country": { "Ref": "AWS::IoT::Certificate::Country" },
                        "provisionedBy": "keyline-jitp"
                    }
                }
            },
            "certificate": {
                "Type": "AWS::IoT::Certificate",
                "Properties": {
                    "CertificateId": { "Ref": "AWS::IoT::Certificate::Id" },
                    "Status": "ACTIVE"
                }
            },
            "policy": {
                "Type": "AWS::IoT::Policy",
                "Properties": { "PolicyName": device_policy }
            }
        }
    })
    .to_string()
}

fn trust_policy() -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{ "Effect": "Allow", "Principal": { "Service": "iot.amazonaws.com" }, "Action": "sts:AssumeRole" }]
    })
    .to_string()
}

/// Creates or updates the device policy and the provisioning role, and attaches the template to the CA.
pub async fn deploy(ctx: &CloudContext, request: &JitpRequest) -> Result<Vec<PieceChange>> {
    let ca = require_ca(ctx, &request.ca_id).await?;
    let names = StackNames::for_ca(&ca.ca_id);
    let account = ctx.account_id().await?;
    let target = Target { ctx, names: &names, account, allow_list_table: None };
    let prefix = request.topic_prefix.as_deref().unwrap_or(policy::DEFAULT_TOPIC_PREFIX);
    let document = policy::device_policy(&ctx.region, &target.account, prefix, request.policy_template.as_deref())?;
    let mut changes = vec![PieceChange {
        piece: "device policy".into(),
        name: names.device_policy.clone(),
        change: iot_pieces::ensure_device_policy(&target, &document).await?,
    }];
    let role = role_name(&ca.ca_id);
    let (role_arn, role_change) = ensure_provisioning_role(ctx, &role).await?;
    changes.push(PieceChange { piece: "provisioning role".into(), name: role.clone(), change: role_change });

    let body = template_body(&names.device_policy);
    let current = ctx
        .iot
        .describe_ca_certificate()
        .certificate_id(&ca.ca_id)
        .send()
        .await
        .map_err(|e| from_sdk("DescribeCACertificate", e))?;
    let same = current.registration_config().is_some_and(|config| {
        config.role_arn() == Some(role_arn.as_str()) && config.template_body().is_some_and(|b| same_document(b, &body))
    });
    let template_change = if same {
        Change::Unchanged
    } else {
        ctx.iot
            .update_ca_certificate()
            .certificate_id(&ca.ca_id)
            .registration_config(RegistrationConfig::builder().template_body(&body).role_arn(&role_arn).build())
            .send()
            .await
            .map_err(|e| from_sdk("UpdateCACertificate", e))?;
        if current.registration_config().is_some() { Change::Updated } else { Change::Created }
    };
    changes.push(PieceChange { piece: "provisioning template".into(), name: ca.ca_id.clone(), change: template_change });
    Ok(changes)
}

async fn ensure_provisioning_role(ctx: &CloudContext, name: &str) -> Result<(String, Change)> {
    let trust = trust_policy();
    let (arn, mut change) = match ctx.iam.get_role().role_name(name).send().await {
        Ok(out) => {
            let role = out.role().cloned();
            let arn = role.as_ref().map(|r| r.arn().to_string()).unwrap_or_default();
            let current_trust = role.and_then(|r| r.assume_role_policy_document).unwrap_or_default();
            if same_document(&current_trust, &trust) {
                (arn, Change::Unchanged)
            } else {
                ctx.iam
                    .update_assume_role_policy()
                    .role_name(name)
                    .policy_document(&trust)
                    .send()
                    .await
                    .map_err(|e| from_sdk("UpdateAssumeRolePolicy", e))?;
                (arn, Change::Updated)
            }
        }
        Err(err) if is_code(&err, NOT_FOUND) => {
            let out = ctx
                .iam
                .create_role()
                .role_name(name)
                .assume_role_policy_document(&trust)
                .description("Keyline JITP: lets AWS IoT create things and activate certificates on first connect")
                .send()
                .await
                .map_err(|e| from_sdk("CreateRole", e))?;
            (out.role().map(|r| r.arn().to_string()).unwrap_or_default(), Change::Created)
        }
        Err(err) => return Err(from_sdk("GetRole", err)),
    };
    let attached = ctx
        .iam
        .list_attached_role_policies()
        .role_name(name)
        .send()
        .await
        .map_err(|e| from_sdk("ListAttachedRolePolicies", e))?;
    if !attached.attached_policies().iter().any(|p| p.policy_arn() == Some(PROVISIONING_MANAGED_POLICY)) {
        ctx.iam
            .attach_role_policy()
            .role_name(name)
            .policy_arn(PROVISIONING_MANAGED_POLICY)
            .send()
            .await
            .map_err(|e| from_sdk("AttachRolePolicy", e))?;
        if change == Change::Unchanged {
            change = Change::Updated;
        }
    }
    Ok((arn, change))
}

/// Deletes the provisioning role (the CA keeps its registration config until it is re-registered or updated).
pub async fn remove_role(ctx: &CloudContext, ca_id: &str) -> Result<Change> {
    let name = role_name(ca_id);
    let attached = match ctx.iam.list_attached_role_policies().role_name(&name).send().await {
        Ok(out) => out,
        Err(err) if is_code(&err, NOT_FOUND) => return Ok(Change::Absent),
        Err(err) => return Err(from_sdk("ListAttachedRolePolicies", err)),
    };
    for policy in attached.attached_policies() {
        if let Some(arn) = policy.policy_arn() {
            ctx.iam.detach_role_policy().role_name(&name).policy_arn(arn).send().await.map_err(|e| from_sdk("DetachRolePolicy", e))?;
        }
    }
    ctx.iam.delete_role().role_name(&name).send().await.map_err(|e| from_sdk("DeleteRole", e))?;
    Ok(Change::Deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_names_the_thing_by_cn_activates_and_attaches_the_policy() {
        let body: serde_json::Value = serde_json::from_str(&template_body("keyline-device-x")).unwrap();
        assert_eq!(body.pointer("/Resources/thing/Properties/ThingName/Ref").unwrap(), "AWS::IoT::Certificate::CommonName");
        assert_eq!(body.pointer("/Resources/certificate/Properties/Status").unwrap(), "ACTIVE");
        assert_eq!(body.pointer("/Resources/policy/Properties/PolicyName").unwrap(), "keyline-device-x");
        assert_eq!(body.pointer("/Parameters/AWS::IoT::Certificate::Country/Default").unwrap(), "none");
    }
}
