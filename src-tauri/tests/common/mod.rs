//! Shared IPC test harness: a window over Tauri's mock runtime, backed by a station in a temporary directory,
//! and `invoke`, which sends one command to it the way the web page does.

// Each test binary uses a different part of this module.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use keyline_app_lib::file_dialog::{FileDialogs, FileRequest};
use keyline_app_lib::log_panel::LogBuffer;
use keyline_app_lib::practice::emulator::EmulatorSource;
use keyline_app_lib::state::AppState;
use keyline_station::Station;
use serde_json::Value;
use tauri::ipc::{CallbackFn, InvokeBody, InvokeResponseBody};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::WebviewWindowBuilder;

pub struct Harness {
    pub dir: tempfile::TempDir,
    pub station: Arc<Station>,
    pub logs: Arc<LogBuffer>,
    pub app: tauri::App<MockRuntime>,
    pub webview: tauri::WebviewWindow<MockRuntime>,
    /// Every JSON message a command sent on a progress `Channel`, in order: (channel id, message).
    pub channel_messages: Arc<Mutex<Vec<(u32, Value)>>>,
}

/// A window over a new, empty store at the root of a fresh temporary directory.
pub fn harness(practice: bool) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();
    window_over(dir, data, practice)
}

/// A window over the store at `data` (a folder inside `dir`, which the harness keeps until it is dropped).
pub fn window_over(dir: tempfile::TempDir, data: PathBuf, practice: bool) -> Harness {
    window_with(dir, data, practice, EmulatorSource::default())
}

/// A window over `data` whose practice mode looks for ministack where `source` says.
pub fn window_with(dir: tempfile::TempDir, data: PathBuf, practice: bool, emulator_source: EmulatorSource) -> Harness {
    window_with_dialogs(dir, data, practice, emulator_source, FileDialogs::scripted([]))
}

/// A window over a new store whose file dialogs answer `answers` in order (`None`: the user cancels).
pub fn harness_answering(answers: impl IntoIterator<Item = Option<PathBuf>>) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();
    window_with_dialogs(dir, data, false, EmulatorSource::default(), FileDialogs::scripted(answers))
}

/// The requests the window's file dialogs were asked, in order.
pub fn dialogs_asked(h: &Harness) -> Vec<FileRequest> {
    use tauri::Manager;
    h.app.state::<Arc<FileDialogs>>().asked()
}

/// A window over `data` with `dialogs` for the save and open dialogs.
pub fn window_with_dialogs(dir: tempfile::TempDir, data: PathBuf, practice: bool, emulator_source: EmulatorSource, dialogs: FileDialogs) -> Harness {
    let station = Arc::new(Station::open(data).unwrap());
    let logs = LogBuffer::new(16);
    let state = AppState { station: station.clone(), logs: logs.clone(), practice, emulator_source };
    let channel_messages = Arc::new(Mutex::new(Vec::new()));
    let sink = channel_messages.clone();
    let app = keyline_app_lib::with_commands(mock_builder(), state, dialogs)
        .channel_interceptor(move |_webview, channel, _index, body| {
            if let InvokeResponseBody::Json(text) = body {
                sink.lock().unwrap().push((channel.0, serde_json::from_str(text).unwrap()));
            }
            true
        })
        .build(mock_context(noop_assets()))
        .unwrap();
    let webview = WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();
    Harness { dir, station, logs, app, webview, channel_messages }
}

/// Sends command `cmd` with arguments `body` and returns its JSON answer, or its JSON error report.
pub fn invoke(h: &Harness, cmd: &str, body: Value) -> Result<Value, Value> {
    let request = InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().unwrap(),
        body: InvokeBody::Json(body),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    };
    get_ipc_response(&h.webview, request).map(|body| body.deserialize::<Value>().unwrap())
}

/// The JSON messages sent so far on the channel the page passed as `"__CHANNEL__:<id>"`, in order.
pub fn messages_on(h: &Harness, id: u32) -> Vec<Value> {
    h.channel_messages.lock().unwrap().iter().filter(|(channel, _)| *channel == id).map(|(_, m)| m.clone()).collect()
}
