//! The checked-in TypeScript bindings (`ui/src/lib/backend/bindings.ts`) are what the Rust commands and types
//! generate today: a changed command signature or type fails here until the bindings are regenerated.

use std::path::Path;

#[test]
fn the_checked_in_bindings_match_the_rust_commands_and_types() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let checked_in = std::fs::read_to_string(root.join(keyline_app_lib::bindings::BINDINGS_PATH)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let fresh_path = dir.path().join("bindings.ts");
    keyline_app_lib::bindings::export(&fresh_path).unwrap();
    let fresh = std::fs::read_to_string(&fresh_path).unwrap();
    if fresh != checked_in {
        let first = fresh.lines().zip(checked_in.lines()).position(|(a, b)| a != b).unwrap_or(fresh.lines().count().min(checked_in.lines().count()));
        panic!(
            "{} is stale (first difference at line {}: generated {:?}, checked in {:?}); run \
             `cargo run -p keyline-app --example bindings` and commit the result",
            keyline_app_lib::bindings::BINDINGS_PATH,
            first + 1,
            fresh.lines().nth(first).unwrap_or("<end>"),
            checked_in.lines().nth(first).unwrap_or("<end>"),
        );
    }
}

#[test]
fn every_command_the_shell_defines_has_a_wrapper_and_no_wrapper_lacks_a_command() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bindings = std::fs::read_to_string(root.join("..").join(keyline_app_lib::bindings::BINDINGS_PATH)).unwrap();
    let mut defined = Vec::new();
    for entry in std::fs::read_dir(root.join("src/commands")).unwrap() {
        let source = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for item in source.split("#[tauri::command]").skip(1) {
            let signature = item.split_once("fn ").unwrap().1;
            defined.push(signature.split(['(', '<']).next().unwrap().trim().to_owned());
        }
    }
    defined.sort();
    let mut wrapped: Vec<String> = bindings
        .lines()
        .filter(|line| line.contains("__TAURI_INVOKE<"))
        .filter_map(|line| line.trim().split_once(": (").map(|(name, _)| name.to_owned()))
        .collect();
    wrapped.sort();
    assert_eq!(wrapped, defined);
    assert!(defined.len() > 30, "{defined:?}");
    assert!(bindings.contains(&format!("makeEvent<LogEntry, LogEntry>(\"{}\")", keyline_app_lib::log_panel::LOG_EVENT)));
}
