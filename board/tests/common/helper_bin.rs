//! The published Espressif provisioning helper (`esp-cryptoauth-utility==1.2.0` on PyPI), fetched at
//! test time with the project venv's pip and never committed.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The pinned sdist.
pub const PIN: &str = "esp-cryptoauth-utility==1.2.0";
/// SHA-256 of `sample_bins/esp32/secure_cert_mfg_esp32.bin` in that sdist.
pub const ESP32_HELPER_SHA256: &str = "14c301ebf6b8bccf378033ec5ee6a4ba3ff918336e8e61ab9450d63667bdbfb0";

fn venv() -> PathBuf {
    std::env::var_os("KEYLINE_VENV").map(PathBuf::from).unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv"))
}

/// Path of the ESP32 helper image, downloaded (once per machine, into the temp dir) and checked
/// against its pinned SHA-256. A missing pip or no network fails with what to do.
pub fn esp32_helper() -> PathBuf {
    let dir = std::env::temp_dir().join("keyline-esp-cryptoauth-utility-1.2.0");
    let bin = dir.join("esp_cryptoauth_utility-1.2.0/sample_bins/esp32/secure_cert_mfg_esp32.bin");
    if !bin.exists() {
        let pip = venv().join("bin/pip");
        assert!(pip.exists(), "pip not found at {}: create the venv with `python3 -m venv .venv` (or set KEYLINE_VENV)", pip.display());
        std::fs::create_dir_all(&dir).unwrap();
        let out = Command::new(&pip)
            .args(["download", "--no-deps", "--no-binary", ":all:", "--disable-pip-version-check", PIN, "-d"])
            .arg(&dir)
            .output()
            .expect("pip runs");
        assert!(out.status.success(), "`pip download {PIN}` failed (network to PyPI needed): {}", String::from_utf8_lossy(&out.stderr));
        let out = Command::new("tar").arg("xzf").arg(dir.join("esp_cryptoauth_utility-1.2.0.tar.gz")).arg("-C").arg(&dir).output().expect("tar runs");
        assert!(out.status.success(), "tar: {}", String::from_utf8_lossy(&out.stderr));
    }
    let bytes = std::fs::read(&bin).unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
    use sha2::Digest;
    let hash: String = sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hash, ESP32_HELPER_SHA256, "{} is not the published helper", bin.display());
    bin
}
