//! PROOF: CryptoAuthLib's own C code (PyPI sdist `cryptoauthlib==20260505`, CryptoAuthLib 3.8.0),
//! compiled with gcc together with the `cert_chain.c` that `keyline template cert-chain` generates
//! (the compiled definitions a firmware holds at run time, no per-device definition), rebuilds the
//! signer and device certificates Keyline issues, byte for byte, for every profile, random keys
//! and dates: once from Keyline's own compressed certificates, and once after CryptoAuthLib
//! compressed and wrote Keyline's certificates itself (`atcacert_write_cert`'s path; for
//! esp-cryptoauthlib with the definition the Espressif helper builds on `program-dev-cert`).
//! `openssl verify` accepts a sample of the chains, and the harness also runs under AddressSanitizer.
//!
//! The same proof runs against CryptoAuthLib 3.2.5 (PyPI `cryptoauthlib==20201130`, packed struct
//! layout, compressed format 0 only) with dates up to 2031, so one `cert_chain.c` is shown to work
//! with both struct orders. One signer per profile comes from the CA store (`create_signer_ca`)
//! where the profile can hold it (rainbowtype, Espressif).
//!
//! The generated file is also compiled against the 3.7.5, 3.7.6 and 3.7.8 headers (PyPI
//! 20240626, 20241015, 20250510).
//!
//! `KEYLINE_ATCACERT_CASES` (default 1200) sets the number of device certificates proven against
//! 3.8.0 (a quarter of that again against 3.2.5), `KEYLINE_ATCACERT_SIGNERS` (default 2) the
//! number of signer CAs (one gcc build each) per profile.
//! Needs gcc, openssl and network access to PyPI (or a filled cache); without them it fails.

use keyline_certs::atcacert::cert_chain_c;
use keyline_certs::atcacert::certdef_string;
use keyline_certs::atcacert::profile::Profile;
use keyline_certs::atcacert::rebuild::write_cert;
use keyline_certs::atcacert::{AtcaDate, DeviceImage, ProfileDefs};
use keyline_certs::device::{certificate_public_key, issue_device_cert, issue_signer_cert, place_signer, IssuedDevice, SignerSubject, TbsSigner};
use keyline_certs::{create_root_ca, create_signer_ca, to_pem, CaSubject, EcKey, Validity};

const CAL_3_8: &str = "20260505";
const CAL_3_2: &str = "20201130";
use rand_core::{OsRng, RngCore};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn harness_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/cryptoauthlib")
}

fn random_key() -> (p256::ecdsa::SigningKey, [u8; 64]) {
    let key = p256::ecdsa::SigningKey::random(&mut OsRng);
    let point = key.verifying_key().to_encoded_point(false);
    (key, point.as_bytes()[1..].try_into().unwrap())
}

fn rand_below(n: u32) -> u32 {
    OsRng.next_u32() % n
}

fn random_date(first_year: u16, last_year: u16) -> AtcaDate {
    let year = first_year + rand_below(u32::from(last_year - first_year) + 1) as u16;
    let month = 1 + rand_below(12) as u8;
    let day = 1 + rand_below(u32::from(keyline_certs::atcacert::date::days_in_month(year, month))) as u8;
    AtcaDate::new(year, month, day, rand_below(24) as u8, rand_below(60) as u8, rand_below(60) as u8)
}

/// Edge dates first (leap days, the format-0 limit 2031, the first format-1 year 2032), then random.
fn device_date(profile: Profile, i: usize, max_year: u16) -> AtcaDate {
    let max = profile.max_issue_year().min(if profile == Profile::Trustflex { 2039 } else { 2049 }).min(max_year);
    let edges = [
        AtcaDate::new(2000, 1, 1, 0, 0, 0),
        AtcaDate::new(2024, 2, 29, 23, 59, 59),
        AtcaDate::new(2028, 2, 29, 12, 30, 0),
        AtcaDate::new(2031, 12, 31, 23, 0, 0),
        AtcaDate::new(2032, 1, 1, 0, 0, 0),
        AtcaDate::new(2036, 2, 29, 6, 0, 0),
        AtcaDate::new(2039, 12, 31, 23, 59, 59),
        AtcaDate::new(2049, 12, 31, 23, 59, 59),
    ];
    match edges.iter().filter(|d| d.year <= max).nth(i) {
        Some(d) => *d,
        None => random_date(2000, max),
    }
}

fn random_chip_serial() -> [u8; 9] {
    let mut sn = [0u8; 9];
    OsRng.fill_bytes(&mut sn);
    sn[0] = 0x01;
    sn[1] = 0x23;
    sn[8] = 0xEE;
    sn
}

struct Chain {
    root: keyline_certs::CertInfo,
    signer_der: Vec<u8>,
    signer_key: Box<dyn TbsSigner>,
    defs: ProfileDefs,
    root_key: [u8; 64],
}

/// A root from the CA store and a signer: from the CA store (`from_store`) or issued for the profile.
fn make_chain(profile: Profile, from_store: bool, max_year: u16) -> Chain {
    let root_secret = EcKey::generate();
    let subject = CaSubject { common_name: "Keyline Test Root".into(), organization: "Keyline Factory".into() };
    let now = time::OffsetDateTime::now_utc();
    let validity = Validity { not_before: now - time::Duration::days(365 * 30), not_after: now + time::Duration::days(365 * 30) };
    let root = create_root_ca(&subject, validity, &root_secret).expect("root CA");
    let signer_id = format!("{:04X}", rand_below(0x10000));
    let (signer_der, signer_key): (Vec<u8>, Box<dyn TbsSigner>) = if from_store {
        let key = EcKey::generate();
        let subject = CaSubject { common_name: format!("Keyline Signer {signer_id}"), organization: "Keyline Factory".into() };
        let signer = create_signer_ca(&subject, Validity::years_from(now, 10), &key, &root, &root_secret).expect("CA-store signer");
        (signer.der, Box::new(key))
    } else {
        let (key, public) = random_key();
        let at = random_date(2000, max_year.min(if profile == Profile::Rainbowtype { 2031 } else { 2039 }));
        let subject = SignerSubject { organization: "Keyline Factory".into(), common_name: format!("Keyline Signer {signer_id}") };
        (issue_signer_cert(profile, &root.der, &root_secret, &public, &subject, at).expect("signer issued"), Box::new(key))
    };
    let root_key = certificate_public_key(&root.der).unwrap();
    let defs = place_signer(profile, &signer_der, &root_key).unwrap_or_else(|e| panic!("{} signer placed: {e}", profile.as_str()));
    Chain { root, signer_der, signer_key, defs, root_key }
}

fn build_harness(chain: &Chain, dir: &Path, asan: bool, version: &str) -> PathBuf {
    let files = cert_chain_c::generate(&chain.defs);
    std::fs::write(dir.join("cert_chain.c"), files.source).unwrap();
    std::fs::write(dir.join("cert_chain.h"), files.header).unwrap();
    let bin = dir.join(format!("harness-{version}{}", if asan { "-asan" } else { "" }));
    let mut cmd = Command::new("bash");
    cmd.arg(harness_dir().join("build-harness.sh")).arg(dir).arg(&bin).arg(if asan { "asan" } else { "plain" }).arg(version);
    let out = cmd.output().expect("bash runs build-harness.sh");
    assert!(out.status.success(), "gcc could not build the CryptoAuthLib harness for {}:\n{}", chain.defs.profile.as_str(), String::from_utf8_lossy(&out.stderr));
    bin
}

/// The device image after Keyline wrote signer and device certificates the way the firmware does.
fn device_input(chain: &Chain, issued: &IssuedDevice, chip_serial: &[u8; 9]) -> String {
    let mut image = DeviceImage::with_serial(chip_serial);
    write_cert(&chain.defs.signer, &chain.signer_der, &mut image).unwrap();
    write_cert(&issued.cert_def, &issued.der, &mut image).unwrap();
    // slot 10 holds exactly the 72 bytes Keyline hands to the board
    image.write_slot(10, 0, &issued.compressed);
    let mut text = format!("case\nconfig {}\nroot {}\n", hex::encode(&image.config), hex::encode(chain.root_key));
    for (slot, data) in &image.slots {
        text.push_str(&format!("slot {slot} {}\n", hex::encode(data)));
    }
    for (slot, key) in &image.genkey {
        text.push_str(&format!("genkey {slot} {}\n", hex::encode(key)));
    }
    if chain.defs.profile == Profile::EspCryptoauthlib {
        text.push_str(&format!("device_certdef {}\n", certdef_string::encode(&issued.der, true).unwrap()));
    }
    text.push_str(&format!("signer_cert {}\ndevice_cert {}\nend\n", hex::encode(&chain.signer_der), hex::encode(&issued.der)));
    text
}

fn run_harness(bin: &Path, input: &str, asan: bool) -> (String, String) {
    let mut cmd = Command::new(bin);
    if asan {
        cmd.env("ASAN_OPTIONS", "halt_on_error=0:detect_leaks=0");
    }
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("harness starts");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "harness crashed: {}", String::from_utf8_lossy(&out.stderr));
    (String::from_utf8(out.stdout).unwrap(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// RFC 5280 linter: DigiCert's pkilint (`lint_pkix_cert`, PyPI `pkilint`, installed into
/// KEYLINE_VENV by scripts/keyline-dev.sh). Every finding of WARNING or worse fails the proof.
fn rfc5280_lint(dir: &Path, label: &str, profile: Profile, der: &[u8]) {
    let venv = std::env::var("KEYLINE_VENV").map(PathBuf::from).unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv"));
    let linter = venv.join("bin/lint_pkix_cert");
    assert!(linter.exists(), "{} is missing: install the RFC 5280 linter with `{}/bin/pip install pkilint==0.13.3` (scripts/keyline-dev.sh does it)", linter.display(), venv.display());
    let path = dir.join(format!("lint-{label}.pem"));
    std::fs::write(&path, to_pem("CERTIFICATE", der)).unwrap();
    let out = Command::new(&linter).args(["lint", "-s", "WARNING", "-f", "TEXT"]).arg(&path).output().expect("lint_pkix_cert runs");
    let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && report.trim().is_empty(), "{} {label} certificate: RFC 5280 linter findings (exit {:?}):\n{report}", profile.as_str(), out.status.code());
}

fn openssl_verify(dir: &Path, chain: &Chain, device_der: &[u8]) {
    std::fs::write(dir.join("root.pem"), to_pem("CERTIFICATE", &chain.root.der)).unwrap();
    std::fs::write(dir.join("signer.pem"), to_pem("CERTIFICATE", &chain.signer_der)).unwrap();
    std::fs::write(dir.join("device.pem"), to_pem("CERTIFICATE", device_der)).unwrap();
    let out = Command::new("openssl")
        .args(["verify", "-no_check_time", "-x509_strict", "-CAfile"])
        .arg(dir.join("root.pem"))
        .arg("-untrusted")
        .arg(dir.join("signer.pem"))
        .arg(dir.join("device.pem"))
        .output()
        .expect("openssl runs");
    assert!(out.status.success(), "openssl verify refused the {} chain: {}{}", chain.defs.profile.as_str(), String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

struct Outcome {
    cases: usize,
    asan_reports: Vec<String>,
}

fn prove_profile(profile: Profile, cases_per_signer: usize, signers: usize, version: &str, max_year: u16) -> Outcome {
    let mut outcome = Outcome { cases: 0, asan_reports: Vec::new() };
    for s in 0..signers {
        let from_store = s == 1 && profile != Profile::Trustflex;
        let chain = make_chain(profile, from_store, max_year);
        let dir = tempfile::tempdir().unwrap();
        let bin = build_harness(&chain, dir.path(), false, version);
        let mut input = String::new();
        let mut issued_all = Vec::new();
        for i in 0..cases_per_signer {
            let (_, device_pub) = random_key();
            let chip_serial = random_chip_serial();
            let at = device_date(profile, i, max_year);
            let issued = issue_device_cert(profile, &chain.signer_der, chain.signer_key.as_ref(), &device_pub, &chip_serial, at)
                .unwrap_or_else(|e| panic!("{} device issuance at {at}: {e}", profile.as_str()));
            input.push_str(&device_input(&chain, &issued, &chip_serial));
            issued_all.push(issued);
        }
        let (stdout, _) = run_harness(&bin, &input, false);
        check_output(profile, &stdout, &chain, &issued_all);
        for issued in issued_all.iter().take(3) {
            openssl_verify(dir.path(), &chain, &issued.der);
            rfc5280_lint(dir.path(), "device", profile, &issued.der);
        }
        rfc5280_lint(dir.path(), "signer", profile, &chain.signer_der);
        rfc5280_lint(dir.path(), "root", profile, &chain.root.der);
        if s == 0 {
            let asan = build_harness(&chain, dir.path(), true, version);
            let n = issued_all.len().min(40);
            let subset: String = input.split_inclusive("end\n").take(n).collect();
            let (stdout, stderr) = run_harness(&asan, &subset, true);
            check_output(profile, &stdout, &chain, &issued_all[..n]);
            assert_only_known_asan_finding(profile, &stderr);
            outcome.asan_reports.extend(stderr.lines().filter(|l| l.contains("ERROR: AddressSanitizer") || l.contains(" in atcacert_")).map(str::to_string));
        }
        outcome.cases += issued_all.len();
    }
    outcome
}

/// The one AddressSanitizer finding we know about (docs/atcacert-notes.md) is the out-of-bounds
/// read in `atcacert_der_enc_length`; any other report fails the proof.
fn assert_only_known_asan_finding(profile: Profile, stderr: &str) {
    let lines: Vec<&str> = stderr.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if line.contains("ERROR: AddressSanitizer") {
            let top = lines[i..].iter().find(|l| l.trim_start().starts_with("#0 ")).copied().unwrap_or("");
            assert!(top.contains("atcacert_der_enc_length"), "{}: new AddressSanitizer finding in CryptoAuthLib or the harness:\n{stderr}", profile.as_str());
        }
    }
}

fn check_output(profile: Profile, stdout: &str, chain: &Chain, issued: &[IssuedDevice]) {
    let cases: Vec<&str> = stdout.split_inclusive("done\n").collect();
    assert_eq!(cases.len(), issued.len(), "{}: harness answered {} of {} cases:\n{stdout}", profile.as_str(), cases.len(), issued.len());
    for (case, issued) in cases.iter().zip(issued) {
        let field = |label: &str| case.lines().find_map(|l| l.strip_prefix(label).and_then(|r| r.strip_prefix(' '))).map(|h| hex::decode(h).unwrap());
        let what = |label: &str| format!("{} {} issued {}: {label}", profile.as_str(), issued.common_name, issued.not_before);
        let expect = |label: &str, want: &[u8]| {
            let got = field(label).unwrap_or_else(|| panic!("{}: CryptoAuthLib gave no result:\n{case}", what(label)));
            assert!(got == want, "{}: CryptoAuthLib's bytes differ from Keyline's:\n keyline {}\n calib   {}", what(label), hex::encode(want), hex::encode(&got));
        };
        // From Keyline's compressed certificates, rebuilt with the compiled cert_chain.c definitions.
        expect("signer", &chain.signer_der);
        expect("device", &issued.der);
        // The firmware compresses Keyline's certificate itself: the same 72 bytes ...
        expect("comp_compiled", &issued.compressed);
        if profile == Profile::EspCryptoauthlib {
            expect("comp_helper", &issued.compressed);
        }
        // ... and after atcacert_write_cert's writes, the compiled definitions rebuild the same certificates.
        expect("fw_signer", &chain.signer_der);
        expect("fw_device", &issued.der);
    }
}

#[test]
fn cryptoauthlib_rebuilds_every_profile_byte_for_byte() {
    let total = env_usize("KEYLINE_ATCACERT_CASES", 1200);
    let signers = env_usize("KEYLINE_ATCACERT_SIGNERS", 2).max(1);
    let per_signer = total.div_ceil(3 * signers).max(1);
    let mut proven = 0;
    let mut notes = Vec::new();
    for profile in Profile::ALL {
        let outcome = prove_profile(profile, per_signer, signers, CAL_3_8, 2049);
        proven += outcome.cases;
        notes.push(format!("{} on 3.8.0: {} certificates identical; AddressSanitizer lines: {}", profile.as_str(), outcome.cases, outcome.asan_reports.len()));
        for line in outcome.asan_reports.iter().take(4) {
            notes.push(format!("  {line}"));
        }
    }
    eprintln!("{}", notes.join("\n"));
    assert!(proven >= total, "only {proven} of {total} cases ran");
}

#[test]
fn cryptoauthlib_3_2_rebuilds_format_0_certificates_from_the_same_cert_chain_c() {
    let total = env_usize("KEYLINE_ATCACERT_CASES", 1200) / 4;
    let signers = env_usize("KEYLINE_ATCACERT_SIGNERS", 2).max(1);
    let per_signer = total.div_ceil(3 * signers).max(1);
    let mut proven = 0;
    for profile in Profile::ALL {
        let outcome = prove_profile(profile, per_signer, signers, CAL_3_2, 2031);
        eprintln!("{} on 3.2.5: {} certificates identical; AddressSanitizer lines: {}", profile.as_str(), outcome.cases, outcome.asan_reports.len());
        proven += outcome.cases;
    }
    assert!(proven >= total);
}

/// One generated file for every struct layout in use: 3.2.5 (packed), 3.7.5, 3.7.6 (reordered,
/// `uint8_t private_key_slot`), 3.7.8 and 3.8.0 (`std_sig_size`, `uint16_t private_key_slot`).
#[test]
fn cert_chain_c_compiles_against_every_struct_layout() {
    for profile in Profile::ALL {
        let chain = make_chain(profile, false, 2031);
        let dir = tempfile::tempdir().unwrap();
        let files = cert_chain_c::generate(&chain.defs);
        std::fs::write(dir.path().join("cert_chain.c"), files.source).unwrap();
        std::fs::write(dir.path().join("cert_chain.h"), files.header).unwrap();
        for version in [CAL_3_2, "20240626", "20241015", "20250510", CAL_3_8] {
            let out = Command::new("bash").arg(harness_dir().join("compile-cert-chain.sh")).arg(dir.path()).arg(version).output().expect("bash runs");
            assert!(out.status.success(), "{} cert_chain.c does not compile against sdist {version}:\n{}", profile.as_str(), String::from_utf8_lossy(&out.stderr));
        }
    }
}
