//! [`EcKey`]: an ECDSA P-256 private key that signs certificates and is only ever written to
//! disk as encrypted PKCS#8 (PBES2, scrypt, AES-256-CBC), a format `openssl pkey` reads.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};

use p256::ecdsa::signature::Signer;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use rand_core::OsRng;
use rcgen::{PublicKeyData, SignatureAlgorithm, SigningKey, PKCS_ECDSA_P256_SHA256};
use zeroize::Zeroizing;

use crate::pem_blocks::{corrupt, pem_blocks};
use crate::sealed::{open_sealed_pkcs8, seal_pkcs8_der};
use crate::{Error, Result};

const WHAT: &str = "private key";

/// An ECDSA P-256 private key. The scalar is zeroed when the value is dropped; `Debug` shows
/// only the public key.
#[derive(Clone)]
pub struct EcKey {
    secret: p256::SecretKey,
    /// Uncompressed SEC1 public point (65 bytes), what rcgen puts in the certificate.
    public_point: Vec<u8>,
    /// The same key in AWS-LC, for signing at line speed ([`EcKey::sign_p1363`]); AWS-LC wipes it when freed.
    fast: Arc<EcdsaKeyPair>,
}

impl EcKey {
    /// Generate a fresh key from the operating system's random number generator.
    pub fn generate() -> EcKey {
        EcKey::from_secret(p256::SecretKey::random(&mut OsRng))
    }

    fn from_secret(secret: p256::SecretKey) -> EcKey {
        let public_point = secret.public_key().to_encoded_point(false).as_bytes().to_vec();
        let scalar = Zeroizing::new(secret.to_bytes());
        let fast = EcdsaKeyPair::from_private_key_and_public_key(&ECDSA_P256_SHA256_FIXED_SIGNING, &scalar, &public_point)
            .expect("a valid P-256 key pair is accepted by AWS-LC");
        debug_assert_eq!(fast.public_key().as_ref(), public_point.as_slice());
        EcKey { secret, public_point, fast: Arc::new(fast) }
    }

    /// Signs `msg` with ECDSA P-256 / SHA-256 and returns the fixed-width R ‖ S (IEEE P1363).
    pub fn sign_p1363(&self, msg: &[u8]) -> Result<[u8; 64]> {
        let signature = self.fast.sign(&SystemRandom::new(), msg).map_err(|_| Error::Issue("AWS-LC could not sign".into()))?;
        signature.as_ref().try_into().map_err(|_| Error::Issue("AWS-LC returned a signature that is not 64 bytes".into()))
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
        if block.legacy_encrypted {
            return Err(Error::Unsupported {
                what: "key",
                detail: "legacy OpenSSL-encrypted PEM; convert it with `openssl pkcs8 -topk8 -v2 aes-256-cbc`".into(),
            });
        }
        match block.label.as_str() {
            "EC PRIVATE KEY" => p256::SecretKey::from_sec1_der(&block.der)
                .map(EcKey::from_secret)
                .map_err(|e| corrupt(WHAT, &format!("bad SEC1 EC key: {e}"))),
            "PRIVATE KEY" => p256::SecretKey::from_pkcs8_der(&block.der).map(EcKey::from_secret).map_err(|e| {
                match e {
                    pkcs8::Error::KeyMalformed | pkcs8::Error::Asn1(_) => corrupt(WHAT, &format!("bad PKCS#8 key: {e}")),
                    other => Error::Unsupported { what: "key", detail: format!("not an EC P-256 key ({other})") },
                }
            }),
            "ENCRYPTED PRIVATE KEY" => {
                let passphrase = passphrase.ok_or(Error::PassphraseNeeded)?;
                decrypt_der(&block.der, passphrase)
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
        decrypt_der(&block.der, passphrase)
    }

    /// Encrypted PKCS#8 PEM: PBES2 with scrypt (N=2^14, r=8, p=8), random 16-byte salt and
    /// AES-256-CBC with a random IV.
    pub fn to_encrypted_pem(&self, passphrase: &[u8]) -> Result<String> {
        let plain = self.secret.to_pkcs8_der().map_err(|e| Error::Issue(format!("cannot encode key: {e}")))?;
        seal_pkcs8_der(plain.as_bytes(), passphrase)
    }

    /// The plaintext PKCS#8 DER, for handing to a TLS stack in memory (never write it to disk).
    pub fn pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>> {
        let plain = self.secret.to_pkcs8_der().map_err(|e| Error::Issue(format!("cannot encode key: {e}")))?;
        Ok(Zeroizing::new(plain.as_bytes().to_vec()))
    }

    /// The public key as a p256 value.
    pub fn public_key(&self) -> p256::PublicKey {
        self.secret.public_key()
    }

    /// True when `public_key` is this key's public half.
    pub fn matches(&self, public_key: &p256::PublicKey) -> bool {
        self.secret.public_key() == *public_key
    }

    /// The private scalar (the `p256` copy; AWS-LC holds the one that signs), for checking signatures it made.
    pub(crate) fn secret(&self) -> &p256::SecretKey {
        &self.secret
    }

    /// The uncompressed SEC1 public point, computed from the scalar when the key was loaded.
    pub(crate) fn public_point(&self) -> &[u8] {
        &self.public_point
    }

    /// The 32-byte private scalar, for tests that scan files for leaked key material.
    pub fn scalar_bytes(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(self.secret.to_bytes().to_vec())
    }
}

/// Decrypt the DER of an `ENCRYPTED PRIVATE KEY` block; KDF parameters over Keyline's limits are refused
/// before any derivation work (see [`open_sealed_pkcs8`]).
fn decrypt_der(der: &[u8], passphrase: &[u8]) -> Result<EcKey> {
    let plain = open_sealed_pkcs8(der, passphrase)?;
    // A wrong passphrase occasionally yields valid padding; the DER then fails to parse.
    p256::SecretKey::from_pkcs8_der(&plain).map(EcKey::from_secret).map_err(|e| match e {
        pkcs8::Error::KeyMalformed | pkcs8::Error::Asn1(_) => Error::WrongPassphrase,
        other => Error::Unsupported { what: "key", detail: format!("not an EC P-256 key ({other})") },
    })
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
    use pkcs8::der::Decode;
    use pkcs8::EncryptedPrivateKeyInfo;
    use pkcs8::PrivateKeyInfo;

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
            crate::sealed::check_kdf_cost(&EncryptedPrivateKeyInfo::from_der(&der).unwrap())
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
