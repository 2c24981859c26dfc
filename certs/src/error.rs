//! Errors of the PKI crate: what went wrong with a key or certificate, and what to do.

/// Errors from parsing, decrypting, checking or issuing keys and certificates.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The text is not PEM, or a PEM block does not hold what its label says.
    #[error("{what} is not valid PEM: {detail}; pass a PEM file")]
    CorruptPem {
        /// What was expected ("certificate", "private key").
        what: &'static str,
        /// Parser detail.
        detail: String,
    },
    /// The passphrase does not decrypt the key.
    #[error("the passphrase does not decrypt the private key; check it and try again")]
    WrongPassphrase,
    /// The key is encrypted and no passphrase was given.
    #[error("the private key is encrypted; supply its passphrase")]
    PassphraseNeeded,
    /// The key or certificate uses something other than ECDSA P-256.
    #[error("unsupported {what}: {detail}")]
    Unsupported {
        /// "key" or "certificate".
        what: &'static str,
        /// What exactly.
        detail: String,
    },
    /// An encrypted key's key-derivation parameters ask for more memory or iterations than
    /// Keyline allows; refused before any derivation work was done.
    #[error("the encrypted key asks for {asked}, over Keyline's limit of {limit}; re-encrypt it with `openssl pkcs8 -topk8 -scrypt` (N=2^14) and import that file")]
    KdfTooCostly {
        /// What the key asks for ("scrypt N=2^30, r=8: 1024 GiB").
        asked: String,
        /// The limit it exceeds.
        limit: String,
    },
    /// Input over the size limit.
    #[error("{what} is larger than {limit} bytes; pass the right file")]
    TooLarge {
        /// What was read.
        what: &'static str,
        /// The limit.
        limit: usize,
    },
    /// The certificate builder failed.
    #[error("could not issue the certificate: {0}")]
    Issue(String),
    /// A PKCS#11 token failed (module, token, PIN or key).
    #[error(transparent)]
    Token(#[from] crate::token::TokenError),
    /// The random number generator failed.
    #[error("the operating system random number generator failed: {0}")]
    Random(String),
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
