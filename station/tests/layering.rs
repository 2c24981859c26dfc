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
    // Tests may build fixtures with a domain crate (a dev-dependency, as with keyline-sim); the shell itself may not.
    let direct: Vec<&str> =
        app["dependencies"].as_array().unwrap().iter().filter(|d| d["kind"] != "dev").map(|d| d["name"].as_str().unwrap()).collect();
    assert!(direct.contains(&"keyline-station"), "{direct:?}");
    for krate in DOMAIN_CRATES {
        assert!(!direct.contains(&krate), "keyline-app depends on {krate} directly; call keyline-station instead ({direct:?})");
    }
    let shell_code = rust_files(&workspace().join("src-tauri")).into_iter().filter(|path| !path.starts_with(workspace().join("src-tauri/tests")));
    let sources: Vec<String> = shell_code.flat_map(|path| domain_uses(&path)).collect();
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

/// Pairs of top-level modules that still import each other (each a known debt, to be broken by moving the shared
/// type down); any other pair is a new cycle and fails.
const KNOWN_MODULE_CYCLES: [(&str, &str, &str); 4] = [
    ("cloud", "jitp", "jitr"),
    ("ota", "secure_boot", "signing_key"),
    ("sim", "atcacert", "atecc"),
    ("sim", "board", "firmware"),
];

/// The top-level modules of `crate_dir/src` each file's non-test code names through `crate::<module>`.
fn module_imports(crate_dir: &Path) -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let src = crate_dir.join("src");
    let mut imports: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> = Default::default();
    for path in rust_files(&src) {
        let relative = path.strip_prefix(&src).unwrap();
        let top = relative.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_owned();
        if top == "lib" || top == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let names = imports.entry(top.clone()).or_default();
        for (index, _) in code.match_indices("crate::") {
            let module: String = code[index + 7..].chars().take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_').collect();
            if !module.is_empty() && module != top {
                names.insert(module);
            }
        }
    }
    imports
}

#[test]
fn no_two_modules_of_a_crate_import_each_other_beyond_the_known_ones() {
    let mut found = Vec::new();
    for krate in ["certs", "board", "cloud", "station", "ota", "sim"] {
        let imports = module_imports(&workspace().join(krate));
        for (module, names) in &imports {
            for other in names.iter().filter(|other| module < *other) {
                if imports.get(other).is_some_and(|back| back.contains(module)) {
                    found.push((krate, module.clone(), other.clone()));
                }
            }
        }
    }
    let new: Vec<_> = found.iter().filter(|(k, a, b)| !KNOWN_MODULE_CYCLES.contains(&(*k, a.as_str(), b.as_str()))).collect();
    assert!(new.is_empty(), "modules that import each other (move the shared type into a module below both): {new:?}");
    // allow_list and jitr shared Change/Health; they now live in cloud::piece below both.
    assert!(!found.iter().any(|(k, a, b)| *k == "cloud" && a == "allow_list" && b == "jitr"));
}
