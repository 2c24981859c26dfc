//! The least-privilege IAM policy an operator needs to run Keyline's cloud setup (`keyline cloud permissions`),
//! and the list of every policy document Keyline generates, for checking against AWS's reference.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::allow_list;
use crate::arn::Arns;
use crate::jitr::policy;

/// How devices register themselves on first connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// The activation Lambda (with the allow-list).
    #[default]
    Jitr,
    /// AWS IoT's provisioning template.
    Jitp,
}

fn statement(sid: &str, actions: &[&str], resources: Value) -> Value {
    json!({ "Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources })
}

/// `iam:PassRole` on Keyline's roles, only to the service that uses them.
fn pass_role(sid: &str, arns: &Arns, roles: &str, service: &str) -> Value {
    json!({
        "Sid": sid,
        "Effect": "Allow",
        "Action": "iam:PassRole",
        "Resource": arns.role(roles),
        "Condition": { "StringEquals": { "iam:PassedToService": service } }
    })
}

/// The operator's policy for `method`: CA registration, device certificates, the method's stack and the
/// allow-list (JITR), each on Keyline's own resource names where IAM allows it.
pub fn operator_policy(arns: &Arns, method: Method) -> String {
    let mut statements = vec![
        statement(
            "AccountWideReads",
            &[
                "sts:GetCallerIdentity",
                "iot:GetRegistrationCode",
                "iot:RegisterCACertificate",
                "iot:ListCACertificates",
                "iot:ListCertificatesByCA",
                "iot:ListAttachedPolicies",
                "iot:DescribeEndpoint",
                "iot:ListTopicRules",
            ],
            json!("*"),
        ),
        statement(
            "ManageCaRegistrations",
            &["iot:DescribeCACertificate", "iot:UpdateCACertificate", "iot:DeleteCACertificate"],
            json!(arns.iot("cacert/*")),
        ),
        statement(
            "ManageDeviceCertificates",
            &[
                "iot:DescribeCertificate",
                "iot:UpdateCertificate",
                "iot:DeleteCertificate",
                "iot:ListPrincipalThings",
                "iot:DetachPolicy",
                "iot:AttachPolicy",
            ],
            json!(arns.iot("cert/*")),
        ),
        json!({
            "Sid": "AttachAndDetachDeviceThings",
            "Effect": "Allow",
            "Action": ["iot:AttachThingPrincipal", "iot:DetachThingPrincipal"],
            "Resource": arns.iot("cert/*"),
            "Condition": { "ArnLike": { "iot:thingArn": arns.iot("thing/*") } }
        }),
        statement("DeviceThings", &["iot:CreateThing", "iot:DescribeThing", "iot:ListThingPrincipals"], json!(arns.iot("thing/*"))),
        statement(
            "KeylineDevicePolicies",
            &[
                "iot:CreatePolicy",
                "iot:GetPolicy",
                "iot:CreatePolicyVersion",
                "iot:ListPolicyVersions",
                "iot:DeletePolicyVersion",
                "iot:DeletePolicy",
                "iot:ListTargetsForPolicy",
            ],
            json!(arns.iot("policy/keyline-device-*")),
        ),
    ];
    let role_actions = [
        "iam:GetRole",
        "iam:CreateRole",
        "iam:DeleteRole",
        "iam:UpdateAssumeRolePolicy",
        "iam:GetRolePolicy",
        "iam:PutRolePolicy",
        "iam:DeleteRolePolicy",
        "iam:ListRolePolicies",
        "iam:ListAttachedRolePolicies",
        "iam:DetachRolePolicy",
    ];
    match method {
        Method::Jitr => {
            statements.push(statement("KeylineJitrRules", &["iot:GetTopicRule", "iot:CreateTopicRule", "iot:ReplaceTopicRule", "iot:DeleteTopicRule"], json!(arns.iot("rule/keyline_jitr_*"))));
            statements.push(statement("KeylineJitrRoles", &role_actions, json!(arns.role("keyline-jitr-*"))));
            statements.push(pass_role("PassJitrRoleToLambda", arns, "keyline-jitr-*", "lambda.amazonaws.com"));
            statements.push(statement(
                "KeylineJitrFunctions",
                &[
                    "lambda:GetFunction",
                    "lambda:GetFunctionConfiguration",
                    "lambda:CreateFunction",
                    "lambda:UpdateFunctionCode",
                    "lambda:UpdateFunctionConfiguration",
                    "lambda:DeleteFunction",
                    "lambda:AddPermission",
                    "lambda:RemovePermission",
                    "lambda:GetPolicy",
                ],
                json!(arns.function("keyline-jitr-*")),
            ));
            statements.push(statement(
                "KeylineAllowLists",
                &[
                    "dynamodb:CreateTable",
                    "dynamodb:DescribeTable",
                    "dynamodb:DeleteTable",
                    "dynamodb:PutItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:Scan",
                    "dynamodb:BatchWriteItem",
                ],
                json!(arns.table(&format!("{}-*", allow_list::TABLE_PREFIX))),
            ));
        }
        Method::Jitp => {
            statements.push(statement("KeylineJitpRoles", &role_actions, json!(arns.role("keyline-jitp-*"))));
            statements.push(pass_role("PassJitpRoleToIot", arns, "keyline-jitp-*", "iot.amazonaws.com"));
        }
    }
    json!({ "Version": "2012-10-17", "Statement": statements }).to_string()
}

/// What kind of document a [`GeneratedDocument`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocumentKind {
    /// An IAM identity policy (role inline policy, operator policy).
    Iam,
    /// An IAM role trust policy.
    Trust,
    /// An AWS IoT Core policy (attached to device certificates).
    Iot,
}

/// One policy document Keyline sends to AWS.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GeneratedDocument {
    /// What it is.
    pub name: String,
    /// Which rules apply.
    pub kind: DocumentKind,
    /// The JSON document.
    pub document: Value,
}

/// Every policy document Keyline generates for a CA stack in `arns`' account and region (both methods).
pub fn generated_documents(arns: &Arns) -> Vec<GeneratedDocument> {
    let names = crate::jitr::StackNames::for_ca(&"ab".repeat(32));
    let doc = |name: &str, kind: DocumentKind, text: String| GeneratedDocument {
        name: name.to_string(),
        kind,
        document: serde_json::from_str(&text).expect("Keyline's own documents are JSON"),
    };
    vec![
        doc("device policy", DocumentKind::Iot, policy::device_policy(arns, policy::DEFAULT_TOPIC_PREFIX, None).expect("built-in policy")),
        doc("JITR lambda role policy", DocumentKind::Iam, policy::lambda_role_policy(arns, &names.function, Some(names.allow_list_table.as_str()))),
        doc("JITR lambda role trust policy", DocumentKind::Trust, policy::lambda_trust_policy()),
        doc("JITP role policy", DocumentKind::Iam, policy::jitp_role_policy(arns, &names.device_policy)),
        doc("JITP role trust policy", DocumentKind::Trust, policy::jitp_trust_policy(arns)),
        doc("operator policy (jitr)", DocumentKind::Iam, operator_policy(arns, Method::Jitr)),
        doc("operator policy (jitp)", DocumentKind::Iam, operator_policy(arns, Method::Jitp)),
    ]
}
