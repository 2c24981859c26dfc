//! The device ledger meets AWS IoT: the allow-list is filled from the ledger, and device certificates in the
//! cloud are joined with ledger devices by certificate id (SHA-256 of the DER).

use keyline_cloud::allow_list::{self, SyncReport};
use keyline_cloud::devices::{DeviceCert, DeviceSummary};
use keyline_cloud::waiting::{self, ActivatedDevice};
use keyline_cloud::CloudContext;
use serde::Serialize;

use crate::ledger::{Device, DeviceFilter, DeviceSerial, Ledger, DEVICE_STATUS_TEST};
use crate::{Error, Result, Station};

/// Ledger status of a device taken out of service; it is not pushed to the allow-list.
pub const RETIRED_STATUS: &str = "retired";

/// What the ledger knows about a device certificate found in the cloud.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LedgerMatch {
    /// Chip serial.
    pub serial: DeviceSerial,
    /// Certificate CN (thing name).
    pub common_name: String,
    /// Firmware profile.
    pub profile: String,
    /// Signer CA name in the store.
    pub ca_name: String,
    /// Ledger status.
    pub status: String,
}

impl From<Device> for LedgerMatch {
    fn from(device: Device) -> Self {
        LedgerMatch { serial: device.serial, common_name: device.common_name, profile: device.profile, ca_name: device.ca_name, status: device.status }
    }
}

/// What `allow-list sync` did.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct AllowListSync {
    /// The table writes.
    #[serde(flatten)]
    pub report: SyncReport,
    /// Devices that had connected before their serial was allowed and are now active.
    pub activated: Vec<ActivatedDevice>,
}

/// A listed cloud certificate, with the ledger device that has it (if any).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinedSummary {
    /// The cloud's view.
    #[serde(flatten)]
    pub cloud: DeviceSummary,
    /// The ledger's view; `null` for a certificate this station did not issue (or has since replaced).
    pub ledger: Option<LedgerMatch>,
}

/// One cloud device certificate in full, with the ledger device that has it (if any).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinedDevice {
    /// The cloud's view.
    #[serde(flatten)]
    pub cloud: DeviceCert,
    /// The ledger's view.
    pub ledger: Option<LedgerMatch>,
}

impl Station {
    /// The allow-list entries of every ledger device signed by CA `ca` that is not retired: their certificate CNs,
    /// which the JITR Lambda reads as the serial. Refuses an empty ledger (a sync would push nothing, a prune delete everything).
    pub fn ledger_allow_list(&self, ca: &str) -> Result<Vec<String>> {
        let ledger = self.ledger_reader()?;
        let mut names: Vec<String> = ledger
            .list(&DeviceFilter::default())?
            .into_iter()
            .filter(|device| device.status != RETIRED_STATUS && device.status != DEVICE_STATUS_TEST && device.ca_name == ca)
            .map(|device| device.common_name)
            .collect();
        if names.is_empty() {
            return Err(Error::InvalidInput {
                what: "allow-list source".into(),
                reason: format!(
                    "the device ledger {} has no devices signed by {ca}; issue certificates with `keyline cert sign` or pass --serials FILE",
                    ledger.path().display()
                ),
            });
        }
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// `allow-list sync` for CA `ca` (a store name): pushes `serials` (or, without them, the CA's ledger devices) to
    /// the CA's allow-list, then activates the CA's devices that were waiting for it.
    pub async fn cloud_allow_list_sync(&self, ctx: &CloudContext, ca: &str, serials: Option<Vec<String>>, prune: bool) -> Result<AllowListSync> {
        let ca_id = self.cloud_ca_id(ca)?;
        let (serials, source) = match serials {
            Some(serials) => (serials, "file"),
            None => (self.ledger_allow_list(ca)?, "ledger"),
        };
        let report = allow_list::sync(ctx, &ca_id, &serials, source, prune).await?;
        let activated = waiting::activate_allowed(ctx, &ca_id).await?;
        Ok(AllowListSync { report, activated })
    }

    /// Joins listed cloud certificates with the ledger.
    pub fn join_cloud_summaries(&self, summaries: Vec<DeviceSummary>) -> Result<Vec<JoinedSummary>> {
        let ledger = self.ledger_reader()?;
        summaries
            .into_iter()
            .map(|cloud| Ok(JoinedSummary { ledger: ledger_match(&ledger, &cloud.certificate_id)?, cloud }))
            .collect()
    }

    /// Joins one cloud certificate with the ledger.
    pub fn join_cloud_device(&self, cloud: DeviceCert) -> Result<JoinedDevice> {
        let ledger = self.ledger_reader()?;
        Ok(JoinedDevice { ledger: ledger_match(&ledger, &cloud.certificate_id)?, cloud })
    }

    /// The certificate id of the ledger device `query` names (a chip serial in any case), if it is one.
    pub fn ledger_cert_id(&self, query: &str) -> Result<Option<String>> {
        let Ok(serial) = DeviceSerial::from_user(query) else { return Ok(None) };
        Ok(self.ledger_reader()?.get(&serial)?.map(|device| device.cert_id))
    }
}

fn ledger_match(ledger: &Ledger, cert_id: &str) -> Result<Option<LedgerMatch>> {
    Ok(ledger.find_by_cert_id(cert_id)?.map(LedgerMatch::from))
}
