//! Keyline PKI: the certificate-authority store, certificate issuance and CryptoAuthLib atcacert support.
