//! Build script: makes sure a frontend exists to embed, then runs tauri-build.

use std::path::Path;

fn main() {
    ensure_frontend_placeholder();
    tauri_build::build();
}

/// `tauri::generate_context!` refuses to compile when `ui/dist` is missing.
/// A checkout where the UI has not been built yet still compiles and shows a page
/// that says how to build the UI (`npm run build:ui`).
fn ensure_frontend_placeholder() {
    let dist = Path::new("../ui/dist");
    println!("cargo:rerun-if-changed=../ui/dist");
    if dist.join("index.html").exists() {
        return;
    }
    std::fs::create_dir_all(dist).expect("create ui/dist");
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><meta charset=utf-8><title>Keyline</title>\
         <p>The Keyline UI has not been built. Run <code>npm run build:ui</code> \
         in the repository root, then rebuild keyline-app.</p>",
    )
    .expect("write placeholder ui/dist/index.html");
}
