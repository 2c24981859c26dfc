//! The JITR stack against ministack: deploy creates every piece, a second deploy changes nothing and duplicates
//! nothing, status sees every piece, remove leaves nothing; the allow-list table's single-entry operations.

use keyline_cloud::allow_list;
use keyline_cloud::jitr::{self, Change, DeployRequest, Health};

use crate::{case, ensure, fail, register_test_ca, Case, CaseResult, Env};

pub fn cases() -> Vec<(&'static str, Case)> {
    vec![
        case!(deploy_twice_gives_the_same_resources_and_remove_leaves_nothing),
        case!(allow_list_add_remove_list_and_sync_in_batches),
        case!(jitp_deploy_attaches_a_valid_template_and_is_idempotent),
        case!(a_policy_template_replaces_the_device_policy_as_a_new_version),
        case!(two_cas_in_one_account_one_jitr_one_jitp_and_switching_removes_the_other_method),
    ]
}

async fn keyline_resources(env: &Env) -> Result<Vec<String>, String> {
    let ctx = &env.ctx;
    let mut found = Vec::new();
    let policies = ctx.iot.list_policies().send().await.map_err(fail("ListPolicies"))?;
    found.extend(policies.policies().iter().filter_map(|p| p.policy_name()).map(|n| format!("policy {n}")));
    let rules = ctx.iot.list_topic_rules().send().await.map_err(fail("ListTopicRules"))?;
    found.extend(rules.rules().iter().filter_map(|r| r.rule_name()).map(|n| format!("rule {n}")));
    let roles = ctx.iam.list_roles().send().await.map_err(fail("ListRoles"))?;
    found.extend(roles.roles().iter().map(|r| format!("role {}", r.role_name())));
    let functions = ctx.lambda.list_functions().send().await.map_err(fail("ListFunctions"))?;
    found.extend(functions.functions().iter().filter_map(|f| f.function_name()).map(|n| format!("function {n}")));
    let tables = ctx.dynamodb.list_tables().send().await.map_err(fail("ListTables"))?;
    found.extend(tables.table_names().iter().map(|n| format!("table {n}")));
    found.retain(|r| r.contains("keyline"));
    found.sort();
    Ok(found)
}

async fn deploy_twice_gives_the_same_resources_and_remove_leaves_nothing(env: &Env) -> CaseResult {
    let (_ca, ca_id) = register_test_ca(env, "stack").await?;
    let request = DeployRequest { ca_id: ca_id.clone(), allow_list: true, ..Default::default() };
    let first = jitr::deploy(&env.ctx, &request).await.map_err(fail("first deploy"))?;
    ensure(first.len() == 6 && first.iter().all(|p| p.change == Change::Created), || format!("first deploy: {first:#?}"))?;
    let after_first = keyline_resources(env).await?;
    ensure(after_first.len() == 5, || format!("expected policy, rule, role, function, table: {after_first:?}"))?;

    let second = jitr::deploy(&env.ctx, &request).await.map_err(fail("second deploy"))?;
    ensure(second.iter().all(|p| p.change == Change::Unchanged), || format!("second deploy changed things: {second:#?}"))?;
    ensure(keyline_resources(env).await? == after_first, || "second deploy added resources".into())?;

    let status = jitr::status(&env.ctx, &ca_id).await.map_err(fail("status"))?;
    ensure(status.healthy() && status.pieces.len() == 7, || format!("status: {status:#?}"))?;
    let permission = env.ctx.lambda.get_policy().function_name(&status.names.function).send().await.map_err(fail("GetPolicy"))?;
    let policy_text = permission.policy().unwrap_or_default();
    ensure(policy_text.contains("iot.amazonaws.com") && policy_text.contains(&format!("rule/{}", status.names.rule)), || {
        format!("lambda permission not scoped to the rule: {policy_text}")
    })?;

    // Turning the allow-list off is an update of the function and role only.
    let without = jitr::deploy(&env.ctx, &DeployRequest { allow_list: false, ..request.clone() }).await.map_err(fail("deploy without allow-list"))?;
    let updated: Vec<&str> = without.iter().filter(|p| p.change == Change::Updated).map(|p| p.piece.as_str()).collect();
    ensure(updated == ["lambda role", "lambda function"], || format!("toggle allow-list: {without:#?}"))?;

    let removed = jitr::remove(&env.ctx, &ca_id, true).await.map_err(fail("remove"))?;
    ensure(removed.iter().all(|p| p.change == Change::Deleted), || format!("remove: {removed:#?}"))?;
    let left = keyline_resources(env).await?;
    ensure(left.is_empty(), || format!("left after remove: {left:?}"))?;
    let again = jitr::remove(&env.ctx, &ca_id, true).await.map_err(fail("remove again"))?;
    ensure(again.iter().all(|p| p.change == Change::Absent), || format!("second remove: {again:#?}"))?;
    let status = jitr::status(&env.ctx, &ca_id).await.map_err(fail("status after remove"))?;
    ensure(status.pieces.iter().skip(1).all(|p| p.health == Health::Missing), || format!("status after remove: {status:#?}"))
}

async fn allow_list_add_remove_list_and_sync_in_batches(env: &Env) -> CaseResult {
    let (ca, other) = ("ab".repeat(32), "cd".repeat(32));
    let ca = ca.as_str();
    allow_list::ensure_table(&env.ctx, ca).await.map_err(fail("table"))?;
    allow_list::ensure_table(&env.ctx, &other).await.map_err(fail("other table"))?;
    allow_list::add(&env.ctx, &other, "0999CC").await.map_err(fail("add to the other CA"))?;
    allow_list::add(&env.ctx, ca, "0123AA").await.map_err(fail("add"))?;
    allow_list::add(&env.ctx, ca, "0123BB").await.map_err(fail("add"))?;
    allow_list::remove(&env.ctx, ca, "0123AA").await.map_err(fail("remove"))?;
    ensure(allow_list::list(&env.ctx, ca).await.map_err(fail("list"))? == ["0123BB"], || "after add/remove".into())?;

    let path = env.dir.path().join("serials.txt");
    let lines: Vec<String> = (0..60).map(|i| format!("0123{i:014X}")).collect();
    std::fs::write(&path, format!("# from the factory\n{}\n", lines.join("\n"))).map_err(fail("write serials"))?;
    let serials = allow_list::read_serials_file(&path).map_err(fail("read serials"))?;
    let report = allow_list::sync(&env.ctx, ca, &serials, "file", true).await.map_err(fail("sync"))?;
    ensure(report.written == 60 && report.deleted == 1 && report.batches == 3, || format!("sync report: {report:?}"))?;
    let listed = allow_list::list(&env.ctx, ca).await.map_err(fail("list"))?;
    ensure(listed == serials, || format!("listed {} serials, wanted 60", listed.len()))?;
    let untouched = allow_list::list(&env.ctx, &other).await.map_err(fail("list the other CA"))?;
    ensure(untouched == ["0999CC"], || format!("pruning one CA's list touched another's: {untouched:?}"))?;
    match allow_list::add(&env.ctx, ca, "bad serial").await {
        Err(keyline_cloud::CloudError::InvalidSerial { .. }) => Ok(()),
        other => Err(format!("expected InvalidSerial, got {other:?}")),
    }
}

async fn jitp_deploy_attaches_a_valid_template_and_is_idempotent(env: &Env) -> CaseResult {
    use keyline_cloud::jitp;
    let (_ca, ca_id) = register_test_ca(env, "jitp").await?;
    let request = jitp::JitpRequest { ca_id: ca_id.clone(), ..Default::default() };
    let first = jitp::deploy(&env.ctx, &request).await.map_err(fail("jitp deploy"))?;
    ensure(first.iter().all(|p| p.change == Change::Created), || format!("first jitp deploy: {first:#?}"))?;
    let second = jitp::deploy(&env.ctx, &request).await.map_err(fail("jitp deploy again"))?;
    ensure(second.iter().all(|p| p.change == Change::Unchanged), || format!("second jitp deploy: {second:#?}"))?;

    let described = env.ctx.iot.describe_ca_certificate().certificate_id(&ca_id).send().await.map_err(fail("describe CA"))?;
    let config = described.registration_config().ok_or("the CA has no registration config")?;
    let body = config.template_body().ok_or("no template body")?.to_string();
    ensure(config.role_arn().is_some_and(|arn| arn.ends_with(&jitp::role_name(&ca_id))), || format!("role: {config:?}"))?;
    // ministack validates provisioning templates; have it check ours as a JITP template.
    env.ctx
        .iot
        .create_provisioning_template()
        .template_name("keyline_jitp_check")
        .template_body(&body)
        .provisioning_role_arn(config.role_arn().unwrap_or_default())
        .r#type(aws_sdk_iot::types::TemplateType::Jitp)
        .send()
        .await
        .map_err(fail("ministack rejected the JITP template"))?;
    ensure(!body.contains("SerialNumber") && body.contains("AWS::IoT::Certificate::Organization"), || format!("template parameters: {body}"))?;
    let attached = env.ctx.iam.list_attached_role_policies().role_name(jitp::role_name(&ca_id)).send().await.map_err(fail("role policies"))?;
    ensure(attached.attached_policies().is_empty(), || format!("a managed policy is attached: {attached:?}"))?;
    let inline = env.ctx.iam.list_role_policies().role_name(jitp::role_name(&ca_id)).send().await.map_err(fail("inline policies"))?;
    ensure(inline.policy_names() == ["keyline-jitp-provisioning"], || format!("inline policies: {inline:?}"))?;
    let role = env.ctx.iam.get_role().role_name(jitp::role_name(&ca_id)).send().await.map_err(fail("get role"))?;
    let trust = role.role().and_then(|r| r.assume_role_policy_document()).unwrap_or_default().to_string();
    let trust = percent_encoding::percent_decode_str(&trust).decode_utf8_lossy().to_string();
    ensure(trust.contains("aws:SourceAccount") && trust.contains("000000000000"), || format!("trust policy: {trust}"))?;
    ensure(jitp::remove_role(&env.ctx, &ca_id).await.map_err(fail("remove role"))? == Change::Deleted, || "role not deleted".into())
}

async fn a_policy_template_replaces_the_device_policy_as_a_new_version(env: &Env) -> CaseResult {
    let (_ca, ca_id) = register_test_ca(env, "template").await?;
    let template = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect",
        "Resource":"arn:aws:iot:{{region}}:{{account}}:client/${iot:Connection.Thing.ThingName}"}]}"#;
    let request = DeployRequest { ca_id: ca_id.clone(), policy_template: Some(template.into()), ..Default::default() };
    jitr::deploy(&env.ctx, &request).await.map_err(fail("deploy with template"))?;
    let names = jitr::StackNames::for_ca(&ca_id);
    let policy = env.ctx.iot.get_policy().policy_name(&names.device_policy).send().await.map_err(fail("GetPolicy"))?;
    let document = policy.policy_document().unwrap_or_default();
    ensure(document.contains("arn:aws:iot:us-east-1:000000000000:client/") && !document.contains("iot:Publish"), || document.to_string())?;

    let back = jitr::deploy(&env.ctx, &DeployRequest { policy_template: None, ..request }).await.map_err(fail("deploy default"))?;
    let changed: Vec<&str> = back.iter().filter(|p| p.change == Change::Updated).map(|p| p.piece.as_str()).collect();
    ensure(changed == ["device policy"], || format!("{back:#?}"))?;
    let versions = env.ctx.iot.list_policy_versions().policy_name(&names.device_policy).send().await.map_err(fail("versions"))?;
    ensure(versions.policy_versions().len() == 2, || format!("versions: {versions:?}"))?;
    let policy = env.ctx.iot.get_policy().policy_name(&names.device_policy).send().await.map_err(fail("GetPolicy"))?;
    ensure(policy.policy_document().unwrap_or_default().contains("iot:Publish"), || "default policy not in force".into())?;
    match jitr::deploy(&env.ctx, &DeployRequest { ca_id, policy_template: Some("{\"Statement\": 1".into()), ..Default::default() }).await {
        Err(keyline_cloud::CloudError::InvalidPolicyTemplate { .. }) => Ok(()),
        other => Err(format!("expected InvalidPolicyTemplate, got {other:?}")),
    }
}

async fn two_cas_in_one_account_one_jitr_one_jitp_and_switching_removes_the_other_method(env: &Env) -> CaseResult {
    use keyline_cloud::{ca, jitp};
    let (_a, jitr_ca) = register_test_ca(env, "first").await?;
    let (_b, jitp_ca) = register_test_ca(env, "second").await?;
    ensure(jitr_ca != jitp_ca, || "the two CAs have one id".into())?;
    let cas = ca::list_cas(&env.ctx).await.map_err(fail("list CAs"))?;
    ensure(cas.len() == 2, || format!("registered CAs: {cas:?}"))?;
    jitr::deploy(&env.ctx, &DeployRequest { ca_id: jitr_ca.clone(), allow_list: true, ..Default::default() }).await.map_err(fail("jitr deploy"))?;
    let jitp_changes = jitp::deploy(&env.ctx, &jitp::JitpRequest { ca_id: jitp_ca.clone(), ..Default::default() }).await.map_err(fail("jitp deploy"))?;
    ensure(jitp_changes.len() == 3, || format!("JITP on the second CA touched other things: {jitp_changes:#?}"))?;
    let status = jitr::status(&env.ctx, &jitr_ca).await.map_err(fail("status"))?;
    ensure(status.healthy(), || format!("JITP on the second CA disturbed the first CA's JITR: {status:#?}"))?;
    let first = env.ctx.iot.describe_ca_certificate().certificate_id(&jitr_ca).send().await.map_err(fail("describe"))?;
    ensure(first.registration_config().and_then(|c| c.template_body()).is_none(), || "the JITR CA got a template".into())?;

    // Switching the first CA to JITP removes its Lambda, rule and role; switching back removes the JITP role.
    let switched = jitp::deploy(&env.ctx, &jitp::JitpRequest { ca_id: jitr_ca.clone(), ..Default::default() }).await.map_err(fail("switch to jitp"))?;
    let removed: Vec<&str> = switched.iter().filter(|p| p.change == Change::Deleted).map(|p| p.piece.as_str()).collect();
    ensure(removed == ["JITR topic rule", "JITR lambda function", "JITR lambda role"], || format!("switch to JITP: {switched:#?}"))?;
    let back = jitr::deploy(&env.ctx, &DeployRequest { ca_id: jitr_ca.clone(), allow_list: true, ..Default::default() }).await.map_err(fail("switch back"))?;
    ensure(back.iter().any(|p| p.piece == "JITP provisioning role" && p.change == Change::Deleted), || format!("switch to JITR: {back:#?}"))?;
    let roles = env.ctx.iam.list_roles().send().await.map_err(fail("roles"))?;
    ensure(!roles.roles().iter().any(|r| r.role_name() == jitp::role_name(&jitr_ca)), || "the JITP role of the switched CA is left".into())?;
    let described = ca::describe_ca(&env.ctx, &jitr_ca).await.map_err(fail("describe"))?.ok_or("CA gone")?;
    ensure(described.auto_registration == "ENABLE", || format!("auto-registration after the switch: {described:?}"))?;
    let status = jitr::status(&env.ctx, &jitr_ca).await.map_err(fail("status"))?;
    ensure(status.healthy(), || format!("after switching back: {status:#?}"))
}
