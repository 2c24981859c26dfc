//! Regenerates the window's TypeScript bindings (`ui/src/lib/backend/bindings.ts`) from the Rust commands and types.

fn main() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(keyline_app_lib::bindings::BINDINGS_PATH);
    keyline_app_lib::bindings::export(&path).unwrap_or_else(|error| {
        eprintln!("bindings: {error}");
        std::process::exit(1)
    });
    println!("wrote {}", path.display());
}
