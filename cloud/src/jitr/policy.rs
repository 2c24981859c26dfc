//! The JSON policy documents Keyline sends to AWS: the least-privilege device policy, the Lambda role's trust
//! and permission policies, and the JITP provisioning role's trust and permission policies.

use serde_json::{json, Value};

use crate::arn::Arns;
use crate::error::{CloudError, Result};

/// Topic prefix of the default device policy: devices use `<prefix>/<thing name>/…`.
pub const DEFAULT_TOPIC_PREFIX: &str = "keyline";

/// The device policy: connect only as the own thing name, publish/receive/subscribe only below the own topics.
///
/// `template` replaces the built-in document; `{{partition}}`, `{{region}}`, `{{account}}` and `{{topic_prefix}}`
/// are filled in.
pub fn device_policy(arns: &Arns, topic_prefix: &str, template: Option<&str>) -> Result<String> {
    let text = match template {
        Some(text) => text.to_string(),
        None => DEFAULT_DEVICE_POLICY.to_string(),
    };
    let filled = text
        .replace("{{partition}}", arns.partition)
        .replace("{{region}}", &arns.region)
        .replace("{{account}}", &arns.account)
        .replace("{{topic_prefix}}", topic_prefix);
    let value: Value = serde_json::from_str(&filled).map_err(|e| CloudError::InvalidPolicyTemplate { detail: e.to_string() })?;
    if value.get("Statement").and_then(Value::as_array).is_none_or(|s| s.is_empty()) {
        return Err(CloudError::InvalidPolicyTemplate { detail: "it has no \"Statement\" list".into() });
    }
    if filled.contains("{{") {
        return Err(CloudError::InvalidPolicyTemplate { detail: "it has an unknown {{placeholder}}".into() });
    }
    Ok(value.to_string())
}

const DEFAULT_DEVICE_POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "ConnectAsOwnThing",
      "Effect": "Allow",
      "Action": "iot:Connect",
      "Resource": "arn:{{partition}}:iot:{{region}}:{{account}}:client/${iot:Connection.Thing.ThingName}",
      "Condition": { "Bool": { "iot:Connection.Thing.IsAttached": "true" } }
    },
    {
      "Sid": "OwnTopicsOnly",
      "Effect": "Allow",
      "Action": ["iot:Publish", "iot:Receive"],
      "Resource": "arn:{{partition}}:iot:{{region}}:{{account}}:topic/{{topic_prefix}}/${iot:Connection.Thing.ThingName}/*"
    },
    {
      "Sid": "SubscribeOwnTopicsOnly",
      "Effect": "Allow",
      "Action": "iot:Subscribe",
      "Resource": "arn:{{partition}}:iot:{{region}}:{{account}}:topicfilter/{{topic_prefix}}/${iot:Connection.Thing.ThingName}/*"
    }
  ]
}"#;

/// Who may assume the Lambda execution role: the Lambda service only.
pub fn lambda_trust_policy() -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": "lambda.amazonaws.com" },
            "Action": "sts:AssumeRole"
        }]
    })
    .to_string()
}

/// Attaching a certificate to a thing: authorised on the certificate, with the thing in `iot:thingArn`.
fn attach_thing_principal(arns: &Arns) -> Value {
    json!({
        "Sid": "AttachCertificateToDeviceThing",
        "Effect": "Allow",
        "Action": "iot:AttachThingPrincipal",
        "Resource": arns.iot("cert/*"),
        "Condition": { "ArnLike": { "iot:thingArn": arns.iot("thing/*") } }
    })
}

/// The Lambda role's permissions: exactly the calls `cloud/lambda/keyline_jitr.py` makes, plus its logs.
///
/// IAM cannot narrow the certificate actions to one CA's certificates (certificate ARNs carry no CA) nor
/// `AttachPolicy` to one policy (the policy is not an IAM resource of that action); the Lambda checks the CA of
/// every certificate itself and only ever attaches its one device policy. See docs/cloud.md.
pub fn lambda_role_policy(arns: &Arns, function: &str, allow_list_table: Option<&str>) -> String {
    let log_group = format!("/aws/lambda/{function}");
    let mut statements = vec![
        json!({
            "Sid": "ReadAndSetCertificateStatus",
            "Effect": "Allow",
            "Action": ["iot:DescribeCertificate", "iot:UpdateCertificate"],
            "Resource": arns.iot("cert/*")
        }),
        json!({
            "Sid": "CreateDeviceThing",
            "Effect": "Allow",
            "Action": ["iot:CreateThing", "iot:DescribeThing"],
            "Resource": arns.iot("thing/*")
        }),
        attach_thing_principal(arns),
        json!({
            "Sid": "AttachDevicePolicyToCertificate",
            "Effect": "Allow",
            "Action": "iot:AttachPolicy",
            "Resource": arns.iot("cert/*")
        }),
        json!({
            "Sid": "CreateOwnLogGroup",
            "Effect": "Allow",
            "Action": "logs:CreateLogGroup",
            "Resource": arns.log_group(&log_group)
        }),
        json!({
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": arns.log_group(&format!("{log_group}:log-stream:*"))
        }),
    ];
    if let Some(table) = allow_list_table {
        statements.push(json!({
            "Sid": "ReadAllowList",
            "Effect": "Allow",
            "Action": "dynamodb:GetItem",
            "Resource": arns.table(table)
        }));
    }
    json!({ "Version": "2012-10-17", "Statement": statements }).to_string()
}

/// Who may assume the JITP provisioning role: AWS IoT, only on behalf of this account.
pub fn jitp_trust_policy(arns: &Arns) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": "iot.amazonaws.com" },
            "Action": "sts:AssumeRole",
            "Condition": { "StringEquals": { "aws:SourceAccount": arns.account } }
        }]
    })
    .to_string()
}

/// The JITP provisioning role's permissions: what AWS IoT needs to apply Keyline's template (create or update
/// the thing, attach the certificate and the device policy, activate the certificate), instead of the managed
/// `AWSIoTThingsRegistration` with its `Resource "*"`.
pub fn jitp_role_policy(arns: &Arns, device_policy: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "RegisterDeviceThing",
                "Effect": "Allow",
                "Action": ["iot:CreateThing", "iot:DescribeThing", "iot:UpdateThing", "iot:ListThingPrincipals"],
                "Resource": arns.iot("thing/*")
            },
            attach_thing_principal(arns),
            {
                "Sid": "ActivateCertificateAndAttachPolicy",
                "Effect": "Allow",
                "Action": ["iot:DescribeCertificate", "iot:UpdateCertificate", "iot:AttachPolicy", "iot:ListPrincipalThings"],
                "Resource": arns.iot("cert/*")
            },
            {
                "Sid": "ReadDevicePolicy",
                "Effect": "Allow",
                "Action": "iot:GetPolicy",
                "Resource": arns.iot(&format!("policy/{device_policy}"))
            },
            {
                "Sid": "ProvisioningCallsWithoutResourceType",
                "Effect": "Allow",
                "Action": ["iot:RegisterThing", "iot:ListAttachedPolicies"],
                "Resource": "*"
            }
        ]
    })
    .to_string()
}

/// True when two JSON documents are equal as JSON (IAM may URL-encode or reformat them).
pub fn same_document(a: &str, b: &str) -> bool {
    let decode = |text: &str| -> Option<Value> {
        let text = if text.trim_start().starts_with('%') {
            percent_encoding::percent_decode_str(text).decode_utf8().ok()?.into_owned()
        } else {
            text.to_string()
        };
        serde_json::from_str(&text).ok()
    };
    matches!((decode(a), decode(b)), (Some(x), Some(y)) if x == y)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arns() -> Arns {
        Arns::new("eu-west-1", "123456789012")
    }

    #[test]
    fn default_device_policy_uses_the_thing_name_variable_and_fills_placeholders() {
        let doc = device_policy(&arns(), "fleet", None).unwrap();
        assert!(doc.contains("arn:aws:iot:eu-west-1:123456789012:client/${iot:Connection.Thing.ThingName}"));
        assert!(doc.contains("topic/fleet/${iot:Connection.Thing.ThingName}/*"));
        assert!(!doc.contains("{{"));
        assert!(!doc.contains("\"*\""), "no wildcard resources");
        let china = device_policy(&Arns::new("cn-north-1", "123456789012"), "fleet", None).unwrap();
        assert!(china.contains("arn:aws-cn:iot:cn-north-1:") && !china.contains("arn:aws:"));
    }

    #[test]
    fn broken_template_is_refused() {
        assert!(matches!(device_policy(&arns(), "p", Some("{")), Err(CloudError::InvalidPolicyTemplate { .. })));
        assert!(matches!(device_policy(&arns(), "p", Some("{\"Statement\":[]}")), Err(CloudError::InvalidPolicyTemplate { .. })));
    }

    #[test]
    fn role_policy_grants_the_table_only_with_an_allow_list() {
        assert!(!lambda_role_policy(&arns(), "f", None).contains("dynamodb"));
        assert!(lambda_role_policy(&arns(), "f", Some("t")).contains("table/t"));
        assert!(!lambda_role_policy(&arns(), "f", None).contains("\"*\""), "no wildcard resources");
        assert!(lambda_role_policy(&Arns::new("us-gov-west-1", "123456789012"), "f", None).contains("arn:aws-us-gov:iot:"));
    }

    #[test]
    fn url_encoded_documents_compare_equal() {
        assert!(same_document("%7B%22a%22%3A1%7D", "{\"a\": 1}"));
        assert!(!same_document("{\"a\":2}", "{\"a\": 1}"));
    }
}
