//! The rainbowtype `q` run: decode the uploads, write slots 15, 13, 14, 12, 11, 10, read back and compare.
//!
//! The real firmware compiles its certificate definitions (`cert_chain.c`) from sample certificates
//! of the host's template. The simulated firmware derives the definitions from sample certificates
//! the way `cert2certdef.py` does: from the build's `CertChain` when one is configured, otherwise
//! from the uploaded certificates themselves (a build made for exactly the uploaded profile).

use super::console;
use super::rainbowtype::Rainbowtype;
use crate::atcacert::{read_cert, write_cert, CertDef};
use crate::atecc::Atecc608;
use crate::board::Hardware;
use base64::Engine;

const PEM_CERT: (&str, &str) = ("-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----");
const PEM_KEY: (&str, &str) = ("-----BEGIN PUBLIC KEY-----", "-----END PUBLIC KEY-----");

/// `atcacert_decode_pem`: text between the markers, base64 with whitespace skipped, bounded output.
fn decode_pem(buffer: &[u8], markers: (&str, &str), capacity: usize) -> Option<Vec<u8>> {
    let len = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
    let text = std::str::from_utf8(&buffer[..len]).ok()?;
    let begin = text.find(markers.0)? + markers.0.len();
    let end = begin + text[begin..].find(markers.1)?;
    let body: String = text[begin..end].chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let der = base64::engine::general_purpose::STANDARD.decode(body).ok()?;
    (der.len() <= capacity).then_some(der)
}

/// Runs `doprovisioning()` and returns everything it prints.
pub fn run(fw: &Rainbowtype, serial_text: &[u8; 20], hw: &mut Hardware) -> Vec<u8> {
    let mut text = String::from("\nprovisioning start\n");
    let signer = decode_pem(fw.signer_pem(), PEM_CERT, 500);
    if signer.is_none() {
        text.push_str("signer cert conversion failed");
    }
    let device = decode_pem(fw.device_pem(), PEM_CERT, 500);
    if device.is_none() {
        text.push_str("device cert conversion failed");
    }
    let root = decode_pem(fw.root_pem(), PEM_KEY, 100);
    if root.is_none() {
        text.push_str("root pubkey conversion failed");
    }
    // Failed decodes leave the firmware's zero-initialised DER buffers in place.
    let signer = signer.unwrap_or_else(|| vec![0; 500]);
    let device = device.unwrap_or_else(|| vec![0; 500]);
    let mut root = root.unwrap_or_default();
    root.resize(100, 0);
    let mut root_key = [0u8; 64];
    root_key.copy_from_slice(&root[27..91]);
    if !super::rainbowtype::answers(hw) {
        text.push_str(&format!("Failed to init: {}\r\n", super::rainbowtype::NO_DEVICE));
        return console::printf(&text);
    }
    let (signer_sample, device_sample) = match &fw.cert_chain {
        Some(chain) => (chain.signer.as_slice(), chain.device.as_slice()),
        None => (signer.as_slice(), device.as_slice()),
    };
    let defs = (CertDef::rainbowtype_signer(signer_sample), CertDef::rainbowtype_device(device_sample));
    provision(&mut hw.chip, serial_text, (&signer, &device, &root_key), defs, &mut text);
    console::printf(line_buffered(&text))
}

/// What leaves a line-buffered `stdout` when nothing is printed afterwards: a last text without
/// `\n` (`Failed to write IO Prot Key`) stays in the buffer and never reaches the wire.
fn line_buffered(text: &str) -> &str {
    match text.rfind('\n') {
        Some(end) => &text[..=end],
        None => "",
    }
}

type Uploads<'a> = (&'a [u8], &'a [u8], &'a [u8; 64]);

fn provision(
    chip: &mut Atecc608,
    serial_text: &[u8; 20],
    (signer, device, root_key): Uploads,
    (signer_def, device_def): (Option<CertDef>, Option<CertDef>),
    out: &mut String,
) {
    out.push_str("Writing Root Public Key\r\n");
    if chip.write_pubkey(15, root_key).is_err() {
        out.push_str("Failed to write root ca public key\r\n");
        return;
    }
    if let Err(e) = chip.write_slot(13, 0, serial_text) {
        out.push_str(&format!("write device sn to slot8 failed with ret=0x{:08}/r/n", e.atca_status()));
    }
    match chip.read_slot(13, 0, 20) {
        Err(e) => {
            out.push_str(&format!("read device sn to slot8 failed with ret=0x{:08}/r/n", e.atca_status()));
            out.push_str("error comparing device sn\n");
        }
        Ok(read) if c_str(&read) == c_str(serial_text) => out.push_str("device sn provisioning complete.\n"),
        Ok(_) => out.push_str("error comparing device sn\n"),
    }

    out.push_str("Writing Signer Certificate\r\n");
    let Some(signer_def) = signer_def else {
        out.push_str(&format!("Failed to write signer certificate: {}\r\n", 2));
        return;
    };
    if let Err(e) = write_cert(chip, &signer_def, signer) {
        out.push_str(&format!("Failed to write signer certificate: {}\r\n", e.code()));
        return;
    }
    out.push_str("Writing Device Certificate\r\n");
    let Some(device_def) = device_def else {
        out.push_str(&format!("Failed to write device certificate: {}\r\n", 2));
        return;
    };
    if let Err(e) = write_cert(chip, &device_def, device) {
        out.push_str(&format!("Failed to write device certificate: {}\r\n", e.code()));
        return;
    }

    out.push_str("Reading Signer Certificate\r\n");
    let signer_qa = match read_cert(chip, &signer_def, root_key) {
        Ok(cert) => cert,
        Err(e) => {
            out.push_str(&format!("Failed to read signer certificate: {}\r\n", e.code()));
            return;
        }
    };
    out.push_str("Comparing Signer Certificate\r\n");
    compare("Signer", signer, &signer_qa, out);

    out.push_str("Reading Device Certificate\r\n");
    let mut signer_key = [0u8; 64];
    signer_key.copy_from_slice(&signer_qa[signer_def.public_key.offset..signer_def.public_key.offset + 64]);
    let device_qa = match read_cert(chip, &device_def, &signer_key) {
        Ok(cert) => cert,
        Err(e) => {
            out.push_str(&format!("Failed to read device certificate: {}\r\n", e.code()));
            vec![0; 500]
        }
    };
    out.push_str("Comparing Device Certificate\r\n");
    compare("Device", device, &device_qa, out);

    let io_key = chip.random();
    if chip.write_slot(6, 0, &io_key).is_err() {
        out.push_str("Failed to write IO Prot Key");
        return;
    }
    if chip.write_encrypted(8, 4, &[0u8; 32], 6).is_err() {
        out.push_str("write data to slot8 failed");
    }
    out.push_str("\r\nDevice Provisioning Successful!\r\n");
}

fn c_str(bytes: &[u8]) -> &[u8] {
    &bytes[..bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len())]
}

/// `memcmp` over the rebuilt length, then the firmware's hex diff on mismatch.
fn compare(which: &str, uploaded: &[u8], rebuilt: &[u8], out: &mut String) {
    let at = |buf: &[u8], i: usize| buf.get(i).copied().unwrap_or(0);
    if (0..rebuilt.len()).all(|i| at(uploaded, i) == rebuilt[i]) {
        return;
    }
    out.push_str(&format!("{which} certificate missmatch\r\n"));
    let mut diff = false;
    for (i, &read) in rebuilt.iter().enumerate() {
        let sent = at(uploaded, i);
        if sent != read {
            diff = true;
        }
        if i % 16 == 0 {
            out.push_str(&format!("{}\r\n{i:04X}: ", if diff { "*" } else { "" }));
            diff = false;
        }
        out.push_str(&format!("{sent:02X}|{read:02X} "));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_final_text_without_newline_never_leaves_stdout() {
        let text = "\nprovisioning start\nWriting Device Certificate\r\nFailed to write IO Prot Key";
        assert_eq!(super::line_buffered(text), "\nprovisioning start\nWriting Device Certificate\r\n");
        assert_eq!(super::line_buffered("a\nb\n"), "a\nb\n");
    }
}
