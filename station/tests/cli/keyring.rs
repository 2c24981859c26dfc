//! Remembering passphrases in the OS keyring: a real Secret Service (gnome-keyring in a private
//! D-Bus session) when one can be started, and the plain "not available" path without one.

use std::process::Command;

use crate::support::{failed_with, in_keyring_session, Env, PASS};

#[test]
fn without_a_session_bus_the_keyring_is_reported_unavailable_and_nothing_changes() {
    let env = Env::new();
    env.create_root_and_signer();
    let no_bus = |args: &[&str], envs: &[(&str, &str)]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_keyline"));
        command.args(args).env("KEYLINE_DATA_DIR", &env.data).env_remove("KEYLINE_CA_PASSPHRASE");
        command.env_remove("DBUS_SESSION_BUS_ADDRESS").env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY");
        command.env("XDG_RUNTIME_DIR", env.path("no-runtime"));
        for (key, value) in envs {
            command.env(key, value);
        }
        command.output().unwrap()
    };
    let status = no_bus(&["ca", "keyring", "--json"], &[]);
    assert!(status.status.success());
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["available"], false);
    assert!(!status["reason"].as_str().unwrap().is_empty());

    let before = env.snapshot_without_log();
    failed_with(no_bus(&["ca", "unlock", "root", "--remember", "--json"], &[("KEYLINE_CA_PASSPHRASE", PASS)]), "keyring_unavailable");
    assert_eq!(env.snapshot_without_log(), before);
    assert_eq!(env.json(&["ca", "show", "root"])["keyStatus"], "locked");
}

#[test]
fn remember_use_and_forget_with_gnome_keyring() {
    let env = Env::new();
    env.create_root_and_signer();
    let script = format!(
        r#"KEYLINE_CA_PASSPHRASE='{PASS}' "$K" ca unlock signer --remember --json > remember.json
"$K" ca list --json > list.json
"$K" cert verification --ca signer --code fromkeyring --json > verification.json
"$K" ca forget signer --json > forget.json
if "$K" cert verification --ca signer --code afterforget --json > after.json 2>/dev/null; then exit 3; fi
"#
    );
    let output = in_keyring_session(&env, &script, &[]);
    assert!(output.status.success(), "keyring script failed: {}", String::from_utf8_lossy(&output.stderr));
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(env.path(name)).unwrap()).unwrap()
    };
    assert_eq!(read("remember.json")["keyStatus"], "remembered");
    let list = read("list.json");
    assert_eq!(list[1]["keyStatus"], "remembered");
    assert_eq!(list[0]["keyStatus"], "locked");
    assert!(env.data_path("cloud/certs/signer-fromkeyring.pem").exists());
    assert_eq!(read("forget.json")["keyStatus"], "locked");
    assert_eq!(read("after.json")["error"]["code"], "passphrase_required");
    assert!(!env.data_path("cloud/certs/signer-afterforget.pem").exists());
}
