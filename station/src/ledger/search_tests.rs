//! Device search on a real SQLite ledger: results, paging, and that with 100,000 devices every page query
//! reads through an index (EXPLAIN QUERY PLAN), never a full table scan.

use rusqlite::params;

use super::*;

/// Inserts `count` devices straight into the table (one transaction): serial i, two CAs, three profiles,
/// four statuses, one day per 10,000 devices.
fn seed(ledger: &mut Ledger, count: u32) {
    let tx = ledger.conn.transaction().unwrap();
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO devices (serial, common_name, profile, ca_name, cert_id, cert_pem, public_key, issued_at, provisioned_at, status) \
                 VALUES (?1, ?2, ?3, ?4, ?5, 'PEM', ?6, ?7, NULL, ?8)",
            )
            .unwrap();
        let profiles = ["rainbowtype", "esp-cryptoauthlib", "trustflex"];
        let statuses = ["verified", "verified", "failed", "issued"];
        for i in 0..count {
            let serial = format!("01{i:016x}");
            insert
                .execute(params![
                    serial,
                    serial.to_ascii_uppercase(),
                    profiles[i as usize % 3],
                    if i % 2 == 0 { "signer-a" } else { "signer-b" },
                    format!("{i:064x}"),
                    "07".repeat(64),
                    format!("2026-11-{:02}T10:00:00Z", 1 + i / 10_000),
                    statuses[i as usize % 4],
                ])
                .unwrap();
        }
    }
    tx.commit().unwrap();
}

fn query(text: &str) -> DeviceQuery {
    DeviceQuery { text: Some(text.into()), limit: 50, ..DeviceQuery::default() }
}

#[test]
fn a_search_pages_by_serial_and_filters_by_every_field() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(dir.path()).unwrap();
    seed(&mut ledger, 1_000);

    let first = ledger.search(&DeviceQuery { limit: 400, ..DeviceQuery::default() }).unwrap();
    assert_eq!((first.devices.len(), first.total), (400, 1_000));
    let second = ledger.search(&DeviceQuery { limit: 400, after: first.next.clone(), ..DeviceQuery::default() }).unwrap();
    assert_eq!(second.devices[0].serial.as_str(), "010000000000000190");
    let third = ledger.search(&DeviceQuery { limit: 400, after: second.next.clone(), ..DeviceQuery::default() }).unwrap();
    assert_eq!((third.devices.len(), third.next.clone()), (200, None));

    // Serial prefix, any case; the CN (upper case here) matches the same prefix.
    let by_serial = ledger.search(&query("01000000000000003")).unwrap();
    assert_eq!(by_serial.total, 16, "{:?}", by_serial.devices.iter().map(|d| d.serial.as_str()).collect::<Vec<_>>());
    assert_eq!(ledger.search(&query("0100000000000000FF")).unwrap().total, 1);

    let failed_b = DeviceQuery { status: Some("failed".into()), ca_name: Some("signer-b".into()), ..DeviceQuery::default() };
    assert_eq!(ledger.search(&failed_b).unwrap().total, 0, "failed devices have even numbers (signer-a)");
    let failed_a = DeviceQuery { status: Some("failed".into()), ca_name: Some("signer-a".into()), profile: Some("trustflex".into()), ..DeviceQuery::default() };
    assert!(ledger.search(&failed_a).unwrap().devices.iter().all(|d| d.status == "failed" && d.ca_name == "signer-a" && d.profile == "trustflex"));
    let day = DeviceQuery { issued_from: Some("2026-11-01".into()), issued_to: Some("2026-11-01".into()), ..DeviceQuery::default() };
    assert_eq!(ledger.search(&day).unwrap().total, 1_000);
    let none = DeviceQuery { issued_from: Some("2026-11-02".into()), ..DeviceQuery::default() };
    assert_eq!(ledger.search(&none).unwrap().total, 0);
    assert_eq!(ledger.search_all(&DeviceQuery { profile: Some("rainbowtype".into()), ..DeviceQuery::default() }).unwrap().len(), 334);

    let long = ledger.search(&query(&"a".repeat(200))).unwrap_err();
    assert_eq!(long.code(), "invalid_search");
}

#[test]
fn with_100k_devices_every_page_query_uses_an_index() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(dir.path()).unwrap();
    seed(&mut ledger, 100_000);
    ledger.conn.execute_batch("ANALYZE").unwrap();

    let shapes = [
        DeviceQuery::default(),
        DeviceQuery { after: Some("010000000000001000".into()), ..DeviceQuery::default() },
        query("01000000000000123"),
        query("SN0123"),
        DeviceQuery { status: Some("failed".into()), ..DeviceQuery::default() },
        DeviceQuery { ca_name: Some("signer-b".into()), after: Some("010000000000001000".into()), ..DeviceQuery::default() },
        DeviceQuery { profile: Some("trustflex".into()), ..DeviceQuery::default() },
        DeviceQuery { issued_from: Some("2026-11-05".into()), issued_to: Some("2026-11-05".into()), ..DeviceQuery::default() },
        DeviceQuery { text: Some("01".into()), status: Some("verified".into()), ca_name: Some("signer-a".into()), ..DeviceQuery::default() },
    ];
    for shape in &shapes {
        let plan = ledger.page_plan(shape).unwrap();
        assert!(!plan.is_empty());
        for line in &plan {
            let reads_devices = line.contains(" devices");
            assert!(!reads_devices || line.contains("USING"), "a page query scans the devices table without an index: {shape:?}\n{plan:#?}");
        }
    }
    // The search an operator types most: a serial prefix. Its figure is printed, not asserted.
    let started = std::time::Instant::now();
    let page = ledger.search(&query("01000000000000123")).unwrap();
    println!("search by serial prefix over 100,000 devices: {} match, {:?}", page.total, started.elapsed());
    assert_eq!(page.total, 16);
}
