//! The wizard's connection test: a thin call into `keyline_station::cloud_test`, which behaves like a device and
//! reports every phase with its timing; this module forwards those events over a `tauri::ipc::Channel`.

use std::sync::Arc;

use keyline_station::cloud::keyline_cloud::mqtt::ConnectReport;
use keyline_station::cloud::keyline_cloud::CloudSettings;
use keyline_station::cloud_test::{cancel_connection_tests, ConnectionTestRequest};
use keyline_station::Station;
use tauri::ipc::Channel;
use tauri::State;

pub use keyline_station::cloud_test::{ConnectEvent, PhaseState};

use super::cloud::{normalise, CloudResult};
use crate::state::AppState;

/// Runs the connection test for signer CA `ca` and returns the whole report; phases stream on `on_event`.
/// With `allow_list` the test serial is put on the allow-list first (the Lambda revokes unknown devices).
/// A test that never gets to publish is still `Ok`: check `connected` and `roundTrip`.
#[tauri::command]
pub async fn cloud_test_connect(
    state: State<'_, AppState>,
    settings: CloudSettings,
    ca: String,
    serial: Option<String>,
    allow_list: bool,
    mqtt_endpoint: Option<String>,
    on_event: Channel<ConnectEvent>,
) -> CloudResult<ConnectReport> {
    let request = TestRequest { settings, ca, serial, allow_list, mqtt_endpoint };
    run_connection_test(state.station.clone(), request, on_event).await
}

/// What to test (the command's arguments).
pub type TestRequest = ConnectionTestRequest;

/// The connection test behind [`cloud_test_connect`]: normalises the settings and forwards each event to the channel.
pub async fn run_connection_test(station: Arc<Station>, request: TestRequest, on_event: Channel<ConnectEvent>) -> CloudResult<ConnectReport> {
    let request = TestRequest { settings: normalise(request.settings), ..request };
    keyline_station::cloud_test::run_connection_test(station, request, move |event| {
        let _ = on_event.send(event);
    })
    .await
}

/// Stops a running connection test before its next attempt.
#[tauri::command]
pub fn cloud_cancel_test() {
    cancel_connection_tests();
}
