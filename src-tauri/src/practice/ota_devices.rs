//! Practice mode's OTA devices: every provisioned simulated board (its chip in `<data_dir>/sim/board-N/`
//! and its certificate in the ledger) boots a simulated rainbowtype bootloader against the embedded server.

use keyline_station::{ErrorCode, ErrorReport, Station};
use serde::Serialize;

/// One simulated OTA device, as the OTA screen lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SimOtaDevice {
    /// Chip serial (the certificate CN).
    pub serial: String,
    /// SHA-256 of the image in its simulated `ota_0`, once one was installed.
    pub installed_sha256: Option<String>,
}

/// The running simulated bootloaders.
#[cfg(feature = "sim")]
pub struct SimOtaDevices(keyline_sim::ota_device::SimOtaFleet);

#[cfg(not(feature = "sim"))]
pub struct SimOtaDevices;

/// How often a simulated device reboots and asks the server for a request.
#[cfg(feature = "sim")]
const REBOOT_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

impl SimOtaDevices {
    /// Starts a bootloader for each provisioned simulated board against `url`, whose server certificate comes from `ca`.
    #[cfg(feature = "sim")]
    pub fn start(station: &Station, url: &str, ca: &str) -> Result<SimOtaDevices, ErrorReport> {
        use keyline_sim::ota_device::{provisioned_chip_keys, FleetDevice, SimOtaFleet};
        let mut devices = Vec::new();
        for key in provisioned_chip_keys(&station.data_dir().join("sim")) {
            let serial = key.serial();
            let Ok(detail) = station.device_detail(&serial) else {
                tracing::info!(%serial, "simulated board not in the ledger: it gets no OTA device");
                continue;
            };
            let cas = station.ca_chain_pem(&detail.device.ca_name).map_err(|e| e.report_for(keyline_station::Audience::Gui))?;
            devices.push(FleetDevice { key, chain_pem: format!("{}\n{cas}", detail.device.cert_pem.trim_end()) });
        }
        let roots = station.ca_chain_pem(ca).map_err(|e| e.report_for(keyline_station::Audience::Gui))?;
        let fleet = SimOtaFleet::start(devices, url, &roots, REBOOT_EVERY).map_err(|e| ErrorReport {
            code: ErrorCode::SimFailed,
            message: format!("the simulated OTA devices could not start: {e}"),
            hint: "Provision the simulated boards on the Factory line screen first, with the CA that runs the server.".into(),
        })?;
        tracing::info!(devices = fleet.installed().len(), %url, "simulated OTA devices started");
        Ok(SimOtaDevices(fleet))
    }

    /// Without the simulator there are no practice devices.
    #[cfg(not(feature = "sim"))]
    pub fn start(_station: &Station, _url: &str, _ca: &str) -> Result<SimOtaDevices, ErrorReport> {
        Ok(SimOtaDevices)
    }

    /// The devices and what they installed.
    pub fn list(&self) -> Vec<SimOtaDevice> {
        #[cfg(feature = "sim")]
        return self.0.installed().into_iter().map(|(serial, installed_sha256)| SimOtaDevice { serial, installed_sha256 }).collect();
        #[cfg(not(feature = "sim"))]
        Vec::new()
    }
}
