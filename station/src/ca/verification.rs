//! AWS IoT verification certificates: proof of CA key possession for CA registration.
//!
//! The certificate goes to `cloud/certs/<code>.pem`. Its key is a throwaway that AWS never
//! needs; it is still kept (in `cloud/keys/<code>.key`) so the pair can be inspected, but only
//! as encrypted PKCS#8 under the CA's passphrase, like every other key in the store. A CA whose key is in a
//! PKCS#11 token has no passphrase to encrypt it under (its PIN must not become guessable offline from a file),
//! so for those the throwaway key is not kept.

use keyline_certs::{issue_verification_cert, EcKey, Validity};

use super::access::certs_error;
use super::VerificationCert;
use crate::store::{validate_name, FileBatch};
use crate::{Error, Result, Station};

/// Validity of a verification certificate (it is only needed while registering).
const VERIFICATION_DAYS: u32 = 365;

impl Station {
    /// Issue an AWS IoT verification certificate (CN = `code`) from the unlocked CA `ca`.
    ///
    /// Fails with `passphrase_required` when the CA is locked (call [`Station::unlock_ca`]),
    /// and with `already_exists` when a certificate for `code` was made before.
    pub fn make_verification_cert(&self, ca: &str, code: &str) -> Result<VerificationCert> {
        validate_name("registration code", code)?;
        let metadata = self.metadata()?;
        let record = self.record(&metadata, ca)?;
        let cert_path = self.layout.verification_cert_path(ca, code);
        let key_path = self.layout.verification_key_path(ca, code);
        if cert_path.exists() || key_path.exists() {
            return Err(Error::AlreadyExists { what: "verification certificate".into(), name: code.to_owned() });
        }
        let ca_cert = self.load_cert(ca)?;
        let (ca_key, passphrase) = self.unlocked_key(&record, &ca_cert)?;

        let key = EcKey::generate();
        let validity = Validity::days_from(self.clock.now(), VERIFICATION_DAYS);
        let cert = issue_verification_cert(code, validity, &key, &ca_cert, &ca_key).map_err(|e| certs_error(e, ca))?;
        let key_pem = match record.token {
            None => Some(key.to_encrypted_pem(passphrase.expose().as_bytes()).map_err(|e| certs_error(e, code))?),
            Some(_) => None,
        };
        let pem = cert.pem();

        let _lock = self.layout.lock()?;
        let mut batch = FileBatch::new();
        batch.add_new(cert_path.clone(), pem.as_bytes())?;
        if let Some(key_pem) = &key_pem {
            batch.add_new(key_path.clone(), key_pem.as_bytes())?;
        }
        batch.commit()?;
        let key_path = key_pem.map(|_| key_path);
        tracing::info!(ca, code, sha256 = %cert.sha256_fingerprint(), "issued verification certificate");
        Ok(VerificationCert { cert_path, key_path, pem })
    }
}
