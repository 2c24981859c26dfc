//! The JITR Lambda's own certificate reader (`cloud/lambda/keyline_jitr.py`), run by the project venv's Python on
//! certificates made by the `openssl` CLI: it finds the serial in the CN, and turns anything odd into "no serial"
//! (which the Lambda answers by revoking) instead of crashing.

use std::path::{Path, PathBuf};
use std::process::Command;

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl is installed");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn self_signed(dir: &Path, name: &str, subject: &str) -> String {
    let key = format!("{name}.key");
    let cert = format!("{name}.pem");
    openssl(dir, &["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", &key]);
    openssl(dir, &["req", "-x509", "-new", "-key", &key, "-subj", subject, "-days", "1", "-out", &cert]);
    std::fs::read_to_string(dir.join(cert)).unwrap()
}

fn python() -> PathBuf {
    std::env::var_os("KEYLINE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv"))
        .join("bin/python")
}

/// `_serial_from_pem` for each input, as the Lambda sees it (`None` = no usable serial).
fn serials_seen_by_lambda(pems: &[String]) -> Vec<Option<String>> {
    let script = "import json, sys\nsys.path.insert(0, sys.argv[1])\nimport keyline_jitr\n\
                  print(json.dumps([keyline_jitr._serial_from_pem(p) for p in json.load(sys.stdin)]))";
    let lambda_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("lambda");
    let mut child = Command::new(python())
        .args(["-c", script, lambda_dir.to_str().unwrap()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{} not runnable ({e}); run scripts/keyline-dev.sh setup", python().display()));
    serde_json::to_writer(child.stdin.take().unwrap(), pems).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_lambda_reads_the_serial_from_the_cn_and_refuses_anything_odd() {
    let dir = tempfile::tempdir().unwrap();
    let plain = self_signed(dir.path(), "plain", "/C=DE/O=Acme Devices/CN=0123AABBCCDDEEFF00");
    let no_cn = self_signed(dir.path(), "nocn", "/O=Acme Devices");
    let bad_cn = self_signed(dir.path(), "badcn", "/CN=not a serial!");
    let long_subject = self_signed(dir.path(), "long", &format!("/O={}/OU={}/CN=0123FFEE", "A".repeat(60), "B".repeat(60)));
    let truncated = {
        let body: String = plain.lines().filter(|l| !l.starts_with("-----")).collect();
        format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", &body[..body.len() / 2])
    };
    let seen = serials_seen_by_lambda(&[plain, no_cn, bad_cn, long_subject, truncated, "garbage".into(), "x".repeat(70_000)]);
    assert_eq!(
        seen,
        vec![Some("0123AABBCCDDEEFF00".to_string()), None, None, Some("0123FFEE".to_string()), None, None, None]
    );
}
