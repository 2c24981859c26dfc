//! Device template command: `cert_chain.c`, its header, the slot map and the template fields
//! for a signer CA and a firmware profile (only the CA's certificate is read, never its key).

use keyline_station::device_template::DeviceTemplate;
use tauri::State;

use super::on_station;
use crate::error::CommandResult;
use crate::state::AppState;

/// The firmware definitions for signer CA `ca` and `profile` (rainbowtype, esp-cryptoauthlib, trustflex).
#[tauri::command]
#[specta::specta]
pub async fn device_template(state: State<'_, AppState>, ca: String, profile: String) -> CommandResult<DeviceTemplate> {
    on_station(&state, "device template", move |station| Ok(station.device_template(&ca, &profile)?)).await
}
