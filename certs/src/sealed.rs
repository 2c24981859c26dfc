//! Sealed PKCS#8: any private key's PKCS#8 DER encrypted (PBES2, scrypt, AES-256-CBC) as the
//! `ENCRYPTED PRIVATE KEY` PEM that OpenSSL reads. The only way Keyline writes a private key to disk.

use pkcs8::der::Decode;
use pkcs8::{EncryptedPrivateKeyInfo, PrivateKeyInfo};
use rand_core::{OsRng, RngCore};
use zeroize::Zeroizing;

use crate::pem_blocks::corrupt;
use crate::{Error, Result};

const WHAT: &str = "private key";

/// scrypt cost used when encrypting keys: N = 2^14, r = 8, p = 8. Each guess costs 8 times the
/// work of OpenSSL's own `-scrypt` default (the same block-mix count as N = 2^17, p = 1) while the
/// memory stays at 16 MiB, under the 32 MiB scrypt cap that OpenSSL 3.0 hard-codes for PBES2: so
/// `openssl pkey` still reads every key Keyline writes. (N = 2^17 would need 128 MiB, which
/// `openssl pkey` refuses with "memory limit exceeded".) Keys written before with p = 1 keep working.
const SCRYPT_LOG_N: u8 = 14;
const SCRYPT_R: u32 = 8;
const SCRYPT_P: u32 = 8;

/// Limits on the key-derivation parameters of any encrypted key read (imported files are
/// untrusted; store files could be tampered with), checked before any derivation work: scrypt
/// memory (128 * r * N bytes) at most 256 MiB, scrypt parallelism p at most 16, PBKDF2 at most
/// 5,000,000 iterations (about 8 times OWASP's 2023 advice for PBKDF2-HMAC-SHA256).
pub const MAX_KDF_MEMORY_BYTES: u64 = 256 * 1024 * 1024;
const MAX_SCRYPT_P: u64 = 16;
const MAX_PBKDF2_ITERATIONS: u32 = 5_000_000;

/// Encrypt a PKCS#8 `PrivateKeyInfo` DER (of any key type) to `ENCRYPTED PRIVATE KEY` PEM:
/// PBES2 with scrypt (N=2^14, r=8, p=8), a random 16-byte salt and AES-256-CBC with a random IV.
pub fn seal_pkcs8_der(plain_der: &[u8], passphrase: &[u8]) -> Result<String> {
    let info = PrivateKeyInfo::try_from(plain_der).map_err(|e| Error::Issue(e.to_string()))?;
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

/// Decrypt the DER of one `ENCRYPTED PRIVATE KEY` PEM block (see [`pem_blocks`](crate::pem_blocks)) to the PKCS#8
/// DER inside. The PBES2 parameters are checked against Keyline's KDF limits first, so a costly key is refused
/// before any derivation work. The caller parses the DER; a parse failure there almost always means a wrong
/// passphrase that happened to give valid padding.
pub fn open_sealed_pkcs8(der: &[u8], passphrase: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let info = EncryptedPrivateKeyInfo::from_der(der)
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
    Ok(Zeroizing::new(plain.as_bytes().to_vec()))
}

pub(crate) fn check_kdf_cost(info: &EncryptedPrivateKeyInfo<'_>) -> Result<()> {
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
