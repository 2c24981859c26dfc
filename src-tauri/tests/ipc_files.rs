//! No command takes a file path from the page: every command that writes or reads a file the user names is called
//! as a compromised page would, with a hostile `path` (the operator's shell profile), and must touch only the file
//! the save or open dialog (scripted here) picked, or nothing when the user cancels.

mod common;

use std::path::{Path, PathBuf};

use common::{dialogs_asked, harness_answering, invoke, Harness};
use keyline_station::ca::CreateCa;
use keyline_station::Passphrase;
use serde_json::{json, Value};

const PROFILE: &str = "# the operator's shell profile\nexport PATH=/usr/bin\n0123456789abcdef01\n";

/// `~/.bashrc` as far as the page knows: a file it wants overwritten (or read).
fn hostile(h: &Harness) -> PathBuf {
    let path = h.dir.path().join(".bashrc");
    std::fs::write(&path, PROFILE).unwrap();
    path
}

fn assert_untouched(path: &Path) {
    assert_eq!(std::fs::read_to_string(path).unwrap(), PROFILE, "the page's path was written");
}

/// A path the user picks, in a folder of its own.
fn picked(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    (dir, path)
}

#[test]
fn save_text_file_writes_only_where_the_user_picked() {
    let (_keep, chosen) = picked("cert_chain.c");
    let nowhere = chosen.parent().unwrap().join("missing").join("cert_chain.c");
    let h = harness_answering([Some(chosen.clone()), None, Some(nowhere)]);
    let bashrc = hostile(&h);

    let saved = invoke(&h, "save_text_file", json!({ "path": bashrc, "suggestedName": "../../.bashrc", "contents": "int x;\n" })).unwrap();
    assert_eq!(saved, json!(chosen));
    assert_eq!(std::fs::read_to_string(&chosen).unwrap(), "int x;\n");
    assert_untouched(&bashrc);

    let cancelled = invoke(&h, "save_text_file", json!({ "path": bashrc, "suggestedName": "cert_chain.h", "contents": "y" })).unwrap();
    assert_eq!(cancelled, Value::Null, "a cancelled dialog writes nothing");
    assert_untouched(&bashrc);

    let error = invoke(&h, "save_text_file", json!({ "suggestedName": "cert_chain.c", "contents": "z" })).unwrap_err();
    assert_eq!(error["code"], "write_failed");
    assert!(error["message"].as_str().unwrap().contains("missing"), "{error}");

    let huge = "x".repeat(keyline_app_lib::commands::files::MAX_SAVED_TEXT_BYTES + 1);
    let error = invoke(&h, "save_text_file", json!({ "path": bashrc, "suggestedName": "big.c", "contents": huge })).unwrap_err();
    assert_eq!(error["code"], "too_large");
    assert_untouched(&bashrc);

    let asked = dialogs_asked(&h);
    assert_eq!(asked.len(), 3, "too-large text opens no dialog: {asked:?}");
    assert_eq!(asked[0].file_name, "keyline.txt", "a hidden or path-like suggestion is not offered");
    assert_eq!((asked[1].file_name.as_str(), asked[1].extensions.clone()), ("cert_chain.h", vec!["h".to_string()]));
}

#[test]
fn save_ca_pem_writes_the_certificate_only_where_the_user_picked() {
    let (_keep, chosen) = picked("signer.crt");
    let h = harness_answering([Some(chosen.clone()), None]);
    let request = CreateCa { name: "root".into(), org: "Acme".into(), signer: Some("signer".into()), years: 1 };
    h.station.create_ca(request, &Passphrase::from("ipc files passphrase")).unwrap();
    let bashrc = hostile(&h);

    let saved = invoke(&h, "save_ca_pem", json!({ "name": "signer", "path": bashrc })).unwrap();
    assert_eq!(saved, json!(chosen));
    let exported = invoke(&h, "export_ca_pem", json!({ "name": "signer" })).unwrap();
    assert_eq!(std::fs::read_to_string(&chosen).unwrap(), exported.as_str().unwrap());
    assert_untouched(&bashrc);
    assert_eq!(invoke(&h, "save_ca_pem", json!({ "name": "signer", "path": bashrc })).unwrap(), Value::Null);
    assert_untouched(&bashrc);
    assert_eq!(dialogs_asked(&h)[0].file_name, "signer.crt");
}

#[test]
fn export_devices_writes_only_where_the_user_picked() {
    let (_keep, chosen) = picked("devices.csv");
    let h = harness_answering([Some(chosen.clone()), None]);
    let bashrc = hostile(&h);
    let body = json!({ "query": { "limit": 50 }, "format": "csv", "path": bashrc });
    let exported = invoke(&h, "export_devices", body.clone()).unwrap();
    assert_eq!(exported["path"], json!(chosen));
    assert!(std::fs::read_to_string(&chosen).unwrap().starts_with("serial,"), "a CSV header");
    assert_untouched(&bashrc);
    assert_eq!(invoke(&h, "export_devices", body).unwrap(), Value::Null);
    assert_untouched(&bashrc);
}

#[test]
fn allow_list_sync_reads_only_the_file_the_user_picked() {
    let (_keep, chosen) = picked("serials.txt");
    std::fs::write(&chosen, "not a serial!\n").unwrap();
    let h = harness_answering([Some(chosen.clone()), None]);
    let bashrc = hostile(&h);
    let body = json!({ "settings": { "emulator": true, "endpointUrl": "http://127.0.0.1:9", "region": "us-east-1" }, "ca": "signer", "path": bashrc });
    // The picked file is read (and refused for its bad line) before anything is sent; the page's path is not read.
    let error = invoke(&h, "cloud_allow_list_sync", body.clone()).unwrap_err();
    assert!(error["message"].as_str().unwrap().contains("serials.txt") || error.to_string().contains("not a serial"), "{error}");
    assert_eq!(invoke(&h, "cloud_allow_list_sync", body).unwrap(), Value::Null, "a cancelled dialog syncs nothing");
    assert_eq!(dialogs_asked(&h)[0].extensions, ["txt", "csv", "list"]);
}

#[test]
fn reading_commands_take_only_files_the_user_picked_for_them() {
    let (keep, chosen) = picked("app.bin");
    std::fs::write(&chosen, b"not an image").unwrap();
    let h = harness_answering([Some(chosen.clone()), None]);
    let bashrc = hostile(&h);
    // A path where a file handle goes is refused before anything is read.
    assert!(invoke(&h, "inspect_ota_image", json!({ "image": bashrc })).is_err());
    assert!(invoke(&h, "check_flash_images", json!({ "images": [{ "file": bashrc, "offset": 0 }] })).is_err());
    let push = json!({ "serial": "0123a1b2c3d4e5f6ee", "image": bashrc, "signKey": null, "signPassphrase": null, "timeoutSecs": 1 });
    let target = json!({ "kind": "embedded", "url": "https://127.0.0.1:9", "ca": "x" });
    assert!(invoke(&h, "push_ota", json!({ "target": target, "request": push, "onEvent": "__CHANNEL__:3" })).is_err());
    // A remote server's operator certificate is a picked file too, never a path prefix from the page.
    let remote = json!({ "kind": "remote", "url": "https://127.0.0.1:9", "cert": bashrc, "ca": "x" });
    assert!(invoke(&h, "ota_devices", json!({ "target": remote })).is_err());
    let remote = json!({ "kind": "remote", "url": "https://127.0.0.1:9", "cert": 7, "ca": "x" });
    let unpicked = invoke(&h, "ota_devices", json!({ "target": remote })).unwrap_err();
    assert!(unpicked["message"].as_str().unwrap().contains("not chosen"), "{unpicked}");
    // A number the dialog never gave is refused too.
    let unknown = invoke(&h, "inspect_ota_image", json!({ "image": 7 })).unwrap_err();
    assert!(unknown["message"].as_str().unwrap().contains("not chosen"), "{unknown}");

    // The dialog's pick reaches the page as a handle and a name, never the folder it is in.
    let file = invoke(&h, "pick_file", json!({ "purpose": "flashImage" })).unwrap();
    assert_eq!(file["name"], "app.bin");
    assert!(!file.to_string().contains(keep.path().to_str().unwrap()), "the path stays in the shell: {file}");
    let handle = file["handle"].clone();
    let other_purpose = invoke(&h, "inspect_ota_image", json!({ "image": handle })).unwrap_err();
    assert!(other_purpose["message"].as_str().unwrap().contains("not chosen"), "a file picked for flashing is not an OTA image: {other_purpose}");
    let checked = invoke(&h, "check_flash_images", json!({ "images": [{ "file": handle, "offset": 0x10000 }] })).unwrap();
    assert_eq!(checked["images"][0]["name"], "app.bin", "the picked file is the one read");
    assert_eq!(invoke(&h, "pick_file", json!({ "purpose": "otaImage" })).unwrap(), Value::Null, "a cancelled dialog picks nothing");
    assert_untouched(&bashrc);
    assert_eq!(dialogs_asked(&h)[0].extensions, ["bin", "img"]);
}

/// Every command the window registers, with the arguments that name files: none takes a path.
#[test]
fn no_command_declares_a_path_argument() {
    let source: String = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/src/commands"))
        .unwrap()
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .collect();
    for command in source.split("#[tauri::command]").skip(1) {
        let signature = &command[..command.find('{').unwrap()];
        assert!(!signature.contains("PathBuf") || signature.contains("-> CommandResult<Option<PathBuf>>"), "a command takes a path: {signature}");
        assert!(!signature.contains(" path:"), "a command takes a path: {signature}");
        // Station request types that carry paths stay behind the shell's handle types.
        assert!(!signature.contains("PushRequest") && !signature.contains("FlashRequest"), "a command takes a request with paths: {signature}");
        assert!(!signature.contains("OtaTarget,") && !signature.contains("OtaTarget)"), "a command takes a target with a path: {signature}");
    }
}
