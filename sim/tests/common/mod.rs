//! Host-side helpers for the conformance tests: certificates made with the real `openssl` CLI.
#![allow(dead_code)]

pub mod pty;

use keyline_sim::atcacert::der::locate;
use p256::ecdsa::signature::hazmat::PrehashSigner;
use p256::ecdsa::{Signature, SigningKey};
use sha2::Digest;
use std::path::Path;
use std::process::Command;

/// Runs `openssl` in `dir`, panicking with its stderr on failure.
pub fn openssl(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl CLI is installed");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Root CA (self-signed) and signer CA certificates in `dir`: root.key/crt/pub.pem, signer.key/crt.
pub fn make_ca_chain(dir: &Path) {
    std::fs::write(
        dir.join("signer.ext"),
        "basicConstraints=critical,CA:true,pathlen:0\nkeyUsage=critical,digitalSignature,keyCertSign,cRLSign\n\
         subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
    )
    .unwrap();
    std::fs::write(dir.join("device.ext"), "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n").unwrap();
    openssl(dir, &["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "root.key"]);
    openssl(dir, &["req", "-x509", "-new", "-key", "root.key", "-subj", "/O=Keyline/CN=Keyline Root", "-days", "3650", "-out", "root.crt"]);
    openssl(dir, &["pkey", "-in", "root.key", "-pubout", "-out", "root.pub.pem"]);
    openssl(dir, &["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "signer.key"]);
    openssl(dir, &["req", "-new", "-key", "signer.key", "-subj", "/O=Keyline/CN=Keyline Signer FFFF", "-out", "signer.csr"]);
    openssl(dir, &[
        "x509", "-req", "-in", "signer.csr", "-CA", "root.crt", "-CAkey", "root.key", "-set_serial",
        "0x4a2b3c4d5e6f708192a3b4c5d6e7f801", "-days", "3650", "-extfile", "signer.ext", "-out", "signer.crt",
    ]);
}

/// A device certificate for the board's public key (PEM in `device-pub.pem`) with CN = `serial`,
/// made by `openssl x509 -new -force_pubkey`, then brought into the rainbowtype template rules the
/// way a host generator does: notBefore at the whole hour, notAfter fixed, serial = SHA-256(X‖Y‖dates)[..16] with
/// the top bits 01, re-signed with the signer key. Checked with `openssl verify`. Returns the PEM.
pub fn make_device_cert(dir: &Path, serial: &str) -> String {
    make_device_cert_for(dir, serial, "Keyline")
}

/// `make_device_cert` with another subject organisation.
pub fn make_device_cert_for(dir: &Path, serial: &str, org: &str) -> String {
    openssl(dir, &[
        "x509", "-new", "-force_pubkey", "device-pub.pem", "-subj", &format!("/O={org}/CN={serial}"), "-CA",
        "signer.crt", "-CAkey", "signer.key", "-set_serial", "0x40000000000000000000000000000001", "-days", "400",
        "-extfile", "device.ext", "-outform", "DER", "-out", "device-raw.der",
    ]);
    let mut der = std::fs::read(dir.join("device-raw.der")).unwrap();
    let layout = locate(&der).expect("openssl made a P-256 certificate");
    let nb = layout.not_before;
    der[nb.offset + 8..nb.offset + 12].copy_from_slice(b"0000");
    // A fixed notAfter, as rainbowtype device templates keep it in the template (EXPIRE_DATE count 0).
    let na = layout.not_after;
    assert_eq!(na.count, 13, "openssl wrote a UTCTime");
    der[na.offset..na.offset + 13].copy_from_slice(b"491231235959Z");
    let text = std::str::from_utf8(&der[nb.offset..nb.offset + 13]).unwrap().to_string();
    let num = |r: std::ops::Range<usize>| text[r].parse::<u32>().unwrap();
    let bits = (num(0..2) << 19) | (num(2..4) << 15) | (num(4..6) << 10) | (num(6..8) << 5);
    let mut hash = sha2::Sha256::new();
    hash.update(&der[layout.public_key.offset..layout.public_key.offset + 64]);
    hash.update(&bits.to_be_bytes()[1..]);
    let mut sn = hash.finalize()[..16].to_vec();
    sn[0] = (sn[0] & 0x7F) | 0x40;
    der[layout.serial.offset..layout.serial.offset + 16].copy_from_slice(&sn);
    let tbs = &der[layout.tbs.offset..layout.tbs.offset + layout.tbs.count];
    let key = p256::SecretKey::from_sec1_pem(&std::fs::read_to_string(dir.join("signer.key")).unwrap()).unwrap();
    let digest: [u8; 32] = sha2::Sha256::digest(tbs).into();
    let signature: Signature = SigningKey::from(key).sign_prehash(&digest).unwrap();
    let sig_der = signature.to_der();
    let mut cert_body = der[4..layout.signature.offset].to_vec();
    cert_body.push(0x03);
    cert_body.push(sig_der.as_bytes().len() as u8 + 1);
    cert_body.push(0x00);
    cert_body.extend_from_slice(sig_der.as_bytes());
    let mut cert = vec![0x30, 0x82];
    cert.extend_from_slice(&(cert_body.len() as u16).to_be_bytes());
    cert.extend(cert_body);
    std::fs::write(dir.join("device.der"), &cert).unwrap();
    openssl(dir, &["x509", "-inform", "DER", "-in", "device.der", "-out", "device.crt"]);
    let verdict = openssl(dir, &["verify", "-CAfile", "root.crt", "-untrusted", "signer.crt", "device.crt"]);
    assert!(verdict.contains("device.crt: OK"), "{verdict}");
    std::fs::read_to_string(dir.join("device.crt")).unwrap()
}

/// Removes `\r` and ANSI colour sequences, like a robust host does.
pub fn normalise(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes).replace('\r', "");
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A minimal 2nd-stage bootloader image for 0x1000 (magic 0xE9, ESP32 chip id 0; content not run).
pub fn bootloader_image() -> Vec<u8> {
    let mut image = vec![0xE9, 1, 0x02, 0x20, 0x58, 0x06, 0x08, 0x40];
    image.extend([0xEE, 0, 0, 0, 0, 0, 0, 0]);
    image.extend([0u8; 240]);
    image
}

/// A partition table for 0x8000 with nvs and one factory app partition at `app_offset`.
pub fn partition_table(app_offset: u32) -> Vec<u8> {
    let entry = |kind: u8, subtype: u8, offset: u32, size: u32, label: &str| {
        let mut e = vec![0xAA, 0x50, kind, subtype];
        e.extend(offset.to_le_bytes());
        e.extend(size.to_le_bytes());
        let mut name = [0u8; 16];
        name[..label.len()].copy_from_slice(label.as_bytes());
        e.extend(name);
        e.extend(0u32.to_le_bytes());
        e
    };
    let mut table = entry(1, 0x02, 0x9000, 0x6000, "nvs");
    table.extend(entry(0, 0x00, app_offset, 0x10_0000, "factory"));
    table.resize(0xC00, 0xFF);
    table
}
