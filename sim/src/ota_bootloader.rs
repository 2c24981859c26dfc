//! A simulated rainbowtype bootloader: connects to a device-management server with the chip's
//! device certificate and key, sends `bootup`, and on `request: ota` answers `otaaccepted`,
//! downloads `/fw/<serial>`, validates it (image checks and Secure Boot v2) and installs it into
//! a simulated `ota_0` partition, then "reboots" and reports `updatecompleted`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use keyline_ota::client::{download_firmware, next_action, open_socket};
use keyline_ota::protocol::{Action, DeviceRecord};
use keyline_ota::tokio;
use keyline_ota::{secure_boot, AppImage, Error, Result, RsaPublic};
use sha2::{Digest, Sha256};

/// Size of the bootloader build's `ota_0` partition (0x700000).
pub const OTA_0_SIZE: usize = 0x70_0000;
/// Chip ID the simulated device accepts (ESP32).
const CHIP_ID: u16 = 0;
/// How long the device waits for its `ack`.
const ACK_TIMEOUT: Duration = Duration::from_secs(10);

/// The simulated flash and what the bootloader did.
#[derive(Debug, Default, Clone)]
pub struct OtaFlash {
    /// Contents of `ota_0` (the whole downloaded file, as `esp_https_ota` writes it).
    pub ota_0: Option<Vec<u8>>,
    /// Boots so far.
    pub boots: u32,
    /// One line per event (`bootup`, `ack request=ota`, `installed <sha>`...).
    pub log: Vec<String>,
}

impl OtaFlash {
    /// SHA-256 of `ota_0`, hex.
    pub fn ota_0_sha256(&self) -> Option<String> {
        self.ota_0.as_ref().map(|bytes| hex::encode(Sha256::digest(bytes)))
    }
}

/// What one boot ended in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BootOutcome {
    /// No request: the application was started (after reporting `updatecompleted`).
    RanApp,
    /// An image was downloaded, validated and installed; the device restarts.
    Installed {
        /// SHA-256 of the installed image, hex.
        sha256: String,
    },
    /// The download or validation failed; the old image stays and the device restarts.
    Rejected {
        /// Why.
        reason: String,
    },
    /// State `bootprohibited`: the device idles.
    Prohibited,
}

/// One simulated device.
pub struct SimOtaBootloader {
    serial: String,
    server: String,
    tls: Arc<keyline_ota::tls::ClientConfig>,
    trusted_key: Option<RsaPublic>,
    flash: Arc<Mutex<OtaFlash>>,
}

impl SimOtaBootloader {
    /// A device `serial` (its certificate CN) talking to `server` (`https://host:port`) with the
    /// TLS client configuration built from its certificate chain and key. With `trusted_key`,
    /// only images signed by that Secure Boot v2 key are installed.
    pub fn new(serial: &str, server: &str, tls: Arc<keyline_ota::tls::ClientConfig>, trusted_key: Option<RsaPublic>) -> SimOtaBootloader {
        SimOtaBootloader { serial: serial.to_owned(), server: server.to_owned(), tls, trusted_key, flash: Arc::default() }
    }

    /// The simulated flash (shared; read it while the device runs).
    pub fn flash(&self) -> Arc<Mutex<OtaFlash>> {
        self.flash.clone()
    }

    fn log(&self, line: String) {
        self.flash.lock().unwrap_or_else(|p| p.into_inner()).log.push(line);
    }

    /// Device messages are binary frames with the bootloader's exact text (note the spaces).
    fn device_text(&self, action: &str) -> String {
        format!("{{\"serial\": \"{}\", \"action\": \"{action}\"}}", self.serial)
    }

    /// One boot: connect, `bootup`, act on the ack.
    pub async fn boot_once(&self) -> Result<BootOutcome> {
        use keyline_ota::client::send_binary;
        self.flash.lock().unwrap_or_else(|p| p.into_inner()).boots += 1;
        let mut socket = open_socket(&self.server, "/rtserver", self.tls.clone(), None).await?;
        send_binary(&mut socket, self.device_text("bootup").as_bytes()).await?;
        self.log("bootup".into());
        let record = tokio::time::timeout(ACK_TIMEOUT, async {
            loop {
                match next_action(&mut socket).await? {
                    Some(Action::Ack { serial, record }) if serial == self.serial => return Ok(record),
                    Some(_) => continue,
                    None => return Err(Error::Connection { peer: self.server.clone(), detail: "closed before the ack".into() }),
                }
            }
        })
        .await
        .map_err(|_| Error::Timeout("no ack to bootup".into()))??;
        self.log(format!("ack request={} state={}", record.request, record.state));
        let update = match record.request.as_str() {
            "ota" => {
                send_binary(&mut socket, self.device_text("otaaccepted").as_bytes()).await?;
                true
            }
            "none" => {
                send_binary(&mut socket, self.device_text("updatecompleted").as_bytes()).await?;
                record.state == "forcefwdownload"
            }
            _ => false,
        };
        // Give the server the last message before the connection goes away, as the device's 100 ms wait does.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let _ = keyline_ota::client::close(&mut socket).await;
        if update {
            return Ok(self.update().await);
        }
        Ok(match record {
            DeviceRecord { ref state, .. } if state == "bootprohibited" => BootOutcome::Prohibited,
            _ => BootOutcome::RanApp,
        })
    }

    async fn update(&self) -> BootOutcome {
        let result = async {
            let bytes = download_firmware(&self.server, &self.serial, self.tls.clone(), OTA_0_SIZE).await?;
            self.validate(&bytes)?;
            Ok::<_, Error>(bytes)
        }
        .await;
        match result {
            Ok(bytes) => {
                let sha256 = hex::encode(Sha256::digest(&bytes));
                self.log(format!("installed {sha256}"));
                self.flash.lock().unwrap_or_else(|p| p.into_inner()).ota_0 = Some(bytes);
                BootOutcome::Installed { sha256 }
            }
            Err(error) => {
                self.log(format!("rejected: {error}"));
                BootOutcome::Rejected { reason: error.to_string() }
            }
        }
    }

    /// What `esp_https_ota` with signed updates checks before switching partitions.
    fn validate(&self, bytes: &[u8]) -> Result<()> {
        if bytes.len() > OTA_0_SIZE {
            return Err(Error::TooLarge { size: bytes.len(), limit: OTA_0_SIZE });
        }
        let image = AppImage::parse(bytes)?;
        if image.chip_id != CHIP_ID {
            return Err(Error::Image(format!("image is for chip id {}, this is an ESP32", image.chip_id)));
        }
        if let Some(key) = &self.trusted_key {
            if !image.is_signed() {
                return Err(Error::Signature("the image is not signed and signed updates are required".into()));
            }
            secure_boot::verify_image(bytes, Some(key))?;
        }
        Ok(())
    }

    /// Boot repeatedly (a device that restarts every `reboot_every`) until `stop` completes.
    pub async fn run(&self, reboot_every: Duration, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => return,
                outcome = self.boot_once() => {
                    if let Err(error) = outcome {
                        self.log(format!("boot failed: {error}"));
                    }
                }
            }
            tokio::select! {
                _ = &mut stop => return,
                _ = tokio::time::sleep(reboot_every) => {}
            }
        }
    }
}
