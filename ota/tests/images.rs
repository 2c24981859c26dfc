//! Image parsing and Secure Boot v2 signing, checked against the real espsecure/esptool
//! (pinned esptool==4.8.1 in the Keyline venv).

use std::path::{Path, PathBuf};
use std::process::Command;

use keyline_ota::secure_boot::{self, SECTOR_SIZE};
use keyline_ota::{AppImage, Error, ImageBuilder, RsaPublic, SigningKey};

fn sample() -> Vec<u8> {
    ImageBuilder::new("blink", "1.2.3").segment(0x4008_0000, (0..5000u32).map(|i| i as u8).collect()).build()
}

/// The venv's python with esptool; fails (never skips) with install instructions.
fn esptool_python() -> PathBuf {
    let venv = std::env::var("KEYLINE_VENV").unwrap_or_else(|_| "/work/main/.venv".into());
    let python = Path::new(&venv).join("bin/python");
    let ok = Command::new(&python).args(["-c", "import espsecure, esptool; assert esptool.__version__ == '4.8.1', esptool.__version__"]).status();
    assert!(
        matches!(ok, Ok(s) if s.success()),
        "esptool 4.8.1 is needed in {venv}: run scripts/keyline-dev.sh or `{venv}/bin/pip install esptool==4.8.1` (set KEYLINE_VENV to another venv)"
    );
    python
}

fn espsecure_verify(public_pem: &Path, file: &Path) -> (bool, String) {
    let out = Command::new(esptool_python())
        .args(["-m", "espsecure", "verify_signature", "--version", "2", "--keyfile"])
        .arg(public_pem)
        .arg(file)
        .output()
        .unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn a_built_image_parses_with_its_descriptor_and_esptool_agrees() {
    let bytes = sample();
    let image = AppImage::parse(&bytes).unwrap();
    let desc = image.app_desc.as_ref().unwrap();
    assert_eq!((desc.project_name.as_str(), desc.version.as_str(), desc.idf_version.as_str()), ("blink", "1.2.3", "v4.2"));
    assert_eq!((image.chip, image.segments.len(), image.image_len), ("esp32", 2, bytes.len()));
    assert!(image.sha256.is_some() && !image.is_signed());

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.bin");
    std::fs::write(&file, &bytes).unwrap();
    let out = Command::new(esptool_python()).args(["-m", "esptool", "--chip", "esp32", "image_info", "--version", "2"]).arg(&file).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("Checksum: ") && text.contains("(valid)"), "{text}");
    assert!(text.contains("Project name: blink") && text.contains("App version: 1.2.3"), "{text}");
}

#[test]
fn broken_images_are_refused_with_the_reason() {
    let good = sample();
    let cases: Vec<(&str, Box<dyn Fn(&mut Vec<u8>)>)> = vec![
        ("magic", Box::new(|b| b[0] = 0xE8)),
        ("segment count", Box::new(|b| b[1] = 0)),
        ("segment count", Box::new(|b| b[1] = 17)),
        ("hash-appended", Box::new(|b| b[23] = 2)),
        ("runs past the end", Box::new(|b| b[28..32].copy_from_slice(&0x0100_0000u32.to_le_bytes()))),
        ("not a multiple of 4", Box::new(|b| b[28] = b[28].wrapping_add(1))),
        ("checksum", Box::new(|b| b[100] ^= 1)),
        ("SHA-256", Box::new(|b| { let n = b.len(); b[n - 1] ^= 1 })),
        ("truncated", Box::new(|b| { b.truncate(b.len() - 1) })),
        ("follow the image", Box::new(|b| b.push(0))),
    ];
    for (expect, mutate) in cases {
        let mut bytes = good.clone();
        mutate(&mut bytes);
        let err = AppImage::parse(&bytes).unwrap_err();
        assert!(matches!(err, Error::Image(_)), "{expect}: {err}");
        assert!(err.to_string().contains(expect), "expected `{expect}` in: {err}");
    }
    assert!(AppImage::parse(&[]).is_err());
    let mut desc = good[32..32 + 256].to_vec();
    desc[48..80].fill(b'a');
    assert!(keyline_ota::AppDesc::parse(&desc).unwrap_err().to_string().contains("not NUL-terminated"));
    desc[48] = 0x07;
    desc[79] = 0;
    assert!(keyline_ota::AppDesc::parse(&desc).unwrap_err().to_string().contains("printable"));
    assert!(AppImage::parse(&vec![0xE9; keyline_ota::image::MAX_IMAGE_BYTES + 1]).unwrap_err().to_string().contains("limit"));
}

#[test]
fn signed_images_pass_espsecure_and_tampered_ones_fail() {
    let key = SigningKey::generate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let public = dir.path().join("pub.pem");
    std::fs::write(&public, key.public_pem().unwrap()).unwrap();

    let signed = secure_boot::sign_image(&sample(), &key).unwrap();
    assert_eq!(signed.len() % SECTOR_SIZE, 0);
    let parsed = AppImage::parse(&signed).unwrap();
    let sector = parsed.signature.as_ref().unwrap();
    assert!(sector.digest_matches && sector.blocks.len() == 1);
    let key_digest = secure_boot::verify_image(&signed, Some(&key.public().unwrap())).unwrap();
    assert_eq!(key_digest, sector.blocks[0].key_digest);

    let file = dir.path().join("signed.bin");
    std::fs::write(&file, &signed).unwrap();
    let (ok, text) = espsecure_verify(&public, &file);
    assert!(ok, "espsecure rejected Keyline's signature:\n{text}");
    assert!(text.contains("verification successful"), "{text}");

    // One flipped byte in the image: both Keyline and espsecure refuse.
    let mut tampered = signed.clone();
    tampered[200] ^= 0x01;
    assert!(secure_boot::verify_image(&tampered, None).unwrap_err().to_string().contains("does not match"));
    std::fs::write(&file, &tampered).unwrap();
    let (ok, text) = espsecure_verify(&public, &file);
    assert!(!ok, "espsecure accepted a tampered image:\n{text}");

    // A forged signature over the right digest (CRC fixed up) fails the RSA check.
    let mut forged = signed.clone();
    let block = signed.len() - SECTOR_SIZE;
    forged[block + 900] ^= 0x01;
    let crc = crc32fast::hash(&forged[block..block + 1196]);
    forged[block + 1196..block + 1200].copy_from_slice(&crc.to_le_bytes());
    assert!(secure_boot::verify_image(&forged, None).unwrap_err().to_string().contains("does not verify"));
    std::fs::write(&file, &forged).unwrap();
    assert!(!espsecure_verify(&public, &file).0);

    // Another key's signature is refused when the trusted key is given.
    let other = SigningKey::generate().unwrap();
    let by_other = secure_boot::sign_image(&sample(), &other).unwrap();
    assert!(secure_boot::verify_image(&by_other, Some(&key.public().unwrap())).unwrap_err().to_string().contains("different key"));
    std::fs::write(&file, &by_other).unwrap();
    assert!(!espsecure_verify(&public, &file).0);
}

#[test]
fn the_signing_key_is_stored_encrypted_and_reads_back() {
    let key = SigningKey::generate().unwrap();
    let pem = key.to_encrypted_pem(b"sesame").unwrap();
    assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    let back = SigningKey::from_pem(&pem, Some(b"sesame")).unwrap();
    assert_eq!(back.public().unwrap(), key.public().unwrap());
    assert!(SigningKey::from_pem(&pem, Some(b"wrong")).unwrap_err().to_string().contains("passphrase"));
    assert!(SigningKey::from_pem(&pem, None).unwrap_err().to_string().contains("passphrase"));
    assert_eq!(RsaPublic::from_pem(&key.public_pem().unwrap()).unwrap(), key.public().unwrap());

    // openssl reads the sealed key with the passphrase (the same format as CA keys).
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("key.pem");
    std::fs::write(&file, &pem).unwrap();
    let out = Command::new("openssl").args(["pkey", "-noout", "-text_pub", "-passin", "pass:sesame", "-in"]).arg(&file).output().expect("openssl is needed: apt-get install openssl");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("3072 bit"));
}
