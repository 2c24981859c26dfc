//! TLS certificates for the device-management server and operator clients, issued by a project
//! CA and written as `PREFIX.key` (encrypted PKCS#8 under the CA's passphrase), `PREFIX.crt`
//! and `PREFIX.chain` (the certificate, its signer and the root: what a server presents).

use std::path::{Path, PathBuf};

use keyline_certs::{issue_tls_client_cert, issue_tls_server_cert, CertInfo, EcKey, Validity};
use serde::Serialize;
use time::OffsetDateTime;

use crate::ca::certs_error;
use crate::store::FileBatch;
use crate::{Error, Result, Station};

/// Validity of server and client certificates.
const TLS_CERT_DAYS: u32 = 825;

/// What to issue.
#[derive(Debug, Clone)]
pub enum TlsCertKind {
    /// A server certificate for these host names / IP addresses.
    Server {
        /// Names or IPs; the first is the CN.
        hosts: Vec<String>,
    },
    /// A client certificate with this CN (the peer id).
    Client {
        /// Common name.
        name: String,
    },
}

/// The files written.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsCertFiles {
    /// Encrypted private key (passphrase: the issuing CA's).
    pub key_path: PathBuf,
    /// The certificate.
    pub cert_path: PathBuf,
    /// Certificate + CA chain up to the root.
    pub chain_path: PathBuf,
    /// Subject CN.
    pub common_name: String,
}

impl Station {
    /// The certificates from CA `ca` up to its root, `ca` first.
    pub fn ca_chain(&self, ca: &str) -> Result<Vec<CertInfo>> {
        let metadata = self.metadata()?;
        let mut chain = Vec::new();
        let mut next = Some(ca.to_owned());
        while let Some(name) = next {
            if chain.len() > 8 {
                return Err(Error::CorruptStore { detail: format!("the CA chain of \"{ca}\" loops") });
            }
            let record = self.record(&metadata, &name)?;
            chain.push(self.load_cert(&name)?);
            next = record.parent.clone();
        }
        Ok(chain)
    }

    /// Issue a TLS certificate from the unlocked CA `ca`: the certificate, its key, the CA's passphrase.
    fn issue_tls_cert(&self, ca: &str, kind: &TlsCertKind) -> Result<(CertInfo, EcKey, crate::Passphrase)> {
        let metadata = self.metadata()?;
        let record = self.record(&metadata, ca)?;
        let ca_cert = self.load_cert(ca)?;
        let (ca_key, passphrase) = self.unlocked_key(&record, &ca_cert)?;
        let key = EcKey::generate();
        let validity = Validity::days_from(OffsetDateTime::now_utc(), TLS_CERT_DAYS);
        let cert = match kind {
            TlsCertKind::Server { hosts } => issue_tls_server_cert(hosts, validity, &key, &ca_cert, &ca_key),
            TlsCertKind::Client { name } => {
                keyline_ota::protocol::check_serial(name)?;
                issue_tls_client_cert(name, validity, &key, &ca_cert, &ca_key)
            }
        }
        .map_err(|e| certs_error(e, ca))?;
        Ok((cert, key, passphrase))
    }

    /// A server identity issued in memory from the unlocked CA `ca` for `hosts` (`ota serve --cert auto`).
    pub fn ephemeral_server_identity(&self, ca: &str, hosts: &[String]) -> Result<keyline_ota::tls::TlsIdentity> {
        let (cert, key, _) = self.issue_tls_cert(ca, &TlsCertKind::Server { hosts: hosts.to_vec() })?;
        let chain: String = std::iter::once(cert.pem()).chain(self.ca_chain(ca)?.iter().map(CertInfo::pem)).collect();
        let der = key.pkcs8_der().map_err(|e| certs_error(e, ca))?;
        Ok(keyline_ota::tls::TlsIdentity::new(&chain, der)?)
    }

    /// A client identity issued in memory from the unlocked CA `ca` with CN `name` (the desktop's
    /// operator certificate for its own embedded server).
    pub fn ephemeral_client_identity(&self, ca: &str, name: &str) -> Result<keyline_ota::tls::TlsIdentity> {
        let (cert, key, _) = self.issue_tls_cert(ca, &TlsCertKind::Client { name: name.to_owned() })?;
        let chain: String = std::iter::once(cert.pem()).chain(self.ca_chain(ca)?.iter().map(CertInfo::pem)).collect();
        let der = key.pkcs8_der().map_err(|e| certs_error(e, ca))?;
        Ok(keyline_ota::tls::TlsIdentity::new(&chain, der)?)
    }

    /// The passphrase of the unlocked CA `ca` (it also encrypts the keys `keyline cert` issued from it).
    pub(crate) fn ca_passphrase(&self, ca: &str) -> Result<crate::Passphrase> {
        let metadata = self.metadata()?;
        let record = self.record(&metadata, ca)?;
        no_token(&record)?;
        let cert = self.load_cert(ca)?;
        Ok(self.unlocked_key(&record, &cert)?.1)
    }

    /// Issue a TLS server or client certificate from the unlocked CA `ca` and write the files
    /// (never overwriting).
    pub fn make_tls_cert(&self, ca: &str, kind: &TlsCertKind, prefix: &Path) -> Result<TlsCertFiles> {
        no_token(&self.record(&self.metadata()?, ca)?)?;
        let (cert, key, passphrase) = self.issue_tls_cert(ca, kind)?;
        let key_pem = key.to_encrypted_pem(passphrase.expose().as_bytes()).map_err(|e| certs_error(e, ca))?;
        let mut chain_pem = cert.pem();
        for ca_cert in self.ca_chain(ca)? {
            chain_pem += &ca_cert.pem();
        }
        let with = |ext: &str| {
            let mut name = prefix.as_os_str().to_owned();
            name.push(ext);
            std::path::absolute(PathBuf::from(name.clone())).unwrap_or_else(|_| PathBuf::from(name))
        };
        let files = TlsCertFiles {
            key_path: with(".key"),
            cert_path: with(".crt"),
            chain_path: with(".chain"),
            common_name: cert.common_name().unwrap_or_default(),
        };
        let mut batch = FileBatch::new();
        batch.add_new(files.key_path.clone(), key_pem.as_bytes())?;
        batch.add_new(files.cert_path.clone(), cert.pem().as_bytes())?;
        batch.add_new(files.chain_path.clone(), chain_pem.as_bytes())?;
        batch.commit()?;
        tracing::info!(ca, cn = %files.common_name, sha256 = %cert.sha256_fingerprint(), "issued a TLS certificate");
        Ok(files)
    }
}

/// Keys written to files are encrypted under the CA's passphrase; a CA whose key is in a PKCS#11 token has
/// none (its PIN must not become guessable offline from a file).
fn no_token(record: &crate::store::CaRecord) -> Result<()> {
    match &record.token {
        None => Ok(()),
        Some(custody) => Err(Error::InvalidInput {
            what: format!("CA \"{}\"", record.name),
            reason: format!(
                "its key is in the PKCS#11 token \"{}\", so there is no CA passphrase to encrypt a key file under; \
                 issue file identities from a CA with a file key (in-memory server and client identities work)",
                custody.token
            ),
        }),
    }
}
