//! `keyline bench issue`: the figures it prints are measured, consistent with each other, and every certificate
//! it issued reached the ledger's audit chain.

use crate::support::Env;

#[test]
fn bench_issue_reports_cpu_wall_and_fsync_figures_for_every_certificate() {
    let env = Env::new();
    let report = env.json(&["bench", "issue", "--count", "60"]);
    let number = |key: &str| report[key].as_f64().unwrap_or_else(|| panic!("{key} missing in {report}"));
    assert_eq!(report["count"], 60);
    assert_eq!(report["auditEntries"], 60, "one audit entry per certificate: {report}");
    let (wall, cpu, fsync) = (number("seconds"), number("cpuSeconds"), number("fsyncSeconds"));
    assert!(cpu > 0.0 && cpu <= wall * 1.05 + 0.01, "one thread cannot use more CPU than wall time: {report}");
    assert!((number("perSecond") - 60.0 / wall).abs() < 1e-6 * number("perSecond").max(1.0));
    assert!((number("perCpuSecond") - 60.0 / cpu).abs() < 1e-6 * number("perCpuSecond").max(1.0));
    assert!(fsync > 0.0 && fsync < 5.0, "a measured fsync: {report}");
    assert!((number("durableLimitPerSecond") * fsync - 1.0).abs() < 1e-9);
    assert_eq!(number("goalPerSecond"), 5000.0);
    // Nine batches of six or seven certificates, each timed on its own; the median lies between the extremes.
    assert_eq!(report["batches"], 9);
    let (median, slowest, fastest) = (number("medianPerCpuSecond"), number("minPerCpuSecond"), number("maxPerCpuSecond"));
    assert!(slowest > 0.0 && slowest <= median && median <= fastest, "{report}");
    assert!(slowest <= number("perCpuSecond") * 1.0001 && number("perCpuSecond") <= fastest * 1.0001, "the whole run's rate lies within its batches': {report}");
}
