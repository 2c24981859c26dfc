//! The wizard's connection test: a thin call into `keyline_station::cloud_test`, which behaves like a device and
//! reports every phase with its timing; this module forwards those events over a `tauri::ipc::Channel` and keeps
//! the cancel token of each running test so that the Cancel button stops exactly those.

use std::sync::{Arc, Mutex};

use keyline_station::cloud_ops::{CloudSettings, ConnectReport};
use keyline_station::cloud_test::{CancelToken, ConnectionTestRequest};
use keyline_station::Station;
use tauri::ipc::Channel;
use tauri::State;

pub use keyline_station::cloud_test::{ConnectEvent, PhaseState};

use crate::error::CommandResult;
use crate::state::AppState;

/// The cancel tokens of the connection tests now running (managed Tauri state).
#[derive(Debug, Default)]
pub struct RunningTests(Mutex<Vec<CancelToken>>);

impl RunningTests {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<CancelToken>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A fresh token for a run that starts now.
    pub fn start(&self) -> CancelToken {
        let token = CancelToken::new();
        self.lock().push(token.clone());
        token
    }

    /// Forgets a finished run's token.
    pub fn finish(&self, token: &CancelToken) {
        self.lock().retain(|running| !running.same_run(token));
    }

    /// Cancels every running test.
    pub fn cancel_all(&self) {
        self.lock().iter().for_each(CancelToken::cancel);
    }
}

/// Runs the connection test for signer CA `ca` and returns the whole report; phases stream on `on_event`.
/// With `allow_list` the test serial is put on the allow-list first (the Lambda revokes unknown devices).
/// A test that never gets to publish is still `Ok`: check `connected` and `roundTrip`.
#[tauri::command]
#[specta::specta]
#[allow(clippy::too_many_arguments)]
pub async fn cloud_test_connect(
    state: State<'_, AppState>,
    running: State<'_, RunningTests>,
    settings: CloudSettings,
    ca: String,
    serial: Option<String>,
    allow_list: bool,
    mqtt_endpoint: Option<String>,
    on_event: Channel<ConnectEvent>,
) -> CommandResult<ConnectReport> {
    let cancel = running.start();
    let request = TestRequest { settings, ca, serial, allow_list, mqtt_endpoint };
    let result = run_connection_test(state.station.clone(), request, cancel.clone(), on_event).await;
    running.finish(&cancel);
    result
}

/// What to test (the command's arguments).
#[derive(Debug, Clone)]
pub struct TestRequest {
    /// Where to connect (blank form fields are normalised by the station).
    pub settings: CloudSettings,
    /// The signer CA in the store.
    pub ca: String,
    /// Device serial; random when `None` or blank.
    pub serial: Option<String>,
    /// Put the serial on the allow-list first.
    pub allow_list: bool,
    /// `HOST:PORT` to dial instead of the endpoint.
    pub mqtt_endpoint: Option<String>,
}

/// The connection test behind [`cloud_test_connect`]: forwards each event to the channel; `cancel` stops it.
pub async fn run_connection_test(
    station: Arc<Station>,
    request: TestRequest,
    cancel: CancelToken,
    on_event: Channel<ConnectEvent>,
) -> CommandResult<ConnectReport> {
    let TestRequest { settings, ca, serial, allow_list, mqtt_endpoint } = request;
    let request = ConnectionTestRequest { serial, allow_list, mqtt_endpoint, cancel, ..ConnectionTestRequest::new(settings, ca) };
    let report = keyline_station::cloud_test::run_connection_test(station, request, move |event| {
        let _ = on_event.send(event);
    })
    .await?;
    Ok(report)
}

/// Stops the running connection tests before their next attempt.
#[tauri::command]
#[specta::specta]
pub fn cloud_cancel_test(running: State<'_, RunningTests>) {
    running.cancel_all();
}
