//! Files the user picked in the open dialog, held on the Rust side: the page gets a number and a file name, never a
//! path, and a command that reads a file takes that number ([`PickedFiles::path`]), so a compromised page can only
//! make the shell read files the user chose for that purpose.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use keyline_station::line::{describe_firmware, FirmwareFacts};
use serde::{Deserialize, Serialize};

use crate::error::{CommandResult, ShellError};
use crate::file_dialog::{FileDialogs, FileRequest};

/// What a file is picked for; it sets the dialog's title and filter, and a command accepts only its own kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[derive(specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum FilePurpose {
    /// An image for the Flash tool (bootloader, partition table, app, merged image, data).
    FlashImage,
    /// The provisioning helper to RAM-load (an esptool `.bin`).
    RamImage,
    /// An OTA app image to inspect, sign and push.
    OtaImage,
    /// A Secure Boot v2 signing key (encrypted PEM).
    SigningKey,
    /// The operator certificate chain for a remote OTA server (`PREFIX.chain` from `keyline cert client`; its key
    /// is `PREFIX.key` beside it).
    OtaClientCert,
}

impl FilePurpose {
    fn request(self) -> FileRequest {
        let (title, filter, extensions): (&'static str, &'static str, &[&str]) = match self {
            FilePurpose::FlashImage => ("Choose an image to flash", "Flash image", &["bin", "img"]),
            FilePurpose::RamImage => ("Choose the helper to load into RAM", "esptool image", &["bin"]),
            FilePurpose::OtaImage => ("Choose an app image", "ESP32 app image", &["bin"]),
            FilePurpose::SigningKey => ("Choose the signing key", "PEM key", &["pem", "key"]),
            FilePurpose::OtaClientCert => ("Choose the operator certificate (PREFIX.chain)", "Certificate chain", &["chain"]),
        };
        FileRequest { title, file_name: String::new(), filter, extensions: extensions.iter().map(|e| (*e).to_string()).collect() }
    }
}

/// A file the user picked, as the page sees it.
#[derive(Debug, Clone, Serialize)]
#[derive(specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct PickedFile {
    /// The handle commands take.
    pub handle: u32,
    /// The file name (no folders), for display.
    pub name: String,
    /// What it was picked for.
    pub purpose: FilePurpose,
    /// Size, SHA-256, chip and app version of a firmware file (a flash image or the helper to RAM-load).
    pub image: Option<FirmwareFacts>,
}

/// The picked files of this window (managed state).
#[derive(Default)]
pub struct PickedFiles {
    files: Mutex<(u32, HashMap<u32, (FilePurpose, PathBuf)>)>,
}

/// Largest number of picks kept (older ones are forgotten).
const MAX_PICKED: usize = 256;

impl PickedFiles {
    /// Opens the open dialog for `purpose`; the picked file's handle, or `None` when the user cancelled. A firmware
    /// file is read (bounded) and described; the helper to RAM-load must be a loadable RAM image.
    pub fn pick(&self, dialogs: &FileDialogs, purpose: FilePurpose) -> CommandResult<Option<PickedFile>> {
        let Some(path) = dialogs.open_path(purpose.request()) else { return Ok(None) };
        let image = match purpose {
            FilePurpose::FlashImage | FilePurpose::RamImage => Some(describe_firmware(&path, purpose == FilePurpose::RamImage)?),
            _ => None,
        };
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let mut guard = self.files.lock().unwrap_or_else(|p| p.into_inner());
        let (next, files) = &mut *guard;
        *next = next.wrapping_add(1).max(1);
        if files.len() >= MAX_PICKED {
            if let Some(oldest) = files.keys().min().copied() {
                files.remove(&oldest);
            }
        }
        files.insert(*next, (purpose, path));
        Ok(Some(PickedFile { handle: *next, name, purpose, image }))
    }

    /// The path behind `handle`, if it was picked for `purpose`.
    pub fn path(&self, handle: u32, purpose: FilePurpose) -> CommandResult<PathBuf> {
        let guard = self.files.lock().unwrap_or_else(|p| p.into_inner());
        match guard.1.get(&handle) {
            Some((picked_for, path)) if *picked_for == purpose => Ok(path.clone()),
            _ => Err(ShellError::NotPicked { handle }),
        }
    }
}
