//! The AWS IoT pieces of the JITR stack: the shared device policy (versioned updates) and the topic rule on the
//! CA's certificate-registration events.

use aws_sdk_iot::types::{Action, LambdaAction, TopicRulePayload};

use super::policy::same_document;
use super::{Change, Health, Target};
use crate::error::{from_sdk, is_code, CloudError, Result, NOT_FOUND};

/// AWS keeps at most five versions of a policy.
const MAX_POLICY_VERSIONS: usize = 5;

/// The SQL of the rule: the CA's registration events, only while the certificate awaits activation.
pub(crate) fn rule_sql(ca_id: &str) -> String {
    format!("SELECT * FROM '$aws/events/certificates/registered/{ca_id}' WHERE certificateStatus = 'PENDING_ACTIVATION'")
}

async fn current_policy_document(target: &Target<'_>) -> Result<Option<String>> {
    match target.ctx.iot.get_policy().policy_name(&target.names.device_policy).send().await {
        Ok(out) => Ok(Some(out.policy_document().unwrap_or_default().to_string())),
        Err(err) if is_code(&err, NOT_FOUND) => Ok(None),
        Err(err) => Err(from_sdk("GetPolicy", err)),
    }
}

/// Creates the device policy, or adds a new default version when the document changed.
pub(crate) async fn ensure_device_policy(target: &Target<'_>, document: &str) -> Result<Change> {
    let iot = &target.ctx.iot;
    let name = &target.names.device_policy;
    match current_policy_document(target).await? {
        None => {
            iot.create_policy().policy_name(name).policy_document(document).send().await.map_err(|e| from_sdk("CreatePolicy", e))?;
            Ok(Change::Created)
        }
        Some(current) if same_document(&current, document) => Ok(Change::Unchanged),
        Some(_) => {
            prune_policy_versions(target, MAX_POLICY_VERSIONS - 1).await?;
            iot.create_policy_version()
                .policy_name(name)
                .policy_document(document)
                .set_as_default(true)
                .send()
                .await
                .map_err(|e| from_sdk("CreatePolicyVersion", e))?;
            Ok(Change::Updated)
        }
    }
}

/// Deletes the oldest non-default versions until at most `keep` remain.
async fn prune_policy_versions(target: &Target<'_>, keep: usize) -> Result<()> {
    let iot = &target.ctx.iot;
    let name = &target.names.device_policy;
    let out = iot.list_policy_versions().policy_name(name).send().await.map_err(|e| from_sdk("ListPolicyVersions", e))?;
    let mut old: Vec<_> = out.policy_versions().iter().filter(|v| !v.is_default_version()).cloned().collect();
    old.sort_by_key(|v| v.create_date().map(|d| d.secs()).unwrap_or_default());
    let total = out.policy_versions().len();
    for version in old.iter().take(total.saturating_sub(keep)) {
        if let Some(id) = version.version_id() {
            iot.delete_policy_version()
                .policy_name(name)
                .policy_version_id(id)
                .send()
                .await
                .map_err(|e| from_sdk("DeletePolicyVersion", e))?;
        }
    }
    Ok(())
}

/// Whether the device policy exists. (Its document may be a custom template, so only presence is checked.)
pub(crate) async fn policy_health(target: &Target<'_>) -> Result<Health> {
    Ok(match current_policy_document(target).await? {
        Some(_) => Health::Ok,
        None => Health::Missing,
    })
}

/// Detaches the device policy from every certificate, deletes old versions, then the policy.
pub(crate) async fn delete_device_policy(target: &Target<'_>) -> Result<Change> {
    let iot = &target.ctx.iot;
    let name = &target.names.device_policy;
    if current_policy_document(target).await?.is_none() {
        return Ok(Change::Absent);
    }
    let mut marker: Option<String> = None;
    loop {
        let out = iot
            .list_targets_for_policy()
            .policy_name(name)
            .set_marker(marker.take())
            .send()
            .await
            .map_err(|e| from_sdk("ListTargetsForPolicy", e))?;
        for attached in out.targets() {
            iot.detach_policy().policy_name(name).target(attached).send().await.map_err(|e| from_sdk("DetachPolicy", e))?;
        }
        match out.next_marker() {
            Some(next) if !next.is_empty() => marker = Some(next.to_string()),
            _ => break,
        }
    }
    prune_policy_versions(target, 1).await?;
    iot.delete_policy().policy_name(name).send().await.map_err(|e| from_sdk("DeletePolicy", e))?;
    Ok(Change::Deleted)
}

fn rule_payload(ca_id: &str, function_arn: &str) -> Result<TopicRulePayload> {
    let build_error = |e: aws_sdk_iot::error::BuildError| CloudError::Aws {
        operation: "CreateTopicRule",
        code: "BuildError".into(),
        message: e.to_string(),
    };
    let lambda = LambdaAction::builder().function_arn(function_arn).build().map_err(build_error)?;
    TopicRulePayload::builder()
        .sql(rule_sql(ca_id))
        .aws_iot_sql_version("2016-03-23")
        .description("Keyline JITR: activate device certificates registered under this CA")
        .rule_disabled(false)
        .actions(Action::builder().lambda(lambda).build())
        .build()
        .map_err(build_error)
}

/// The rule's current SQL, Lambda target and disabled flag, if it exists.
async fn current_rule(target: &Target<'_>) -> Result<Option<(String, Vec<String>, bool)>> {
    match target.ctx.iot.get_topic_rule().rule_name(&target.names.rule).send().await {
        Ok(out) => Ok(out.rule().map(|rule| {
            let functions = rule
                .actions()
                .iter()
                .filter_map(|a| a.lambda().map(|l| l.function_arn().to_string()))
                .collect();
            (rule.sql().unwrap_or_default().to_string(), functions, rule.rule_disabled().unwrap_or(false))
        })),
        Err(err) if is_code(&err, NOT_FOUND) => Ok(None),
        // AWS answers GetTopicRule with UnauthorizedException both for a missing rule and for a missing
        // permission: the rule list tells the two apart.
        Err(err) if is_code(&err, &["UnauthorizedException"]) => {
            if rule_listed(target).await? {
                Err(CloudError::AccessDenied { operation: "GetTopicRule", message: from_sdk("GetTopicRule", err).to_string() })
            } else {
                Ok(None)
            }
        }
        Err(err) => Err(from_sdk("GetTopicRule", err)),
    }
}

/// Whether the stack's rule is in the account's rule list.
async fn rule_listed(target: &Target<'_>) -> Result<bool> {
    let mut token: Option<String> = None;
    loop {
        let out = target
            .ctx
            .iot
            .list_topic_rules()
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| from_sdk("ListTopicRules", e))?;
        if out.rules().iter().any(|r| r.rule_name() == Some(target.names.rule.as_str())) {
            return Ok(true);
        }
        match out.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_string()),
            _ => return Ok(false),
        }
    }
}

/// Creates the topic rule, or replaces it when its SQL or target drifted.
pub(crate) async fn ensure_rule(target: &Target<'_>, function_arn: &str) -> Result<Change> {
    let iot = &target.ctx.iot;
    let wanted_sql = rule_sql(&target.names.ca_id);
    match current_rule(target).await? {
        None => {
            iot.create_topic_rule()
                .rule_name(&target.names.rule)
                .topic_rule_payload(rule_payload(&target.names.ca_id, function_arn)?)
                .send()
                .await
                .map_err(|e| from_sdk("CreateTopicRule", e))?;
            Ok(Change::Created)
        }
        Some((sql, functions, disabled)) if sql == wanted_sql && functions == [function_arn] && !disabled => Ok(Change::Unchanged),
        Some(_) => {
            iot.replace_topic_rule()
                .rule_name(&target.names.rule)
                .topic_rule_payload(rule_payload(&target.names.ca_id, function_arn)?)
                .send()
                .await
                .map_err(|e| from_sdk("ReplaceTopicRule", e))?;
            Ok(Change::Updated)
        }
    }
}

/// Whether the rule exists, is enabled, selects this CA's events and targets the Keyline function.
pub(crate) async fn rule_health(target: &Target<'_>) -> Result<Health> {
    Ok(match current_rule(target).await? {
        None => Health::Missing,
        Some((_, _, true)) => Health::Drifted("the rule is disabled".into()),
        Some((sql, _, _)) if sql != rule_sql(&target.names.ca_id) => Health::Drifted(format!("unexpected SQL: {sql}")),
        Some((_, functions, _)) if !functions.iter().any(|f| f.ends_with(&format!(":function:{}", target.names.function))) => {
            Health::Drifted(format!("the rule invokes {functions:?}, not {}", target.names.function))
        }
        Some(_) => Health::Ok,
    })
}

/// Deletes the topic rule.
pub(crate) async fn delete_rule(target: &Target<'_>) -> Result<Change> {
    if current_rule(target).await?.is_none() {
        return Ok(Change::Absent);
    }
    target
        .ctx
        .iot
        .delete_topic_rule()
        .rule_name(&target.names.rule)
        .send()
        .await
        .map_err(|e| from_sdk("DeleteTopicRule", e))?;
    Ok(Change::Deleted)
}
