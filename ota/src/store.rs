//! [`DeviceStore`]: where the server keeps device records (the station's ledger, or memory in tests).

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::Serialize;

use crate::protocol::DeviceRecord;
use crate::Result;

/// One device as the server knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredDevice {
    /// Serial (the device certificate's CN).
    pub serial: String,
    /// The rainbowtype record.
    pub record: DeviceRecord,
    /// When the device last sent a message (RFC 3339 UTC), if ever.
    pub last_seen: Option<String>,
}

/// Persistent device records. Calls are short and may block briefly (SQLite).
pub trait DeviceStore: Send + Sync + 'static {
    /// The record of `serial`, if known.
    fn load(&self, serial: &str) -> Result<Option<DeviceRecord>>;
    /// Store the record of `serial`; `seen` also stamps the last-seen time.
    fn save(&self, serial: &str, record: &DeviceRecord, seen: bool) -> Result<()>;
    /// Every device, ordered by serial.
    fn all(&self) -> Result<Vec<StoredDevice>>;
}

/// An in-memory store (tests, practice mode).
#[derive(Debug, Default)]
pub struct MemoryStore {
    devices: Mutex<BTreeMap<String, StoredDevice>>,
}

impl DeviceStore for MemoryStore {
    fn load(&self, serial: &str) -> Result<Option<DeviceRecord>> {
        Ok(self.devices.lock().unwrap_or_else(|p| p.into_inner()).get(serial).map(|d| d.record.clone()))
    }

    fn save(&self, serial: &str, record: &DeviceRecord, seen: bool) -> Result<()> {
        let mut devices = self.devices.lock().unwrap_or_else(|p| p.into_inner());
        let entry = devices.entry(serial.to_owned()).or_insert_with(|| StoredDevice { serial: serial.to_owned(), record: record.clone(), last_seen: None });
        entry.record = record.clone();
        if seen {
            entry.last_seen = Some(format!("{:?}", std::time::SystemTime::now()));
        }
        Ok(())
    }

    fn all(&self) -> Result<Vec<StoredDevice>> {
        Ok(self.devices.lock().unwrap_or_else(|p| p.into_inner()).values().cloned().collect())
    }
}
