//! Entry point of the Keyline desktop app; everything lives in the library crate.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    keyline_app_lib::run();
}
