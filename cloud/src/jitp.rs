//! Just-in-time provisioning (JITP), the alternative to the JITR Lambda: a provisioning template attached to the
//! CA registration, applied by AWS IoT itself on a device's first connect, with its provisioning role.
//!
//! The template names the thing by the certificate CN (the serial), takes attributes from certificate fields
//! (with defaults where a field may be missing), activates the certificate and attaches the shared device policy.

use aws_sdk_iot::types::RegistrationConfig;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::arn::Arns;
use crate::ca::require_ca;
use crate::cert_pem::parse_cert_pem;
use crate::error::{from_sdk, is_code, CloudError, Result, NOT_FOUND};
use crate::jitr::policy::{self, same_document};
use crate::jitr::{iot_pieces, Change, PieceChange, StackNames, Target};
use crate::settings::CloudContext;

/// AWS's managed policy for provisioning roles; Keyline no longer attaches it and detaches it when found.
pub const PROVISIONING_MANAGED_POLICY: &str = "service-role/AWSIoTThingsRegistration";
/// Name of the provisioning role's inline policy.
const INLINE_POLICY: &str = "keyline-jitp-provisioning";

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

/// A certificate subject field JITP can read into a template parameter (`AWS::IoT::Certificate::<name>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SubjectField {
    /// CN.
    CommonName,
    /// O.
    Organization,
    /// OU.
    OrganizationalUnit,
    /// C.
    Country,
    /// ST.
    StateName,
    /// The subject's serialNumber attribute (not the certificate serial).
    SerialNumber,
    /// dnQualifier.
    DistinguishedNameQualifier,
}

impl SubjectField {
    /// Every field JITP knows.
    pub const ALL: [SubjectField; 7] = [
        SubjectField::CommonName,
        SubjectField::Organization,
        SubjectField::OrganizationalUnit,
        SubjectField::Country,
        SubjectField::StateName,
        SubjectField::SerialNumber,
        SubjectField::DistinguishedNameQualifier,
    ];

    /// The template parameter name.
    pub fn parameter(self) -> &'static str {
        match self {
            SubjectField::CommonName => "AWS::IoT::Certificate::CommonName",
            SubjectField::Organization => "AWS::IoT::Certificate::Organization",
            SubjectField::OrganizationalUnit => "AWS::IoT::Certificate::OrganizationalUnit",
            SubjectField::Country => "AWS::IoT::Certificate::Country",
            SubjectField::StateName => "AWS::IoT::Certificate::StateName",
            SubjectField::SerialNumber => "AWS::IoT::Certificate::SerialNumber",
            SubjectField::DistinguishedNameQualifier => "AWS::IoT::Certificate::DistinguishedNameQualifier",
        }
    }

    fn oid(self) -> &'static str {
        match self {
            SubjectField::CommonName => "2.5.4.3",
            SubjectField::Organization => "2.5.4.10",
            SubjectField::OrganizationalUnit => "2.5.4.11",
            SubjectField::Country => "2.5.4.6",
            SubjectField::StateName => "2.5.4.8",
            SubjectField::SerialNumber => "2.5.4.5",
            SubjectField::DistinguishedNameQualifier => "2.5.4.46",
        }
    }
}

/// The certificate id parameter: always available to JITP, whatever the subject holds.
const CERTIFICATE_ID: &str = "AWS::IoT::Certificate::Id";

/// The subject fields a certificate carries (PEM or DER).
pub fn subject_fields(cert: &[u8]) -> Result<Vec<SubjectField>> {
    let der = match pem::parse(cert) {
        Ok(block) => block.into_contents(),
        Err(_) => cert.to_vec(),
    };
    let (_, parsed) = x509_parser::parse_x509_certificate(&der)
        .map_err(|e| CloudError::InvalidCertificate { what: "device certificate", detail: e.to_string() })?;
    let oids: Vec<String> = parsed.subject().iter_attributes().map(|a| a.attr_type().to_id_string()).collect();
    Ok(SubjectField::ALL.into_iter().filter(|f| oids.iter().any(|o| o == f.oid())).collect())
}

/// The fields of the device certificates a Keyline signer issues: the CN (the serial) always, and the signer's
/// organisation, which Keyline copies into every device subject, when the signer has one.
/// `ca_cert` is PEM or DER.
pub fn keyline_device_fields(ca_cert: &[u8]) -> Result<Vec<SubjectField>> {
    let ca_fields = subject_fields(ca_cert)?;
    let mut fields = vec![SubjectField::CommonName];
    if ca_fields.contains(&SubjectField::Organization) {
        fields.push(SubjectField::Organization);
    }
    Ok(fields)
}

/// The provisioning role's name for a CA.
pub fn role_name(ca_id: &str) -> String {
    format!("keyline-jitp-{}", ca_id.chars().take(12).collect::<String>())
}

/// The JITP template for devices whose certificates carry `fields`: thing named by the CN, the organisation as an
/// attribute when the certificates carry one, certificate ACTIVE, the device policy attached. Only parameters the
/// certificates can fill are declared. Refuses `fields` without a CN (nothing to name the thing by).
pub fn template_body(device_policy: &str, fields: &[SubjectField]) -> Result<String> {
    if !fields.contains(&SubjectField::CommonName) {
        return Err(CloudError::TemplateFieldMissing { parameter: SubjectField::CommonName.parameter().into() });
    }
    let mut parameters = Map::new();
    let mut attributes = Map::new();
    parameters.insert(SubjectField::CommonName.parameter().into(), json!({ "Type": "String" }));
    parameters.insert(CERTIFICATE_ID.into(), json!({ "Type": "String" }));
    if fields.contains(&SubjectField::Organization) {
        parameters.insert(SubjectField::Organization.parameter().into(), json!({ "Type": "String" }));
        attributes.insert("organization".into(), json!({ "Ref": SubjectField::Organization.parameter() }));
    }
    attributes.insert("provisionedBy".into(), json!("keyline-jitp"));
    let body = json!({
        "Parameters": parameters,
        "Resources": {
            "thing": {
                "Type": "AWS::IoT::Thing",
                "Properties": {
                    "ThingName": { "Ref": SubjectField::CommonName.parameter() },
                    "AttributePayload": attributes
                }
            },
            "certificate": {
                "Type": "AWS::IoT::Certificate",
                "Properties": {
                    "CertificateId": { "Ref": CERTIFICATE_ID },
                    "Status": "ACTIVE"
                }
            },
            "policy": {
                "Type": "AWS::IoT::Policy",
                "Properties": { "PolicyName": device_policy }
            }
        }
    })
    .to_string();
    check_template(&body, fields)?;
    Ok(body)
}

/// Refuses a template that declares, without a default, a certificate parameter the certificates lack
/// (JITP would fail provisioning for every device).
pub fn check_template(body: &str, fields: &[SubjectField]) -> Result<()> {
    let value: Value = serde_json::from_str(body).map_err(|e| CloudError::InvalidPolicyTemplate { detail: format!("provisioning template: {e}") })?;
    let Some(parameters) = value.get("Parameters").and_then(Value::as_object) else { return Ok(()) };
    for (name, declaration) in parameters {
        if !name.starts_with("AWS::IoT::Certificate::") || name == CERTIFICATE_ID || declaration.get("Default").is_some() {
            continue;
        }
        if !fields.iter().any(|f| f.parameter() == name) {
            return Err(CloudError::TemplateFieldMissing { parameter: name.clone() });
        }
    }
    Ok(())
}

/// Creates or updates the device policy and the provisioning role, and attaches the template to the CA.
/// The template's parameters follow from the registered CA's certificate (see [`keyline_device_fields`]).
pub async fn deploy(ctx: &CloudContext, request: &JitpRequest) -> Result<Vec<PieceChange>> {
    let ca = require_ca(ctx, &request.ca_id).await?;
    let names = StackNames::for_ca(&ca.ca_id);
    let account = ctx.account_id().await?;
    let target = Target { ctx, names: &names, account, allow_list_table: None };
    let arns = target.arns();
    let current = ctx
        .iot
        .describe_ca_certificate()
        .certificate_id(&ca.ca_id)
        .send()
        .await
        .map_err(|e| from_sdk("DescribeCACertificate", e))?;
    let ca_pem = current.certificate_description().and_then(|d| d.certificate_pem()).unwrap_or_default();
    let fields = keyline_device_fields(parse_cert_pem(ca_pem, "registered CA certificate")?.pem.as_bytes())?;
    let body = template_body(&names.device_policy, &fields)?;

    let prefix = request.topic_prefix.as_deref().unwrap_or(policy::DEFAULT_TOPIC_PREFIX);
    let document = policy::device_policy(&arns, prefix, request.policy_template.as_deref())?;
    let mut changes = vec![PieceChange {
        piece: "device policy".into(),
        name: names.device_policy.clone(),
        change: iot_pieces::ensure_device_policy(&target, &document).await?,
    }];
    let role = role_name(&ca.ca_id);
    let (role_arn, role_change) = ensure_provisioning_role(ctx, &arns, &role, &names.device_policy).await?;
    changes.push(PieceChange { piece: "provisioning role".into(), name: role.clone(), change: role_change });

    let same = current.registration_config().is_some_and(|config| {
        config.role_arn() == Some(role_arn.as_str()) && config.template_body().is_some_and(|b| same_document(b, &body))
    });
    let template_change = if same {
        Change::Unchanged
    } else {
        // A just-created role may not be usable by AWS IoT yet: retry while IAM propagates.
        crate::retry::PropagationRetry::default()
            .run("UpdateCACertificate", crate::retry::is_role_not_usable_yet, || async {
                ctx.iot
                    .update_ca_certificate()
                    .certificate_id(&ca.ca_id)
                    .registration_config(RegistrationConfig::builder().template_body(&body).role_arn(&role_arn).build())
                    .send()
                    .await
                    .map_err(|e| from_sdk("UpdateCACertificate", e))
            })
            .await?;
        if current.registration_config().is_some_and(|c| c.template_body().is_some()) { Change::Updated } else { Change::Created }
    };
    changes.push(PieceChange { piece: "provisioning template".into(), name: ca.ca_id.clone(), change: template_change });
    changes.extend(crate::jitr::remove_lambda_pieces(&target).await?);
    Ok(changes)
}

async fn ensure_provisioning_role(ctx: &CloudContext, arns: &Arns, name: &str, device_policy: &str) -> Result<(String, Change)> {
    let trust = policy::jitp_trust_policy(arns);
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
    let mark_updated = |change: &mut Change| {
        if *change == Change::Unchanged {
            *change = Change::Updated;
        }
    };
    // Roles made by earlier Keyline versions carry the managed policy; Keyline's own inline policy replaces it.
    let attached = ctx
        .iam
        .list_attached_role_policies()
        .role_name(name)
        .send()
        .await
        .map_err(|e| from_sdk("ListAttachedRolePolicies", e))?;
    for managed in attached.attached_policies().iter().filter_map(|p| p.policy_arn()) {
        if managed.ends_with(PROVISIONING_MANAGED_POLICY) {
            ctx.iam.detach_role_policy().role_name(name).policy_arn(managed).send().await.map_err(|e| from_sdk("DetachRolePolicy", e))?;
            mark_updated(&mut change);
        }
    }
    let wanted = policy::jitp_role_policy(arns, device_policy);
    let current = match ctx.iam.get_role_policy().role_name(name).policy_name(INLINE_POLICY).send().await {
        Ok(out) => Some(out.policy_document().to_string()),
        Err(err) if is_code(&err, NOT_FOUND) => None,
        Err(err) => return Err(from_sdk("GetRolePolicy", err)),
    };
    if !current.as_deref().is_some_and(|doc| same_document(doc, &wanted)) {
        ctx.iam
            .put_role_policy()
            .role_name(name)
            .policy_name(INLINE_POLICY)
            .policy_document(&wanted)
            .send()
            .await
            .map_err(|e| from_sdk("PutRolePolicy", e))?;
        mark_updated(&mut change);
    }
    Ok((arn, change))
}

/// Removes what JITP left on a CA that switches to JITR: the provisioning template (auto-registration stays on)
/// and the provisioning role. Reports only what it deleted.
pub(crate) async fn remove_leftovers(ctx: &CloudContext, ca_id: &str) -> Result<Vec<PieceChange>> {
    let mut changes = Vec::new();
    let described = ctx
        .iot
        .describe_ca_certificate()
        .certificate_id(ca_id)
        .send()
        .await
        .map_err(|e| from_sdk("DescribeCACertificate", e))?;
    let has_template = described.registration_config().and_then(|c| c.template_body()).is_some_and(|b| !b.trim().is_empty());
    if has_template {
        ctx.iot
            .update_ca_certificate()
            .certificate_id(ca_id)
            .remove_auto_registration(true)
            .send()
            .await
            .map_err(|e| from_sdk("UpdateCACertificate", e))?;
        // Removing the registration config may turn auto-registration off too; JITR needs it on.
        crate::ca::set_auto_registration(ctx, ca_id, true).await?;
        changes.push(PieceChange { piece: "JITP provisioning template".into(), name: ca_id.to_string(), change: Change::Deleted });
    }
    if remove_role(ctx, ca_id).await? == Change::Deleted {
        changes.push(PieceChange { piece: "JITP provisioning role".into(), name: role_name(ca_id), change: Change::Deleted });
    }
    Ok(changes)
}

/// Deletes the provisioning role with its policies (the CA keeps its registration config until it is updated).
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
    let inline = ctx.iam.list_role_policies().role_name(&name).send().await.map_err(|e| from_sdk("ListRolePolicies", e))?;
    for policy in inline.policy_names() {
        ctx.iam.delete_role_policy().role_name(&name).policy_name(policy).send().await.map_err(|e| from_sdk("DeleteRolePolicy", e))?;
    }
    ctx.iam.delete_role().role_name(&name).send().await.map_err(|e| from_sdk("DeleteRole", e))?;
    Ok(Change::Deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_names_the_thing_by_cn_activates_and_attaches_the_policy() {
        let fields = [SubjectField::CommonName, SubjectField::Organization];
        let body: Value = serde_json::from_str(&template_body("keyline-device-x", &fields).unwrap()).unwrap();
        assert_eq!(body.pointer("/Resources/thing/Properties/ThingName/Ref").unwrap(), "AWS::IoT::Certificate::CommonName");
        assert_eq!(body.pointer("/Resources/certificate/Properties/Status").unwrap(), "ACTIVE");
        assert_eq!(body.pointer("/Resources/policy/Properties/PolicyName").unwrap(), "keyline-device-x");
        assert!(body.pointer("/Parameters/AWS::IoT::Certificate::SerialNumber").is_none(), "subjects carry no serialNumber");
        let cn_only: Value = serde_json::from_str(&template_body("p", &[SubjectField::CommonName]).unwrap()).unwrap();
        assert!(cn_only.pointer("/Parameters/AWS::IoT::Certificate::Organization").is_none());
    }

    #[test]
    fn a_template_naming_a_missing_field_is_refused() {
        let old = r#"{"Parameters":{"AWS::IoT::Certificate::CommonName":{"Type":"String"},
            "AWS::IoT::Certificate::SerialNumber":{"Type":"String"},
            "AWS::IoT::Certificate::Country":{"Type":"String","Default":"none"},
            "AWS::IoT::Certificate::Id":{"Type":"String"}},"Resources":{}}"#;
        let fields = [SubjectField::CommonName, SubjectField::Organization];
        assert!(matches!(check_template(old, &fields), Err(CloudError::TemplateFieldMissing { parameter }) if parameter.ends_with("SerialNumber")));
        assert!(matches!(template_body("p", &[SubjectField::Organization]), Err(CloudError::TemplateFieldMissing { .. })));
    }
}
