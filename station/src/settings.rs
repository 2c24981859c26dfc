//! [`StationSettings`]: what an engineer sets once per station (the station name recorded in the ledger and the
//! serial defaults), validated here and kept in `<data_dir>/settings.json`.
//!
//! The CLI (`keyline settings show|set`) and the window's Settings screen both go through
//! [`Station::settings`] and [`Station::save_settings`]; nothing else writes the file. A value out of
//! range is refused with [`Error::InvalidSetting`] naming the setting and the allowed range, and
//! nothing is written. The provisioning pipeline takes the serial settings through
//! `ProvisionRequest` and `ShiftConfig` of the provisioning engine.

use std::io::Write;
use std::time::Duration;

use keyline_board::{FirmwareKind, StepDeadlines};
use serde::{Deserialize, Serialize};

use crate::{Error, Result, Station};

/// The settings file in the data directory.
pub const SETTINGS_FILE: &str = "settings.json";
/// Largest settings file read.
const MAX_SETTINGS_FILE: u64 = 64 * 1024;
/// Shortest step timeout accepted (a shorter one could not even see a reply at 115200).
pub const MIN_STEP_TIMEOUT_MS: u32 = 50;
/// Longest step timeout accepted (10 minutes; a board that needs longer is broken).
pub const MAX_STEP_TIMEOUT_MS: u32 = 10 * 60 * 1000;
/// Rates the ESP ROM loader syncs at (it detects the rate), for RAM-loading the helper and flashing.
pub const LOADER_BAUDS: &[u32] = &[115_200, 230_400, 460_800, 576_000, 921_600];
/// Longest station name (the ledger column is shown on cards and in exports).
pub const MAX_STATION_NAME: usize = 64;

/// Deadlines of one firmware's board steps, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StepTimeouts {
    /// Waiting for the firmware's start-up output or prompt.
    pub handshake_ms: u32,
    /// Configuring and locking the chip.
    pub configure_ms: u32,
    /// Reading or generating the device key and CSR.
    pub key_ms: u32,
    /// Writing and verifying the certificates.
    pub write_ms: u32,
}

impl StepTimeouts {
    /// The drivers' built-in deadlines for `kind`.
    pub fn defaults(kind: FirmwareKind) -> Self {
        let d = StepDeadlines::defaults(kind);
        let ms = |t: Duration| u32::try_from(t.as_millis()).unwrap_or(u32::MAX);
        StepTimeouts { handshake_ms: ms(d.handshake), configure_ms: ms(d.configure), key_ms: ms(d.key), write_ms: ms(d.write) }
    }

    /// As the drivers take them.
    pub fn deadlines(&self) -> StepDeadlines {
        let d = |ms: u32| Duration::from_millis(u64::from(ms));
        StepDeadlines { handshake: d(self.handshake_ms), configure: d(self.configure_ms), key: d(self.key_ms), write: d(self.write_ms) }
    }

    /// Each step's name (as `keyline settings set --timeout STEP=MS` takes it) and value.
    pub fn named(&self) -> [(&'static str, u32); 4] {
        [("handshake", self.handshake_ms), ("configure", self.configure_ms), ("key", self.key_ms), ("write", self.write_ms)]
    }

    /// Sets the step named `step` (`handshake`, `configure`, `key`, `write`); unchecked until saved.
    pub fn set(&mut self, step: &str, ms: u32) -> Result<()> {
        let slot = match step {
            "handshake" => &mut self.handshake_ms,
            "configure" => &mut self.configure_ms,
            "key" => &mut self.key_ms,
            "write" => &mut self.write_ms,
            other => {
                return Err(Error::InvalidSetting {
                    setting: format!("timeout {other}"),
                    value: ms.to_string(),
                    reason: "the steps are handshake, configure, key and write".into(),
                })
            }
        };
        *slot = ms;
        Ok(())
    }
}

/// The serial defaults of this station.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SerialSettings {
    /// The provisioning console's rate; both firmwares are built for 115200 only.
    pub console_baud: u32,
    /// The ROM loader's rate for RAM-loading the helper (one of [`LOADER_BAUDS`]).
    pub loader_baud: u32,
    /// Step deadlines of rainbowtype boards.
    pub rainbowtype: StepTimeouts,
    /// Step deadlines of boards running the Espressif helper.
    pub esp_helper: StepTimeouts,
}

fn default_console_baud() -> u32 {
    keyline_board::DEFAULT_BAUD
}
fn default_loader_baud() -> u32 {
    crate::flash::DEFAULT_FLASH_BAUD
}
fn rainbowtype_timeouts() -> StepTimeouts {
    StepTimeouts::defaults(FirmwareKind::Rainbowtype)
}
fn esp_helper_timeouts() -> StepTimeouts {
    StepTimeouts::defaults(FirmwareKind::EspHelper)
}

impl Default for SerialSettings {
    fn default() -> Self {
        SerialSettings { console_baud: default_console_baud(), loader_baud: default_loader_baud(), rainbowtype: rainbowtype_timeouts(), esp_helper: esp_helper_timeouts() }
    }
}

impl SerialSettings {
    /// The step deadlines of `kind`.
    pub fn timeouts(&self, kind: FirmwareKind) -> &StepTimeouts {
        match kind {
            FirmwareKind::Rainbowtype => &self.rainbowtype,
            FirmwareKind::EspHelper => &self.esp_helper,
        }
    }

    /// The step deadlines of `kind`, to change.
    pub fn timeouts_mut(&mut self, kind: FirmwareKind) -> &mut StepTimeouts {
        match kind {
            FirmwareKind::Rainbowtype => &mut self.rainbowtype,
            FirmwareKind::EspHelper => &mut self.esp_helper,
        }
    }

    /// Refuses a rate a firmware cannot use and a timeout of (nearly) zero or of more than ten minutes.
    pub fn validate(&self) -> Result<()> {
        for kind in [FirmwareKind::Rainbowtype, FirmwareKind::EspHelper] {
            let allowed = kind.console_bauds();
            if !allowed.contains(&self.console_baud) {
                return Err(Error::InvalidSetting {
                    setting: "console baud".into(),
                    value: self.console_baud.to_string(),
                    reason: format!("the {} firmware's console runs at {} only", kind.as_str(), list(allowed)),
                });
            }
            for (step, ms) in self.timeouts(kind).named() {
                if !(MIN_STEP_TIMEOUT_MS..=MAX_STEP_TIMEOUT_MS).contains(&ms) {
                    return Err(Error::InvalidSetting {
                        setting: format!("{} {step} timeout", kind.as_str()),
                        value: format!("{ms} ms"),
                        reason: format!("a step timeout is {MIN_STEP_TIMEOUT_MS} ms to {MAX_STEP_TIMEOUT_MS} ms (10 minutes)"),
                    });
                }
            }
        }
        if !LOADER_BAUDS.contains(&self.loader_baud) {
            return Err(Error::InvalidSetting {
                setting: "loader baud".into(),
                value: self.loader_baud.to_string(),
                reason: format!("the ROM loader syncs at {}", list(LOADER_BAUDS)),
            });
        }
        Ok(())
    }
}

fn list(bauds: &[u32]) -> String {
    bauds.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
}

/// The station name when none is set: the host name, or `station`.
pub fn host_station_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty() && s.len() <= MAX_STATION_NAME)
        .unwrap_or_else(|| "station".into())
}

/// Everything an engineer sets once per station.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StationSettings {
    /// The name recorded in the ledger with each board; the host name when unset.
    pub station_name: Option<String>,
    /// Serial defaults.
    pub serial: SerialSettings,
}

impl StationSettings {
    /// The station name for the ledger: the one set here, else the host name.
    pub fn station_name(&self) -> String {
        self.station_name.clone().unwrap_or_else(host_station_name)
    }

    /// Checks every value; an empty name becomes unset (the host name).
    pub fn validated(mut self) -> Result<Self> {
        self.station_name = match self.station_name.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(name) => {
                if name.chars().count() > MAX_STATION_NAME || name.chars().any(char::is_control) {
                    return Err(Error::InvalidSetting {
                        setting: "station name".into(),
                        value: name.chars().filter(|c| !c.is_control()).take(MAX_STATION_NAME).collect(),
                        reason: format!("a station name is 1 to {MAX_STATION_NAME} printable characters"),
                    });
                }
                Some(name.to_owned())
            }
        };
        self.serial.validate()?;
        Ok(self)
    }
}

impl Station {
    /// This station's settings: the saved ones, or the defaults when none were saved.
    pub fn settings(&self) -> Result<StationSettings> {
        let path = self.data_dir().join(SETTINGS_FILE);
        if !path.exists() {
            return Ok(StationSettings::default());
        }
        let bytes = crate::read_input_file(&path, MAX_SETTINGS_FILE)?;
        let settings: StationSettings = serde_json::from_slice(&bytes)
            .map_err(|e| Error::CorruptStore { detail: format!("{} is not valid station settings: {e}", path.display()) })?;
        settings.validated()
    }

    /// Checks `settings` and saves them (replacing the file in one step); returns them as saved.
    pub fn save_settings(&self, settings: &StationSettings) -> Result<StationSettings> {
        let settings = settings.clone().validated()?;
        let path = self.data_dir().join(SETTINGS_FILE);
        let io = |e: std::io::Error| Error::io("cannot save the settings", &path, e);
        let mut file = tempfile::NamedTempFile::new_in(self.data_dir()).map_err(io)?;
        let text = serde_json::to_vec_pretty(&settings).map_err(|e| Error::Issue { detail: e.to_string() })?;
        file.write_all(&text).and_then(|()| file.as_file().sync_all()).map_err(io)?;
        file.persist(&path).map_err(|e| io(e.error))?;
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_drivers_deadlines_and_pass_validation() {
        let serial = SerialSettings::default();
        assert_eq!(serial.rainbowtype.deadlines(), StepDeadlines::defaults(FirmwareKind::Rainbowtype));
        assert_eq!(serial.esp_helper.deadlines(), StepDeadlines::defaults(FirmwareKind::EspHelper));
        assert_eq!(serial.rainbowtype.handshake_ms, 5_000);
        assert_eq!(serial.esp_helper.handshake_ms, 10_000);
        serial.validate().unwrap();
    }

    #[test]
    fn zero_hour_long_timeouts_and_unusable_rates_are_refused() {
        let refused = |change: &dyn Fn(&mut SerialSettings)| {
            let mut serial = SerialSettings::default();
            change(&mut serial);
            match serial.validate() {
                Err(Error::InvalidSetting { .. }) => {}
                other => panic!("expected invalid_setting, got {other:?}"),
            }
        };
        refused(&|s| s.rainbowtype.handshake_ms = 0);
        refused(&|s| s.esp_helper.write_ms = 3 * 60 * 60 * 1000);
        refused(&|s| s.console_baud = 921_600);
        refused(&|s| s.loader_baud = 123_456);
    }

    #[test]
    fn the_file_form_round_trips_and_unknown_or_missing_fields_are_refused() {
        let settings = StationSettings { station_name: Some("Line 2".into()), serial: SerialSettings::default() };
        let text = serde_json::to_string(&settings).unwrap();
        assert_eq!(serde_json::from_str::<StationSettings>(&text).unwrap(), settings);
        assert!(serde_json::from_str::<StationSettings>(r#"{"stationNam":"x"}"#).is_err());
        assert!(serde_json::from_str::<StationSettings>(r#"{"serial":{"loaderBaud":921600}}"#).is_err());
    }
}
