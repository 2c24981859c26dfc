//! `keyline cloud` end to end against ministack 1.5.33: a fresh signer CA goes to a working JITR setup with three
//! commands (register-ca, jitr deploy --allow-list, allow-list sync), and `test-connect` proves it like a device.
//! A device signed with `keyline cert sign` reaches the allow-list from the device ledger, and its cloud
//! certificate is joined with the ledger by certificate id.
//!
//! Own harness (`harness = false`): re-executes itself in a loopback-only network namespace (as root), starts the
//! emulator there, and runs the real `keyline` binary. Needs `.venv/bin/ministack`.

#[path = "../../../cloud/tests/ministack/netns.rs"]
mod netns;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use keyline_cloud::emulator::{Emulator, EmulatorConfig};
use serde_json::Value;

const PASSPHRASE: &str = "correct horse battery staple";

fn keyline(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_keyline"))
        .args(args)
        .env("KEYLINE_DATA_DIR", data_dir)
        .env("KEYLINE_CA_PASSPHRASE", PASSPHRASE)
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("run keyline")
}

fn json_ok(data_dir: &Path, args: &[&str]) -> Value {
    let mut full = vec!["--json", "cloud", "--emulator"];
    full.extend_from_slice(args);
    let out = keyline(data_dir, &full);
    assert!(out.status.success(), "keyline {full:?} failed:\n{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("keyline {full:?}: not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

async fn three_commands_take_a_fresh_ca_to_working_jitr(data_dir: &Path, serials_file: &Path) {
    let created = keyline(data_dir, &["ca", "create", "--name", "Root", "--org", "Keyline Test", "--signer", "Signer"]);
    assert!(created.status.success(), "ca create: {}", String::from_utf8_lossy(&created.stderr));

    let registered = json_ok(data_dir, &["register-ca", "--ca", "Signer"]);
    assert_eq!(registered["registration"]["ca"]["status"], "ACTIVE", "{registered}");
    assert_eq!(registered["registration"]["ca"]["autoRegistration"], "ENABLE", "{registered}");
    assert_eq!(registered["registration"]["alreadyRegistered"], false);
    let again = json_ok(data_dir, &["register-ca", "--ca", "Signer"]);
    assert_eq!(again["registration"]["alreadyRegistered"], true, "{again}");

    let deployed = json_ok(data_dir, &["jitr", "deploy", "--ca", "Signer", "--allow-list"]);
    assert!(deployed.as_array().unwrap().iter().all(|p| p["change"] == "created"), "{deployed}");
    let ledger_device = ledger_device_is_synced_to_the_allow_list(data_dir).await;
    let allowed = "0123AABBCCDDEEFF00";
    std::fs::write(serials_file, format!("# line 7\n{allowed}\n")).unwrap();
    let synced = json_ok(data_dir, &["allow-list", "sync", "--ca", "Signer", "--serials", serials_file.to_str().unwrap()]);
    assert_eq!(synced["written"], 1, "{synced}");
    assert_eq!(synced["activated"], serde_json::json!([]), "{synced}");

    let report = json_ok(data_dir, &["test-connect", "--ca", "Signer", "--serial", allowed]);
    assert_eq!(report["connected"], true, "{report}");
    assert_eq!(report["roundTrip"], true, "{report}");
    assert_ne!(report["attempts"][0]["outcome"], "connected", "JITR must turn the first connect away: {report}");
    let device = json_ok(data_dir, &["devices", "show", allowed]);
    assert_eq!(device["status"], "ACTIVE", "{device}");
    assert_eq!(device["things"][0], allowed, "{device}");

    ledger_device_is_joined_with_its_cloud_certificate(data_dir, &ledger_device).await;

    let stranger = "0123AABBCCDDEEFF01";
    let refused = keyline(data_dir, &["--json", "cloud", "--emulator", "test-connect", "--ca", "Signer", "--serial", stranger, "--attempts", "3"]);
    assert!(!refused.status.success(), "an unknown device connected: {}", String::from_utf8_lossy(&refused.stdout));
    // stdout holds the report, then the {"error": …} object.
    let mut documents = serde_json::Deserializer::from_slice(&refused.stdout).into_iter::<Value>();
    let report = documents.next().expect("a report").expect("the report is JSON");
    let error = documents.next().expect("an error").expect("the error is JSON");
    assert_eq!(error["error"]["code"], "cloud_connection_test_failed", "{error}");
    let certificate_id = report["certificateId"].as_str().unwrap().to_string();
    let mut status = Value::Null;
    for _ in 0..20 {
        status = json_ok(data_dir, &["devices", "show", &certificate_id])["status"].clone();
        if status == "INACTIVE" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert_eq!(status, "INACTIVE", "the device that is not allowed yet was not left INACTIVE");
    // Once its serial is on the allow-list, the sync activates it and it connects.
    std::fs::write(serials_file, format!("{allowed}\n{stranger}\n")).unwrap();
    let synced = json_ok(data_dir, &["allow-list", "sync", "--ca", "Signer", "--serials", serials_file.to_str().unwrap()]);
    assert_eq!(synced["activated"][0]["certificateId"], certificate_id.as_str(), "{synced}");
    let report = json_ok(data_dir, &["test-connect", "--ca", "Signer", "--serial", stranger]);
    assert_eq!(report["roundTrip"], true, "{report}");

    // A second CA in the same account (same registration code, its own verification certificate), with JITP.
    let created = keyline(data_dir, &["ca", "create", "--name", "Root2", "--org", "Keyline Test", "--signer", "Signer2"]);
    assert!(created.status.success(), "second ca create: {}", String::from_utf8_lossy(&created.stderr));
    let second = json_ok(data_dir, &["register-ca", "--ca", "Signer2"]);
    assert_eq!(second["registration"]["ca"]["status"], "ACTIVE", "{second}");
    let jitp_second = json_ok(data_dir, &["jitp", "deploy", "--ca", "Signer2"]);
    assert!(jitp_second.as_array().unwrap().iter().any(|p| p["piece"] == "provisioning template" && p["change"] == "created"), "{jitp_second}");
    let status = json_ok(data_dir, &["jitr", "status", "--ca", "Signer"]);
    assert!(status["pieces"].as_array().unwrap().iter().all(|p| p["health"]["state"] == "ok"), "JITP for Signer2 disturbed Signer's JITR: {status}");
    let operator = json_ok(data_dir, &["permissions", "--method", "jitp", "--account", "123456789012"]);
    assert!(operator.to_string().contains("iam:PassRole") && operator.to_string().contains("keyline-jitp-*"), "{operator}");

    let status = json_ok(data_dir, &["jitr", "status", "--ca", "Signer"]);
    assert!(status["pieces"].as_array().unwrap().iter().all(|p| p["health"]["state"] == "ok"), "{status}");
    let removed = json_ok(data_dir, &["jitr", "remove", "--ca", "Signer", "--purge-allow-list"]);
    assert!(removed.as_array().unwrap().iter().all(|p| p["change"] == "deleted"), "{removed}");

    let jitp = json_ok(data_dir, &["jitp", "deploy", "--ca", "Signer"]);
    assert_eq!(jitp.as_array().unwrap().len(), 3, "{jitp}");
    let listed = json_ok(data_dir, &["ca", "list"]);
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
    let refused = keyline(data_dir, &["--json", "cloud", "--emulator", "ca", "delete", "Signer"]);
    assert!(!refused.status.success());
    let error: Value = serde_json::from_slice(&refused.stdout).unwrap();
    assert_eq!(error["error"]["code"], "cloud_ca_has_devices", "{error}");
    let deleted = json_ok(data_dir, &["ca", "delete", "Signer", "--force"]);
    assert!(deleted["deleted"].is_string(), "{deleted}");
}

/// A device signed with `keyline cert sign` (recorded in the ledger).
struct LedgerDevice {
    serial: String,
    cert_id: String,
    pem: String,
}

/// `cert sign` records a device; `allow-list sync` without `--serials` pushes it from the ledger.
async fn ledger_device_is_synced_to_the_allow_list(data_dir: &Path) -> LedgerDevice {
    let serial = "0123aabbccddeeff02";
    let scratch = data_dir.parent().unwrap();
    let (key, csr, pem_path) = (scratch.join("ledger-device.key"), scratch.join("ledger-device.csr"), scratch.join("ledger-device.pem"));
    let openssl = Command::new("openssl")
        .args(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", &format!("/CN={serial}")])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&csr)
        .output()
        .expect("openssl runs");
    assert!(openssl.status.success(), "openssl req: {}", String::from_utf8_lossy(&openssl.stderr));
    let signed = keyline(
        data_dir,
        &["--json", "cert", "sign", "--ca", "Signer", "--profile", "rainbowtype", "--csr", csr.to_str().unwrap(), "-o", pem_path.to_str().unwrap()],
    );
    assert!(signed.status.success(), "cert sign: {}", String::from_utf8_lossy(&signed.stderr));
    let signed: Value = serde_json::from_slice(&signed.stdout).unwrap();
    assert_eq!(signed["ledger"]["outcome"], "new", "{signed}");

    let synced = json_ok(data_dir, &["allow-list", "sync", "--ca", "Signer"]);
    assert_eq!(synced["written"], 1, "one ledger device: {synced}");
    let listed = json_ok(data_dir, &["allow-list", "list", "--ca", "Signer"]);
    assert!(listed.as_array().unwrap().iter().any(|s| s == serial), "the ledger device is not on the allow-list: {listed}");
    LedgerDevice { serial: serial.into(), cert_id: signed["certificateId"].as_str().unwrap().into(), pem: std::fs::read_to_string(pem_path).unwrap() }
}

/// Once AWS IoT holds the ledger device's certificate, `devices list|show` name it by its ledger serial and profile.
async fn ledger_device_is_joined_with_its_cloud_certificate(data_dir: &Path, device: &LedgerDevice) {
    let settings = keyline_cloud::CloudSettings::emulator("http://127.0.0.1:4566", keyline_cloud::emulator::REGION);
    let cloud = keyline_cloud::CloudContext::connect(&settings).await.expect("connect to ministack");
    let ca_pem = std::fs::read_to_string(data_dir.join("certs/Signer.crt")).unwrap();
    let registered = cloud.iot.register_certificate().certificate_pem(&device.pem).ca_certificate_pem(ca_pem).send().await.expect("RegisterCertificate");
    assert_eq!(registered.certificate_id(), Some(device.cert_id.as_str()), "AWS IoT and the ledger compute the same certificate id");

    let listed = json_ok(data_dir, &["devices", "list", "--ca", "Signer"]);
    let entries = listed.as_array().unwrap();
    let ours = entries.iter().find(|d| d["certificateId"] == device.cert_id.as_str()).unwrap_or_else(|| panic!("not listed: {listed}"));
    assert_eq!(ours["ledger"]["serial"], device.serial.as_str(), "{listed}");
    assert_eq!(ours["ledger"]["profile"], "rainbowtype", "{listed}");
    let test_device = entries.iter().find(|d| d["ledger"]["profile"] == "connection-test").unwrap_or_else(|| panic!("the test-connect certificate is not in the ledger: {listed}"));
    assert_eq!(test_device["ledger"]["status"], "test", "recorded as a test device: {test_device}");

    let shown = json_ok(data_dir, &["devices", "show", &device.serial]);
    assert_eq!(shown["certificateId"], device.cert_id.as_str(), "a ledger serial finds its certificate: {shown}");
    assert_eq!(shown["ledger"]["caName"], "Signer", "{shown}");
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("three_commands_take_a_fresh_ca_to_working_jitr: test");
        return;
    }
    netns::enter_loopback_namespace();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let scratch = tempfile::tempdir().unwrap();
        let binary = std::env::var_os("KEYLINE_MINISTACK").map(PathBuf::from).unwrap_or_else(|| {
            std::env::var_os("KEYLINE_VENV")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv"))
                .join("bin/ministack")
        });
        let config = EmulatorConfig { binary, api_port: 4566, mqtt_port: 8883, workdir: scratch.path().join("emulator"), enforce_policies: false };
        let emulator = Emulator::start(config).await.expect("start ministack");
        println!("running 1 test");
        let data_dir = scratch.path().join("data");
        three_commands_take_a_fresh_ca_to_working_jitr(&data_dir, &scratch.path().join("serials.txt")).await;
        drop(emulator);
        println!("test three_commands_take_a_fresh_ca_to_working_jitr ... ok\n\ntest result: ok. 1 passed");
    });
}
