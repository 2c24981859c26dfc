//! IPC tests of the Cloud connecting commands: clear error reports without any AWS, and the whole wizard against
//! a real ministack (started through `keyline_station::cloud_ops`) up to a green connection test. ministack's MQTT
//! listener binds every interface, so that test re-runs itself inside a loopback-only network namespace.

mod common;

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use common::{invoke, window_with_dialogs, Harness};
use keyline_app_lib::file_dialog::FileDialogs;
use keyline_app_lib::practice::emulator::EmulatorSource;
use keyline_app_lib::commands::cloud_test::{run_connection_test, TestRequest};
use keyline_station::ca::CreateCa;
use keyline_station::cloud_ops::{CloudSettings, Emulator, EmulatorConfig};
use keyline_station::cloud_test::CancelToken;
use keyline_station::Passphrase;
use serde_json::{json, Value};
use tauri::ipc::{Channel, InvokeResponseBody};

const NETNS_MARKER: &str = "KEYLINE_IN_NETNS";

/// A practice-mode window over a store in `data/` of a fresh temporary directory (the emulator's files go beside it);
/// its open dialog picks `serials.txt` there.
fn harness() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let serials = dir.path().join("serials.txt");
    window_with_dialogs(dir, data, true, EmulatorSource::default(), FileDialogs::scripted([Some(serials)]))
}

fn assert_report(error: &Value, code: &str, message_has: &str) {
    assert_eq!(error["code"], code, "{error:#}");
    assert!(error["message"].as_str().unwrap().contains(message_has), "{error:#}");
    assert!(!error["hint"].as_str().unwrap().is_empty(), "{error:#}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn an_emulator_that_is_not_running_is_reported_as_unreachable_with_what_to_check() {
    let h = harness();
    let settings = json!({ "profile": null, "region": null, "endpointUrl": format!("http://127.0.0.1:{}", free_port()), "emulator": true });
    let error = invoke(&h, "cloud_identity", json!({ "settings": settings })).unwrap_err();
    assert_report(&error, "cloud_unreachable", "GetCallerIdentity");
    assert!(error["message"].as_str().unwrap().contains("--endpoint-url"), "{error:#}");
}

#[test]
fn serials_that_cannot_be_thing_names_are_refused_before_anything_is_sent() {
    let h = harness();
    let settings = json!({ "profile": null, "region": null, "endpointUrl": format!("http://127.0.0.1:{}", free_port()), "emulator": true });
    let error = invoke(&h, "cloud_allow_list_add", json!({ "settings": settings, "ca": "acme-signer", "serials": ["0123AB", "not a serial!"] })).unwrap_err();
    assert_report(&error, "cloud_invalid_serial", "not a serial!");
}

#[test]
fn the_defaults_flag_practice_mode_and_point_at_the_local_emulator() {
    let h = harness();
    let defaults = invoke(&h, "cloud_defaults", json!({})).unwrap();
    assert_eq!(defaults["practice"], true);
    assert_eq!(defaults["emulatorEndpointUrl"], "http://127.0.0.1:4566");
    assert_eq!(defaults["emulatorRegion"], "us-east-1");
    assert!(defaults["profiles"].is_array());
}

#[test]
fn the_wizard_takes_a_fresh_signer_to_a_green_connection_test_against_ministack() {
    if std::env::var_os(NETNS_MARKER).is_none() {
        return rerun_in_loopback_namespace("the_wizard_takes_a_fresh_signer_to_a_green_connection_test_against_ministack");
    }
    let h = harness();
    let project = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let emulator = tauri::async_runtime::block_on(Emulator::start(EmulatorConfig::in_project(project, h.dir.path().join("ministack"))))
        .expect("ministack starts (install it with scripts/keyline-dev.sh setup)");
    let settings = json!({ "profile": null, "region": null, "endpointUrl": emulator.endpoint_url(), "emulator": true });

    let identity = invoke(&h, "cloud_identity", json!({ "settings": settings })).unwrap();
    assert_eq!(identity["emulator"], true);
    assert_eq!(identity["account"].as_str().unwrap().len(), 12, "{identity:#}");

    let passphrase = Passphrase::from("correct horse battery");
    let request = CreateCa { name: "acme-root".into(), org: "Acme".into(), signer: Some("acme-signer".into()), years: 5 };
    h.station.create_ca(request, &passphrase).unwrap();
    invoke(&h, "lock_ca", json!({ "name": "acme-signer", "forget": false })).unwrap();
    let state = invoke(&h, "cloud_ca_state", json!({ "settings": settings, "ca": "acme-signer" })).unwrap();
    assert!(state["registration"].is_null(), "{state:#}");
    assert_eq!(state["caId"], h.station.cloud_ca_id("acme-signer").unwrap());

    // Step 3 needs the CA key: locked → passphrase_required, then unlock and see the code and certificate.
    let locked = invoke(&h, "cloud_verification", json!({ "settings": settings, "ca": "acme-signer" })).unwrap_err();
    assert_eq!(locked["code"], "passphrase_required", "{locked:#}");
    invoke(&h, "unlock_ca", json!({ "name": "acme-signer", "passphrase": "correct horse battery", "remember": false })).unwrap();
    let preview = invoke(&h, "cloud_verification", json!({ "settings": settings, "ca": "acme-signer" })).unwrap();
    let code = preview["registrationCode"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 64, "{preview:#}");
    let verification_pem = preview["verificationCertPem"].as_str().unwrap();
    let signer_pem = h.station.cloud_ca_cert_pem("acme-signer").unwrap();
    assert_openssl_verifies(h.dir.path(), &signer_pem, verification_pem, &code);

    let registered = invoke(&h, "cloud_register_ca", json!({ "settings": settings, "ca": "acme-signer", "mode": "DEFAULT", "autoRegistration": true })).unwrap();
    assert_eq!(registered["registration"]["alreadyRegistered"], false);
    assert_eq!(registered["registration"]["ca"]["status"], "ACTIVE");
    assert_eq!(registered["registration"]["ca"]["autoRegistration"], "ENABLE");
    assert_eq!(registered["verificationCertPem"].as_str(), Some(verification_pem), "register must send the certificate step 3 showed");
    let again = invoke(&h, "cloud_register_ca", json!({ "settings": settings, "ca": "acme-signer", "mode": "DEFAULT", "autoRegistration": true })).unwrap();
    assert_eq!(again["registration"]["alreadyRegistered"], true);
    assert_eq!(again["registration"]["changes"], json!([]));

    let before = invoke(&h, "cloud_stack_status", json!({ "settings": settings, "ca": "acme-signer" })).unwrap();
    assert!(pieces(&before).iter().any(|(_, health)| health == "missing"), "{before:#}");
    let changes = invoke(&h, "cloud_deploy", json!({ "settings": settings, "ca": "acme-signer", "method": "jitr", "allowList": true })).unwrap();
    assert!(changes.as_array().unwrap().iter().any(|c| c["change"] == "created"), "{changes:#}");
    let after = invoke(&h, "cloud_stack_status", json!({ "settings": settings, "ca": "acme-signer" })).unwrap();
    let after = pieces(&after);
    assert!(after.iter().all(|(_, health)| health == "ok"), "{after:?}");
    for piece in ["CA registration", "allow-list table", "device policy", "lambda role", "lambda function", "topic rule", "lambda permission"] {
        assert!(after.iter().any(|(name, _)| name == piece), "{piece} missing from {after:?}");
    }

    let serials_file = h.dir.path().join("serials.txt");
    std::fs::write(&serials_file, "# line 7\n0123456789ABCDEF01\n0123456789ABCDEF02\n").unwrap();
    let synced = invoke(&h, "cloud_allow_list_sync", json!({ "settings": settings, "ca": "acme-signer" })).unwrap();
    assert_eq!(synced["written"], 2);
    let empty_ledger = invoke(&h, "cloud_allow_list_sync_ledger", json!({ "settings": settings, "ca": "acme-signer" })).unwrap_err();
    assert_report(&empty_ledger, "invalid_input", "has no devices");
    let listed = invoke(&h, "cloud_allow_list_add", json!({ "settings": settings, "ca": "acme-signer", "serials": ["0123456789ABCDEF03"] })).unwrap();
    assert_eq!(listed, json!(["0123456789ABCDEF01", "0123456789ABCDEF02", "0123456789ABCDEF03"]));

    // The connection test streams its phases as they happen; the first connect is turned away by JITR.
    let events = Arc::new(Mutex::new(Vec::<Value>::new()));
    let sink = events.clone();
    let channel = Channel::new(move |body| {
        if let InvokeResponseBody::Json(text) = body {
            sink.lock().unwrap().push(serde_json::from_str(&text).unwrap());
        }
        Ok(())
    });
    let request = TestRequest {
        settings: serde_json::from_value::<CloudSettings>(settings.clone()).unwrap(),
        ca: "acme-signer".into(),
        serial: None,
        allow_list: true,
        mqtt_endpoint: Some(emulator.mqtt_address()),
    };
    let report = tauri::async_runtime::block_on(run_connection_test(h.station.clone(), request, CancelToken::new(), channel)).unwrap();
    assert!(report.connected && report.round_trip, "{report:#?}");
    assert!(report.first_attempt_turned_away(), "{report:#?}");
    let events = events.lock().unwrap();
    let ended: Vec<String> = events
        .iter()
        .filter(|e| e["data"]["state"] != "working")
        .map(|e| format!("{}{}:{}", e["data"]["key"].as_str().unwrap(), e["data"]["attempt"], e["data"]["state"].as_str().unwrap()))
        .collect();
    assert_eq!(&ended[..4], ["identity0:done", "allowList0:done", "endpoint0:done", "serverTrust0:done"], "{ended:?}");
    assert_eq!(ended[4], "attempt1:refused", "{ended:?}");
    assert_eq!(ended.last().unwrap(), &format!("roundTrip{}:done", report.attempts.len()), "{ended:?}");
    let allowed = invoke(&h, "cloud_allow_list", json!({ "settings": settings, "ca": "acme-signer" })).unwrap();
    assert!(allowed.as_array().unwrap().iter().any(|s| s == &json!(report.serial)), "{allowed:#}");
    drop(emulator);
}

#[test]
fn an_sni_only_ca_needs_no_verification_certificate_and_takes_the_jitp_template() {
    if std::env::var_os(NETNS_MARKER).is_none() {
        return rerun_in_loopback_namespace("an_sni_only_ca_needs_no_verification_certificate_and_takes_the_jitp_template");
    }
    let h = harness();
    let project = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let emulator = tauri::async_runtime::block_on(Emulator::start(EmulatorConfig::in_project(project, h.dir.path().join("ministack"))))
        .expect("ministack starts (install it with scripts/keyline-dev.sh setup)");
    let settings = json!({ "profile": null, "region": null, "endpointUrl": emulator.endpoint_url(), "emulator": true });
    let request = CreateCa { name: "sni-root".into(), org: "Acme".into(), signer: Some("sni-signer".into()), years: 5 };
    h.station.create_ca(request, &Passphrase::from("correct horse battery")).unwrap();
    invoke(&h, "lock_ca", json!({ "name": "sni-signer", "forget": false })).unwrap();

    // SNI_ONLY sends no verification certificate, so a locked CA registers fine.
    let registered = invoke(&h, "cloud_register_ca", json!({ "settings": settings, "ca": "sni-signer", "mode": "SNI_ONLY", "autoRegistration": true })).unwrap();
    assert!(registered["verificationCertPem"].is_null(), "{registered:#}");
    assert_eq!(registered["registration"]["ca"]["mode"], "SNI_ONLY");
    let again = invoke(&h, "cloud_register_ca", json!({ "settings": settings, "ca": "sni-signer", "mode": "DEFAULT", "autoRegistration": true })).unwrap();
    assert!(again["registration"]["warnings"][0].as_str().unwrap().contains("SNI_ONLY"), "mode change is reported: {again:#}");

    let changes = invoke(&h, "cloud_deploy", json!({ "settings": settings, "ca": "sni-signer", "method": "jitp", "allowList": false })).unwrap();
    let changes = changes.as_array().unwrap();
    assert!(!changes.is_empty() && changes.iter().all(|c| c["change"] != "absent"), "{changes:#?}");
    let redeploy = invoke(&h, "cloud_deploy", json!({ "settings": settings, "ca": "sni-signer", "method": "jitp", "allowList": false })).unwrap();
    assert!(redeploy.as_array().unwrap().iter().all(|c| c["change"] == "unchanged"), "deploy twice changes nothing: {redeploy:#}");
    let unknown = invoke(&h, "cloud_deploy", json!({ "settings": settings, "ca": "sni-root", "method": "jitr", "allowList": false })).unwrap_err();
    assert_report(&unknown, "cloud_ca_not_registered", "not registered");
    drop(emulator);
}

fn pieces(status: &Value) -> Vec<(String, String)> {
    status["pieces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["piece"].as_str().unwrap().to_string(), p["health"]["state"].as_str().unwrap().to_string()))
        .collect()
}

/// openssl (an independent verifier) agrees: CN = the registration code, signed by the signer CA.
fn assert_openssl_verifies(dir: &Path, signer_pem: &str, cert_pem: &str, code: &str) {
    let signer = dir.join("signer.pem");
    let cert = dir.join("verification.pem");
    std::fs::write(&signer, signer_pem).unwrap();
    std::fs::write(&cert, cert_pem).unwrap();
    let subject = Command::new("openssl").args(["x509", "-noout", "-subject", "-nameopt", "multiline", "-in"]).arg(&cert).output().unwrap();
    let subject = String::from_utf8_lossy(&subject.stdout);
    assert!(subject.contains(&format!("commonName                = {code}")), "{subject}");
    let verify = Command::new("openssl").args(["verify", "-partial_chain", "-CAfile"]).arg(&signer).arg(&cert).output().unwrap();
    assert!(verify.status.success(), "openssl verify: {}{}", String::from_utf8_lossy(&verify.stdout), String::from_utf8_lossy(&verify.stderr));
}

/// Runs this one test again inside `unshare -n` (root) or `unshare -rn`, with `lo` up, and checks it passed.
fn rerun_in_loopback_namespace(test: &str) {
    let exe = std::env::current_exe().unwrap();
    let is_root = Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0\n")).unwrap_or(false);
    let mut child = Command::new("unshare");
    child
        .arg(if is_root { "-n" } else { "-rn" })
        .args(["--", "sh", "-c", "ip link set lo up && exec \"$0\" \"$@\""])
        .arg(&exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(NETNS_MARKER, "1");
    let status = child.process_group(0).status().expect("unshare runs (util-linux)");
    assert!(status.success(), "{test} failed inside the loopback-only network namespace");
}
