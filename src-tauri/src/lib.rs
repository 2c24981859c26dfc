//! Keyline desktop shell: a thin Tauri v2 layer over `keyline_station`.
//!
//! [`run`] reads the launch options, opens the [`Station`] on the data directory, installs the
//! station's logging plus a layer that feeds the UI's log panel, and starts the window with
//! the commands of [`commands`]. Commands never hold CA logic: each is one station call.

pub mod bindings;
pub mod commands;
pub mod error;
pub mod file_dialog;
pub mod launch;
pub mod log_panel;
pub mod picked;
pub mod practice;
pub mod progress;
pub mod shutdown;
pub mod state;

use std::sync::Arc;

use keyline_station::logging::{self, LogOptions};
use keyline_station::Station;
use tauri::{Emitter, Manager, Runtime};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::Layer;

use crate::launch::LaunchOptions;
use crate::log_panel::{LogBuffer, UiLogLayer, DEFAULT_CAPACITY, LOG_EVENT};
use crate::practice::Practice;
use crate::state::AppState;

/// Adds the managed state and every command to a builder (also used by the IPC tests, which pass scripted
/// [`FileDialogs`](file_dialog::FileDialogs) where the app passes the native ones).
pub fn with_commands<R: Runtime>(builder: tauri::Builder<R>, state: AppState, dialogs: file_dialog::FileDialogs) -> tauri::Builder<R> {
    let practice = practice::Practice::new(state.station.data_dir().to_path_buf(), state.practice, state.emulator_source.clone());
    builder.manage(state).manage(Arc::new(dialogs)).manage(practice).manage(commands::cloud_test::RunningTests::default()).manage(Arc::new(commands::line::LineState::default())).manage(Arc::new(commands::ota::OtaState::default())).manage(Arc::new(picked::PickedFiles::default())).manage(Arc::new(commands::flash::FlashState::default())).invoke_handler(bindings::builder::<R>().invoke_handler())
}

/// Builds and runs the Keyline window; exits with a message when the data directory is unusable.
pub fn run() {
    let launch = LaunchOptions::from_env().unwrap_or_else(|error| exit_with(&error.to_string(), 2));
    let base_dir = match launch.data_dir.clone() {
        Some(dir) => dir,
        None => Station::default_data_dir().unwrap_or_else(|error| exit_with(&report_line(&error), 1)),
    };
    // Practice mode never opens the production store, ledger or keyring entries.
    let data_dir = launch.station_dir(base_dir);
    let station = Station::open(data_dir.clone()).unwrap_or_else(|error| exit_with(&report_line(&error), 1));
    station.set_idle_lock(launch.idle_lock());

    let logs = LogBuffer::new(DEFAULT_CAPACITY);
    let mut log_options = LogOptions::new(data_dir);
    log_options.extra_layers.push(UiLogLayer::new(logs.clone()).with_filter(LevelFilter::INFO).boxed());
    if let Err(error) = logging::init(log_options) {
        eprintln!("keyline-app: logging is off: {}", report_line(&error));
    }
    tracing::info!(data_dir = %station.data_dir().display(), practice = launch.practice, "Keyline started");

    let emulator_source = practice::emulator::EmulatorSource::from_env();
    let station = Arc::new(station);
    lock_idle_cas_periodically(station.clone());
    let state = AppState { station, logs: logs.clone(), practice: launch.practice, emulator_source };
    let builder = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_clipboard_manager::init())
        .setup(move |app| {
            let handle = app.handle().clone();
            logs.set_sink(move |entry| {
                let _ = handle.emit(LOG_EVENT, entry);
            });
            app.state::<Arc<Practice>>().start_defaults();
            app.state::<Arc<file_dialog::FileDialogs>>().attach(app.handle().clone());
            shutdown::exit_on_signal(app.handle().clone());
            Ok(())
        });
    with_commands(builder, state, file_dialog::FileDialogs::native())
        .build(tauri::generate_context!())
        .unwrap_or_else(|error| exit_with(&format!("the window could not start: {error}"), 1))
        .run(|app, event| {
            if let tauri::RunEvent::Exit = event {
                app.state::<Arc<commands::ota::OtaState>>().shutdown();
                app.state::<Arc<Practice>>().shutdown();
            }
        });
}

/// Locks unlocked CAs that have gone unused for the idle-lock time, checking every 30 s (a CA also locks when it is
/// next asked for after that time).
fn lock_idle_cas_periodically(station: Arc<Station>) {
    let spawned = std::thread::Builder::new().name("idle-lock".into()).spawn(move || loop {
        std::thread::sleep(std::time::Duration::from_secs(30));
        station.lock_idle_cas();
    });
    if let Err(error) = spawned {
        tracing::warn!(%error, "cannot start the idle-lock thread; CAs still lock when next used after the idle time");
    }
}

fn report_line(error: &keyline_station::Error) -> String {
    let report = error.report_for(keyline_station::Audience::Gui);
    format!("{} [{}]. {}", report.message, report.code, report.hint)
}

fn exit_with(message: &str, code: i32) -> ! {
    eprintln!("keyline-app: {message}");
    std::process::exit(code)
}
