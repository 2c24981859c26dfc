//! Certificate-authority commands: list, show, export, create, import, unlock, lock.

use std::path::PathBuf;
use std::sync::Arc;

use keyline_station::ca::{CaDetails, CaStep, CaSummary, CreateCa, ImportCa};
use keyline_station::Passphrase;
use tauri::ipc::Channel;
use tauri::State;
use tracing::info;

use super::files::write_text_file;
use super::on_station;
use crate::error::CommandResult;
use crate::file_dialog::{suggested_name, FileDialogs, FileRequest};
use crate::progress::{ProgressEvent, StepReporter};
use crate::state::AppState;

/// Every CA in the store.
#[tauri::command]
#[specta::specta]
pub async fn list_cas(state: State<'_, AppState>) -> CommandResult<Vec<CaSummary>> {
    on_station(&state, "list CAs", |station| Ok(station.list_cas()?)).await
}

/// One CA with extensions and PEM.
#[tauri::command]
#[specta::specta]
pub async fn show_ca(state: State<'_, AppState>, name: String) -> CommandResult<CaDetails> {
    on_station(&state, "show CA", move |station| Ok(station.show_ca(&name)?)).await
}

/// The CA certificate and its issuers, as PEM (public data only).
#[tauri::command]
#[specta::specta]
pub async fn export_ca_pem(state: State<'_, AppState>, name: String) -> CommandResult<String> {
    on_station(&state, "export CA", move |station| Ok(station.export_ca_pem(&name)?)).await
}

/// Opens the save dialog and writes the exported PEM where the user picked; the path, or `null` if cancelled.
#[tauri::command]
#[specta::specta]
pub async fn save_ca_pem(
    state: State<'_, AppState>,
    dialogs: State<'_, Arc<FileDialogs>>,
    name: String,
) -> CommandResult<Option<PathBuf>> {
    let dialogs = dialogs.inner().clone();
    on_station(&state, "save CA certificate", move |station| {
        let pem = station.export_ca_pem(&name)?;
        let file_name = suggested_name(&format!("{name}.crt"), "ca.crt");
        let request = FileRequest { title: "Save CA certificate", file_name, filter: "PEM certificate", extensions: vec!["crt".into(), "pem".into()] };
        let Some(path) = dialogs.save_path(request) else { return Ok(None) };
        write_text_file(&path, &pem)?;
        info!(ca = %name, path = %path.display(), "CA certificate saved");
        Ok(Some(path))
    })
    .await
}

/// Creates a root CA (and optional signer) with keys encrypted under `passphrase`; with
/// `remember`, the passphrase is also stored in the OS keyring. Streams each real step
/// ([`CaStep::create_plan`], then `remembering`) on `on_event`.
#[tauri::command]
#[specta::specta]
pub async fn create_ca(
    state: State<'_, AppState>,
    request: CreateCa,
    passphrase: Passphrase,
    remember: bool,
    on_event: Channel<ProgressEvent>,
) -> CommandResult<Vec<CaSummary>> {
    on_station(&state, "create CA", move |station| {
        let plan = CaStep::create_plan_remembering(request.signer.is_some(), remember);
        let mut progress = StepReporter::new(on_event, plan.len());
        let created = station.create_ca_remembering(request, &passphrase, remember, &mut |step| progress.step(step.id()))?;
        progress.finish(created.iter().map(|ca| ca.name.clone()).collect());
        Ok(created)
    })
    .await
}

/// Imports a CA certificate and key; the key is re-encrypted under `passphrase`. Streams each
/// real step ([`CaStep::import_plan`], then `remembering`) on `on_event`.
#[tauri::command]
#[specta::specta]
pub async fn import_ca(
    state: State<'_, AppState>,
    request: ImportCa,
    passphrase: Passphrase,
    remember: bool,
    on_event: Channel<ProgressEvent>,
) -> CommandResult<Vec<CaSummary>> {
    on_station(&state, "import CA", move |station| {
        let plan = CaStep::import_plan_remembering(remember);
        let mut progress = StepReporter::new(on_event, plan.len());
        let imported = station.import_ca_remembering(request, &passphrase, remember, &mut |step| progress.step(step.id()))?;
        progress.finish(imported.iter().map(|ca| ca.name.clone()).collect());
        Ok(imported)
    })
    .await
}

/// Checks the passphrase and keeps it for this session (and in the keyring with `remember`).
#[tauri::command]
#[specta::specta]
pub async fn unlock_ca(
    state: State<'_, AppState>,
    name: String,
    passphrase: Passphrase,
    remember: bool,
) -> CommandResult<CaSummary> {
    on_station(&state, "unlock CA", move |station| Ok(station.unlock_ca(&name, &passphrase, remember)?)).await
}

/// Locks the CA for this session; with `forget`, also removes the passphrase from the keyring.
#[tauri::command]
#[specta::specta]
pub async fn lock_ca(state: State<'_, AppState>, name: String, forget: bool) -> CommandResult<CaSummary> {
    on_station(&state, "lock CA", move |station| {
        Ok(if forget { station.forget_passphrase(&name)? } else { station.lock_ca(&name)? })
    })
    .await
}
