//! [`CaKey`]: a CA's signing key wherever it lives — an [`EcKey`] decrypted from the store, or a
//! [`TokenKey`] in a PKCS#11 token — behind one [`CaSigner`] interface, so issuing code never
//! asks where the key is.

use rcgen::{PublicKeyData, SignatureAlgorithm, SigningKey};

use crate::device::TbsSigner;
use crate::token::TokenKey;
use crate::EcKey;

/// A key that can issue certificates: rcgen's [`SigningKey`] (X.509 through rcgen), [`TbsSigner`]
/// (device certificates laid out from a template) and its P-256 public key.
pub trait CaSigner: SigningKey + TbsSigner {
    /// The public key.
    fn p256_public_key(&self) -> p256::PublicKey;
}

impl CaSigner for EcKey {
    fn p256_public_key(&self) -> p256::PublicKey {
        self.public_key()
    }
}

impl CaSigner for TokenKey {
    fn p256_public_key(&self) -> p256::PublicKey {
        self.public_key()
    }
}

/// A CA key from a file (decrypted in memory, wiped on drop) or held by a PKCS#11 token.
#[derive(Debug)]
pub enum CaKey {
    /// Decrypted from the store's encrypted PKCS#8 file.
    File(EcKey),
    /// In a PKCS#11 token; only its public half is in memory.
    Token(TokenKey),
}

impl CaKey {
    fn signer(&self) -> &dyn CaSigner {
        match self {
            CaKey::File(key) => key,
            CaKey::Token(key) => key,
        }
    }

    /// True when `public_key` is this key's public half.
    pub fn matches(&self, public_key: &p256::PublicKey) -> bool {
        self.p256_public_key() == *public_key
    }

    /// The file key, when the key is not in a token (callers that need the scalar itself).
    pub fn as_file_key(&self) -> Option<&EcKey> {
        match self {
            CaKey::File(key) => Some(key),
            CaKey::Token(_) => None,
        }
    }
}

impl PublicKeyData for CaKey {
    fn der_bytes(&self) -> &[u8] {
        match self {
            CaKey::File(key) => key.der_bytes(),
            CaKey::Token(key) => key.der_bytes(),
        }
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        self.signer().algorithm()
    }
}

impl SigningKey for CaKey {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        self.signer().sign(msg)
    }
}

impl TbsSigner for CaKey {
    fn sign_tbs(&self, tbs: &[u8]) -> Result<[u8; 64], String> {
        self.signer().sign_tbs(tbs)
    }

    fn signature_verifies(&self, tbs: &[u8], signature: &[u8; 64], signer_key: &crate::atcacert::derived::RawPublicKey) -> bool {
        self.signer().signature_verifies(tbs, signature, signer_key)
    }
}

impl CaSigner for CaKey {
    fn p256_public_key(&self) -> p256::PublicKey {
        self.signer().p256_public_key()
    }
}
