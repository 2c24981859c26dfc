//! Devices the JITR Lambda left waiting: certificates it set INACTIVE because their serial was not on the
//! allow-list yet. Once the serial is allowed, Keyline does what the Lambda would have done (thing, attachments,
//! ACTIVE last). A waiting certificate is INACTIVE with no thing and no policy attached, which tells it apart from
//! a device an operator deactivated after it had been activated.

use serde::{Deserialize, Serialize};

use crate::allow_list;
use crate::devices::{describe_device, list_devices_of_ca, DeviceCert};
use crate::error::{from_sdk, is_code, Result};
use crate::jitr::StackNames;
use crate::settings::CloudContext;

/// One waiting device that was activated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ActivatedDevice {
    /// SHA-256 of the DER.
    pub certificate_id: String,
    /// The serial (CN, thing name).
    pub serial: String,
}

/// True for a certificate the Lambda left waiting (INACTIVE, never given a thing or policy).
pub fn is_waiting(device: &DeviceCert) -> bool {
    device.status == "INACTIVE" && device.things.is_empty() && device.policies.is_empty()
}

/// Activates every waiting device of the CA whose serial is now on the CA's allow-list.
pub async fn activate_allowed(ctx: &CloudContext, ca_id: &str) -> Result<Vec<ActivatedDevice>> {
    let allowed = allow_list::list(ctx, ca_id).await?;
    let names = StackNames::for_ca(ca_id);
    let mut activated = Vec::new();
    for summary in list_devices_of_ca(ctx, ca_id).await? {
        if summary.status != "INACTIVE" {
            continue;
        }
        let Some(device) = describe_device(ctx, &summary.certificate_id).await? else { continue };
        let Some(serial) = device.serial.clone() else { continue };
        if !is_waiting(&device) || device.ca_id.as_deref() != Some(ca_id) || allowed.binary_search(&serial).is_err() {
            continue;
        }
        activate(ctx, &device, &serial, &names.device_policy).await?;
        tracing::info!(certificate = %device.certificate_id, %serial, "activated a device that was waiting for the allow-list");
        activated.push(ActivatedDevice { certificate_id: device.certificate_id, serial });
    }
    Ok(activated)
}

/// The Lambda's steps for one device: thing, thing attachment, device policy, ACTIVE last.
async fn activate(ctx: &CloudContext, device: &DeviceCert, serial: &str, device_policy: &str) -> Result<()> {
    allow_list::validate_serial(serial)?;
    match ctx.iot.create_thing().thing_name(serial).send().await {
        Ok(_) => {}
        Err(err) if is_code(&err, &["ResourceAlreadyExistsException"]) => {}
        Err(err) => return Err(from_sdk("CreateThing", err)),
    }
    ctx.iot
        .attach_thing_principal()
        .thing_name(serial)
        .principal(&device.arn)
        .send()
        .await
        .map_err(|e| from_sdk("AttachThingPrincipal", e))?;
    ctx.iot
        .attach_policy()
        .policy_name(device_policy)
        .target(&device.arn)
        .send()
        .await
        .map_err(|e| from_sdk("AttachPolicy", e))?;
    crate::devices::activate_device(ctx, &device.certificate_id).await
}
