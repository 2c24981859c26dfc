//! Shared IPC test harness: a window over Tauri's mock runtime, backed by a station in a temporary directory,
//! and `invoke`, which sends one command to it the way the web page does.

// Each test binary uses a different part of this module.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use keyline_app_lib::log_panel::LogBuffer;
use keyline_app_lib::state::AppState;
use keyline_station::Station;
use serde_json::Value;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::WebviewWindowBuilder;

pub struct Harness {
    pub dir: tempfile::TempDir,
    pub station: Arc<Station>,
    pub logs: Arc<LogBuffer>,
    pub app: tauri::App<MockRuntime>,
    pub webview: tauri::WebviewWindow<MockRuntime>,
}

/// A window over a new, empty store at the root of a fresh temporary directory.
pub fn harness(practice: bool) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();
    window_over(dir, data, practice)
}

/// A window over the store at `data` (a folder inside `dir`, which the harness keeps until it is dropped).
pub fn window_over(dir: tempfile::TempDir, data: PathBuf, practice: bool) -> Harness {
    let station = Arc::new(Station::open(data).unwrap());
    let logs = LogBuffer::new(16);
    let state = AppState { station: station.clone(), logs: logs.clone(), practice };
    let app = keyline_app_lib::with_commands(mock_builder(), state).build(mock_context(noop_assets())).unwrap();
    let webview = WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();
    Harness { dir, station, logs, app, webview }
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
