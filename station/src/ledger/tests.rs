//! Ledger tests on real SQLite files in temporary directories.

use serde_json::json;

use super::*;

pub(super) fn device(serial: &str, der: &[u8]) -> NewDevice {
    NewDevice {
        serial: DeviceSerial::parse(serial).unwrap(),
        common_name: serial.to_ascii_uppercase(),
        profile: "esp-cryptoauthlib".into(),
        ca_name: "signer".into(),
        cert_der: der.to_vec(),
        public_key: [7; 64],
    }
}

#[test]
fn a_recorded_device_can_be_read_back_by_serial_and_by_certificate_id() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(dir.path()).unwrap();
    assert_eq!(ledger.record_issued_cert(&device("0123abcdef01020304", b"cert one")).unwrap(), Recorded::New);

    let serial = DeviceSerial::parse("0123abcdef01020304").unwrap();
    let got = ledger.get(&serial).unwrap().expect("recorded");
    assert_eq!(got.common_name, "0123ABCDEF01020304");
    assert_eq!(got.cert_id, certificate_id(b"cert one"));
    assert_eq!(got.cert_id.len(), 64);
    assert!(got.cert_pem.starts_with("-----BEGIN CERTIFICATE-----\n"), "{}", got.cert_pem);
    assert_eq!(got.public_key, "07".repeat(64));
    assert_eq!(got.status, DEVICE_STATUS_ISSUED);
    assert_eq!(got.provisioned_at, None);
    assert_eq!(got.issued_at.len(), 20, "{}", got.issued_at);
    assert!(got.issued_at.ends_with('Z'));
    assert_eq!(ledger.find_by_cert_id(&got.cert_id.to_ascii_uppercase()).unwrap(), Some(got.clone()));
    assert_eq!(ledger.find_by_cert_id(&certificate_id(b"other")).unwrap(), None);
    assert_eq!(ledger.get(&DeviceSerial::parse("0123abcdef01020305").unwrap()).unwrap(), None);

    let events = ledger.events(&serial).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!((events[0].seq, events[0].kind.as_str()), (1, "certificate_issued"));
    assert_eq!(events[0].detail["certId"], got.cert_id);
}

#[test]
fn the_sha256_certificate_id_matches_a_known_digest() {
    assert_eq!(certificate_id(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

#[test]
fn a_second_certificate_for_a_serial_replaces_the_first_and_keeps_the_history() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(dir.path()).unwrap();
    ledger.record_issued_cert(&device("0123abcdef01020304", b"first")).unwrap();
    assert_eq!(ledger.record_issued_cert(&device("0123abcdef01020304", b"first")).unwrap(), Recorded::Unchanged);
    let replaced = ledger.record_issued_cert(&device("0123abcdef01020304", b"second")).unwrap();
    assert_eq!(replaced, Recorded::Replaced { previous_cert_id: certificate_id(b"first") });

    assert_eq!(ledger.list(&DeviceFilter::default()).unwrap().len(), 1, "one row per serial");
    let serial = DeviceSerial::parse("0123abcdef01020304").unwrap();
    assert_eq!(ledger.require(&serial).unwrap().cert_id, certificate_id(b"second"));
    assert_eq!(ledger.find_by_cert_id(&certificate_id(b"first")).unwrap(), None);
    let kinds: Vec<_> = ledger.events(&serial).unwrap().into_iter().map(|e| (e.seq, e.kind, e.detail["previousCertId"].clone())).collect();
    assert_eq!(
        kinds,
        vec![(1, "certificate_issued".to_string(), json!(null)), (2, "certificate_replaced".to_string(), json!(certificate_id(b"first")))]
    );
}

#[test]
fn one_certificate_cannot_be_recorded_for_two_serials() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(dir.path()).unwrap();
    ledger.record_issued_cert(&device("0123abcdef01020304", b"same")).unwrap();
    let error = ledger.record_issued_cert(&device("0123abcdef01020305", b"same")).unwrap_err();
    assert!(matches!(&error, LedgerError::CertificateInUse { serial, .. } if serial == "0123abcdef01020304"), "{error}");
    assert_eq!(ledger.list(&DeviceFilter::default()).unwrap().len(), 1);
}

#[test]
fn serials_are_strictly_18_lowercase_hex() {
    for good in ["0123abcdef01020304", "000000000000000000", "ffffffffffffffffff"] {
        assert_eq!(DeviceSerial::parse(good).unwrap().as_str(), good);
    }
    for bad in ["", "0123abcdef0102030", "0123abcdef0102030405", "0123ABCDEF01020304", " 0123abcdef01020304", "0123abcdef0102030g", "sn0123abcdef010203", "0123abcdef01020é"] {
        let error = DeviceSerial::parse(bad).unwrap_err();
        assert_eq!(error.code(), "invalid_serial", "{bad:?}");
    }
    assert_eq!(DeviceSerial::from_user(" 0123ABCDEF01020304\n").unwrap().as_str(), "0123abcdef01020304");
    assert_eq!(DeviceSerial::from_chip(&[0x01, 0x23, 0xab, 0xcd, 0xef, 0x01, 0x02, 0x03, 0xee]).as_str(), "0123abcdef010203ee");
}

#[test]
fn the_schema_refuses_a_serial_that_bypasses_validation() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path()).unwrap();
    let short = ledger.conn.execute(
        "INSERT INTO devices (serial, common_name, profile, ca_name, cert_id, cert_pem, public_key, issued_at, status) VALUES ('abc', 'abc', 'p', 'c', ?1, 'pem', ?2, 'now', 'issued')",
        rusqlite::params!["0".repeat(64), "0".repeat(128)],
    );
    assert!(short.is_err(), "the CHECK constraint lets a 3-character serial in");
}

#[test]
fn a_tampered_row_is_reported_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(dir.path()).unwrap();
    ledger.record_issued_cert(&device("0123abcdef01020304", b"one")).unwrap();
    // Edited outside Keyline (foreign keys are per connection).
    ledger.conn.pragma_update(None, "foreign_keys", false).unwrap();
    ledger.conn.execute("UPDATE devices SET serial = '0123ABCDEF01020304'", []).unwrap();
    let error = ledger.list(&DeviceFilter::default()).unwrap_err();
    assert_eq!(error.code(), "ledger_corrupt", "{error}");
}

#[test]
fn list_filters_by_ca_profile_and_status_in_serial_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(dir.path()).unwrap();
    ledger.record_issued_cert(&device("0000000000000000bb", b"b")).unwrap();
    ledger.record_issued_cert(&NewDevice { ca_name: "other".into(), profile: "rainbowtype".into(), ..device("0000000000000000aa", b"a") }).unwrap();
    let serials = |filter: DeviceFilter| ledger.list(&filter).unwrap().into_iter().map(|d| d.serial.to_string()).collect::<Vec<_>>();
    assert_eq!(serials(DeviceFilter::default()), ["0000000000000000aa", "0000000000000000bb"]);
    assert_eq!(serials(DeviceFilter { ca_name: Some("signer".into()), ..Default::default() }), ["0000000000000000bb"]);
    assert_eq!(serials(DeviceFilter { profile: Some("rainbowtype".into()), ..Default::default() }), ["0000000000000000aa"]);
    assert!(serials(DeviceFilter { status: Some("provisioned".into()), ..Default::default() }).is_empty());
}

#[test]
fn events_need_a_known_device_a_snake_case_kind_and_an_object() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(dir.path()).unwrap();
    let serial = DeviceSerial::parse("0123abcdef01020304").unwrap();
    assert_eq!(ledger.add_event(&serial, "provisioned", &json!({})).unwrap_err().code(), "device_not_found");
    ledger.record_issued_cert(&device("0123abcdef01020304", b"one")).unwrap();
    let event = ledger.add_event(&serial, "slot_written", &json!({ "slot": 10 })).unwrap();
    assert_eq!(event.seq, 2);
    assert_eq!(ledger.add_event(&serial, "Slot Written", &json!({})).unwrap_err().code(), "invalid_event");
    assert_eq!(ledger.add_event(&serial, "x", &json!([1])).unwrap_err().code(), "invalid_event");
    assert_eq!(ledger.events(&serial).unwrap().last().unwrap().detail["slot"], 10);
}

#[test]
fn a_pending_record_that_is_dropped_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(dir.path()).unwrap();
    let pending = ledger.begin_record(&device("0123abcdef01020304", b"one")).unwrap();
    assert_eq!(pending.recorded(), &Recorded::New);
    drop(pending);
    assert!(ledger.list(&DeviceFilter::default()).unwrap().is_empty());
    assert!(ledger.events(&DeviceSerial::parse("0123abcdef01020304").unwrap()).unwrap().is_empty());
}

#[test]
fn migrations_run_once_and_reopening_keeps_the_data() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut ledger = Ledger::open(dir.path()).unwrap();
        assert_eq!(ledger.schema_version().unwrap(), SCHEMA_VERSION);
        ledger.record_issued_cert(&device("0123abcdef01020304", b"one")).unwrap();
    }
    let mut ledger = Ledger::open(dir.path()).unwrap();
    assert_eq!(migrate::migrate(&mut ledger.conn, dir.path(), "2026-11-22T07:34:39Z").unwrap(), Vec::<i64>::new(), "nothing left to apply");
    let rows: i64 = ledger.conn.query_row("SELECT COUNT(*) FROM schema_migrations", [], |row| row.get(0)).unwrap();
    assert_eq!(rows, SCHEMA_VERSION);
    assert_eq!(ledger.list(&DeviceFilter::default()).unwrap().len(), 1);
    // The schema files themselves are idempotent (IF NOT EXISTS everywhere).
    ledger.conn.execute_batch(include_str!("schema.sql")).unwrap();
    ledger.conn.execute_batch(include_str!("schema_v2.sql")).unwrap();
    assert_eq!(ledger.verify_audit().unwrap().entries, 1, "the issued certificate has its audit entry");
}

#[test]
fn a_ledger_from_a_newer_keyline_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path()).unwrap();
    ledger.conn.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, 'future', 'now')", [SCHEMA_VERSION + 1]).unwrap();
    drop(ledger);
    let error = Ledger::open(dir.path()).err().expect("refused");
    assert!(matches!(error, LedgerError::NewerSchema { found, .. } if found == SCHEMA_VERSION + 1), "{error}");
}

#[cfg(unix)]
#[test]
fn the_ledger_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path()).unwrap();
    assert_eq!(std::fs::metadata(ledger.path()).unwrap().permissions().mode() & 0o777, 0o600);
}

#[test]
fn csv_export_has_a_header_and_one_parsable_row_per_device() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(dir.path()).unwrap();
    ledger.record_issued_cert(&device("0123abcdef01020304", b"one")).unwrap();
    ledger.record_issued_cert(&device("0123abcdef01020305", b"two")).unwrap();
    let devices = ledger.list(&DeviceFilter::default()).unwrap();
    let bytes = export(&devices, ExportFormat::Csv).unwrap();
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    assert_eq!(reader.headers().unwrap().get(0), Some("serial"));
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(&rows[1][0], "0123abcdef01020305");
    assert_eq!(&rows[1][4], certificate_id(b"two"));
    assert_eq!(&rows[1][9], devices[1].cert_pem, "the PEM survives its line breaks");
    let json: serde_json::Value = serde_json::from_slice(&export(&devices, ExportFormat::Json).unwrap()).unwrap();
    assert_eq!(json[0]["certId"], certificate_id(b"one"));
}

#[test]
fn the_audit_chain_reports_the_first_changed_entry() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(dir.path()).unwrap();
    for (serial, cert) in [("0123abcdef01020301", b"one"), ("0123abcdef01020302", b"two"), ("0123abcdef01020303", b"thr")] {
        ledger.record_issued_cert(&device(serial, cert)).unwrap();
    }
    let report = ledger.verify_audit().unwrap();
    assert_eq!((report.entries, report.first_broken), (3, None));
    ledger.conn.execute("UPDATE audit_log SET detail = replace(detail, 'signer', 'other') WHERE seq = 2", []).unwrap();
    let broken = ledger.verify_audit().unwrap().first_broken.expect("the change is found");
    assert_eq!(broken.seq, 2);
    ledger.conn.execute("DELETE FROM audit_log WHERE seq = 2", []).unwrap();
    assert_eq!(ledger.verify_audit().unwrap().first_broken.unwrap().seq, 3, "a removed entry breaks the next link");
}

#[test]
fn times_come_from_the_clock_the_ledger_was_opened_with() {
    use crate::clock::FixedClock;
    let dir = tempfile::tempdir().unwrap();
    let clock = std::sync::Arc::new(FixedClock::new(time::OffsetDateTime::from_unix_timestamp_nanos(1_795_332_879_500_000_000).unwrap()));
    let mut ledger = Ledger::open_with_clock(dir.path(), clock.clone()).unwrap();
    ledger.record_issued_cert(&device("0123abcdef01020304", b"cert one")).unwrap();
    let serial = DeviceSerial::parse("0123abcdef01020304").unwrap();
    assert_eq!(ledger.require(&serial).unwrap().issued_at, "2026-11-22T07:34:39Z");
    clock.advance(time::Duration::hours(1));
    let event = ledger.add_event(&serial, "provisioned", &json!({})).unwrap();
    assert_eq!(serde_json::to_value(&event).unwrap()["at"], "2026-11-22T08:34:39Z");
}

/// Schema version 3's layout of the tables version 4 rebuilds, as a ledger written by an earlier Keyline has it.
const VERSION_3_LAYOUT: &str = "
    CREATE TABLE events_v3 (serial TEXT NOT NULL REFERENCES devices (serial), seq BIGINT NOT NULL, at TEXT NOT NULL,
        kind TEXT NOT NULL, detail TEXT NOT NULL, PRIMARY KEY (serial, seq));
    INSERT INTO events_v3 SELECT serial, seq, at, kind, detail FROM device_events;
    DROP TABLE device_events;
    ALTER TABLE events_v3 RENAME TO device_events;
    CREATE TABLE audit_v3 (seq BIGINT PRIMARY KEY, at TEXT NOT NULL, operation TEXT NOT NULL, detail TEXT NOT NULL,
        prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64), hash TEXT NOT NULL CHECK (length(hash) = 64));
    INSERT INTO audit_v3 SELECT seq, at, operation, detail, prev_hash, hash FROM audit_log;
    DROP TABLE audit_log;
    ALTER TABLE audit_v3 RENAME TO audit_log;
    CREATE INDEX devices_by_ca ON devices (ca_name);
    DELETE FROM schema_migrations WHERE version = 4;";

#[test]
fn a_version_3_ledger_moves_to_version_4_with_its_events_and_audit_chain() {
    let dir = tempfile::tempdir().unwrap();
    let serial = DeviceSerial::parse("0123abcdef01020304").unwrap();
    {
        let mut ledger = Ledger::open(dir.path()).unwrap();
        ledger.record_issued_cert(&device("0123abcdef01020304", b"one")).unwrap();
        ledger.add_event(&serial, "slot_written", &json!({ "slot": 10 })).unwrap();
        ledger.record_issued_cert(&device("0123abcdef01020304", b"two")).unwrap();
        ledger.conn.execute_batch(VERSION_3_LAYOUT).unwrap();
        assert_eq!(ledger.schema_version().unwrap(), 3);
    }
    let mut ledger = Ledger::open(dir.path()).unwrap();
    assert_eq!(ledger.schema_version().unwrap(), 4);
    let kinds: Vec<(i64, String)> = ledger.events(&serial).unwrap().into_iter().map(|e| (e.seq, e.kind)).collect();
    assert_eq!(kinds, [(1, "certificate_issued".into()), (2, "slot_written".into()), (3, "certificate_replaced".into())]);
    assert_eq!(ledger.verify_audit().unwrap().entries, 2, "both signings kept, the chain intact");
    let sql = |name: &str| -> String { ledger.conn.query_row("SELECT sql FROM sqlite_master WHERE name = ?1", [name], |row| row.get(0)).unwrap() };
    assert!(sql("device_events").contains("WITHOUT ROWID"), "{}", sql("device_events"));
    assert!(sql("audit_log").contains("seq        INTEGER PRIMARY KEY"), "{}", sql("audit_log"));
    let old_index: i64 = ledger.conn.query_row("SELECT COUNT(*) FROM sqlite_master WHERE name = 'devices_by_ca'", [], |row| row.get(0)).unwrap();
    assert_eq!(old_index, 0, "the redundant index is gone");
    // The moved tables take new rows where the old ones stopped.
    ledger.record_issued_cert(&device("0123abcdef01020305", b"three")).unwrap();
    ledger.add_event(&serial, "slot_written", &json!({ "slot": 10 })).unwrap();
    assert_eq!(ledger.events(&serial).unwrap().last().unwrap().seq, 4);
    assert_eq!(ledger.verify_audit().unwrap().entries, 3);
}

#[test]
fn a_new_devices_first_event_is_number_one_and_a_replacement_follows_the_last() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(dir.path()).unwrap();
    let serial = DeviceSerial::parse("0123abcdef01020304").unwrap();
    ledger.record_issued_cert(&device("0123abcdef01020304", b"one")).unwrap();
    ledger.add_event(&serial, "slot_written", &json!({})).unwrap();
    ledger.record_issued_cert(&device("0123abcdef01020304", b"two")).unwrap();
    let seqs: Vec<i64> = ledger.events(&serial).unwrap().into_iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [1, 2, 3]);
}
