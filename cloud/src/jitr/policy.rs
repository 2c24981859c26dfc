//! The JSON policy documents of the JITR stack: the least-privilege device policy, and the Lambda role's trust
//! and permission policies.

use serde_json::{json, Value};

use crate::error::{CloudError, Result};

/// Topic prefix of the default device policy: devices use `<prefix>/<thing name>/…`.
pub const DEFAULT_TOPIC_PREFIX: &str = "keyline";

/// The device policy: connect only as the own thing name, publish/receive/subscribe only below the own topics.
///
/// `template` replaces the built-in document; `{{region}}`, `{{account}}` and `{{topic_prefix}}` are filled in.
pub fn device_policy(region: &str, account: &str, topic_prefix: &str, template: Option<&str>) -> Result<String> {
    let text = match template {
        Some(text) => text.to_string(),
        None => DEFAULT_DEVICE_POLICY.to_string(),
    };
    let filled = text
        .replace("{{region}}", region)
        .replace("{{account}}", account)
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
      "Resource": "arn:aws:iot:{{region}}:{{account}}:client/${iot:Connection.Thing.ThingName}",
      "Condition": { "Bool": { "iot:Connection.Thing.IsAttached": "true" } }
    },
    {
      "Sid": "OwnTopicsOnly",
      "Effect": "Allow",
      "Action": ["iot:Publish", "iot:Receive"],
      "Resource": "arn:aws:iot:{{region}}:{{account}}:topic/{{topic_prefix}}/${iot:Connection.Thing.ThingName}/*"
    },
    {
      "Sid": "SubscribeOwnTopicsOnly",
      "Effect": "Allow",
      "Action": "iot:Subscribe",
      "Resource": "arn:aws:iot:{{region}}:{{account}}:topicfilter/{{topic_prefix}}/${iot:Connection.Thing.ThingName}/*"
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

/// The Lambda role's permissions: exactly the calls `cloud/lambda/keyline_jitr.py` makes, plus its logs.
pub fn lambda_role_policy(region: &str, account: &str, function: &str, device_policy: &str, allow_list_table: Option<&str>) -> String {
    let iot = |resource: &str| format!("arn:aws:iot:{region}:{account}:{resource}");
    let mut statements = vec![
        json!({
            "Sid": "ReadAndSetCertificateStatus",
            "Effect": "Allow",
            "Action": ["iot:DescribeCertificate", "iot:UpdateCertificate"],
            "Resource": iot("cert/*")
        }),
        json!({
            "Sid": "CreateAndAttachDeviceThing",
            "Effect": "Allow",
            "Action": ["iot:CreateThing", "iot:DescribeThing", "iot:AttachThingPrincipal"],
            "Resource": iot("thing/*")
        }),
        // AttachPolicy is authorised on the target certificate; the one device policy is listed too, so the
        // grant holds whichever of the two a partition evaluates, and no other policy can be attached.
        json!({
            "Sid": "AttachDevicePolicyToCertificate",
            "Effect": "Allow",
            "Action": "iot:AttachPolicy",
            "Resource": [iot("cert/*"), iot(&format!("policy/{device_policy}"))]
        }),
        json!({
            "Sid": "CreateOwnLogGroup",
            "Effect": "Allow",
            "Action": "logs:CreateLogGroup",
            "Resource": [
                format!("arn:aws:logs:{region}:{account}:log-group:/aws/lambda/{function}"),
                format!("arn:aws:logs:{region}:{account}:log-group:/aws/lambda/{function}:*")
            ]
        }),
        json!({
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": format!("arn:aws:logs:{region}:{account}:log-group:/aws/lambda/{function}:*")
        }),
    ];
    if let Some(table) = allow_list_table {
        statements.push(json!({
            "Sid": "ReadAllowList",
            "Effect": "Allow",
            "Action": "dynamodb:GetItem",
            "Resource": format!("arn:aws:dynamodb:{region}:{account}:table/{table}")
        }));
    }
    json!({ "Version": "2012-10-17", "Statement": statements }).to_string()
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

    #[test]
    fn default_device_policy_uses_the_thing_name_variable_and_fills_placeholders() {
        let doc = device_policy("eu-west-1", "123456789012", "fleet", None).unwrap();
        assert!(doc.contains("arn:aws:iot:eu-west-1:123456789012:client/${iot:Connection.Thing.ThingName}"));
        assert!(doc.contains("topic/fleet/${iot:Connection.Thing.ThingName}/*"));
        assert!(!doc.contains("{{"));
        assert!(!doc.contains("\"*\""), "no wildcard resources");
    }

    #[test]
    fn broken_template_is_refused() {
        assert!(matches!(device_policy("r", "a", "p", Some("{")), Err(CloudError::InvalidPolicyTemplate { .. })));
        assert!(matches!(device_policy("r", "a", "p", Some("{\"Statement\":[]}")), Err(CloudError::InvalidPolicyTemplate { .. })));
    }

    #[test]
    fn role_policy_grants_the_table_only_with_an_allow_list() {
        assert!(!lambda_role_policy("r", "1", "f", "p", None).contains("dynamodb"));
        assert!(lambda_role_policy("r", "1", "f", "p", Some("t")).contains("table/t"));
        assert!(lambda_role_policy("r", "1", "f", "p", None).contains("arn:aws:iot:r:1:policy/p"));
        assert!(!lambda_role_policy("r", "1", "f", "p", None).contains("\"*\""), "no wildcard resources");
    }

    #[test]
    fn url_encoded_documents_compare_equal() {
        assert!(same_document("%7B%22a%22%3A1%7D", "{\"a\": 1}"));
        assert!(!same_document("{\"a\":2}", "{\"a\": 1}"));
    }
}
