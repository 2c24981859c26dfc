//! The layering rule, checked: front ends (the desktop shell and the `keyline` CLI) call the station only, and the
//! station never re-exports a domain crate whole. `cargo metadata` gives the shell's dependencies; the CLI lives in
//! the station crate, so its sources are read.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Domain crates that only the station may call. (`keyline-sim`, the simulated boards of practice mode, is a test
/// peer the front ends start, not a domain crate.)
const DOMAIN_CRATES: [&str; 4] = ["keyline-cloud", "keyline-certs", "keyline-board", "keyline-ota"];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn metadata() -> serde_json::Value {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline", "--manifest-path"])
        .arg(workspace().join("Cargo.toml"))
        .output()
        .expect("cargo runs");
    assert!(output.status.success(), "cargo metadata failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files
}

/// `use` paths of a domain crate (`keyline_cloud::…`) in the file's text, with line numbers.
fn domain_uses(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim_start().starts_with("//"))
        .filter(|(_, line)| DOMAIN_CRATES.iter().any(|krate| line.contains(&format!("{}::", krate.replace('-', "_")))))
        .map(|(number, line)| format!("{}:{}: {}", path.display(), number + 1, line.trim()))
        .collect()
}

#[test]
fn the_desktop_shell_depends_on_no_domain_crate() {
    let metadata = metadata();
    let app = metadata["packages"].as_array().unwrap().iter().find(|p| p["name"] == "keyline-app").expect("keyline-app is a member");
    let direct: Vec<&str> = app["dependencies"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert!(direct.contains(&"keyline-station"), "{direct:?}");
    for krate in DOMAIN_CRATES {
        assert!(!direct.contains(&krate), "keyline-app depends on {krate} directly; call keyline-station instead ({direct:?})");
    }
    let sources: Vec<String> = rust_files(&workspace().join("src-tauri")).iter().flat_map(|path| domain_uses(path)).collect();
    assert!(sources.is_empty(), "the desktop shell names a domain crate:\n{}", sources.join("\n"));
}

#[test]
fn the_cli_calls_the_station_only() {
    let cli = workspace().join("station/src/cli");
    let mut files = rust_files(&cli);
    files.push(workspace().join("station/src/main.rs"));
    assert!(files.len() > 5, "the CLI sources moved: {files:?}");
    let uses: Vec<String> = files.iter().flat_map(|path| domain_uses(path)).collect();
    assert!(uses.is_empty(), "the CLI calls a domain crate directly:\n{}", uses.join("\n"));
}

#[test]
fn the_station_reexports_no_domain_crate_whole() {
    let offences: Vec<String> = rust_files(&workspace().join("station/src"))
        .iter()
        .flat_map(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            let path = path.display().to_string();
            text.lines()
                .map(str::trim)
                .filter(|line| {
                    DOMAIN_CRATES.iter().map(|krate| krate.replace('-', "_")).any(|krate| {
                        line.starts_with(&format!("pub use {krate};"))
                            || line.starts_with(&format!("pub use {krate} as"))
                            || line.starts_with(&format!("pub use {krate}::*"))
                            || line.starts_with(&format!("pub extern crate {krate}"))
                    })
                })
                .map(|line| format!("{path}: {line}"))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(offences.is_empty(), "the station re-exports a domain crate; offer operations and types instead:\n{}", offences.join("\n"));
}
