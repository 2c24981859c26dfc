//! The window's typed interface: every command and event, collected once for the invoke handler and for the
//! generated TypeScript (`ui/src/lib/backend/bindings.ts`, checked in; `tests/bindings.rs` fails when it is stale).

use std::path::Path;

use tauri::Runtime;
use tauri_specta::{collect_commands, collect_events, Builder, Casing, ErrorHandlingMode};

use crate::commands::{app, ca, cloud, cloud_test, devices, files, flash, line, ota, ports, practice, template};
use crate::log_panel::LogEntry;

/// Where the generated bindings live, relative to the workspace root.
pub const BINDINGS_PATH: &str = "ui/src/lib/backend/bindings.ts";

const HEADER: &str = "// Generated from the Rust commands and types of src-tauri by `cargo run -p keyline-app --example bindings`.\n\
// Do not edit: change the Rust side and regenerate (src-tauri/tests/bindings.rs fails when this file is stale).\n";

/// Every command and event of the window. Accessors keep the Rust names (`commands.list_cas`), and a failed
/// command throws its `ErrorReport`, as a plain `invoke` does.
pub fn builder<R: Runtime>() -> Builder<R> {
    Builder::<R>::new()
        .commands(collect_commands![
            app::app_info,
            app::keyring_status,
            app::get_logs,
            app::get_settings,
            app::save_settings,
            ca::list_cas,
            ca::show_ca,
            ca::export_ca_pem,
            ca::save_ca_pem,
            ca::create_ca,
            ca::import_ca,
            ca::unlock_ca,
            ca::lock_ca,
            cloud::cloud_defaults,
            cloud::cloud_identity,
            cloud::cloud_ca_state,
            cloud::cloud_verification,
            cloud::cloud_register_ca,
            cloud::cloud_deploy,
            cloud::cloud_stack_status,
            cloud::cloud_allow_list,
            cloud::cloud_allow_list_add,
            cloud::cloud_allow_list_sync,
            cloud::cloud_allow_list_sync_ledger,
            cloud_test::cloud_test_connect,
            cloud_test::cloud_cancel_test,
            devices::search_devices,
            devices::device_detail,
            devices::export_devices,
            files::save_text_file,
            files::pick_file,
            flash::check_flash_images,
            flash::flash_board,
            flash::ram_load_board,
            flash::cancel_flash,
            line::start_line,
            line::stop_line,
            line::retry_board,
            ota::ota_status,
            ota::start_ota_server,
            ota::stop_ota_server,
            ota::ota_devices,
            ota::inspect_ota_image,
            ota::sign_ota_image,
            ota::push_ota,
            ota::cancel_ota_push,
            ports::list_ports,
            practice::practice_status,
            practice::start_sim_boards,
            practice::stop_sim_boards,
            practice::start_emulator,
            practice::stop_emulator,
            template::device_template,
        ])
        .events(collect_events![LogEntry])
        .error_handling(ErrorHandlingMode::Throw)
        .function_casing(Casing::SnakeCase)
        // Counts, sizes, sequence numbers and millisecond timestamps: serde_json already sends them as JSON numbers
        // and every one stays far below 2^53, so `number` is what the window receives.
        .dangerously_cast_bigints_to_number()
        .disable_serde_phases()
}

/// Writes the TypeScript bindings to `path`.
pub fn export(path: &Path) -> Result<(), specta_typescript::Error> {
    builder::<tauri::Wry>().export(specta_typescript::Typescript::default().header(HEADER), path)
}
