//! The ledger's durability and locking: WAL with `synchronous=FULL`, opens that take no write lock, writers that
//! wait for another process, the online backup and the integrity check. "Another process" is a second SQLite
//! connection on the same file, which takes the same file locks.

use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::tests::device;
use super::*;

/// A second connection holding the write lock (what another `keyline` writing looks like).
fn hold_write_lock(dir: &Path) -> Connection {
    let other = Connection::open(dir.join(LEDGER_FILE)).unwrap();
    other.execute_batch("BEGIN IMMEDIATE; INSERT INTO schema_migrations (version, name, applied_at) VALUES (-1, 'lock', 'now');").unwrap();
    other
}

fn pragma(ledger: &Ledger, name: &str) -> String {
    ledger.conn.pragma_query_value(None, name, |row| row.get::<_, rusqlite::types::Value>(0)).map(|v| format!("{v:?}")).unwrap()
}

#[test]
fn the_ledger_is_in_wal_mode_and_syncs_every_commit() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path()).unwrap();
    assert_eq!(pragma(&ledger, "journal_mode"), "Text(\"wal\")");
    assert_eq!(pragma(&ledger, "synchronous"), "Integer(2)", "synchronous=FULL");
}

#[test]
fn reopening_a_current_ledger_takes_no_write_lock() {
    let dir = tempfile::tempdir().unwrap();
    drop(Ledger::open(dir.path()).unwrap());
    let _writer = hold_write_lock(dir.path());
    let started = Instant::now();
    let ledger = Ledger::open(dir.path()).expect("opens while another process writes");
    assert!(started.elapsed() < Duration::from_secs(2), "open waited {:?} for the write lock", started.elapsed());
    assert_eq!(ledger.schema_version().unwrap(), SCHEMA_VERSION);
}

#[test]
fn a_read_only_ledger_reads_while_another_process_writes_and_cannot_write() {
    let dir = tempfile::tempdir().unwrap();
    Ledger::open(dir.path()).unwrap().record_issued_cert(&device("0123abcdef01020304", b"one")).unwrap();
    let _writer = hold_write_lock(dir.path());
    let started = Instant::now();
    let mut reader = Ledger::open_read_only(dir.path()).unwrap();
    assert_eq!(reader.list(&DeviceFilter::default()).unwrap().len(), 1);
    assert_eq!(reader.verify_audit().unwrap().entries, 1);
    assert!(started.elapsed() < Duration::from_secs(2), "reading waited {:?}", started.elapsed());
    let refused = reader.with_busy_wait(Duration::ZERO);
    reader = refused;
    assert!(reader.record_issued_cert(&device("0123abcdef01020305", b"two")).is_err(), "a read-only ledger cannot write");
}

#[test]
fn a_read_only_open_of_a_new_data_directory_creates_the_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let reader = Ledger::open_read_only(dir.path()).unwrap();
    assert_eq!(reader.schema_version().unwrap(), SCHEMA_VERSION);
    assert!(reader.list(&DeviceFilter::default()).unwrap().is_empty());
}

#[test]
fn a_writer_waits_for_another_writer_and_then_records() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(dir.path()).unwrap().with_busy_wait(Duration::from_secs(10));
    let writer = hold_write_lock(dir.path());
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(600));
        writer.execute_batch("ROLLBACK").unwrap();
    });
    let started = Instant::now();
    assert_eq!(ledger.record_issued_cert(&device("0123abcdef01020304", b"one")).unwrap(), Recorded::New);
    assert!(started.elapsed() >= Duration::from_millis(500), "the write did not wait: {:?}", started.elapsed());
    release.join().unwrap();
}

#[test]
fn a_writer_kept_waiting_too_long_fails_with_ledger_busy_and_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(dir.path()).unwrap().with_busy_wait(Duration::from_millis(300));
    let writer = hold_write_lock(dir.path());
    let error = ledger.record_issued_cert(&device("0123abcdef01020304", b"one")).unwrap_err();
    assert!(matches!(error, LedgerError::Busy { .. }), "{error:?}");
    assert_eq!(error.code(), crate::ErrorCode::LedgerBusy);
    assert!(error.to_string().contains("locked by another Keyline process"), "{error}");
    drop(writer);
    assert!(ledger.list(&DeviceFilter::default()).unwrap().is_empty());
}

#[test]
fn a_long_reader_does_not_block_a_writer() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(dir.path()).unwrap().with_busy_wait(Duration::ZERO);
    let reader = Connection::open(dir.path().join(LEDGER_FILE)).unwrap();
    reader.execute_batch("BEGIN").unwrap();
    let _: i64 = reader.query_row("SELECT COUNT(*) FROM devices", [], |row| row.get(0)).unwrap();
    for (serial, cert) in [("0123abcdef01020304", b"one"), ("0123abcdef01020305", b"two")] {
        ledger.record_issued_cert(&device(serial, cert)).unwrap();
    }
    let seen: i64 = reader.query_row("SELECT COUNT(*) FROM devices", [], |row| row.get(0)).unwrap();
    assert_eq!(seen, 0, "the reader keeps its snapshot");
}

#[cfg(unix)]
#[test]
fn a_backup_taken_while_another_process_reads_and_writes_is_a_whole_checked_private_copy() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(dir.path()).unwrap();
    for (serial, cert) in [("0123abcdef01020301", b"one"), ("0123abcdef01020302", b"two"), ("0123abcdef01020303", b"thr")] {
        ledger.record_issued_cert(&device(serial, cert)).unwrap();
    }
    let _writer = hold_write_lock(dir.path());
    let dest = dir.path().join("backups").join("ledger-backup.sqlite3");
    std::fs::create_dir(dest.parent().unwrap()).unwrap();
    let report = Ledger::open_read_only(dir.path()).unwrap().backup(&dest, false).unwrap();
    assert_eq!(report.devices, 3);
    assert!(report.check.ok(), "{report:?}");
    assert_eq!(report.bytes, std::fs::metadata(&dest).unwrap().len());
    assert_eq!(std::fs::metadata(&dest).unwrap().permissions().mode() & 0o777, 0o600);
    let leftovers: Vec<_> = std::fs::read_dir(dest.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from("ledger-backup.sqlite3")], "no partial file left beside it");

    // The copy is a self-contained ledger (no -wal needed) with the same devices and audit chain.
    let copy = Connection::open(&dest).unwrap();
    let mode: String = copy.pragma_query_value(None, "journal_mode", |row| row.get(0)).unwrap();
    assert_eq!(mode, "delete");
    let serials: Vec<String> =
        copy.prepare("SELECT serial FROM devices ORDER BY serial").unwrap().query_map([], |row| row.get(0)).unwrap().map(Result::unwrap).collect();
    assert_eq!(serials, ["0123abcdef01020301", "0123abcdef01020302", "0123abcdef01020303"]);
    assert_eq!(audit::verify(&copy, &dest).unwrap(), AuditReport { entries: 3, first_broken: None });

    let error = ledger.backup(&dest, false).unwrap_err();
    assert_eq!(error.code(), crate::ErrorCode::LedgerBackup, "an existing backup is not replaced without --force");
    ledger.backup(&dest, true).unwrap();
}

#[test]
fn check_finds_a_damaged_index_and_a_changed_audit_entry() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(dir.path()).unwrap();
    ledger.record_issued_cert(&device("0123abcdef01020304", b"one")).unwrap();
    let check = ledger.check().unwrap();
    assert!(check.ok(), "{check:?}");
    assert_eq!(check.audit.entries, 1);

    ledger.conn.execute("UPDATE audit_log SET detail = replace(detail, 'signer', 'other')", []).unwrap();
    let check = ledger.check().unwrap();
    assert!(check.problems.is_empty());
    assert_eq!(check.audit.first_broken.map(|b| b.seq), Some(1));

    // Damage the index on devices.cert_id on disk: the table and its index disagree.
    let root: i64 = ledger
        .conn
        .query_row("SELECT rootpage FROM sqlite_master WHERE type = 'index' AND tbl_name = 'devices' AND sql IS NULL LIMIT 1", [], |row| row.get(0))
        .unwrap();
    let page_size: i64 = ledger.conn.pragma_query_value(None, "page_size", |row| row.get(0)).unwrap();
    drop(ledger);
    let file = dir.path().join(LEDGER_FILE);
    let mut bytes = std::fs::read(&file).unwrap();
    let end = (root * page_size) as usize;
    // The last bytes of a one-cell leaf page are the cell's key record (the indexed value and the rowid).
    bytes[end - 3..end].copy_from_slice(b"zzz");
    std::fs::write(&file, bytes).unwrap();
    let check = Ledger::open_read_only(dir.path()).unwrap().check().unwrap();
    assert!(!check.problems.is_empty(), "integrity_check found nothing: {check:?}");
}

#[test]
fn a_connection_test_certificate_is_a_test_device_with_its_audit_entry() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(dir.path()).unwrap();
    assert_eq!(ledger.record_test_device(&device("0123aabbccddeeff00", b"test cert")).unwrap(), Recorded::New);
    let recorded = ledger.require(&DeviceSerial::parse("0123aabbccddeeff00").unwrap()).unwrap();
    assert_eq!(recorded.status, DEVICE_STATUS_TEST);
    assert_eq!(ledger.verify_audit().unwrap().entries, 1, "signed, so audited");
}
