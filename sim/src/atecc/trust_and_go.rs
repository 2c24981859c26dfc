//! A simulated Trust&Go (TNGTLS) part: I²C address 0x6A, both zones locked at the "factory", a
//! slot-0 key and a Microchip-style root → signer → device certificate chain made at first power-on.

use super::config::{RAINBOWTYPE_CONFIG, LOCK_CONFIG, LOCK_VALUE};
use super::Atecc608;
use crate::atcacert::csr::{integer, rdn, tlv};
use p256::ecdsa::signature::hazmat::PrehashSigner;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use sha2::Digest;

/// The 8-bit I²C address of Trust&Go parts.
pub const ADDRESS_TRUST_AND_GO: u8 = 0x6A;
/// `ATCACERT_E_WRONG_CERT_DEF`: what `tng_atcacert_*` reports on a part that is not Trust&Go.
const WRONG_CERT_DEF: u32 = 0x0C;

impl Atecc608 {
    /// Whether this part carries the Trust&Go factory chain.
    pub fn is_trust_and_go(&self) -> bool {
        !self.factory_certs.is_empty()
    }

    /// Turns a blank part into a Trust&Go part (config, locks, key, certificate chain).
    pub fn make_trust_and_go(&mut self) {
        let serial = self.serial();
        self.config[16..84].copy_from_slice(&RAINBOWTYPE_CONFIG[16..84]);
        self.config[16] = ADDRESS_TRUST_AND_GO;
        self.config[LOCK_CONFIG] = 0x00;
        self.config[LOCK_VALUE] = 0x00;
        self.slots[0] = vec![0u8; 36];
        let device_key = SigningKey::random(&mut rand::thread_rng());
        self.slots[0][4..36].copy_from_slice(&device_key.to_bytes());
        let (root, root_name, root_cert) = simulated_root();
        let signer = SigningKey::random(&mut rand::thread_rng());
        let org = "Microchip Technology Inc";
        let signer_name = name(org, "Crypto Authentication Signer FFFF");
        let device_cn = format!("{} ATECC", hex::encode_upper(serial));
        let signer_cert = build_certificate(&root, &root_name, &signer, &signer_name, true, b"\x02", ("181214190000Z", "491214190000Z"));
        let device_cert =
            build_certificate(&signer, &signer_name, &device_key, &name(org, &device_cn), false, &serial, ("190101000000Z", "20461231235959Z"));
        self.factory_certs = vec![root_cert, signer_cert, device_cert];
        self.commit();
    }
}

/// The DER certificate `label` ("Root", "Signer", "Device") as `tng_atcacert_*` returns it. The
/// root is compiled into the library, so every part returns it; signer and device certificates
/// exist only on Trust&Go parts.
pub fn certificate(chip: &Atecc608, label: &str) -> Result<Vec<u8>, u32> {
    match label {
        "Root" => Ok(simulated_root().2),
        "Signer" => chip.factory_certs.get(1).cloned().ok_or(WRONG_CERT_DEF),
        _ => chip.factory_certs.get(2).cloned().ok_or(WRONG_CERT_DEF),
    }
}

/// The simulated "Microchip" root CA: the same key and certificate for every simulated part
/// (fixed seed, deterministic ECDSA), like the root compiled into CryptoAuthLib.
pub fn simulated_root() -> (SigningKey, Vec<u8>, Vec<u8>) {
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0x4B45_594C_494E_4501);
    let key = SigningKey::random(&mut rng);
    let root_name = name("Microchip Technology Inc", "Crypto Authentication Root CA 002");
    let cert = build_certificate(&key, &root_name, &key, &root_name, true, b"\x01", ("181214190000Z", "490101000000Z"));
    (key, root_name, cert)
}

fn name(org: &str, cn: &str) -> Vec<u8> {
    tlv(0x30, &[rdn(0x0A, org, 0x0C), rdn(0x03, cn, 0x0C)].concat())
}

fn point(key: &SigningKey) -> Vec<u8> {
    key.verifying_key().as_affine().to_encoded_point(false).as_bytes().to_vec()
}

fn key_id(key: &SigningKey) -> Vec<u8> {
    sha1::Sha1::digest(point(key)).to_vec()
}

fn time(text: &str) -> Vec<u8> {
    tlv(if text.len() == 13 { 0x17 } else { 0x18 }, text.as_bytes())
}

fn extension(oid_last: u8, critical: bool, value: Vec<u8>) -> Vec<u8> {
    let mut parts = tlv(0x06, &[0x55, 0x1D, oid_last]);
    if critical {
        parts.extend(tlv(0x01, &[0xFF]));
    }
    parts.extend(tlv(0x04, &value));
    tlv(0x30, &parts)
}

#[allow(clippy::too_many_arguments)]
fn build_certificate(
    issuer_key: &SigningKey,
    issuer: &[u8],
    subject_key: &SigningKey,
    subject: &[u8],
    ca: bool,
    serial: &[u8],
    validity: (&str, &str),
) -> Vec<u8> {
    let ec_alg = tlv(
        0x30,
        &[tlv(0x06, &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01]), tlv(0x06, &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07])]
            .concat(),
    );
    let mut bits = vec![0x00];
    bits.extend(point(subject_key));
    let spki = tlv(0x30, &[ec_alg, tlv(0x03, &bits)].concat());
    let sig_alg = tlv(0x30, &tlv(0x06, &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02]));
    let mut extensions = Vec::new();
    if ca {
        extensions.push(extension(0x13, true, tlv(0x30, &tlv(0x01, &[0xFF]))));
        extensions.push(extension(0x0F, true, tlv(0x03, &[0x01, 0x86])));
    } else {
        extensions.push(extension(0x0F, true, tlv(0x03, &[0x03, 0x88])));
    }
    extensions.push(extension(0x0E, false, tlv(0x04, &key_id(subject_key))));
    extensions.push(extension(0x23, false, tlv(0x30, &tlv(0x80, &key_id(issuer_key)))));
    let tbs = tlv(
        0x30,
        &[
            tlv(0xA0, &tlv(0x02, &[0x02])),
            integer(serial),
            sig_alg.clone(),
            issuer.to_vec(),
            tlv(0x30, &[time(validity.0), time(validity.1)].concat()),
            subject.to_vec(),
            spki,
            tlv(0xA3, &tlv(0x30, &extensions.concat())),
        ]
        .concat(),
    );
    let digest: [u8; 32] = sha2::Sha256::digest(&tbs).into();
    let signature: Signature = issuer_key.sign_prehash(&digest).expect("P-256 signing");
    let mut sig_bits = vec![0x00];
    sig_bits.extend_from_slice(signature.to_der().as_bytes());
    tlv(0x30, &[tbs, sig_alg, tlv(0x03, &sig_bits)].concat())
}
