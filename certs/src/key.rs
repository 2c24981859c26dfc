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

/// Limits on the key-derivation parameters of any encrypted key read (imported files are
/// untrusted; store files could be tampered with), checked before any derivation work: scrypt
/// memory (128 * r * N bytes) at most 256 MiB, scrypt parallelism p at most 16, PBKDF2 at most
/// 5,000,000 iterations (about 8 times OWASP's 2023 advice for PBKDF2-HMAC-SHA256).
pub const MAX_KDF_MEMORY_BYTES: u64 = 256 * 1024 * 1024;
const MAX_SCRYPT_P: u64 = 16;
const MAX_PBKDF2_ITERATIONS: u32 = 5_000_000;

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
                decrypt_pem(block.text, passphrase)
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
        decrypt_pem(block.text, passphrase)
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

/// Decrypt an `ENCRYPTED PRIVATE KEY` PEM block; the PBES2 parameters are parsed and checked
/// against the KDF limits first, so a costly key is refused before any derivation work.
fn decrypt_pem(block: &str, passphrase: &[u8]) -> Result<EcKey> {
    let (label, der) = pkcs8::der::pem::decode_vec(block.as_bytes())
        .map_err(|e| corrupt(WHAT, &format!("bad base64: {e}")))?;
    debug_assert_eq!(label, "ENCRYPTED PRIVATE KEY");
    let info = EncryptedPrivateKeyInfo::from_der(&der)
        .map_err(|e| corrupt(WHAT, &format!("bad encrypted PKCS#8: {e}")))?;
    check_kdf_cost(&info)?;
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
    let pkcs5::EncryptionScheme::Pbes2(params) = &info.encryption_algorithm else {
        return Err(Error::Unsupported {
            what: "key",
            detail: "PBES1 (DES/RC2) encryption; convert it with `openssl pkcs8 -topk8 -v2 aes-256-cbc`".into(),
        });
    };
    match &params.kdf {
        pkcs5::pbes2::Kdf::Pbkdf2(pbkdf2) if pbkdf2.iteration_count > MAX_PBKDF2_ITERATIONS => Err(Error::KdfTooCostly {
            asked: format!("PBKDF2 with {} iterations", pbkdf2.iteration_count),
            limit: format!("{MAX_PBKDF2_ITERATIONS} iterations"),
        }),
        pkcs5::pbes2::Kdf::Scrypt(scrypt) => {
            let (n, r, p) = (scrypt.cost_parameter, u64::from(scrypt.block_size), u64::from(scrypt.parallelization));
            let memory = u128::from(n) * u128::from(r) * 128;
            if memory > u128::from(MAX_KDF_MEMORY_BYTES) || p > MAX_SCRYPT_P {
                return Err(Error::KdfTooCostly {
                    asked: format!("scrypt N={n}, r={r}, p={p} ({} MiB of memory)", memory / (1024 * 1024)),
                    limit: format!("{} MiB and p <= {MAX_SCRYPT_P}", MAX_KDF_MEMORY_BYTES / (1024 * 1024)),
                });
            }
            Ok(())
        }
        _ => Ok(()),
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

    /// An encrypted key with these PBES2 parameters and made-up ciphertext (nothing derived).
    fn key_with(params: pkcs5::pbes2::Parameters<'_>) -> String {
        use pkcs8::der::Encode;
        let info = EncryptedPrivateKeyInfo { encryption_algorithm: params.into(), encrypted_data: &[0x5a; 144] };
        crate::to_pem("ENCRYPTED PRIVATE KEY", &info.to_der().unwrap())
    }

    fn scrypt_key(log_n: u8, r: u32, p: u32) -> String {
        let cost = scrypt::Params::new(log_n, r, p, 32).unwrap();
        key_with(pkcs5::pbes2::Parameters::scrypt_aes256cbc(cost, &[1; 16], &[2; 16]).unwrap())
    }

    /// pkcs5's builder stops at 10^8 iterations; a hostile file need not.
    fn pbkdf2_key(iteration_count: u32) -> String {
        let kdf = pkcs5::pbes2::Pbkdf2Params {
            salt: &[1; 16],
            iteration_count,
            key_length: None,
            prf: pkcs5::pbes2::Pbkdf2Prf::HmacWithSha256,
        };
        key_with(pkcs5::pbes2::Parameters { kdf: kdf.into(), encryption: pkcs5::pbes2::EncryptionScheme::Aes256Cbc { iv: &[2; 16] } })
    }

    #[test]
    fn costly_kdf_parameters_are_refused_before_any_derivation() {
        // Deriving any of these takes a terabyte of memory or hours: the test ending at all shows
        // that nothing was derived.
        let cases = [
            (scrypt_key(30, 8, 1), "scrypt N=1073741824, r=8, p=1 (1048576 MiB of memory)"),
            (scrypt_key(19, 8, 1), "scrypt N=524288, r=8, p=1 (512 MiB of memory)"),
            (scrypt_key(18, 9, 1), "scrypt N=262144, r=9, p=1 (288 MiB of memory)"),
            (scrypt_key(10, 8, 4096), "scrypt N=1024, r=8, p=4096 (1 MiB of memory)"),
            (pbkdf2_key(u32::MAX), "PBKDF2 with 4294967295 iterations"),
            (pbkdf2_key(5_000_001), "PBKDF2 with 5000001 iterations"),
        ];
        for (pem, asked) in cases {
            for err in [EcKey::from_pem(&pem, Some(b"pass")).unwrap_err(), EcKey::from_encrypted_pem(&pem, b"pass").unwrap_err()] {
                let Error::KdfTooCostly { asked: got, .. } = &err else { panic!("{asked}: {err:?}") };
                assert_eq!(got, asked);
                assert!(err.to_string().contains("over Keyline's limit"), "{err}");
            }
        }
    }

    #[test]
    fn kdf_limits_admit_256_mib_scrypt_and_5_million_pbkdf2_iterations() {
        let check = |pem: &str| {
            let der = pkcs8::der::pem::decode_vec(pem.as_bytes()).unwrap().1;
            check_kdf_cost(&EncryptedPrivateKeyInfo::from_der(&der).unwrap())
        };
        assert_eq!(check(&scrypt_key(18, 8, 1)), Ok(()), "128 * 8 * 2^18 = 256 MiB");
        assert_eq!(check(&scrypt_key(17, 8, 16)), Ok(()));
        assert_eq!(check(&pbkdf2_key(5_000_000)), Ok(()));
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
