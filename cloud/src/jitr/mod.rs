//! The just-in-time registration (JITR) stack for one CA: device policy, Lambda execution role, activation Lambda,
//! topic rule and the Lambda's resource permission, plus the CA's allow-list table. Deploy is idempotent
//! (create or update, never duplicate), status reports each piece's health, remove deletes them all.

mod function;
pub(crate) mod iot_pieces;
pub mod policy;
mod role;

use serde::{Deserialize, Serialize};

use crate::allow_list;
use crate::arn::Arns;
use crate::ca::require_ca;
use crate::error::{CloudError, Result};
pub use crate::piece::{Change, Health, PieceChange, PieceStatus};
use crate::settings::CloudContext;

/// The names of every resource of one CA's JITR stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct StackNames {
    /// The CA the stack serves.
    pub ca_id: String,
    /// Shared device policy attached to every activated certificate.
    pub device_policy: String,
    /// Lambda execution role.
    pub role: String,
    /// Activation Lambda function.
    pub function: String,
    /// Topic rule on the CA's registration events (only `[A-Za-z0-9_]`).
    pub rule: String,
    /// Statement id of the Lambda permission for the rule.
    pub permission_sid: String,
    /// The CA's allow-list table (used only when deployed with the allow-list).
    pub allow_list_table: String,
}

impl StackNames {
    /// Names derived from the CA id, so several CAs can have stacks side by side.
    pub fn for_ca(ca_id: &str) -> Self {
        let short: String = ca_id.chars().take(12).collect();
        Self {
            ca_id: ca_id.to_string(),
            device_policy: format!("keyline-device-{short}"),
            role: format!("keyline-jitr-{short}"),
            function: format!("keyline-jitr-{short}"),
            rule: format!("keyline_jitr_{short}"),
            permission_sid: "keyline-iot-rule".to_string(),
            allow_list_table: allow_list::table_name(ca_id),
        }
    }
}

/// What to deploy.
#[derive(Debug, Clone, Default)]
pub struct DeployRequest {
    /// The registered CA (id = SHA-256 of its DER).
    pub ca_id: String,
    /// Check devices against the allow-list table before activating them.
    pub allow_list: bool,
    /// A device policy template replacing the built-in one (see [`policy::device_policy`]).
    pub policy_template: Option<String>,
    /// Topic prefix for the built-in policy; `None` = [`policy::DEFAULT_TOPIC_PREFIX`].
    pub topic_prefix: Option<String>,
}

/// The report of `jitr status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct StackStatus {
    /// Resource names.
    pub names: StackNames,
    /// Each piece's health, in deploy order.
    pub pieces: Vec<PieceStatus>,
}

impl StackStatus {
    /// True when every piece is healthy.
    pub fn healthy(&self) -> bool {
        self.pieces.iter().all(|p| p.health == Health::Ok)
    }
}

/// Everything deploy needs to know about where it runs.
pub(crate) struct Target<'a> {
    pub ctx: &'a CloudContext,
    pub names: &'a StackNames,
    pub account: String,
    pub allow_list_table: Option<String>,
}

impl Target<'_> {
    pub(crate) fn arns(&self) -> Arns {
        Arns::new(&self.ctx.region, &self.account)
    }

    pub(crate) fn rule_arn(&self) -> String {
        self.arns().iot(&format!("rule/{}", self.names.rule))
    }
}

/// Creates or updates the whole JITR stack for a registered CA. Running it again changes nothing.
pub async fn deploy(ctx: &CloudContext, request: &DeployRequest) -> Result<Vec<PieceChange>> {
    let ca = require_ca(ctx, &request.ca_id).await?;
    let names = StackNames::for_ca(&ca.ca_id);
    let account = ctx.account_id().await?;
    let mut changes = Vec::new();
    let allow_list_table = if request.allow_list {
        changes.push(piece("allow-list table", &names.allow_list_table, allow_list::ensure_table(ctx, &ca.ca_id).await?));
        Some(names.allow_list_table.clone())
    } else {
        None
    };
    let target = Target { ctx, names: &names, account, allow_list_table };
    let prefix = request.topic_prefix.as_deref().unwrap_or(policy::DEFAULT_TOPIC_PREFIX);
    let document = policy::device_policy(&target.arns(), prefix, request.policy_template.as_deref())?;
    changes.push(piece("device policy", &names.device_policy, iot_pieces::ensure_device_policy(&target, &document).await?));
    let role_arn;
    let role_change;
    (role_arn, role_change) = role::ensure_role(&target).await?;
    changes.push(piece("lambda role", &names.role, role_change));
    let function_arn;
    let function_change;
    (function_arn, function_change) = function::ensure_function(&target, &role_arn).await?;
    changes.push(piece("lambda function", &names.function, function_change));
    changes.push(piece("topic rule", &names.rule, iot_pieces::ensure_rule(&target, &function_arn).await?));
    changes.push(piece("lambda permission", &names.permission_sid, function::ensure_permission(&target).await?));
    changes.extend(crate::jitp::remove_leftovers(ctx, &ca.ca_id).await?);
    if ca.status != "ACTIVE" || ca.auto_registration != "ENABLE" {
        tracing::warn!(ca = %ca.ca_id, status = %ca.status, auto = %ca.auto_registration,
            "the CA is not ACTIVE with auto-registration; devices will not register until it is");
    }
    Ok(changes)
}

/// Reports every piece of the CA's JITR stack and its health.
pub async fn status(ctx: &CloudContext, ca_id: &str) -> Result<StackStatus> {
    let names = StackNames::for_ca(ca_id);
    let account = ctx.account_id().await?;
    let function_env = function::describe_environment(ctx, &names).await?;
    let allow_list_table = function_env.as_ref().and_then(|env| env.get("KEYLINE_ALLOW_LIST_TABLE").cloned()).filter(|t| !t.is_empty());
    let target = Target { ctx, names: &names, account, allow_list_table: allow_list_table.clone() };
    let mut pieces = Vec::new();
    let ca_health = match crate::ca::describe_ca(ctx, ca_id).await? {
        None => Health::Missing,
        Some(ca) if ca.status == "ACTIVE" && ca.auto_registration == "ENABLE" => Health::Ok,
        Some(ca) => Health::Drifted(format!("status {} with auto-registration {}; run `keyline cloud register-ca` to reconcile", ca.status, ca.auto_registration)),
    };
    pieces.push(PieceStatus { piece: "CA registration".into(), name: ca_id.to_string(), health: ca_health });
    if let Some(table) = &allow_list_table {
        pieces.push(PieceStatus { piece: "allow-list table".into(), name: table.clone(), health: allow_list::table_health(ctx, ca_id).await? });
    }
    pieces.push(PieceStatus { piece: "device policy".into(), name: names.device_policy.clone(), health: iot_pieces::policy_health(&target).await? });
    pieces.push(PieceStatus { piece: "lambda role".into(), name: names.role.clone(), health: role::role_health(&target).await? });
    pieces.push(PieceStatus { piece: "lambda function".into(), name: names.function.clone(), health: function::function_health(&target).await? });
    pieces.push(PieceStatus { piece: "topic rule".into(), name: names.rule.clone(), health: iot_pieces::rule_health(&target).await? });
    pieces.push(PieceStatus { piece: "lambda permission".into(), name: names.permission_sid.clone(), health: function::permission_health(&target).await? });
    Ok(StackStatus { names, pieces })
}

/// Deletes every piece of the CA's JITR stack (in reverse order). With `purge_allow_list` the CA's allow-list
/// table goes too. Device certificates, things and the CA registration are left alone.
pub async fn remove(ctx: &CloudContext, ca_id: &str, purge_allow_list: bool) -> Result<Vec<PieceChange>> {
    let names = StackNames::for_ca(ca_id);
    let account = ctx.account_id().await?;
    let target = Target { ctx, names: &names, account, allow_list_table: None };
    let mut changes = vec![
        piece("topic rule", &names.rule, iot_pieces::delete_rule(&target).await?),
        piece("lambda function", &names.function, function::delete_function(&target).await?),
        piece("lambda role", &names.role, role::delete_role(&target).await?),
        piece("device policy", &names.device_policy, iot_pieces::delete_device_policy(&target).await?),
    ];
    if purge_allow_list {
        changes.push(piece("allow-list table", &names.allow_list_table, allow_list::delete_table(ctx, ca_id).await?));
    }
    Ok(changes)
}

/// Removes what JITR left on a CA that switches to JITP: the topic rule, the Lambda and its role (the device
/// policy is shared by both methods; the allow-list table keeps its data). Reports only what it deleted.
pub(crate) async fn remove_lambda_pieces(target: &Target<'_>) -> Result<Vec<PieceChange>> {
    let names = target.names;
    let removed = [
        ("JITR topic rule", &names.rule, iot_pieces::delete_rule(target).await?),
        ("JITR lambda function", &names.function, function::delete_function(target).await?),
        ("JITR lambda role", &names.role, role::delete_role(target).await?),
    ];
    Ok(removed.into_iter().filter(|(_, _, change)| *change == Change::Deleted).map(|(p, n, c)| piece(p, n, c)).collect())
}

fn piece(piece: &str, name: &str, change: Change) -> PieceChange {
    PieceChange { piece: piece.to_string(), name: name.to_string(), change }
}

/// Fails with [`CloudError::StackIncomplete`] naming the unhealthy pieces.
pub fn require_healthy(status: &StackStatus) -> Result<()> {
    let missing: Vec<String> = status
        .pieces
        .iter()
        .filter(|p| p.health != Health::Ok)
        .map(|p| format!("{} {}", p.piece, p.name))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(CloudError::StackIncomplete { ca_id: status.names.ca_id.clone(), missing: missing.join(", ") })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_names_use_only_allowed_characters() {
        let names = StackNames::for_ca(&"ab12".repeat(16));
        assert!(names.rule.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        assert_eq!(names.function, "keyline-jitr-ab12ab12ab12");
    }
}
