//! CA key custody commands: create a CA in a PKCS#11 token (its library picked in the open dialog), take a root
//! offline (its key saved where the user picks in the save dialog the shell opens) and restore it from a key file
//! picked in the open dialog; no command takes a path from the page.

use std::sync::Arc;

use keyline_station::ca::{CaStep, CaSummary, CreateCa, OfflineRoot};
use keyline_station::Passphrase;
use tauri::ipc::Channel;
use tauri::State;
use tracing::info;

use super::on_station;
use crate::error::CommandResult;
use crate::file_dialog::{suggested_name, FileDialogs, FileRequest};
use crate::picked::{FilePurpose, PickedFiles};
use crate::progress::{ProgressEvent, StepReporter};
use crate::state::AppState;

/// Creates a root CA (and optional signer) whose keys are generated inside the PKCS#11 token labelled `token`, in
/// the library `module` (a file picked with `pick_file` for `pkcs11Module`), logging in with `pin`; with
/// `remember`, the PIN is also stored in the OS keyring. Streams each step on `on_event`.
#[tauri::command]
#[specta::specta]
pub async fn create_ca_in_token(
    state: State<'_, AppState>,
    picked: State<'_, Arc<PickedFiles>>,
    request: CreateCa,
    module: u32,
    token: String,
    pin: Passphrase,
    remember: bool,
    on_event: Channel<ProgressEvent>,
) -> CommandResult<Vec<CaSummary>> {
    let module = picked.path(module, FilePurpose::Pkcs11Module)?;
    on_station(&state, "create CA in token", move |station| {
        let plan = CaStep::create_plan_remembering(request.signer.is_some(), remember);
        let mut progress = StepReporter::new(on_event, plan.len());
        let created = station.create_ca_in_token_remembering(request, module, token, &pin, remember, &mut |step| progress.step(step.id()))?;
        progress.finish(created.iter().map(|ca| ca.name.clone()).collect());
        Ok(created)
    })
    .await
}

/// Opens the save dialog, exports the key of root CA `name` there (encrypted PKCS#8 under the root's `passphrase`,
/// a new file, owner-only) and removes it from the station. `null` when the user cancelled (nothing changes).
/// A wrong passphrase, a signer, a token CA or an already offline root is refused before anything is written.
#[tauri::command]
#[specta::specta]
pub async fn take_root_offline(
    state: State<'_, AppState>,
    dialogs: State<'_, Arc<FileDialogs>>,
    name: String,
    passphrase: Passphrase,
) -> CommandResult<Option<OfflineRoot>> {
    let dialogs = dialogs.inner().clone();
    on_station(&state, "take root offline", move |station| {
        // A signer, an offline root or a token root is refused before the operator is asked where to save.
        station.check_root_can_go_offline(&name)?;
        let file_name = suggested_name(&format!("{name}-root.key"), "root.key");
        let request = FileRequest { title: "Save the root CA key to keep offline", file_name, filter: "Encrypted PEM key", extensions: vec!["key".into(), "pem".into()] };
        let Some(path) = dialogs.save_path(request) else { return Ok(None) };
        let done = station.take_root_offline(&name, &passphrase, &path)?;
        info!(ca = %name, path = %path.display(), "root CA taken offline from the window");
        Ok(Some(done))
    })
    .await
}

/// Brings the key of offline root `name` back from `key`, a file picked with `pick_file` for `rootKey`, decrypted
/// with the root's `passphrase` and stored again under it; the CA is unlocked for this session.
#[tauri::command]
#[specta::specta]
pub async fn restore_root(
    state: State<'_, AppState>,
    picked: State<'_, Arc<PickedFiles>>,
    name: String,
    key: u32,
    passphrase: Passphrase,
) -> CommandResult<CaSummary> {
    let key = picked.path(key, FilePurpose::RootKey)?;
    on_station(&state, "restore root", move |station| Ok(station.restore_root_from_file(&name, &key, &passphrase)?)).await
}
