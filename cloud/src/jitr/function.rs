//! The activation Lambda: its deployment package (the Python source shipped in `cloud/lambda/`), create/update,
//! and the resource permission that lets only this stack's topic rule invoke it.

use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Environment, FunctionCode, LastUpdateStatus, Runtime, State};
use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{Change, Health, StackNames, Target};
use crate::error::{from_sdk, is_code, CloudError, Result, NOT_FOUND};
use crate::retry::{is_role_not_assumable, PropagationRetry};
use crate::settings::CloudContext;

/// The function's source, shipped inside Keyline.
const SOURCE: &str = include_str!("../../lambda/keyline_jitr.py");
/// A current managed runtime whose boto3 the function uses; no layers, no third-party packages.
const RUNTIME: &str = "python3.13";
const HANDLER: &str = "keyline_jitr.handler";

/// The deployment package: a zip with the one source file, byte-for-byte reproducible.
pub(crate) fn package() -> Vec<u8> {
    let mut buffer = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buffer);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .last_modified_time(zip::DateTime::default())
            .unix_permissions(0o644);
        zip.start_file("keyline_jitr.py", options).expect("writing to memory cannot fail");
        zip.write_all(SOURCE.as_bytes()).expect("writing to memory cannot fail");
        zip.finish().expect("writing to memory cannot fail");
    }
    buffer.into_inner()
}

/// Lambda's `CodeSha256`: base64 of the SHA-256 of the package.
fn code_sha256(package: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(package))
}

fn wanted_environment(target: &Target<'_>) -> HashMap<String, String> {
    HashMap::from([
        ("KEYLINE_CA_CERTIFICATE_ID".to_string(), target.names.ca_id.clone()),
        ("KEYLINE_DEVICE_POLICY".to_string(), target.names.device_policy.clone()),
        ("KEYLINE_ACCOUNT_ID".to_string(), target.account.clone()),
        ("KEYLINE_ALLOW_LIST_TABLE".to_string(), target.allow_list_table.clone().unwrap_or_default()),
    ])
}

struct CurrentFunction {
    arn: String,
    runtime: String,
    role: String,
    handler: String,
    code_sha256: String,
    environment: HashMap<String, String>,
}

async fn current_function(ctx: &CloudContext, names: &StackNames) -> Result<Option<CurrentFunction>> {
    match ctx.lambda.get_function().function_name(&names.function).send().await {
        Ok(out) => Ok(out.configuration().map(|c| CurrentFunction {
            arn: c.function_arn().unwrap_or_default().to_string(),
            runtime: c.runtime().map(|r| r.as_str().to_string()).unwrap_or_default(),
            role: c.role().unwrap_or_default().to_string(),
            handler: c.handler().unwrap_or_default().to_string(),
            code_sha256: c.code_sha256().unwrap_or_default().to_string(),
            environment: c.environment().and_then(|e| e.variables()).cloned().unwrap_or_default(),
        })),
        Err(err) if is_code(&err, NOT_FOUND) => Ok(None),
        Err(err) => Err(from_sdk("GetFunction", err)),
    }
}

/// The deployed function's environment (tells `status` whether the allow-list is in use).
pub(crate) async fn describe_environment(ctx: &CloudContext, names: &StackNames) -> Result<Option<HashMap<String, String>>> {
    Ok(current_function(ctx, names).await?.map(|f| f.environment))
}

/// Creates the function (retrying while IAM propagates the new role) or updates its code and configuration.
pub(crate) async fn ensure_function(target: &Target<'_>, role_arn: &str) -> Result<(String, Change)> {
    let lambda = &target.ctx.lambda;
    let name = &target.names.function;
    let package = package();
    let environment = wanted_environment(target);
    let Some(current) = current_function(target.ctx, target.names).await? else {
        let out = PropagationRetry::default()
            .run("CreateFunction", is_role_not_assumable, || async {
                lambda
                    .create_function()
                    .function_name(name)
                    .runtime(Runtime::from(RUNTIME))
                    .handler(HANDLER)
                    .role(role_arn)
                    .code(FunctionCode::builder().zip_file(Blob::new(package.clone())).build())
                    .environment(Environment::builder().set_variables(Some(environment.clone())).build())
                    .description("Keyline JITR: activates allowed device certificates, leaves unknown ones INACTIVE")
                    .timeout(30)
                    .memory_size(128)
                    .send()
                    .await
                    .map_err(|e| from_sdk("CreateFunction", e))
            })
            .await?;
        wait_until_ready(target).await?;
        return Ok((out.function_arn().unwrap_or_default().to_string(), Change::Created));
    };
    let mut change = Change::Unchanged;
    if current.code_sha256 != code_sha256(&package) {
        lambda
            .update_function_code()
            .function_name(name)
            .zip_file(Blob::new(package.clone()))
            .send()
            .await
            .map_err(|e| from_sdk("UpdateFunctionCode", e))?;
        wait_until_ready(target).await?;
        change = Change::Updated;
    }
    if current.runtime != RUNTIME || current.handler != HANDLER || current.role != role_arn || current.environment != environment {
        PropagationRetry::default()
            .run("UpdateFunctionConfiguration", is_role_not_assumable, || async {
                lambda
                    .update_function_configuration()
                    .function_name(name)
                    .runtime(Runtime::from(RUNTIME))
                    .handler(HANDLER)
                    .role(role_arn)
                    .environment(Environment::builder().set_variables(Some(environment.clone())).build())
                    .send()
                    .await
                    .map_err(|e| from_sdk("UpdateFunctionConfiguration", e))
            })
            .await?;
        wait_until_ready(target).await?;
        change = Change::Updated;
    }
    Ok((current.arn, change))
}

/// Waits (up to a minute) until the function is Active and no update is in progress.
async fn wait_until_ready(target: &Target<'_>) -> Result<()> {
    for _ in 0..60 {
        let out = target
            .ctx
            .lambda
            .get_function_configuration()
            .function_name(&target.names.function)
            .send()
            .await
            .map_err(|e| from_sdk("GetFunctionConfiguration", e))?;
        let pending = matches!(out.state(), Some(State::Pending))
            || matches!(out.last_update_status(), Some(LastUpdateStatus::InProgress));
        if !pending {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    Err(CloudError::Aws {
        operation: "GetFunctionConfiguration",
        code: "Timeout".into(),
        message: format!("{} did not become Active within a minute; check it in the Lambda console", target.names.function),
    })
}

/// Whether the function exists with Keyline's code, runtime and handler.
pub(crate) async fn function_health(target: &Target<'_>) -> Result<Health> {
    Ok(match current_function(target.ctx, target.names).await? {
        None => Health::Missing,
        Some(f) if f.code_sha256 != code_sha256(&package()) => Health::Drifted("its code is not this Keyline's; deploy again".into()),
        Some(f) if f.runtime != RUNTIME || f.handler != HANDLER => {
            Health::Drifted(format!("runtime {} / handler {}; deploy again", f.runtime, f.handler))
        }
        Some(f) if f.environment.get("KEYLINE_CA_CERTIFICATE_ID") != Some(&target.names.ca_id) => {
            Health::Drifted("it serves another CA; deploy again".into())
        }
        Some(_) => Health::Ok,
    })
}

/// Deletes the function (its resource policy goes with it).
pub(crate) async fn delete_function(target: &Target<'_>) -> Result<Change> {
    match target.ctx.lambda.delete_function().function_name(&target.names.function).send().await {
        Ok(_) => Ok(Change::Deleted),
        Err(err) if is_code(&err, NOT_FOUND) => Ok(Change::Absent),
        Err(err) => Err(from_sdk("DeleteFunction", err)),
    }
}

/// The SourceArn of Keyline's permission statement, if present.
async fn current_permission_source(target: &Target<'_>) -> Result<Option<String>> {
    let policy = match target.ctx.lambda.get_policy().function_name(&target.names.function).send().await {
        Ok(out) => out.policy().unwrap_or_default().to_string(),
        Err(err) if is_code(&err, NOT_FOUND) => return Ok(None),
        Err(err) => return Err(from_sdk("GetPolicy", err)),
    };
    let document: Value = serde_json::from_str(&policy).unwrap_or(Value::Null);
    let statements = document.get("Statement").and_then(Value::as_array).cloned().unwrap_or_default();
    Ok(statements
        .iter()
        .find(|s| s.get("Sid").and_then(Value::as_str) == Some(target.names.permission_sid.as_str()))
        .map(|s| {
            s.pointer("/Condition/ArnLike/AWS:SourceArn")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        }))
}

/// Lets `iot.amazonaws.com` invoke the function, only from this stack's rule in this account.
pub(crate) async fn ensure_permission(target: &Target<'_>) -> Result<Change> {
    let lambda = &target.ctx.lambda;
    let rule_arn = target.rule_arn();
    let mut change = Change::Created;
    match current_permission_source(target).await? {
        Some(source) if source == rule_arn => return Ok(Change::Unchanged),
        Some(_) => {
            lambda
                .remove_permission()
                .function_name(&target.names.function)
                .statement_id(&target.names.permission_sid)
                .send()
                .await
                .map_err(|e| from_sdk("RemovePermission", e))?;
            change = Change::Updated;
        }
        None => {}
    }
    PropagationRetry::default()
        .run("AddPermission", |e| matches!(e, CloudError::Aws { code, .. } if code == "ResourceConflictException"), || async {
            lambda
                .add_permission()
                .function_name(&target.names.function)
                .statement_id(&target.names.permission_sid)
                .action("lambda:InvokeFunction")
                .principal("iot.amazonaws.com")
                .source_arn(&rule_arn)
                .source_account(&target.account)
                .send()
                .await
                .map_err(|e| from_sdk("AddPermission", e))
        })
        .await?;
    Ok(change)
}

/// Whether the permission exists and is scoped to this stack's rule.
pub(crate) async fn permission_health(target: &Target<'_>) -> Result<Health> {
    Ok(match current_permission_source(target).await? {
        None => Health::Missing,
        Some(source) if source != target.rule_arn() => Health::Drifted(format!("scoped to {source:?}, not the rule")),
        Some(_) => Health::Ok,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_package_is_reproducible_and_holds_the_source() {
        let first = package();
        assert_eq!(first, package());
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(first)).unwrap();
        let mut file = archive.by_name("keyline_jitr.py").unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut file, &mut text).unwrap();
        assert!(text.contains("def handler(event, context):"));
    }
}
