//! `bench issue`: device certificates issued per second, each committed to the ledger with its audit entry.

use std::time::{Duration, Instant};

use keyline_certs::atcacert::Profile;
use serde::Serialize;
use time::OffsetDateTime;

use crate::ca::CreateCa;
use crate::{Passphrase, Result, Station};

/// What `bench issue` measured.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueBench {
    /// Certificates issued.
    pub count: u64,
    /// Wall time.
    pub seconds: f64,
    /// Certificates per second (each signed, proven to rebuild, committed with its ledger row, event and audit entry).
    pub per_second: f64,
    /// The goal.
    pub goal_per_second: f64,
    /// Audit entries after the run (must equal `count`).
    pub audit_entries: i64,
}

/// Issues `count` device certificates with a throw-away CA in `data_dir` (a fresh directory) on this thread.
pub fn bench_issue(data_dir: std::path::PathBuf, count: u64, profile: Profile) -> Result<IssueBench> {
    let station = Station::open(data_dir)?;
    let passphrase = Passphrase::new("keyline bench issue".into());
    station.create_ca(CreateCa { name: "bench-root".into(), org: "Keyline Bench".into(), signer: Some("bench-signer".into()), years: 20 }, &passphrase)?;
    station.unlock_ca("bench-signer", &passphrase, false)?;
    let ca = station.provisioning_ca("bench-signer", profile)?;
    let mut ledger = station.ledger()?;
    let key: [u8; 64] = keyline_certs::EcKey::generate().public_key().to_sec1_bytes()[1..65].try_into().expect("64 bytes");
    let now = OffsetDateTime::now_utc();
    let start = Instant::now();
    for i in 0..count {
        let mut serial = [0x01, 0x23, 0, 0, 0, 0, 0, 0, 0xEE];
        serial[2..8].copy_from_slice(&i.to_be_bytes()[2..8]);
        ca.issue(&mut ledger, &serial, &key, now)?;
    }
    let seconds = start.elapsed().max(Duration::from_micros(1)).as_secs_f64();
    Ok(IssueBench { count, seconds, per_second: count as f64 / seconds, goal_per_second: 5000.0, audit_entries: ledger.audit_len()? })
}
