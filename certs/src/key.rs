//! [`EcKey`]: an ECDSA P-256 private key that signs certificates and is only ever written to
//! disk as encrypted PKCS#8 (PBES2, scrypt, AES-256-CBC), a format `openssl pkey` reads.

use std::fmt;

use p256::ecdsa::signature::Signer;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use pkcs8::der::Decode;
use pkcs8::{EncryptedPrivateKeyInfo, PrivateKeyInfo};
use rand_core::{OsRng, RngCore};
use rcgen::{PublicKeyData, SignatureAlgorithm, SigningKey, PKCS_ECDSA_P256_SHA256};
use zeroize::Zeroizing;

use crate::pem_blocks::{corrupt, pem_blocks};
use crate::{Error, Result};

/// scrypt cost used when encrypting keys: N = 2^17, r = 8, p = 1 (128 MiB per guess).
///
/// OpenSSL 3.0's PBES2 decryption (`openssl pkey`) caps scrypt at 32 MiB, so it refuses these
/// files with "memory limit exceeded" although they are standard PKCS#8; `openssl kdf` (which
/// takes `maxmem_bytes`) plus `openssl enc` decrypts them (see docs/security.md). Keys written
/// before with N = 2^14 (16 MiB, which `openssl pkey` reads) keep working.
const SCRYPT_LOG_N: u8 = 17;
const SCRYPT_R: u32 = 8;
const SCRYPT_P: u32 = 1;

/// Limits on key-derivation parameters of keys being imported (untrusted input).
const MAX_IMPORT_SCRYPT_N: u64 = 1 << 20;
const MAX_IMPORT_SCRYPT_R_TIMES_P: u64 = 64;
const MAX_IMPORT_PBKDF2_ITERATIONS: u32 = 10_000_000;

const WHAT: &str = "private key";

/// An ECDSA P-256 private key. The scalar is zeroed when the value is dropped; `Debug` shows
/// only the public key.
#[derive(Clone)]
pub struct EcKey {
    secret: p256::SecretKey,
    /// Uncompressed SEC1 public point (65 bytes), what rcgen puts in the certificate.
    public_point: Vec<u8>,
}

impl EcKey {
    /// Generate a fresh key from the operating system's random number generator.
    pub fn generate() -> EcKey {
        EcKey::from_secret(p256::SecretKey::random(&mut OsRng))
    }

    fn from_secret(secret: p256::SecretKey) -> EcKey {
        let public_point = secret.public_key().to_encoded_point(false).as_bytes().to_vec();
        EcKey { secret, public_point }
    }

    /// Read a key from PEM: `EC PRIVATE KEY` (SEC1), `PRIVATE KEY` (PKCS#8) or
    /// `ENCRYPTED PRIVATE KEY` (PKCS#8 with PBES2, needs `passphrase`). Other blocks in the
    /// text (such as `EC PARAMETERS`) are skipped.
    pub fn from_pem(text: &str, passphrase: Option<&[u8]>) -> Result<EcKey> {
        let blocks = pem_blocks(WHAT, text)?;
        let block = blocks
            .iter()
            .find(|block| block.label.ends_with("PRIVATE KEY"))
            .ok_or_else(|| corrupt(WHAT, "no PRIVATE KEY block found"))?;
        if block.text.contains("Proc-Type: 4,ENCRYPTED") {
            return Err(Error::Unsupported {
                what: "key",
                detail: "legacy OpenSSL-encrypted PEM; convert it with `openssl pkcs8 -topk8 -v2 aes-256-cbc`".into(),
            });
        }
        match block.label {
            "EC PRIVATE KEY" => p256::SecretKey::from_sec1_pem(block.text)
                .map(EcKey::from_secret)
                .map_err(|e| corrupt(WHAT, &format!("bad SEC1 EC key: {e}"))),
            "PRIVATE KEY" => p256::SecretKey::from_pkcs8_pem(block.text).map(EcKey::from_secret).map_err(|e| {
                match e {
                    pkcs8::Error::KeyMalformed | pkcs8::Error::Asn1(_) => corrupt(WHAT, &format!("bad PKCS#8 key: {e}")),
                    other => Error::Unsupported { what: "key", detail: format!("not an EC P-256 key ({other})") },
                }
            }),
            "ENCRYPTED PRIVATE KEY" => {
                let passphrase = passphrase.ok_or(Error::PassphraseNeeded)?;
                decrypt_pem(block.text, passphrase, true)
            }
            other => Err(Error::Unsupported { what: "key", detail: format!("{other} blocks are not supported") }),
        }
    }

    /// Read a key written by [`to_encrypted_pem`](EcKey::to_encrypted_pem) (the store format).
    pub fn from_encrypted_pem(text: &str, passphrase: &[u8]) -> Result<EcKey> {
        let blocks = pem_blocks(WHAT, text)?;
        let block = blocks
            .iter()
            .find(|block| block.label == "ENCRYPTED PRIVATE KEY")
            .ok_or_else(|| corrupt(WHAT, "no ENCRYPTED PRIVATE KEY block found"))?;
        decrypt_pem(block.text, passphrase, false)
    }

    /// Encrypted PKCS#8 PEM: PBES2 with scrypt (N=2^17, r=8, p=1), random 16-byte salt and
    /// AES-256-CBC with a random IV.
    pub fn to_encrypted_pem(&self, passphrase: &[u8]) -> Result<String> {
        let plain = self.secret.to_pkcs8_der().map_err(|e| Error::Issue(format!("cannot encode key: {e}")))?;
        let info = PrivateKeyInfo::try_from(plain.as_bytes()).map_err(|e| Error::Issue(e.to_string()))?;
        let mut salt = [0u8; 16];
        let mut iv = [0u8; 16];
        OsRng.try_fill_bytes(&mut salt).map_err(|e| Error::Random(e.to_string()))?;
        OsRng.try_fill_bytes(&mut iv).map_err(|e| Error::Random(e.to_string()))?;
        let cost = scrypt::Params::new(SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P, 32).expect("valid scrypt parameters");
        let params = pkcs5::pbes2::Parameters::scrypt_aes256cbc(cost, &salt, &iv)
            .map_err(|e| Error::Issue(format!("cannot set up key encryption: {e}")))?;
        let encrypted = info
            .encrypt_with_params(params, passphrase)
            .map_err(|e| Error::Issue(format!("cannot encrypt key: {e}")))?;
        let pem = encrypted
            .to_pem("ENCRYPTED PRIVATE KEY", pkcs8::LineEnding::LF)
            .map_err(|e| Error::Issue(format!("cannot encode key: {e}")))?;
        Ok(pem.to_string())
    }

    /// The public key as a p256 value.
    pub fn public_key(&self) -> p256::PublicKey {
        self.secret.public_key()
    }

    /// True when `public_key` is this key's public half.
    pub fn matches(&self, public_key: &p256::PublicKey) -> bool {
        self.secret.public_key() == *public_key
    }

    /// The 32-byte private scalar, for tests that scan files for leaked key material.
    pub fn scalar_bytes(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(self.secret.to_bytes().to_vec())
    }
}

/// Decrypt an `ENCRYPTED PRIVATE KEY` PEM block, refusing expensive KDF parameters on import.
fn decrypt_pem(block: &str, passphrase: &[u8], untrusted: bool) -> Result<EcKey> {
    let (label, der) = pkcs8::der::pem::decode_vec(block.as_bytes())
        .map_err(|e| corrupt(WHAT, &format!("bad base64: {e}")))?;
    debug_assert_eq!(label, "ENCRYPTED PRIVATE KEY");
    let info = EncryptedPrivateKeyInfo::from_der(&der)
        .map_err(|e| corrupt(WHAT, &format!("bad encrypted PKCS#8: {e}")))?;
    if untrusted {
        check_kdf_cost(&info)?;
    }
    let plain = info.decrypt(passphrase).map_err(|e| match e {
        // pkcs5 0.7 reports bad padding (a wrong passphrase) as EncryptFailed.
        pkcs8::Error::EncryptedPrivateKey(pkcs5::Error::DecryptFailed | pkcs5::Error::EncryptFailed) => {
            Error::WrongPassphrase
        }
        pkcs8::Error::EncryptedPrivateKey(other) => {
            Error::Unsupported { what: "key", detail: format!("key encryption not supported ({other})") }
        }
        // The structure was parsed above, so a DER error here is about the decrypted bytes:
        // a wrong passphrase that happened to produce valid padding.
        pkcs8::Error::Asn1(_) | pkcs8::Error::KeyMalformed => Error::WrongPassphrase,
        other => corrupt(WHAT, &other.to_string()),
    })?;
    // A wrong passphrase occasionally yields valid padding; the DER then fails to parse.
    p256::SecretKey::from_pkcs8_der(plain.as_bytes()).map(EcKey::from_secret).map_err(|e| match e {
        pkcs8::Error::KeyMalformed | pkcs8::Error::Asn1(_) => Error::WrongPassphrase,
        other => Error::Unsupported { what: "key", detail: format!("not an EC P-256 key ({other})") },
    })
}

fn check_kdf_cost(info: &EncryptedPrivateKeyInfo<'_>) -> Result<()> {
    let too_costly = |detail: String| Error::Unsupported { what: "key", detail };
    match &info.encryption_algorithm {
        pkcs5::EncryptionScheme::Pbes2(params) => match &params.kdf {
            pkcs5::pbes2::Kdf::Pbkdf2(pbkdf2) if pbkdf2.iteration_count > MAX_IMPORT_PBKDF2_ITERATIONS => {
                Err(too_costly(format!("PBKDF2 iteration count {} is too high", pbkdf2.iteration_count)))
            }
            pkcs5::pbes2::Kdf::Scrypt(scrypt)
                if scrypt.cost_parameter > MAX_IMPORT_SCRYPT_N
                    || u64::from(scrypt.block_size) * u64::from(scrypt.parallelization) > MAX_IMPORT_SCRYPT_R_TIMES_P =>
            {
                Err(too_costly("scrypt parameters are too costly".into()))
            }
            _ => Ok(()),
        },
        _ => Err(too_costly(
            "PBES1 (DES/RC2) encryption; convert it with `openssl pkcs8 -topk8 -v2 aes-256-cbc`".into(),
        )),
    }
}

impl fmt::Debug for EcKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EcKey").field("public_point", &self.public_point).finish_non_exhaustive()
    }
}

impl PublicKeyData for EcKey {
    fn der_bytes(&self) -> &[u8] {
        &self.public_point
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &PKCS_ECDSA_P256_SHA256
    }
}

impl SigningKey for EcKey {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        let signing_key = p256::ecdsa::SigningKey::from(&self.secret);
        let signature: p256::ecdsa::Signature = signing_key.sign(msg);
        Ok(signature.to_der().as_bytes().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encrypted_pem_round_trips_and_rejects_a_wrong_passphrase() {
        let key = EcKey::generate();
        let pem = key.to_encrypted_pem(b"correct horse").unwrap();
        assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
        let back = EcKey::from_encrypted_pem(&pem, b"correct horse").unwrap();
        assert!(back.matches(&key.public_key()));
        assert_eq!(EcKey::from_encrypted_pem(&pem, b"wrong").unwrap_err(), Error::WrongPassphrase);
        assert_eq!(EcKey::from_pem(&pem, None).unwrap_err(), Error::PassphraseNeeded);
    }

    #[test]
    fn every_wrong_passphrase_is_reported_as_wrong_even_when_the_padding_happens_to_be_valid() {
        let key = EcKey::generate();
        let plain = key.secret.to_pkcs8_der().unwrap();
        let info = PrivateKeyInfo::try_from(plain.as_bytes()).unwrap();
        // One PBKDF2 iteration keeps 2000 attempts fast; about 1 in 256 gives valid padding.
        let params = pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(1, &[7u8; 16], &[9u8; 16]).unwrap();
        let pem = info.encrypt_with_params(params, b"right").unwrap().to_pem("ENCRYPTED PRIVATE KEY", pkcs8::LineEnding::LF).unwrap();
        for attempt in 0..2000 {
            let wrong = format!("wrong-{attempt}");
            assert_eq!(EcKey::from_pem(&pem, Some(wrong.as_bytes())).unwrap_err(), Error::WrongPassphrase, "{wrong}");
        }
        assert!(EcKey::from_pem(&pem, Some(b"right")).unwrap().matches(&key.public_key()));
    }

    #[test]
    fn reads_plain_pkcs8_and_sec1() {
        let key = EcKey::generate();
        let pkcs8 = key.secret.to_pkcs8_pem(pkcs8::LineEnding::LF).unwrap();
        assert!(EcKey::from_pem(&pkcs8, None).unwrap().matches(&key.public_key()));
        let sec1 = key.secret.to_sec1_pem(pkcs8::LineEnding::LF).unwrap();
        let with_params = format!("-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n{}", *sec1);
        assert!(EcKey::from_pem(&with_params, None).unwrap().matches(&key.public_key()));
    }

    #[test]
    fn garbage_inside_a_key_block_is_corrupt_pem() {
        let text = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert!(matches!(EcKey::from_pem(text, None), Err(Error::CorruptPem { .. })));
    }

    #[test]
    fn debug_output_shows_no_secret() {
        let key = EcKey::generate();
        let hex: String = key.scalar_bytes().iter().map(|b| format!("{b:02x}")).collect();
        let debug = format!("{key:?}");
        assert!(!debug.contains(&hex));
        assert!(!debug.to_lowercase().contains("secret"));
    }
}
