//! The station API as the desktop shell uses it: explicit passphrases, no environment, no prompts.

use keyline_station::ca::{CreateCa, ImportCa, KeyStatus};
use keyline_station::{Passphrase, Station, MIN_PASSPHRASE_CHARS};

fn create(station: &Station, pass: &Passphrase) {
    let request = CreateCa { name: "root".into(), org: "Acme".into(), signer: Some("signer".into()), years: 5 };
    let created = station.create_ca(request, pass).unwrap();
    assert_eq!(created.len(), 2);
    assert!(created.iter().all(|ca| ca.key_status == KeyStatus::Unlocked));
}

#[test]
fn a_locked_ca_asks_for_its_passphrase_and_works_after_unlock() {
    let dir = tempfile::tempdir().unwrap();
    let station = Station::open(dir.path().join("data")).unwrap();
    let pass = Passphrase::from("gui passphrase");
    create(&station, &pass);

    assert_eq!(station.lock_ca("signer").unwrap().key_status, KeyStatus::Locked);
    let err = station.make_verification_cert("signer", "code1").unwrap_err();
    assert_eq!(err.code(), "passphrase_required");
    assert_eq!(station.unlock_ca("signer", &Passphrase::from("nope"), false).unwrap_err().code(), "wrong_passphrase");
    assert_eq!(station.unlock_ca("signer", &pass, false).unwrap().key_status, KeyStatus::Unlocked);
    let cert = station.make_verification_cert("signer", "code1").unwrap();
    assert!(cert.cert_path.exists() && cert.key_path.as_ref().is_some_and(|path| path.exists()));

    // A second Station on the same directory (another process) holds nothing.
    let other = Station::open(dir.path().join("data")).unwrap();
    assert!(other.list_cas().unwrap().iter().all(|ca| ca.key_status == KeyStatus::Locked));
}

#[test]
fn results_and_errors_serialise_in_camel_case_for_the_ui() {
    let dir = tempfile::tempdir().unwrap();
    let station = Station::open(dir.path().to_path_buf()).unwrap();
    let pass = Passphrase::from("serialise pass");
    create(&station, &pass);
    let json = serde_json::to_value(station.show_ca("signer").unwrap()).unwrap();
    for key in ["name", "role", "issuerName", "notBefore", "notAfter", "daysUntilExpiry", "sha256", "sha1", "keyStatus", "chain", "serial", "extensions", "pem"] {
        assert!(json.get(key).is_some(), "missing {key} in {json}");
    }
    let err = station.show_ca("nope").unwrap_err();
    let report = serde_json::to_value(err.report()).unwrap();
    assert_eq!(report["code"], "not_found");
    assert!(report["hint"].as_str().unwrap().contains("keyline ca list"));
    assert_eq!(serde_json::to_value(&err).unwrap(), report);
}

#[test]
fn import_takes_the_key_passphrase_from_the_request() {
    let source_dir = tempfile::tempdir().unwrap();
    let source = Station::open(source_dir.path().to_path_buf()).unwrap();
    let pass = Passphrase::from("source pass");
    create(&source, &pass);
    let cert_pem = std::fs::read_to_string(source_dir.path().join("certs/root.crt")).unwrap();
    let key_pem = std::fs::read_to_string(source_dir.path().join("keys/root.key")).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let station = Station::open(dir.path().to_path_buf()).unwrap();
    let store_pass = Passphrase::from("new store pass");
    let request = |key_passphrase: Option<&str>| ImportCa {
        name: "copy".into(),
        cert_pem: cert_pem.clone(),
        key_pem: key_pem.clone().into(),
        key_passphrase: key_passphrase.map(Passphrase::from),
    };
    assert_eq!(station.import_ca(request(None), &store_pass).unwrap_err().code(), "passphrase_required");
    assert_eq!(station.import_ca(request(Some("bad")), &store_pass).unwrap_err().code(), "wrong_passphrase");
    let summary = station.import_ca(request(Some("source pass")), &store_pass).unwrap();
    assert_eq!(summary.sha256, source.show_ca("root").unwrap().summary.sha256);
    station.lock_ca("copy").unwrap();
    assert_eq!(station.unlock_ca("copy", &pass, false).unwrap_err().code(), "wrong_passphrase");
    station.unlock_ca("copy", &store_pass, false).unwrap();
}

#[test]
fn create_and_import_report_their_real_steps_in_order() {
    use keyline_station::ca::CaStep::*;
    let dir = tempfile::tempdir().unwrap();
    let station = Station::open(dir.path().to_path_buf()).unwrap();
    let pass = Passphrase::from("progress pass");
    let mut steps = Vec::new();

    let root_only = CreateCa { name: "lone".into(), org: "Acme".into(), signer: None, years: 1 };
    station.create_ca_with_progress(root_only, &pass, &mut |step| steps.push(step)).unwrap();
    assert_eq!(steps, [GeneratingRootKey, SigningRootCertificate, EncryptingKeys, WritingFiles]);
    assert_eq!(steps, keyline_station::ca::CaStep::create_plan(false));

    steps.clear();
    let with_signer = CreateCa { name: "root".into(), org: "Acme".into(), signer: Some("signer".into()), years: 1 };
    station.create_ca_with_progress(with_signer, &pass, &mut |step| steps.push(step)).unwrap();
    assert_eq!(
        steps,
        [GeneratingRootKey, SigningRootCertificate, GeneratingSignerKey, SigningSignerCertificate, EncryptingKeys, WritingFiles]
    );
    assert_eq!(steps, keyline_station::ca::CaStep::create_plan(true));
    assert!(dir.path().join("keys/signer.key").exists());

    steps.clear();
    let import = ImportCa {
        name: "copy".into(),
        cert_pem: std::fs::read_to_string(dir.path().join("certs/root.crt")).unwrap(),
        key_pem: std::fs::read_to_string(dir.path().join("keys/root.key")).unwrap().into(),
        key_passphrase: Some(pass.clone()),
    };
    station.import_ca_with_progress(import, &pass, &mut |step| steps.push(step)).unwrap();
    assert_eq!(steps, [CheckingImport, EncryptingKeys, WritingFiles]);
    assert_eq!(steps, keyline_station::ca::CaStep::import_plan());

    // A name already taken fails before the first step is reported.
    steps.clear();
    let taken = CreateCa { name: "root".into(), org: "Acme".into(), signer: None, years: 1 };
    let error = station.create_ca_with_progress(taken, &pass, &mut |step| steps.push(step)).unwrap_err();
    assert_eq!(error.code(), "already_exists");
    assert!(steps.is_empty());
}

#[test]
fn new_ca_keys_need_a_passphrase_of_at_least_eight_characters() {
    let source_dir = tempfile::tempdir().unwrap();
    let source = Station::open(source_dir.path().to_path_buf()).unwrap();
    assert_eq!(MIN_PASSPHRASE_CHARS, 8);
    // Seven characters, even when they are 14 bytes of UTF-8, are refused before anything is written.
    for short in ["", "1234567", "ééééééé"] {
        let request = CreateCa { name: "root".into(), org: "Acme".into(), signer: None, years: 5 };
        let err = source.create_ca(request, &Passphrase::from(short)).unwrap_err();
        assert_eq!(err.code(), "passphrase_too_short", "{short:?}");
        assert!(err.to_string().contains("at least 8 characters"), "{err}");
        assert!(err.hint().contains('8'), "{}", err.hint());
    }
    assert!(source.list_cas().unwrap().is_empty());
    assert!(!source_dir.path().join("keys/root.key").exists());
    let request = CreateCa { name: "root".into(), org: "Acme".into(), signer: None, years: 5 };
    source.create_ca(request, &Passphrase::from("12345678")).unwrap();

    // Importing re-encrypts the key under the store passphrase, so the same rule applies.
    let dir = tempfile::tempdir().unwrap();
    let station = Station::open(dir.path().to_path_buf()).unwrap();
    let request = ImportCa {
        name: "copy".into(),
        cert_pem: std::fs::read_to_string(source_dir.path().join("certs/root.crt")).unwrap(),
        key_pem: std::fs::read_to_string(source_dir.path().join("keys/root.key")).unwrap().into(),
        key_passphrase: Some(Passphrase::from("12345678")),
    };
    assert_eq!(station.import_ca(request.clone(), &Passphrase::from("short")).unwrap_err().code(), "passphrase_too_short");
    assert!(station.list_cas().unwrap().is_empty());
    station.import_ca(request, &Passphrase::from("long enough")).unwrap();
}

#[test]
fn an_import_request_prints_no_key_material() {
    let dir = tempfile::tempdir().unwrap();
    let station = Station::open(dir.path().to_path_buf()).unwrap();
    let request = CreateCa { name: "root".into(), org: "Acme".into(), signer: None, years: 5 };
    station.create_ca(request, &Passphrase::from("debug passphrase")).unwrap();
    let key_pem = std::fs::read_to_string(dir.path().join("keys/root.key")).unwrap();
    // As the desktop shell receives it: a JSON command argument.
    let json = serde_json::json!({ "name": "copy", "certPem": "x", "keyPem": key_pem, "keyPassphrase": "debug passphrase" });
    let request: ImportCa = serde_json::from_value(json).unwrap();
    let debug = format!("{request:?}");
    for line in key_pem.lines().filter(|line| !line.starts_with("-----")) {
        assert!(!debug.contains(line), "key material in {debug}");
    }
    assert!(!debug.contains("PRIVATE KEY") && !debug.contains("debug passphrase"), "{debug}");
    assert_eq!(request.key_pem.expose(), key_pem);
}
