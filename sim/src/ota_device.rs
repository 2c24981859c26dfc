//! The simulated boards' chips as OTA devices: each provisioned chip in `<state_dir>/board-N/`
//! signs its TLS handshakes with its slot-0 key, as the rainbowtype bootloader's patched esp-tls
//! does, so a [`SimOtaBootloader`](crate::ota_bootloader::SimOtaBootloader) can connect as that board.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use keyline_ota::external_key::P256DigestSigner;

use crate::atecc::Atecc608;
use crate::{SimClock, SimError, Timing};

/// The device key slot of the rainbowtype and esp-cryptoauthlib layouts.
pub const DEVICE_KEY_SLOT: usize = 0;

/// A persisted simulated chip used as a TLS client key (read-only: the board keeps owning the file).
pub struct ChipKey {
    chip: Atecc608,
    slot: usize,
}

impl ChipKey {
    /// The chip of `chip_file` (`board-N/chip.json`), signing with `slot`.
    pub fn open(chip_file: &Path, slot: usize) -> Result<ChipKey, SimError> {
        Ok(ChipKey { chip: Atecc608::read_only(chip_file, SimClock::new(Timing::Instant))?, slot })
    }

    /// The chip serial as 18 lowercase hex digits (the device's certificate CN in the rainbowtype profile).
    pub fn serial(&self) -> String {
        hex::encode(self.chip.peek_serial())
    }
}

impl P256DigestSigner for ChipKey {
    fn sign_digest(&self, digest: &[u8; 32]) -> Result<[u8; 64], String> {
        self.chip.sign_digest(self.slot, digest).map_err(|e| format!("simulated ATECC608A: {e:?}"))
    }
}

/// Every board chip file under `state_dir` (`board-N/chip.json`), in board order.
pub fn board_chips(state_dir: &Path) -> Vec<PathBuf> {
    let mut chips: Vec<(usize, PathBuf)> = std::fs::read_dir(state_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let index = entry.file_name().to_str()?.strip_prefix("board-")?.parse().ok()?;
            let chip = entry.path().join("chip.json");
            chip.is_file().then_some((index, chip))
        })
        .collect();
    chips.sort();
    chips.into_iter().map(|(_, chip)| chip).collect()
}

/// Chip keys that can sign (the chip is locked and slot 0 holds a private key): provisioned boards.
pub fn provisioned_chip_keys(state_dir: &Path) -> Vec<Arc<ChipKey>> {
    board_chips(state_dir)
        .iter()
        .filter_map(|file| ChipKey::open(file, DEVICE_KEY_SLOT).ok())
        .filter(|key| key.sign_digest(&[1u8; 32]).is_ok())
        .map(Arc::new)
        .collect()
}

/// One simulated device of a [`SimOtaFleet`]: its chip key and certificate chain (device, signer, ...).
pub struct FleetDevice {
    /// The chip that signs its handshakes.
    pub key: Arc<ChipKey>,
    /// Device certificate first, then its CAs (PEM).
    pub chain_pem: String,
}

/// Simulated bootloaders for several boards, rebooting every `reboot_every` against one server,
/// on their own runtime; dropping the fleet stops them.
pub struct SimOtaFleet {
    runtime: Option<keyline_ota::tokio::runtime::Runtime>,
    stops: Vec<keyline_ota::tokio::sync::oneshot::Sender<()>>,
    devices: Vec<(String, Arc<std::sync::Mutex<crate::ota_bootloader::OtaFlash>>)>,
}

impl SimOtaFleet {
    /// Starts one bootloader per device against `server` (`https://host:port`), trusting `server_roots_pem`.
    pub fn start(devices: Vec<FleetDevice>, server: &str, server_roots_pem: &str, reboot_every: std::time::Duration) -> keyline_ota::Result<SimOtaFleet> {
        use crate::ota_bootloader::SimOtaBootloader;
        let runtime = keyline_ota::tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("keyline-sim-ota")
            .enable_all()
            .build()
            .map_err(|e| keyline_ota::Error::Io { path: "tokio runtime".into(), source: e })?;
        let roots = keyline_ota::tls::roots_from_pem(server_roots_pem)?;
        let mut fleet = SimOtaFleet { runtime: None, stops: Vec::new(), devices: Vec::new() };
        for device in devices {
            let serial = device.key.serial();
            let tls = keyline_ota::external_key::client_config(&device.chain_pem, device.key.clone(), roots.clone())?;
            let bootloader = Arc::new(SimOtaBootloader::new(&serial, server, tls, None));
            let (stop, stopped) = keyline_ota::tokio::sync::oneshot::channel::<()>();
            fleet.devices.push((serial, bootloader.flash()));
            fleet.stops.push(stop);
            runtime.spawn(async move {
                bootloader
                    .run(reboot_every, async {
                        let _ = stopped.await;
                    })
                    .await
            });
        }
        fleet.runtime = Some(runtime);
        Ok(fleet)
    }

    /// Each device's serial and the SHA-256 of its `ota_0` (None until an image was installed).
    pub fn installed(&self) -> Vec<(String, Option<String>)> {
        self.devices.iter().map(|(serial, flash)| (serial.clone(), flash.lock().unwrap_or_else(|p| p.into_inner()).ota_0_sha256())).collect()
    }
}

impl Drop for SimOtaFleet {
    fn drop(&mut self) {
        for stop in self.stops.drain(..) {
            let _ = stop.send(());
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(std::time::Duration::from_secs(2));
        }
    }
}
