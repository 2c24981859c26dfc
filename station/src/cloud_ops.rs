//! The cloud operations the front ends call (the `keyline cloud` CLI and the desktop shell's wizard), and the
//! cloud types they show: the one path from a window or a terminal to `keyline-cloud`. Front ends never depend on
//! the cloud crate themselves.

use std::path::{Path, PathBuf};

use keyline_cloud::{allow_list, ca, devices, jitp, jitr};

pub use keyline_cloud::allow_list::SyncReport;
pub use keyline_cloud::ca::{CaInfo, CaMode, CaRegistration};
pub use keyline_cloud::devices::{DeviceCert, DeviceSummary};
pub use keyline_cloud::emulator::{
    default_endpoint_url as emulator_endpoint_url, default_mqtt_endpoint as emulator_mqtt_endpoint, Emulator, EmulatorConfig,
    API_PORT as EMULATOR_API_PORT, MINISTACK_VERSION, MQTT_PORT as EMULATOR_MQTT_PORT, REGION as EMULATOR_REGION,
};
pub use keyline_cloud::jitr::policy::DEFAULT_TOPIC_PREFIX;
pub use keyline_cloud::jitr::{Change, Health, PieceChange, StackStatus};
pub use keyline_cloud::mqtt::{AttemptOutcome, ConnectReport};
pub use keyline_cloud::{CallerIdentity, CloudContext, CloudSettings};

pub use crate::cloud::{connect, operator_permissions, RegisterCaOutcome};
pub use crate::cloud_ledger::{AllowListSync, JoinedDevice, JoinedSummary};
pub use keyline_cloud::permissions::Method as PermissionsMethod;
pub use keyline_cloud::waiting::ActivatedDevice;
use crate::{Error, Result, Station};

/// Largest device policy template accepted (the AWS policy document limit).
const MAX_POLICY_TEMPLATE: u64 = 20 * 1024;

/// Blank strings from form fields or flags mean "not set"; the emulator gets its default endpoint and region and
/// never a profile.
pub fn normalise_settings(settings: CloudSettings) -> CloudSettings {
    let clean = |value: Option<String>| value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let mut settings = CloudSettings {
        profile: clean(settings.profile),
        region: clean(settings.region),
        endpoint_url: clean(settings.endpoint_url),
        emulator: settings.emulator,
    };
    if settings.emulator {
        settings.profile = None;
        settings.endpoint_url.get_or_insert_with(emulator_endpoint_url);
        settings.region.get_or_insert_with(|| EMULATOR_REGION.to_string());
    }
    settings
}

/// Normalises the settings and resolves them into clients.
pub async fn connect_normalised(settings: CloudSettings) -> Result<CloudContext> {
    connect(&normalise_settings(settings)).await
}

/// The account, identity, region and endpoint the context resolves to (STS GetCallerIdentity).
pub async fn identity(ctx: &CloudContext) -> Result<CallerIdentity> {
    Ok(ctx.identity().await?)
}

/// AWS profile names on this machine (names only, never secrets).
pub async fn aws_profile_names() -> Vec<String> {
    keyline_cloud::profiles::profile_names().await
}

/// Starts the local emulator (ministack) with `config`; it stops when the returned value is dropped.
pub async fn start_emulator(config: EmulatorConfig) -> Result<Emulator> {
    Ok(Emulator::start(config).await?)
}

/// A device policy template from a file, bounded by the AWS policy size limit.
pub fn read_policy_template(path: &Path) -> Result<String> {
    let size = std::fs::metadata(path).map_err(|e| Error::io("cannot read", path, e))?.len();
    if size > MAX_POLICY_TEMPLATE {
        return Err(Error::InvalidInput { what: "policy template".into(), reason: "larger than 20 KiB (the AWS policy limit)".into() });
    }
    std::fs::read_to_string(path).map_err(|e| Error::io("cannot read", path, e))
}

/// How to deploy a CA's JITR stack.
#[derive(Debug, Clone, Default)]
pub struct JitrDeploy {
    /// Registered CA: store name or 64-hex AWS id.
    pub ca: String,
    /// Activate only devices on the allow-list (creates the table); revoke the rest.
    pub allow_list: bool,
    /// Device policy template file (JSON with placeholders); the built-in policy when `None`.
    pub policy_template: Option<PathBuf>,
    /// Devices publish and subscribe below `<prefix>/<serial>/`; the default prefix when `None`.
    pub topic_prefix: Option<String>,
}

/// How to attach a JITP template to a CA registration.
#[derive(Debug, Clone, Default)]
pub struct JitpDeploy {
    /// Registered CA: store name or 64-hex AWS id.
    pub ca: String,
    /// Device policy template file; the built-in policy when `None`.
    pub policy_template: Option<PathBuf>,
    /// Topic prefix of the device policy; the default prefix when `None`.
    pub topic_prefix: Option<String>,
}

/// Checks serials typed or scanned by hand without sending anything.
pub fn parse_serials(serials: &[String]) -> Result<Vec<String>> {
    Ok(allow_list::parse_serials(&serials.join("\n"))?)
}

/// Reads a file of serials (one per line, `#` comments), bounded and strictly parsed.
pub fn read_serials_file(path: &Path) -> Result<Vec<String>> {
    Ok(allow_list::read_serials_file(path)?)
}

/// Fails with the cloud's "stack incomplete" error naming the unhealthy pieces.
pub fn require_healthy(status: &StackStatus) -> Result<()> {
    Ok(jitr::require_healthy(status)?)
}

/// The registered CAs of the account and region.
pub async fn list_cas(ctx: &CloudContext) -> Result<Vec<CaInfo>> {
    Ok(ca::list_cas(ctx).await?)
}

impl Station {
    /// A store CA name → its AWS IoT id; a 64-hex id passes through (lower-cased).
    pub fn resolve_cloud_ca(&self, ca: &str) -> Result<String> {
        if ca.len() == 64 && ca.chars().all(|c| c.is_ascii_hexdigit()) {
            return Ok(ca.to_ascii_lowercase());
        }
        self.cloud_ca_id(ca)
    }

    /// AWS CA id → store name, for every CA in the store (CAs that cannot be read are left out).
    pub fn cloud_local_names(&self) -> Vec<(String, String)> {
        let Ok(cas) = self.list_cas() else { return Vec::new() };
        cas.into_iter().filter_map(|summary| Some((self.cloud_ca_id(&summary.name).ok()?, summary.name))).collect()
    }

    /// One registered CA.
    pub async fn cloud_ca_show(&self, ctx: &CloudContext, ca: &str) -> Result<CaInfo> {
        Ok(ca::require_ca(ctx, &self.resolve_cloud_ca(ca)?).await?)
    }

    /// Sets the CA ACTIVE or INACTIVE and returns it as it is now.
    pub async fn cloud_ca_set_active(&self, ctx: &CloudContext, ca: &str, active: bool) -> Result<CaInfo> {
        let id = self.resolve_cloud_ca(ca)?;
        ca::set_ca_status(ctx, &id, active).await?;
        Ok(ca::require_ca(ctx, &id).await?)
    }

    /// Turns auto-registration (JITR/JITP) on or off and returns the CA as it is now.
    pub async fn cloud_ca_set_auto_registration(&self, ctx: &CloudContext, ca: &str, enabled: bool) -> Result<CaInfo> {
        let id = self.resolve_cloud_ca(ca)?;
        ca::set_auto_registration(ctx, &id, enabled).await?;
        Ok(ca::require_ca(ctx, &id).await?)
    }

    /// Deletes the CA registration (with `force`: deactivates it and deletes its device certificates first);
    /// returns the deleted id.
    pub async fn cloud_ca_delete(&self, ctx: &CloudContext, ca: &str, force: bool) -> Result<String> {
        let id = self.resolve_cloud_ca(ca)?;
        ca::delete_ca(ctx, &id, force).await?;
        Ok(id)
    }

    /// Creates or updates the CA's JITR stack: device policy, Lambda role, Lambda, topic rule, permission
    /// (and the allow-list table).
    pub async fn cloud_jitr_deploy(&self, ctx: &CloudContext, deploy: &JitrDeploy) -> Result<Vec<PieceChange>> {
        let request = jitr::DeployRequest {
            ca_id: self.resolve_cloud_ca(&deploy.ca)?,
            allow_list: deploy.allow_list,
            policy_template: deploy.policy_template.as_deref().map(read_policy_template).transpose()?,
            topic_prefix: deploy.topic_prefix.clone(),
        };
        let changes = jitr::deploy(ctx, &request).await?;
        tracing::info!(ca = %deploy.ca, allow_list = deploy.allow_list, pieces = changes.len(), "deployed JITR");
        Ok(changes)
    }

    /// Every piece of the CA's JITR stack and its health.
    pub async fn cloud_jitr_status(&self, ctx: &CloudContext, ca: &str) -> Result<StackStatus> {
        Ok(jitr::status(ctx, &self.resolve_cloud_ca(ca)?).await?)
    }

    /// Removes the CA's JITR stack (device certificates, things and the CA registration stay); with
    /// `purge_allow_list` also the shared allow-list table.
    pub async fn cloud_jitr_remove(&self, ctx: &CloudContext, ca: &str, purge_allow_list: bool) -> Result<Vec<PieceChange>> {
        Ok(jitr::remove(ctx, &self.resolve_cloud_ca(ca)?, purge_allow_list).await?)
    }

    /// Creates or updates the device policy and provisioning role and attaches the JITP template to the CA.
    pub async fn cloud_jitp_deploy(&self, ctx: &CloudContext, deploy: &JitpDeploy) -> Result<Vec<PieceChange>> {
        let request = jitp::JitpRequest {
            ca_id: self.resolve_cloud_ca(&deploy.ca)?,
            policy_template: deploy.policy_template.as_deref().map(read_policy_template).transpose()?,
            topic_prefix: deploy.topic_prefix.clone(),
        };
        let changes = jitp::deploy(ctx, &request).await?;
        tracing::info!(ca = %deploy.ca, pieces = changes.len(), "deployed JITP");
        Ok(changes)
    }

    /// The serials on CA `ca`'s allow-list.
    pub async fn cloud_allow_list(&self, ctx: &CloudContext, ca: &str) -> Result<Vec<String>> {
        Ok(allow_list::list(ctx, &self.cloud_ca_id(ca)?).await?)
    }

    /// Allows one serial under CA `ca`.
    pub async fn cloud_allow_list_add(&self, ctx: &CloudContext, ca: &str, serial: &str) -> Result<()> {
        Ok(allow_list::add(ctx, &self.cloud_ca_id(ca)?, serial).await?)
    }

    /// Allows serials typed or scanned by hand under CA `ca` (each checked first; nothing is written if one is
    /// invalid) and returns the whole list.
    pub async fn cloud_allow_list_add_all(&self, ctx: &CloudContext, ca: &str, serials: &[String]) -> Result<Vec<String>> {
        let ca_id = self.cloud_ca_id(ca)?;
        let serials = parse_serials(serials)?;
        for serial in &serials {
            allow_list::add(ctx, &ca_id, serial).await?;
        }
        tracing::info!(ca, count = serials.len(), "added serials to the allow-list");
        Ok(allow_list::list(ctx, &ca_id).await?)
    }

    /// Removes one serial from CA `ca`'s allow-list (its device is revoked on its next first connect).
    pub async fn cloud_allow_list_remove(&self, ctx: &CloudContext, ca: &str, serial: &str) -> Result<()> {
        Ok(allow_list::remove(ctx, &self.cloud_ca_id(ca)?, serial).await?)
    }

    /// The device certificates registered under a CA, joined with the ledger.
    pub async fn cloud_devices_of_ca(&self, ctx: &CloudContext, ca: &str) -> Result<Vec<JoinedSummary>> {
        let list = devices::list_devices_of_ca(ctx, &self.resolve_cloud_ca(ca)?).await?;
        self.join_cloud_summaries(list)
    }

    /// One device certificate (ledger serial, thing name or certificate id), joined with the ledger.
    pub async fn cloud_device(&self, ctx: &CloudContext, query: &str) -> Result<JoinedDevice> {
        let found = self.find_cloud_device(ctx, query).await?;
        self.join_cloud_device(found)
    }

    /// Activates or revokes a device certificate and returns it as it is now.
    pub async fn cloud_device_set_active(&self, ctx: &CloudContext, query: &str, active: bool) -> Result<JoinedDevice> {
        let found = self.find_cloud_device(ctx, query).await?;
        if active {
            devices::activate_device(ctx, &found.certificate_id).await?;
        } else {
            devices::revoke_device(ctx, &found.certificate_id).await?;
        }
        self.join_cloud_device(devices::find_device(ctx, &found.certificate_id).await?)
    }

    /// A ledger serial goes to its current certificate; anything else (thing name, certificate id) to the cloud's
    /// own lookup.
    async fn find_cloud_device(&self, ctx: &CloudContext, query: &str) -> Result<DeviceCert> {
        if let Some(cert_id) = self.ledger_cert_id(query)? {
            if let Some(found) = devices::describe_device(ctx, &cert_id).await? {
                return Ok(found);
            }
        }
        Ok(devices::find_device(ctx, query).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_emulator_gets_its_endpoint_and_region_and_blank_fields_are_unset() {
        let settings = normalise_settings(CloudSettings { profile: Some("ignored".into()), region: Some(" ".into()), endpoint_url: None, emulator: true });
        assert_eq!(settings.endpoint_url.as_deref(), Some("http://127.0.0.1:4566"));
        assert_eq!(settings.region.as_deref(), Some(EMULATOR_REGION));
        assert_eq!(settings.profile, None);
        let aws = normalise_settings(CloudSettings { profile: Some("".into()), region: Some("eu-west-1".into()), endpoint_url: Some("".into()), emulator: false });
        assert_eq!((aws.profile, aws.region.as_deref(), aws.endpoint_url), (None, Some("eu-west-1"), None));
    }
}
