//! IPC tests of the OTA screen's commands: the embedded server started from an unlocked CA and
//! stopped, its (empty) device list through the desktop's own operator certificate, image
//! inspection and signing, and a push to a device that never answers, cancelled. Errors arrive as
//! `{code, message, hint}`. Runs inside `unshare -n` (loopback only) in scripts/keyline-dev.sh.

mod common;

use common::{invoke, messages_on};
use keyline_ota::ImageBuilder;
use serde_json::{json, Value};

const PASS: &str = "ota ipc passphrase 123";

/// A window with CA `ota-signer` whose save dialogs answer `answers` in order.
fn with_ca_answering(answers: impl IntoIterator<Item = Option<std::path::PathBuf>>) -> common::Harness {
    let h = common::harness_answering(answers);
    invoke(
        &h,
        "create_ca",
        json!({ "request": { "name": "ota-root", "org": "OTA", "signer": "ota-signer", "years": 2 }, "passphrase": PASS, "remember": false, "onEvent": "__CHANNEL__:1" }),
    )
    .unwrap();
    h
}

#[test]
fn the_embedded_server_starts_lists_devices_and_stops() {
    // The operator certificate the remote target names is picked in the open dialog; its key file is missing.
    let chain_dir = tempfile::tempdir().unwrap();
    let chain = chain_dir.path().join("operator.chain");
    std::fs::write(&chain, "not used: operator.key is missing").unwrap();
    let h = with_ca_answering([Some(chain)]);
    let status = invoke(&h, "ota_status", json!({})).unwrap();
    assert_eq!(status["server"], Value::Null);

    let bad = invoke(&h, "start_ota_server", json!({ "settings": { "listen": "nowhere", "ca": "ota-signer" } })).unwrap_err();
    assert_eq!(bad["code"], "invalid_input");
    assert!(!bad["hint"].as_str().unwrap().is_empty());

    let status = invoke(&h, "start_ota_server", json!({ "settings": { "listen": "127.0.0.1:0", "ca": "ota-signer" } })).unwrap();
    let url = status["server"]["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("https://127.0.0.1:"), "{status}");
    assert_eq!(status["simDevices"], json!([]));
    let target = json!({ "kind": "embedded", "url": url, "ca": "ota-signer" });
    assert_eq!(invoke(&h, "ota_devices", json!({ "target": target })).unwrap(), json!([]));

    // A remote target whose client certificate files are missing: a coded error, not a hang.
    let remote = json!({ "kind": "remote", "url": url, "cert": pick(&h, "otaClientCert"), "ca": "ota-signer" });
    let error = invoke(&h, "ota_devices", json!({ "target": remote })).unwrap_err();
    assert!(!error["code"].as_str().unwrap().is_empty() && !error["hint"].as_str().unwrap().is_empty(), "{error}");

    let status = invoke(&h, "stop_ota_server", json!({})).unwrap();
    assert_eq!(status["server"], Value::Null);
    let gone = invoke(&h, "ota_devices", json!({ "target": target })).unwrap_err();
    assert_eq!(gone["code"], "ota_connection");
}

fn pick(h: &common::Harness, purpose: &str) -> Value {
    invoke(h, "pick_file", json!({ "purpose": purpose })).unwrap()["handle"].clone()
}

#[test]
fn images_are_inspected_and_signed_and_a_push_nobody_answers_is_cancelled() {
    // The (scripted) open dialog picks the image, the junk file and the key; the save dialog where each signed copy
    // goes; the open dialog then picks the signed copy.
    let saved = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let dir = files.path();
    let answers = [dir.join("app.bin"), dir.join("junk.bin"), dir.join("sb.key"), saved.path().join("x.bin"), saved.path().join("app.signed.bin"), saved.path().join("app.signed.bin")];
    let h = with_ca_answering(answers.into_iter().map(Some));
    let image = ImageBuilder::new("blink", "5.0.1").segment(0x4008_0000, vec![7; 30_000]).build();
    std::fs::write(dir.join("app.bin"), &image).unwrap();
    std::fs::write(dir.join("junk.bin"), b"not an image").unwrap();

    let (app, junk) = (pick(&h, "otaImage"), pick(&h, "otaImage"));
    let report = invoke(&h, "inspect_ota_image", json!({ "image": app })).unwrap();
    assert_eq!(report["image"]["appDesc"]["projectName"], "blink");
    assert_eq!(report["image"]["appDesc"]["version"], "5.0.1");
    assert_eq!(report["signatureValid"], Value::Null);
    let junk = invoke(&h, "inspect_ota_image", json!({ "image": junk })).unwrap_err();
    assert_eq!(junk["code"], "ota_bad_image");

    // A key made with the CLI's station call, then signing through the command.
    keyline_station::ota::create_signing_key(&dir.join("sb.key"), &keyline_station::Passphrase::new(PASS.into())).unwrap();
    let key = pick(&h, "signingKey");
    let swapped = invoke(&h, "sign_ota_image", json!({ "key": app, "passphrase": PASS, "image": key })).unwrap_err();
    assert!(swapped["message"].as_str().unwrap().contains("not chosen"), "a handle picked for another purpose is refused: {swapped}");
    let wrong = invoke(&h, "sign_ota_image", json!({ "key": key, "passphrase": "wrong one", "image": app })).unwrap_err();
    assert_eq!(wrong["code"], "ota_key");
    assert!(!saved.path().join("x.bin").exists(), "nothing is written with a wrong passphrase");
    let signed = invoke(&h, "sign_ota_image", json!({ "key": key, "passphrase": PASS, "image": app })).unwrap();
    assert_eq!(signed["keyDigest"].as_str().unwrap().len(), 64);
    let signed_copy = pick(&h, "otaImage");
    let report = invoke(&h, "inspect_ota_image", json!({ "image": signed_copy })).unwrap();
    assert_eq!(report["signatureValid"], true);

    // Push to a device that never boots: the upload's bytes stream, then cancel ends the wait.
    let status = invoke(&h, "start_ota_server", json!({ "settings": { "listen": "127.0.0.1:0", "ca": "ota-signer" } })).unwrap();
    let target = json!({ "kind": "embedded", "url": status["server"]["url"], "ca": "ota-signer" });
    let ota = {
        use tauri::Manager;
        h.webview.state::<std::sync::Arc<keyline_app_lib::commands::ota::OtaState>>().inner().clone()
    };
    let seen = h.channel_messages.clone();
    // Cancel once the device's request is set (the upload is done and the app waits for the device).
    let canceller = std::thread::spawn(move || {
        for _ in 0..300 {
            std::thread::sleep(std::time::Duration::from_millis(100));
            let requested = seen.lock().unwrap().iter().any(|(channel, m)| *channel == 9 && m["event"] == "requested");
            if requested && ota.cancel_push() {
                return true;
            }
        }
        false
    });
    let request = json!({ "serial": "0123a1b2c3d4e5f6ee", "image": signed_copy, "signKey": null, "signPassphrase": null, "timeoutSecs": 60 });
    let error = invoke(&h, "push_ota", json!({ "target": target, "request": request, "onEvent": "__CHANNEL__:9" })).unwrap_err();
    assert!(canceller.join().unwrap());
    assert_eq!(error["code"], "cancelled", "{error}");
    let events = messages_on(&h, 9);
    let kinds: Vec<&str> = events.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"uploading") && kinds.contains(&"uploaded") && kinds.contains(&"requested"), "{kinds:?}");
    assert!(!kinds.contains(&"completed"));
    let last_upload = events.iter().rev().find(|e| e["event"] == "uploading").unwrap();
    assert_eq!(last_upload["data"]["sent"], last_upload["data"]["total"]);
    assert_eq!(invoke(&h, "ota_status", json!({})).unwrap()["pushing"], false);
    invoke(&h, "stop_ota_server", json!({})).unwrap();
}
