//! The device ledger through the `keyline` binary: `cert sign` records devices, `keyline devices list|show|export`
//! read them back, and certificate ids agree with openssl's SHA-256 of the DER.

#[allow(dead_code)]
#[path = "cli/support.rs"]
mod support;

use std::process::{Command, Stdio};

use serde_json::Value;
use support::{failed_with, openssl, Env};

const SERIAL: &str = "0123abcdef010203ee";

fn openssl_csr(env: &Env, cn: &str) -> String {
    let csr = env.path("device.csr");
    openssl(&[
        "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
        env.path("device.key").to_str().unwrap(), "-subj", &format!("/CN={cn}"), "-out", csr.to_str().unwrap(),
    ]);
    csr.to_str().unwrap().to_string()
}

/// SHA-256 of the certificate's DER as openssl computes it.
fn openssl_cert_id(pem_path: &str) -> String {
    let der = Command::new("openssl").args(["x509", "-in", pem_path, "-outform", "DER"]).stdin(Stdio::null()).output().unwrap();
    assert!(der.status.success());
    let der_path = format!("{pem_path}.der");
    std::fs::write(&der_path, &der.stdout).unwrap();
    let digest = openssl(&["dgst", "-sha256", "-r", &der_path]);
    digest.split_whitespace().next().unwrap().to_string()
}

/// The uncompressed public key (X ‖ Y hex) of the CSR's key, from openssl.
fn openssl_public_key(env: &Env) -> String {
    let der = Command::new("openssl")
        .args(["pkey", "-in", env.path("device.key").to_str().unwrap(), "-pubout", "-outform", "DER"])
        .output()
        .unwrap()
        .stdout;
    der[der.len() - 64..].iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn cert_sign_records_the_device_and_devices_list_show_and_export_read_it_back() {
    let env = Env::new();
    env.create_root_and_signer();
    let csr = openssl_csr(&env, SERIAL);
    let pem = env.path("device.pem");
    let signed = env.json(&["cert", "sign", "--ca", "signer", "--csr", &csr, "--profile", "rainbowtype", "-o", pem.to_str().unwrap()]);
    assert_eq!(signed["ledger"]["outcome"], "new", "{signed}");
    assert_eq!(signed["deviceSerial"], SERIAL);
    let cert_id = openssl_cert_id(pem.to_str().unwrap());
    assert_eq!(signed["certificateId"], cert_id.as_str(), "the ledger's id is openssl's SHA-256 of the DER");

    let listed = env.json(&["devices", "list"]);
    let devices = listed.as_array().unwrap();
    assert_eq!(devices.len(), 1, "{listed}");
    let device = &devices[0];
    assert_eq!(device["serial"], SERIAL);
    assert_eq!(device["commonName"], SERIAL);
    assert_eq!(device["profile"], "rainbowtype");
    assert_eq!(device["caName"], "signer");
    assert_eq!(device["status"], "issued");
    assert_eq!(device["certId"], cert_id.as_str());
    assert_eq!(device["certPem"], std::fs::read_to_string(&pem).unwrap().as_str());
    assert_eq!(device["publicKey"], openssl_public_key(&env).as_str());
    assert_eq!(env.json(&["devices", "list", "--ca", "other"]), Value::Array(vec![]));

    let shown = env.json(&["devices", "show", &SERIAL.to_ascii_uppercase()]);
    assert_eq!(shown["certId"], cert_id.as_str());
    assert_eq!(shown["events"][0]["kind"], "certificate_issued", "{shown}");
    assert_eq!(shown["events"][0]["detail"]["certId"], cert_id.as_str());
    assert!(env.ok(&["devices", "show", SERIAL]).contains("certificate_issued"));

    let csv_path = env.path("devices.csv");
    let summary = env.json(&["devices", "export", "--format", "csv", "-o", csv_path.to_str().unwrap()]);
    assert_eq!(summary["exported"], 1);
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    let column = |name: &str| rows[0].get(headers.iter().position(|h| h == name).unwrap()).unwrap().to_string();
    assert_eq!(column("serial"), SERIAL);
    assert_eq!(column("cert_id"), cert_id);
    assert_eq!(column("cert_pem"), std::fs::read_to_string(&pem).unwrap());
    let stdout_csv = env.ok(&["devices", "export"]);
    assert_eq!(stdout_csv.as_bytes(), std::fs::read(&csv_path).unwrap(), "stdout and file exports are the same CSV");
    let json: Value = serde_json::from_str(&env.ok(&["devices", "export", "--format", "json"])).unwrap();
    assert_eq!(json[0]["certId"], cert_id.as_str());
}

#[test]
fn signing_a_known_chip_again_replaces_its_certificate_and_extends_its_timeline() {
    let env = Env::new();
    env.create_root_and_signer();
    let csr = openssl_csr(&env, SERIAL);
    let first = env.json(&["cert", "sign", "--ca", "signer", "--csr", &csr, "--profile", "rainbowtype"]);
    let second = env.json(&["cert", "sign", "--ca", "signer", "--csr", &csr, "--profile", "esp-cryptoauthlib"]);
    assert_eq!(second["ledger"]["outcome"], "replaced", "{second}");
    assert_eq!(second["ledger"]["previousCertId"], first["certificateId"]);

    let listed = env.json(&["devices", "list"]);
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["profile"], "esp-cryptoauthlib");
    assert_eq!(listed[0]["commonName"], SERIAL.to_ascii_uppercase(), "the CN is what the cloud sees");
    let shown = env.json(&["devices", "show", SERIAL]);
    let kinds: Vec<&str> = shown["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["certificate_issued", "certificate_replaced"]);
}

#[test]
fn the_certificate_file_and_the_ledger_row_are_written_together_or_not_at_all() {
    let env = Env::new();
    env.create_root_and_signer();
    let csr = openssl_csr(&env, SERIAL);

    // The file cannot be written: no ledger row either.
    let unwritable = env.path("missing-dir/device.pem");
    failed_with(env.keyline(&["cert", "sign", "--ca", "signer", "--csr", &csr, "--profile", "rainbowtype", "-o", unwritable.to_str().unwrap(), "--json"]), "io");
    assert_eq!(env.json(&["devices", "list"]), Value::Array(vec![]));

    // The ledger cannot be written: no certificate file either.
    let pem = env.path("device.pem");
    let ledger = env.data_path("ledger.sqlite3");
    std::fs::remove_file(&ledger).unwrap();
    std::fs::create_dir(&ledger).unwrap();
    let out = env.keyline(&["cert", "sign", "--ca", "signer", "--csr", &csr, "--profile", "rainbowtype", "-o", pem.to_str().unwrap(), "--json"]);
    assert!(!out.status.success());
    assert!(!pem.exists(), "a certificate file was left without a ledger row");
}

#[test]
fn devices_show_refuses_a_malformed_serial_and_reports_an_unknown_one() {
    let env = Env::new();
    failed_with(env.keyline(&["devices", "show", "0123", "--json"]), "invalid_serial");
    failed_with(env.keyline(&["devices", "show", "0123abcdef01020xyz", "--json"]), "invalid_serial");
    let stderr = failed_with(env.keyline(&["devices", "show", SERIAL, "--json"]), "device_not_found");
    assert!(stderr.contains("keyline devices list"), "{stderr}");
}

/// A second connection holding the ledger's write lock, as another `keyline` writing does.
fn hold_write_lock(env: &Env) -> rusqlite::Connection {
    let other = rusqlite::Connection::open(env.data_path("ledger.sqlite3")).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    other
}

#[test]
fn read_commands_run_while_another_process_writes_and_a_writer_waits_for_it_saying_so() {
    let env = Env::new();
    env.create_root_and_signer();
    let csr = openssl_csr(&env, SERIAL);
    env.json(&["cert", "sign", "--ca", "signer", "--csr", &csr, "--profile", "rainbowtype"]);

    let writer = hold_write_lock(&env);
    let started = std::time::Instant::now();
    assert_eq!(env.json(&["devices", "list"]).as_array().unwrap().len(), 1);
    assert_eq!(env.json(&["devices", "show", SERIAL])["serial"], SERIAL);
    assert_eq!(env.json(&["audit", "verify"])["entries"], 1);
    assert_eq!(env.json(&["ledger", "check"])["problems"], Value::Array(vec![]));
    assert!(started.elapsed() < std::time::Duration::from_secs(8), "read commands waited for the write lock: {:?}", started.elapsed());

    // The writer says it waits; once the other process commits, it records.
    let csr = openssl_csr(&env, "0123abcdef010203ef");
    let mut child = Command::new(env!("CARGO_BIN_EXE_keyline"))
        .args(["cert", "sign", "--ca", "signer", "--csr", &csr, "--profile", "rainbowtype", "--json"])
        .env("KEYLINE_DATA_DIR", &env.data)
        .env("KEYLINE_CA_PASSPHRASE", support::PASS)
        .env_remove("KEYLINE_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut said = String::new();
    while !said.contains("waiting up to") {
        let mut line = String::new();
        assert!(std::io::BufRead::read_line(&mut stderr, &mut line).unwrap() > 0, "the writer ended without waiting: {said}");
        said.push_str(&line);
    }
    assert!(said.contains("locked by another writer for 1 s"), "{said}");
    writer.execute_batch("COMMIT").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the writer failed instead of waiting: {said}");
    assert_eq!(env.json(&["devices", "list"]).as_array().unwrap().len(), 2);
}

#[test]
fn ledger_backup_copies_a_checked_ledger_and_ledger_check_finds_a_changed_audit_entry() {
    let env = Env::new();
    env.create_root_and_signer();
    let csr = openssl_csr(&env, SERIAL);
    let signed = env.json(&["cert", "sign", "--ca", "signer", "--csr", &csr, "--profile", "rainbowtype"]);
    let check = env.json(&["ledger", "check"]);
    assert_eq!((check["problems"].clone(), check["audit"]["entries"].clone()), (Value::Array(vec![]), Value::from(1)));

    let backup = env.path("ledger-backup.sqlite3");
    let report = env.json(&["ledger", "backup", "-o", backup.to_str().unwrap()]);
    assert_eq!(report["devices"], 1, "{report}");
    let copy = rusqlite::Connection::open(&backup).unwrap();
    let cert_id: String = copy.query_row("SELECT cert_id FROM devices WHERE serial = ?1", [SERIAL], |row| row.get(0)).unwrap();
    assert_eq!(cert_id, signed["certificateId"].as_str().unwrap());
    failed_with(env.keyline(&["ledger", "backup", "-o", backup.to_str().unwrap(), "--json"]), "ledger_backup");
    env.json(&["ledger", "backup", "-o", backup.to_str().unwrap(), "--force"]);

    let live = rusqlite::Connection::open(env.data_path("ledger.sqlite3")).unwrap();
    live.execute("UPDATE audit_log SET detail = replace(detail, 'signer', 'forged')", []).unwrap();
    drop(live);
    let stderr = failed_with(env.keyline(&["ledger", "check", "--json"]), "audit_broken");
    assert!(stderr.contains("entry 1"), "{stderr}");
}
