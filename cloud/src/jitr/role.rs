//! The activation Lambda's IAM execution role: trusted by Lambda only, with one inline least-privilege policy.

use super::policy::{lambda_role_policy, lambda_trust_policy, same_document};
use super::{Change, Health, Target};
use crate::error::{from_sdk, is_code, Result, NOT_FOUND};

/// Name of the role's inline policy.
const INLINE_POLICY: &str = "keyline-jitr-activation";

fn wanted_policy(target: &Target<'_>) -> String {
    lambda_role_policy(&target.arns(), &target.names.function, target.allow_list_table.as_deref())
}

/// The role's ARN and trust document, if it exists.
async fn current_role(target: &Target<'_>) -> Result<Option<(String, String)>> {
    match target.ctx.iam.get_role().role_name(&target.names.role).send().await {
        Ok(out) => Ok(out.role().map(|role| {
            (role.arn().to_string(), role.assume_role_policy_document().unwrap_or_default().to_string())
        })),
        Err(err) if is_code(&err, NOT_FOUND) => Ok(None),
        Err(err) => Err(from_sdk("GetRole", err)),
    }
}

async fn current_inline_policy(target: &Target<'_>) -> Result<Option<String>> {
    match target.ctx.iam.get_role_policy().role_name(&target.names.role).policy_name(INLINE_POLICY).send().await {
        Ok(out) => Ok(Some(out.policy_document().to_string())),
        Err(err) if is_code(&err, NOT_FOUND) => Ok(None),
        Err(err) => Err(from_sdk("GetRolePolicy", err)),
    }
}

/// Creates the role or brings its trust and inline policy up to date; returns its ARN.
pub(crate) async fn ensure_role(target: &Target<'_>) -> Result<(String, Change)> {
    let iam = &target.ctx.iam;
    let name = &target.names.role;
    let trust = lambda_trust_policy();
    let mut change = Change::Unchanged;
    let arn = match current_role(target).await? {
        None => {
            let out = iam
                .create_role()
                .role_name(name)
                .assume_role_policy_document(&trust)
                .description("Keyline JITR activation Lambda: read and activate device certificates")
                .send()
                .await
                .map_err(|e| from_sdk("CreateRole", e))?;
            change = Change::Created;
            out.role().map(|r| r.arn().to_string()).unwrap_or_default()
        }
        Some((arn, current_trust)) => {
            if !same_document(&current_trust, &trust) {
                iam.update_assume_role_policy()
                    .role_name(name)
                    .policy_document(&trust)
                    .send()
                    .await
                    .map_err(|e| from_sdk("UpdateAssumeRolePolicy", e))?;
                change = Change::Updated;
            }
            arn
        }
    };
    let policy = wanted_policy(target);
    let current = current_inline_policy(target).await?;
    if !current.as_deref().is_some_and(|doc| same_document(doc, &policy)) {
        iam.put_role_policy()
            .role_name(name)
            .policy_name(INLINE_POLICY)
            .policy_document(&policy)
            .send()
            .await
            .map_err(|e| from_sdk("PutRolePolicy", e))?;
        if change == Change::Unchanged {
            change = Change::Updated;
        }
    }
    Ok((arn, change))
}

/// Whether the role exists with the expected inline policy.
pub(crate) async fn role_health(target: &Target<'_>) -> Result<Health> {
    if current_role(target).await?.is_none() {
        return Ok(Health::Missing);
    }
    Ok(match current_inline_policy(target).await? {
        None => Health::Drifted(format!("the inline policy {INLINE_POLICY} is missing")),
        Some(doc) if !same_document(&doc, &wanted_policy(target)) => Health::Drifted("the inline policy differs from Keyline's".into()),
        Some(_) => Health::Ok,
    })
}

/// Deletes the role's inline and attached policies, then the role.
pub(crate) async fn delete_role(target: &Target<'_>) -> Result<Change> {
    let iam = &target.ctx.iam;
    let name = &target.names.role;
    if current_role(target).await?.is_none() {
        return Ok(Change::Absent);
    }
    let inline = iam.list_role_policies().role_name(name).send().await.map_err(|e| from_sdk("ListRolePolicies", e))?;
    for policy in inline.policy_names() {
        iam.delete_role_policy().role_name(name).policy_name(policy).send().await.map_err(|e| from_sdk("DeleteRolePolicy", e))?;
    }
    let attached = iam
        .list_attached_role_policies()
        .role_name(name)
        .send()
        .await
        .map_err(|e| from_sdk("ListAttachedRolePolicies", e))?;
    for policy in attached.attached_policies() {
        if let Some(arn) = policy.policy_arn() {
            iam.detach_role_policy().role_name(name).policy_arn(arn).send().await.map_err(|e| from_sdk("DetachRolePolicy", e))?;
        }
    }
    iam.delete_role().role_name(name).send().await.map_err(|e| from_sdk("DeleteRole", e))?;
    Ok(Change::Deleted)
}
