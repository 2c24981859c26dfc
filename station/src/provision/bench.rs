//! `bench issue`: device certificates issued per second, each committed to the ledger with its audit entry.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use cpu_time::ThreadTime;

use keyline_certs::atcacert::Profile;
use serde::Serialize;
use time::OffsetDateTime;

use crate::ca::CreateCa;
use crate::{Error, Passphrase, Result, Station};

/// What `bench issue` measured.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueBench {
    /// Certificates issued.
    pub count: u64,
    /// Wall time.
    pub seconds: f64,
    /// Certificates per second of wall time (each signed and checked, proven to rebuild, committed with its ledger
    /// row, event and audit entry, and made durable: one fsync per certificate).
    pub per_second: f64,
    /// CPU seconds the issuing thread used.
    pub cpu_seconds: f64,
    /// Certificates per second of one core's CPU time over the whole run.
    pub per_cpu_second: f64,
    /// The run cut into [`BATCHES`] equal batches, each timed on its own: the median batch's certificates per CPU
    /// second, what the goal is judged on (one batch slowed by another program on a shared core does not move it).
    pub median_per_cpu_second: f64,
    /// The slowest batch, per CPU second.
    pub min_per_cpu_second: f64,
    /// The fastest batch, per CPU second.
    pub max_per_cpu_second: f64,
    /// Batches the run was cut into.
    pub batches: u64,
    /// Median time of one fsync on the data directory's disk, measured in the same run.
    pub fsync_seconds: f64,
    /// The disk's limit for durable commits, one fsync each: 1 / `fsync_seconds`.
    pub durable_limit_per_second: f64,
    /// The goal, in certificates per CPU second on one core.
    pub goal_per_second: f64,
    /// Audit entries after the run (must equal `count`).
    pub audit_entries: i64,
}

/// How many equal batches `bench issue` times separately.
pub const BATCHES: u64 = 9;

/// Issues `count` device certificates with a throw-away CA in `data_dir` (a fresh directory) on this thread.
pub fn bench_issue(data_dir: std::path::PathBuf, count: u64, profile: Profile) -> Result<IssueBench> {
    let station = Station::open(data_dir)?;
    let passphrase = Passphrase::new("keyline bench issue".into());
    station.create_ca(CreateCa { name: "bench-root".into(), org: "Keyline Bench".into(), signer: Some("bench-signer".into()), years: 20 }, &passphrase)?;
    station.unlock_ca("bench-signer", &passphrase, false)?;
    let ca = station.provisioning_ca("bench-signer", profile)?;
    let mut ledger = station.ledger()?;
    let key: [u8; 64] = keyline_certs::EcKey::generate().public_key().to_sec1_bytes()[1..65].try_into().expect("64 bytes");
    let fsync_seconds = median_fsync(&station.data_dir().join("fsync-probe"))?;
    let now = OffsetDateTime::now_utc();
    let batches = BATCHES.min(count.max(1));
    let mut rates = Vec::with_capacity(batches as usize);
    let start = Instant::now();
    let cpu_start = ThreadTime::now();
    let mut issued = 0u64;
    for batch in 0..batches {
        let end = count * (batch + 1) / batches;
        let batch_start = ThreadTime::now();
        let in_batch = end - issued;
        while issued < end {
            let mut serial = [0x01, 0x23, 0, 0, 0, 0, 0, 0, 0xEE];
            serial[2..8].copy_from_slice(&issued.to_be_bytes()[2..8]);
            ca.issue(&mut ledger, &serial, &key, now)?;
            issued += 1;
        }
        rates.push(in_batch as f64 / batch_start.elapsed().max(Duration::from_micros(1)).as_secs_f64());
    }
    let cpu_seconds = cpu_start.elapsed().max(Duration::from_micros(1)).as_secs_f64();
    let seconds = start.elapsed().max(Duration::from_micros(1)).as_secs_f64();
    rates.sort_by(f64::total_cmp);
    Ok(IssueBench {
        count,
        seconds,
        per_second: count as f64 / seconds,
        cpu_seconds,
        per_cpu_second: count as f64 / cpu_seconds,
        median_per_cpu_second: rates[rates.len() / 2],
        min_per_cpu_second: rates[0],
        max_per_cpu_second: rates[rates.len() - 1],
        batches,
        fsync_seconds,
        durable_limit_per_second: 1.0 / fsync_seconds,
        goal_per_second: 5000.0,
        audit_entries: ledger.audit_len()?,
    })
}

/// The median of 31 timed fsyncs, each after appending 4 KiB to a file at `path` (removed afterwards), as a WAL
/// commit appends its frames: what one durable ledger commit costs on this disk at least.
fn median_fsync(path: &Path) -> Result<f64> {
    let io = |source| Error::Io { action: "cannot time fsync in", path: path.to_path_buf(), source };
    let mut file = std::fs::File::create(path).map_err(io)?;
    let block = [0x5Au8; 4096];
    let mut times = Vec::with_capacity(31);
    for _ in 0..31 {
        file.write_all(&block).map_err(io)?;
        let start = Instant::now();
        file.sync_all().map_err(io)?;
        times.push(start.elapsed().as_secs_f64());
    }
    drop(file);
    std::fs::remove_file(path).map_err(io)?;
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2].max(1e-7))
}
