//! IPC tests: real commands over Tauri's mock runtime against a station on a temporary directory.

mod common;

use std::collections::BTreeMap;

use common::{harness, invoke, messages_on};
use serde_json::{json, Value};

/// Progress messages as "index/total step" lines, and "finished".
fn step_lines(messages: &[Value]) -> Vec<String> {
    messages
        .iter()
        .map(|m| match m["event"].as_str().unwrap() {
            "step" => format!("{}/{} {}", m["data"]["index"], m["data"]["total"], m["data"]["step"].as_str().unwrap()),
            other => other.to_owned(),
        })
        .collect()
}

#[test]
fn app_info_reports_the_data_directory_practice_mode_and_keyring() {
    let h = harness(true);
    let info = invoke(&h, "app_info", json!({})).unwrap();
    assert_eq!(info["practice"], true);
    assert_eq!(info["dataDir"], h.dir.path().display().to_string());
    assert!(info["keyring"]["available"].is_boolean());
    assert!(info["keyring"]["backend"].is_string());
}

#[test]
fn an_empty_store_lists_no_cas_and_an_unknown_ca_is_a_coded_error() {
    let h = harness(false);
    assert_eq!(invoke(&h, "list_cas", json!({})).unwrap(), json!([]));
    let error = invoke(&h, "show_ca", json!({ "name": "missing" })).unwrap_err();
    assert_eq!(error["code"], "not_found");
    assert!(error["message"].as_str().unwrap().contains("missing"));
    assert!(!error["hint"].as_str().unwrap().is_empty());
}

#[test]
fn get_logs_returns_the_buffered_lines_in_order() {
    let h = harness(false);
    h.logs.push("INFO", "keyline_station::ca", "CA created".into(), BTreeMap::from([("ca".into(), "r".into())]));
    h.logs.push("WARN", "keyline_station::ca", "expires soon".into(), BTreeMap::new());
    let lines = invoke(&h, "get_logs", json!({})).unwrap();
    assert_eq!(lines[0]["message"], "CA created");
    assert_eq!(lines[0]["fields"]["ca"], "r");
    assert_eq!(lines[1]["level"], "WARN");
    assert!(lines[1]["seq"].as_u64() > lines[0]["seq"].as_u64());
}

#[test]
fn create_ca_over_ipc_stores_root_and_signer_and_save_writes_the_exported_pem() {
    let h = harness(false);
    let created = invoke(
        &h,
        "create_ca",
        json!({
            "request": { "name": "ipc-root", "org": "IPC Test", "signer": "ipc-signer", "years": 2 },
            "passphrase": "ipc passphrase 123",
            "remember": false,
            "onEvent": "__CHANNEL__:7",
        }),
    )
    .unwrap();
    let names: Vec<_> = created.as_array().unwrap().iter().map(|ca| ca["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["ipc-root", "ipc-signer"]);
    assert_eq!(created[1]["issuerName"], "ipc-root");
    assert_eq!(created[0]["keyStatus"], "unlocked");
    let progress = messages_on(&h, 7);
    assert_eq!(
        step_lines(&progress),
        [
            "1/6 generatingRootKey",
            "2/6 signingRootCertificate",
            "3/6 generatingSignerKey",
            "4/6 signingSignerCertificate",
            "5/6 encryptingKeys",
            "6/6 writingFiles",
            "finished",
        ]
    );
    assert_eq!(progress.last().unwrap()["data"]["names"], json!(["ipc-root", "ipc-signer"]));

    let listed = invoke(&h, "list_cas", json!({})).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);

    let exported = invoke(&h, "export_ca_pem", json!({ "name": "ipc-signer" })).unwrap();
    assert!(exported.as_str().unwrap().starts_with("-----BEGIN CERTIFICATE-----"));

    let wrong = invoke(&h, "unlock_ca", json!({ "name": "ipc-root", "passphrase": "nope", "remember": false }))
        .unwrap_err();
    assert_eq!(wrong["code"], "wrong_passphrase");
    let locked = invoke(&h, "lock_ca", json!({ "name": "ipc-root", "forget": false })).unwrap();
    assert_eq!(locked["keyStatus"], "locked");
}

#[test]
fn import_ca_over_ipc_streams_check_encrypt_and_write() {
    let h = harness(false);
    invoke(
        &h,
        "create_ca",
        json!({
            "request": { "name": "source", "org": "O", "signer": null, "years": 1 },
            "passphrase": "ipc passphrase 123",
            "remember": false,
            "onEvent": "__CHANNEL__:8",
        }),
    )
    .unwrap();
    assert_eq!(
        step_lines(&messages_on(&h, 8)),
        ["1/4 generatingRootKey", "2/4 signingRootCertificate", "3/4 encryptingKeys", "4/4 writingFiles", "finished"]
    );
    let read = |path: &str| std::fs::read_to_string(h.dir.path().join(path)).unwrap();
    let imported = invoke(
        &h,
        "import_ca",
        json!({
            "request": {
                "name": "copy",
                "certPem": read("certs/source.crt"),
                "keyPem": read("keys/source.key"),
                "keyPassphrase": "ipc passphrase 123",
            },
            "passphrase": "another passphrase 456",
            "remember": false,
            "onEvent": "__CHANNEL__:9",
        }),
    )
    .unwrap();
    assert_eq!(imported[0]["name"], "copy");
    let progress = messages_on(&h, 9);
    assert_eq!(step_lines(&progress), ["1/3 checkingImport", "2/3 encryptingKeys", "3/3 writingFiles", "finished"]);
    assert_eq!(progress.last().unwrap()["data"]["names"], json!(["copy"]));
}

/// Needs the Secret Service the suite starts (`dbus-run-session -- bash scripts/with-keyring.sh cargo test ...`).
#[test]
fn create_ca_with_remember_streams_the_keyring_step_and_returns_remembered_cas() {
    let h = harness(false);
    let status = h.station.keyring_status();
    assert!(status.available, "no OS keyring ({}): run inside scripts/with-keyring.sh (apt install gnome-keyring dbus)", status.reason);
    let created = invoke(
        &h,
        "create_ca",
        json!({
            "request": { "name": "kept", "org": "O", "signer": null, "years": 1 },
            "passphrase": "ipc passphrase 123",
            "remember": true,
            "onEvent": "__CHANNEL__:8",
        }),
    )
    .unwrap();
    assert_eq!(
        step_lines(&messages_on(&h, 8)),
        ["1/5 generatingRootKey", "2/5 signingRootCertificate", "3/5 encryptingKeys", "4/5 writingFiles", "5/5 remembering", "finished"]
    );
    assert_eq!(created[0]["keyStatus"], "remembered");
    let forgotten = invoke(&h, "lock_ca", json!({ "name": "kept", "forget": true })).unwrap();
    assert_eq!(forgotten["keyStatus"], "locked");
}
