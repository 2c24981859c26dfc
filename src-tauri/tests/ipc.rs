//! IPC tests: real commands over Tauri's mock runtime against a station on a temporary directory.

use std::collections::BTreeMap;
use std::sync::Arc;

use keyline_app_lib::log_panel::LogBuffer;
use keyline_app_lib::state::AppState;
use keyline_station::Station;
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::WebviewWindowBuilder;

struct Harness {
    _dir: tempfile::TempDir,
    webview: tauri::WebviewWindow<tauri::test::MockRuntime>,
    logs: Arc<LogBuffer>,
}

fn harness(practice: bool) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let station = Station::open(dir.path().to_path_buf()).unwrap();
    let logs = LogBuffer::new(16);
    let state = AppState { station: Arc::new(station), logs: logs.clone(), practice };
    let app = keyline_app_lib::with_commands(mock_builder(), state)
        .build(mock_context(noop_assets()))
        .unwrap();
    let webview = WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();
    Harness { _dir: dir, webview, logs }
}

fn invoke(h: &Harness, cmd: &str, body: Value) -> Result<Value, Value> {
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

#[test]
fn app_info_reports_the_data_directory_practice_mode_and_keyring() {
    let h = harness(true);
    let info = invoke(&h, "app_info", json!({})).unwrap();
    assert_eq!(info["practice"], true);
    assert_eq!(info["dataDir"], h._dir.path().display().to_string());
    assert!(info["keyring"]["available"].is_boolean());
    assert!(info["keyring"]["backend"].is_string());
}

#[test]
fn an_empty_store_lists_no_cas_and_an_unknown_ca_is_a_coded_error() {
    let h = harness(false);
    assert_eq!(invoke(&h, "list_cas", json!({})).unwrap(), json!([]));
    let error = invoke(&h, "show_ca", json!({ "name": "missing" })).unwrap_err();
    assert_eq!(error["code"], "not_found");
    assert!(error["message"].as_str().unwrap().contains("missing"));
    assert!(!error["hint"].as_str().unwrap().is_empty());
}

#[test]
fn get_logs_returns_the_buffered_lines_in_order() {
    let h = harness(false);
    h.logs.push("INFO", "keyline_station::ca", "CA created".into(), BTreeMap::from([("ca".into(), "r".into())]));
    h.logs.push("WARN", "keyline_station::ca", "expires soon".into(), BTreeMap::new());
    let lines = invoke(&h, "get_logs", json!({})).unwrap();
    assert_eq!(lines[0]["message"], "CA created");
    assert_eq!(lines[0]["fields"]["ca"], "r");
    assert_eq!(lines[1]["level"], "WARN");
    assert!(lines[1]["seq"].as_u64() > lines[0]["seq"].as_u64());
}
