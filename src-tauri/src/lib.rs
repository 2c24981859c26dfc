//! Keyline desktop shell: a thin Tauri v2 layer over `keyline_station`.
//!
//! [`run`] reads the launch options, opens the [`Station`] on the data directory, installs the
//! station's logging plus a layer that feeds the UI's log panel, and starts the window with
//! the commands of [`commands`]. Commands never hold CA logic: each is one station call.

pub mod commands;
pub mod error;
pub mod launch;
pub mod log_panel;
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

/// Adds the managed state and every command to a builder (also used by the IPC tests).
pub fn with_commands<R: Runtime>(builder: tauri::Builder<R>, state: AppState) -> tauri::Builder<R> {
    let practice = practice::Practice::new(state.station.data_dir().to_path_buf(), state.practice, state.emulator_source.clone());
    builder.manage(state).manage(practice).manage(commands::cloud_test::RunningTests::default()).manage(Arc::new(commands::line::LineState::default())).manage(Arc::new(commands::ota::OtaState::default())).invoke_handler(tauri::generate_handler![
        commands::app::app_info,
        commands::app::keyring_status,
        commands::app::get_logs,
        commands::ca::list_cas,
        commands::ca::show_ca,
        commands::ca::export_ca_pem,
        commands::ca::save_ca_pem,
        commands::ca::create_ca,
        commands::ca::import_ca,
        commands::ca::unlock_ca,
        commands::ca::lock_ca,
        commands::cloud::cloud_defaults,
        commands::cloud::cloud_identity,
        commands::cloud::cloud_ca_state,
        commands::cloud::cloud_verification,
        commands::cloud::cloud_register_ca,
        commands::cloud::cloud_deploy,
        commands::cloud::cloud_stack_status,
        commands::cloud::cloud_allow_list,
        commands::cloud::cloud_allow_list_add,
        commands::cloud::cloud_allow_list_sync,
        commands::cloud::cloud_allow_list_sync_ledger,
        commands::cloud_test::cloud_test_connect,
        commands::cloud_test::cloud_cancel_test,
        commands::devices::search_devices,
        commands::devices::device_detail,
        commands::devices::export_devices,
        commands::files::save_text_file,
        commands::line::start_line,
        commands::line::stop_line,
        commands::line::retry_board,
        commands::ota::ota_status,
        commands::ota::start_ota_server,
        commands::ota::stop_ota_server,
        commands::ota::ota_devices,
        commands::ota::inspect_ota_image,
        commands::ota::sign_ota_image,
        commands::ota::push_ota,
        commands::ota::cancel_ota_push,
        commands::ports::list_ports,
        commands::practice::practice_status,
        commands::practice::start_sim_boards,
        commands::practice::stop_sim_boards,
        commands::practice::start_emulator,
        commands::practice::stop_emulator,
        commands::template::device_template,
    ])
}

/// Builds and runs the Keyline window; exits with a message when the data directory is unusable.
pub fn run() {
    let launch = LaunchOptions::from_env().unwrap_or_else(|error| exit_with(&error.to_string(), 2));
    let data_dir = match launch.data_dir.clone() {
        Some(dir) => dir,
        None => Station::default_data_dir().unwrap_or_else(|error| exit_with(&report_line(&error), 1)),
    };
    let station = Station::open(data_dir.clone()).unwrap_or_else(|error| exit_with(&report_line(&error), 1));

    let logs = LogBuffer::new(DEFAULT_CAPACITY);
    let mut log_options = LogOptions::new(data_dir);
    log_options.extra_layers.push(UiLogLayer::new(logs.clone()).with_filter(LevelFilter::INFO).boxed());
    if let Err(error) = logging::init(log_options) {
        eprintln!("keyline-app: logging is off: {}", report_line(&error));
    }
    tracing::info!(data_dir = %station.data_dir().display(), practice = launch.practice, "Keyline started");

    let emulator_source = practice::emulator::EmulatorSource::from_env();
    let state = AppState { station: Arc::new(station), logs: logs.clone(), practice: launch.practice, emulator_source };
    let builder = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_clipboard_manager::init())
        .setup(move |app| {
            let handle = app.handle().clone();
            logs.set_sink(move |entry| {
                let _ = handle.emit(LOG_EVENT, entry);
            });
            app.state::<Arc<Practice>>().start_defaults();
            shutdown::exit_on_signal(app.handle().clone());
            Ok(())
        });
    with_commands(builder, state)
        .build(tauri::generate_context!())
        .unwrap_or_else(|error| exit_with(&format!("the window could not start: {error}"), 1))
        .run(|app, event| {
            if let tauri::RunEvent::Exit = event {
                app.state::<Arc<commands::ota::OtaState>>().shutdown();
                app.state::<Arc<Practice>>().shutdown();
            }
        });
}

fn report_line(error: &keyline_station::Error) -> String {
    let report = error.report_for(keyline_station::Audience::Gui);
    format!("{} [{}]. {}", report.message, report.code, report.hint)
}

fn exit_with(message: &str, code: i32) -> ! {
    eprintln!("keyline-app: {message}");
    std::process::exit(code)
}
